"""Models: study (being built)."""
