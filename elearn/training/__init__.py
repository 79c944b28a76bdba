"""Training outside the online classroom: offline and off-job records, video group sessions, annual plans,
the lecturer roster."""
