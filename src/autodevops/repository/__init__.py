"""Repositories connected to an organization."""
