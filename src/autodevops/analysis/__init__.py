"""Analyses of connected repositories (created by the job system; read here)."""
