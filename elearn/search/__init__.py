"""Full-text search over readings, courses, lessons and subtitles, and its index writes."""
