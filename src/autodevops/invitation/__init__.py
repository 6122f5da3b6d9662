"""Invitations: how a person joins an organization (a manager invites an email address, its owner accepts)."""
