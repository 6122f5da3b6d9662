"""CLI command groups, registered on the root app by `autodevops.cli`."""
