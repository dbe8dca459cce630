"""Accounts: organisations, users, roles, networks, API tokens, and who may see what."""
