"""Jobs: media."""
