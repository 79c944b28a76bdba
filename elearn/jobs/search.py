"""Jobs: search."""
