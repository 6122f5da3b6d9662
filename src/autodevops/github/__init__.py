"""The GitHub integration: the one GitHub client, the repository source over its API, webhooks, pull requests."""
