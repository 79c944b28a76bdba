"""The study-hours ledger: credits, the summaries kept with them, requirements, transcripts."""
