"""Courses and lessons, their review, the series they are published in, and who may see them."""
