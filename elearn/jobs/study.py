"""Jobs: study."""
