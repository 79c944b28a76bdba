"""Notifications: the in-app centre and e-mail delivery through an outbox."""
