"""The AI layer: refines the rule engine's analysis, never replaces it.

`digest` builds the compact input, `router` calls the providers (behind `breaker`, `quota` and `cache`),
`review` checks every proposed correction with deterministic code, and `service` ties it to an analysis.
"""
