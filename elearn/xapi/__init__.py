"""Learning records as xAPI statements: an outbox written in the event's own transaction, sent in batches to
an LRS (``ELEARN_LRS_URL``) by a periodic job, and exported as JSON lines by ``elearn xapi export``."""
