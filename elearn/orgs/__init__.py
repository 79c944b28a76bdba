"""Organisations and their members: the tree, accounts, transfers, bulk import."""
