"""Readings: upload and parse, attach to courses, the reader and reading positions."""
