"""Security of personal data at rest (issue 18): the columns classified personal are stored encrypted
(AES-256-GCM or SM4-GCM) under keys kept outside the database, with keyed hashes for exact look-ups, re-encrypted
by ``elearn security rotate-key``, and masked wherever a viewer may not see them."""
