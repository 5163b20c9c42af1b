"""Accounts, roles with area scope, tokens, and the per-route access rules."""
