"""The audit log of administrative actions: who did what, when, with the values before and after."""
