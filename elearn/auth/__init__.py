"""Signing in: passwords, sessions, API tokens, and authentication of API requests."""
