"""Models: quiz (being built)."""
