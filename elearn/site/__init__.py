"""The site as a whole: the home page, health check, backups and demo data."""
