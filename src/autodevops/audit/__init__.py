"""Audit trail: an append-only record of who changed what."""
