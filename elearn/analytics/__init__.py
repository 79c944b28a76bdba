"""Participation analytics: grouped queries, live and snapshot sources, change tracking, the dashboard, exports."""
