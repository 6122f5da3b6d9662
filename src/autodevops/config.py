"""Platform settings: one pydantic-settings class read from `AUTODEVOPS_*` environment variables.

The engine never reads settings; only the platform (API, worker, migrations) does. Each area adds its own
fields here, grouped under a comment, with a default that is safe for development. `Settings.check()`
refuses to run in production with default or missing secrets, listing every problem at once.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

from limits import parse as parse_rate_limit
from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Environment = Literal["development", "test", "production"]

# Development-only defaults. `check()` refuses them in production.
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105 - a known-bad default, refused in production
DEV_DATABASE_URL = "postgresql+asyncpg://autodevops_app:autodevops_app@127.0.0.1:5432/autodevops"
DEV_DATABASE_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/autodevops"
# Passwords of the development and compose examples: production refuses them in any database URL.
DEV_DATABASE_PASSWORDS = frozenset({"autodevops_app", "choose-a-password", "postgres", "password"})
MIN_DISTINCT_SECRET_CHARACTERS = 10
MIN_DISTINCT_KEY_BYTES = 16
MIN_PRODUCTION_HSTS_MAX_AGE = 31_536_000


AI_PROVIDERS = ("gemini", "openai", "anthropic")


class AIPrice(BaseModel):
    """What a model costs, in USD per million tokens."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)


class PlanLimits(BaseModel):
    """What an organization on a plan may use, and how far its queued jobs push it back (see docs/jobs.md)."""

    repositories: int = Field(ge=0)
    analyses_per_day: int = Field(ge=0)
    ai_tokens_per_month: int = Field(ge=0)
    concurrent_jobs: int = Field(ge=1)
    api_requests_per_minute: int = Field(ge=1)
    # Each queued job of an organization moves its next job this many places back in its queue: a plan with
    # cost 1 gets four jobs started for one of a plan with cost 4 when both have a backlog.
    queue_cost: int = Field(ge=1, le=1000)


def _default_plans() -> dict[str, PlanLimits]:
    return {
        "free": PlanLimits(
            repositories=5,
            analyses_per_day=50,
            ai_tokens_per_month=200_000,
            concurrent_jobs=2,
            api_requests_per_minute=60,
            queue_cost=4,
        ),
        "team": PlanLimits(
            repositories=100,
            analyses_per_day=2_000,
            ai_tokens_per_month=5_000_000,
            concurrent_jobs=8,
            api_requests_per_minute=600,
            queue_cost=2,
        ),
        "enterprise": PlanLimits(
            repositories=10_000,
            analyses_per_day=50_000,
            ai_tokens_per_month=100_000_000,
            concurrent_jobs=32,
            api_requests_per_minute=3_000,
            queue_cost=1,
        ),
    }


class ConfigError(Exception):
    """Settings that must not be used (production with default secrets...)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTODEVOPS_", env_file=None, extra="ignore")

    # ---- core -----------------------------------------------------------------------------------------
    env: Environment = "development"
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    database_url: SecretStr = SecretStr(DEV_DATABASE_URL)
    database_admin_url: SecretStr = SecretStr(DEV_DATABASE_ADMIN_URL)
    database_maintenance_url: SecretStr | None = Field(
        default=None,
        description="The maintenance role: the only one that may list jobs across organizations (the worker's "
        "reconciler, `autodevops dlq`). Give it to workers and operators, never to the API. Unset outside "
        "production: the app URL with the user `<app role>_maintenance`.",
    )
    redis_url: str = "redis://127.0.0.1:6379/0"
    allow_insecure_git_urls: bool = Field(
        default=False,
        description="Allow http:// git URLs and identity providers (development and tests only; refused in "
        "production). Private addresses still need `git_private_servers`.",
    )
    log_level: str = "INFO"
    sentry_dsn: SecretStr | None = None
    dashboard_assets_dir: str | None = Field(
        default=None,
        description="The npm `node_modules` holding the dashboard's front-end packages (htmx.org); unset: the "
        "source checkout's `.tmp/node/node_modules` (`make setup`). Without them the dashboard works without HTMX.",
    )

    # ---- git (connected repositories: URL checks, clones, ls-remote) ---------------------------------------
    # ADDRESS:PORT (or CIDR:PORT, [IPv6]:PORT) of internal git servers (and identity providers) that may be
    # reached although their address is private; every other private, loopback or link-local address stays refused.
    git_private_servers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    git_timeout_s: float = Field(default=120.0, gt=0, le=3600, description="Timeout of one git ls-remote.")
    git_max_transfer_bytes: int = Field(default=1024**3, ge=1024 * 1024)
    git_max_checkout_bytes: int = Field(default=2 * 1024**3, ge=1024 * 1024)
    git_max_files: int = Field(default=250_000, ge=100)

    @field_validator("git_private_servers")
    @classmethod
    def _valid_private_servers(cls, value: list[str]) -> list[str]:
        from autodevops.repository.git_url import parse_private_server

        for entry in value:
            parse_private_server(entry)  # ValueError names the entry and the expected form
        return value

    # ---- data layer -----------------------------------------------------------------------------------
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_max_overflow: int = Field(default=10, ge=0, le=200)

    # ---- web (HTTP edge: middleware, rate limits, observability) --------------------------------------
    # Comma-separated origins allowed to call the API from a browser (https://app.example.com).
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Comma-separated proxy IPs/CIDRs whose X-Forwarded-For/-Proto are believed ("*" = any); empty = none.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    hsts_max_age: int = Field(default=63_072_000, ge=0)
    rate_limit_enabled: bool = True
    rate_limit_per_ip: str = "300/minute"
    rate_limit_per_user: str = "120/minute"
    rate_limit_webhooks_per_ip: str = "600/minute"
    rate_limit_key_prefix: str = Field(default="autodevops-ratelimit", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    ready_timeout_s: float = Field(default=2.0, gt=0, le=30)
    # How long a stopping `serve` lets open requests finish (event streams included) before it ends them.
    shutdown_grace_s: float = Field(default=10.0, gt=0, le=600)
    # Bound of every Redis call a request makes (connect, command and retries together).
    redis_timeout_s: float = Field(default=1.0, gt=0, le=30)
    # JSON log lines; unset means JSON everywhere but development, which gets readable console lines.
    log_json: bool | None = None
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0, le=1)
    # When set, /metrics answers only `Authorization: Bearer <token>` (scrapers outside a private network).
    metrics_token: SecretStr | None = Field(default=None, min_length=16)

    @property
    def effective_log_json(self) -> bool:
        """`log_json`, or when unset: JSON everywhere but development."""
        return self.log_json if self.log_json is not None else self.env != "development"

    @field_validator("cors_origins", "trusted_proxies", "git_private_servers", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("database_url", "database_admin_url", "database_maintenance_url", mode="before")
    @classmethod
    def _asyncpg_url(cls, value: object, info: ValidationInfo) -> object:
        if info.field_name == "database_maintenance_url" and value in (None, ""):
            return None  # unset (an empty variable, as compose passes an unset one)
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(raw, str):
            return SecretStr(asyncpg_url(raw, str(info.field_name).upper()))
        return value

    @property
    def effective_database_maintenance_url(self) -> str:
        """`database_maintenance_url`, or outside production the app URL with the user `<app role>_maintenance`
        (same password: a development convenience that production refuses)."""
        if self.database_maintenance_url is not None:
            return self.database_maintenance_url.get_secret_value()
        if self.env == "production":
            raise ConfigError(
                "AUTODEVOPS_DATABASE_MAINTENANCE_URL must be set in production for workers, `autodevops migrate` "
                "and `autodevops dlq` (the maintenance role, with its own password)"
            )
        from sqlalchemy.engine import make_url

        app = make_url(self.database_url.get_secret_value())
        return app.set(username=f"{app.username}_maintenance").render_as_string(hide_password=False)

    @field_validator("rate_limit_per_ip", "rate_limit_per_user", "rate_limit_webhooks_per_ip")
    @classmethod
    def _valid_rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)  # raises ValueError with a readable message on bad notation
        return value

    # ---- plans (names and limits; an organization's plan is `organizations.plan`) -----------------------
    # JSON: {"free": {"repositories": 5, "analyses_per_day": 50, ...}, ...}. New organizations get `default_plan`.
    plans: dict[str, PlanLimits] = Field(default_factory=_default_plans)
    default_plan: str = Field(default="free", pattern=r"^[a-z][a-z0-9_-]{0,31}$")

    @field_validator("plans")
    @classmethod
    def _valid_plan_names(cls, value: dict[str, PlanLimits]) -> dict[str, PlanLimits]:
        import re

        for name in value:
            if not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", name):
                raise ValueError(f"plan names are 1-32 lower-case letters, digits, - and _, got {name!r}")
        if not value:
            raise ValueError("at least one plan is needed")
        return value

    def plan(self, name: str) -> PlanLimits:
        """The limits of plan `name`; an organization on a plan these settings no longer list gets the default's."""
        return self.plans.get(name) or self.plans[self.default_plan]

    # ---- job system -----------------------------------------------------------------------------------
    # The queue Redis must run with `maxmemory-policy noeviction`: an evicted key is a lost job. It may be
    # the same server as `redis_url` (cache, rate limits) in development; separate it in production.
    queue_redis_url: str | None = Field(default=None, description="Redis for job queues; defaults to redis_url.")
    jobs_key_prefix: str = Field(default="autodevops", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    # Multiplies every retry delay and job timeout: 1.0 in production, e.g. 0.01 in tests so a 30 s backoff
    # takes 0.3 s. Lock and stalled-check intervals have their own settings below.
    jobs_time_scale: float = Field(default=1.0, gt=0, le=1.0)
    jobs_lock_duration_ms: int = Field(default=30_000, ge=500)
    jobs_stalled_interval_ms: int = Field(default=30_000, ge=200)
    jobs_reconcile_interval_s: float = Field(default=60.0, gt=0)
    jobs_shutdown_grace_s: float = Field(default=30.0, ge=0)

    @property
    def effective_queue_redis_url(self) -> str:
        """The Redis that holds the queues: `queue_redis_url`, or `redis_url` when unset."""
        return self.queue_redis_url or self.redis_url

    # ---- GitHub integration and sessions --------------------------------------------------------------
    # API base URL: https://api.github.com, GitHub Enterprise Server's https://HOST/api/v3, or a test fake.
    github_api_url: str = "https://api.github.com"
    # Where browsers sign in (OAuth authorize/access_token): https://github.com or https://HOST for GHES.
    github_web_url: str = "https://github.com"
    github_app_id: str | None = None
    github_app_slug: str | None = None
    github_app_private_key: SecretStr | None = Field(default=None, description="The GitHub App's PEM private key.")
    github_client_id: str | None = None
    github_client_secret: SecretStr | None = None
    github_webhook_secret: SecretStr | None = None
    # Webhook secret rotation: the previous secret stays valid until this instant (ISO 8601, UTC).
    github_webhook_secret_previous: SecretStr | None = None
    github_webhook_secret_previous_until: datetime | None = None
    github_webhook_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    # Webhook bodies received at once per process before their signature is known; more answer 429.
    github_webhook_concurrency: int = Field(default=4, ge=1, le=256)
    # The same signed body under another delivery id within this window is a replay.
    github_webhook_replay_window_s: int = Field(default=86_400, ge=60)
    # Webhook delivery records (GitHub and GitLab) older than this are deleted, in batches, by the worker every
    # `webhook_delivery_prune_interval_s` and by `autodevops webhooks prune`. Longer than any redelivery a
    # provider makes (GitHub: 3 days; GitLab retries within hours), and never shorter than the replay window.
    webhook_delivery_retention_days: int = Field(default=30, ge=7)
    webhook_delivery_prune_interval_s: float = Field(default=3600.0, ge=60)
    webhook_delivery_prune_batch: int = Field(default=5000, ge=1, le=100_000)
    # A GitHub rate limit that resets within this many seconds is waited out; a longer one fails clearly.
    github_rate_limit_max_wait: float = Field(default=60.0, ge=0)
    # Public URL of this service, used for OAuth redirect URIs: https://autodevops.example.com
    public_url: str = "http://localhost:8000"
    # Token encryption keyring: "KEY_ID:BASE64URL(32 bytes)". The current key encrypts; previous keys
    # (comma-separated, same format) only decrypt until `autodevops keys rotate` has moved every row.
    token_encryption_key: SecretStr | None = None
    token_encryption_previous_keys: SecretStr | None = None
    session_ttl_seconds: int = Field(default=3600, ge=60, le=86400)
    # Secure cookies may only be turned off for http://localhost development.
    session_cookie_secure: bool = True

    # ---- GitLab (gitlab.com or a self-managed instance) -------------------------------------------------
    # The instance's base URL; the REST API is under /api/v4 and browsers sign in under /oauth. Every request
    # to it follows the git URL policy (https, public addresses or AUTODEVOPS_GIT_PRIVATE_SERVERS).
    gitlab_url: str = "https://gitlab.com"
    gitlab_client_id: str | None = None
    gitlab_client_secret: SecretStr | None = None
    gitlab_http_timeout_s: float = Field(default=30.0, gt=0, le=300)
    # A GitLab rate limit that resets within this many seconds is waited out; a longer one fails clearly.
    gitlab_rate_limit_max_wait: float = Field(default=60.0, ge=0)
    gitlab_webhook_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    # A rotated webhook secret keeps being accepted for this long after the rotation.
    gitlab_webhook_secret_grace_s: int = Field(default=86_400, ge=0, le=30 * 86_400)

    # ---- enterprise single sign-on (OpenID Connect, configured per organization) -----------------------
    # Providers' discovery documents and key sets are cached in each process for this long.
    sso_metadata_ttl_s: int = Field(default=3600, ge=60, le=86400)
    # An ID token signed with a key the cached key set lacks refetches the set, at most this often per provider.
    sso_jwks_min_refresh_s: float = Field(default=60.0, ge=0, le=3600)
    sso_http_timeout_s: float = Field(default=10.0, gt=0, le=60)

    # ---- AI layer (refines the rule engine; off when no entry is usable) ------------------------------
    # Ordered "provider:model" entries tried in turn; providers: gemini, openai (any OpenAI-compatible
    # server: Ollama, vLLM...), anthropic. An entry whose provider has no API key (and, for openai, the
    # public base URL) is skipped.
    ai_models: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["gemini:gemini-2.5-flash", "openai:gpt-4o-mini", "anthropic:claude-haiku-4-5"]
    )
    gemini_api_key: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    ai_gemini_base_url: str = "https://generativelanguage.googleapis.com"
    ai_openai_base_url: str = "https://api.openai.com/v1"
    ai_anthropic_base_url: str = "https://api.anthropic.com"
    ai_timeout_s: float = Field(default=30.0, gt=0, le=600)
    ai_retries: int = Field(default=2, ge=0, le=10, description="Retries of one entry before falling back.")
    ai_backoff_base_s: float = Field(default=1.0, ge=0)
    ai_backoff_max_s: float = Field(default=20.0, ge=0)
    # A Retry-After/retryDelay longer than this is not waited out: the router falls back to the next entry.
    ai_retry_after_max_s: float = Field(default=30.0, ge=0)
    ai_digest_max_tokens: int = Field(default=1500, ge=200, le=100_000)
    ai_max_output_tokens: int = Field(default=1024, ge=64, le=32_000)
    ai_breaker_failures: int = Field(default=5, ge=1)
    ai_breaker_window_s: float = Field(default=60.0, gt=0)
    ai_breaker_cooldown_s: float = Field(default=30.0, gt=0)
    # Per provider (gemini, openai, anthropic), shared by every worker through Redis.
    ai_requests_per_minute: dict[str, int] = Field(
        default_factory=lambda: {"gemini": 60, "openai": 500, "anthropic": 50}
    )
    ai_tokens_per_minute: dict[str, int] = Field(
        default_factory=lambda: {"gemini": 1_000_000, "openai": 200_000, "anthropic": 50_000}
    )
    # Over quota, a call waits up to this long for room; beyond it the job is re-scheduled with a delay.
    ai_quota_max_wait_s: float = Field(default=10.0, ge=0)
    ai_cache_ttl_s: int = Field(default=7 * 86400, ge=0)
    ai_key_prefix: str = Field(default="autodevops-ai", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    # USD per million tokens, keyed "provider:model"; an unknown model costs 0 and is logged.
    ai_prices: dict[str, AIPrice] = Field(
        default_factory=lambda: {
            "gemini:gemini-2.5-flash": AIPrice(input_per_mtok=0.30, output_per_mtok=2.50),
            "gemini:gemini-2.5-flash-lite": AIPrice(input_per_mtok=0.10, output_per_mtok=0.40),
            "openai:gpt-4o-mini": AIPrice(input_per_mtok=0.15, output_per_mtok=0.60),
            "anthropic:claude-haiku-4-5": AIPrice(input_per_mtok=1.00, output_per_mtok=5.00),
        }
    )
    ai_prices_as_of: date = date(2025, 10, 15)

    @field_validator("ai_models", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> object:
        if isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("ai_models")
    @classmethod
    def _valid_models(cls, value: list[str]) -> list[str]:
        for entry in value:
            provider, _, model = entry.partition(":")
            if provider not in AI_PROVIDERS or not model:
                raise ValueError(f"AI model entries are provider:model with provider in {AI_PROVIDERS}, got {entry!r}")
        return value

    def check(self, *, maintenance: bool = False) -> None:
        """Raise `ConfigError` listing every setting that is unsafe for the current environment.

        `maintenance`: this process uses the maintenance role (worker, `migrate`, `dlq`), which production
        requires to be set; the API runs without it.
        """
        problems: list[str] = []
        if self.default_plan not in self.plans:
            problems.append(f"AUTODEVOPS_DEFAULT_PLAN {self.default_plan!r} is not one of AUTODEVOPS_PLANS")
        if self.env == "production":
            if self.secret_key.get_secret_value() in ("", DEV_SECRET_KEY) or len(self.secret_key) < 32:
                problems.append("AUTODEVOPS_SECRET_KEY must be set to a random value of at least 32 characters")
            if self.database_url.get_secret_value() == DEV_DATABASE_URL:
                problems.append("AUTODEVOPS_DATABASE_URL must be set (the default is for development)")
            if self.database_admin_url.get_secret_value() == DEV_DATABASE_ADMIN_URL:
                problems.append("AUTODEVOPS_DATABASE_ADMIN_URL must be set (the default is for development)")
            elif _weak(self.secret_key.get_secret_value()):
                problems.append("AUTODEVOPS_SECRET_KEY is not random (too few different characters); generate one")
            for name, url in (
                ("DATABASE_URL", self.database_url),
                ("DATABASE_ADMIN_URL", self.database_admin_url),
                ("DATABASE_MAINTENANCE_URL", self.database_maintenance_url),
            ):
                password = urlsplit(url.get_secret_value()).password if url is not None else None
                if password is not None and unquote(password) in DEV_DATABASE_PASSWORDS:
                    problems.append(f"AUTODEVOPS_{name} uses the development password; set a random one")
            if maintenance or self.database_maintenance_url is not None:
                problems.extend(self._maintenance_url_problems())
            if self.allow_insecure_git_urls:
                problems.append("AUTODEVOPS_ALLOW_INSECURE_GIT_URLS is refused in production")
            if self.token_encryption_key is None:
                problems.append("AUTODEVOPS_TOKEN_ENCRYPTION_KEY must be set (KEY_ID:BASE64URL of 32 random bytes)")
            for name, keys in (
                ("TOKEN_ENCRYPTION_KEY", self.token_encryption_key),
                ("TOKEN_ENCRYPTION_PREVIOUS_KEYS", self.token_encryption_previous_keys),
            ):
                if keys is not None and any(_weak_key(key) for key in keys.get_secret_value().split(",")):
                    problems.append(f"AUTODEVOPS_{name} holds a key that is not random (e.g. all zeros); generate one")
            if "*" in self.trusted_proxies:
                problems.append(
                    "AUTODEVOPS_TRUSTED_PROXIES='*' is refused in production (anyone could forge X-Forwarded-For and "
                    "escape the per-IP limits); list the proxies"
                )
            if urlsplit(self.public_url).scheme != "https":
                problems.append("AUTODEVOPS_PUBLIC_URL must be an https:// URL in production")
            if self.hsts_max_age < MIN_PRODUCTION_HSTS_MAX_AGE:
                problems.append(
                    f"AUTODEVOPS_HSTS_MAX_AGE must be at least {MIN_PRODUCTION_HSTS_MAX_AGE} (a year) in production"
                )
            if not self.session_cookie_secure:
                problems.append("AUTODEVOPS_SESSION_COOKIE_SECURE=false is refused in production")
            if "*" in self.cors_origins:
                problems.append("AUTODEVOPS_CORS_ORIGINS='*' is refused in production; list the origins")
        if not self.session_cookie_secure and urlsplit(self.public_url).hostname not in ("localhost", "127.0.0.1"):
            problems.append("AUTODEVOPS_SESSION_COOKIE_SECURE=false is only allowed for an http://localhost public URL")
        if problems:
            raise ConfigError("refusing to start:\n  - " + "\n  - ".join(problems))

    def _maintenance_url_problems(self) -> list[str]:
        """Production: the maintenance role has a URL of its own, with a user and password the API's lacks."""
        if self.database_maintenance_url is None:
            return [
                "AUTODEVOPS_DATABASE_MAINTENANCE_URL must be set in production for workers, `autodevops migrate` "
                "and `autodevops dlq` (the maintenance role, with its own password; never give it to the API)"
            ]
        app = urlsplit(self.database_url.get_secret_value())
        maintenance = urlsplit(self.database_maintenance_url.get_secret_value())
        if maintenance.username in (app.username, urlsplit(self.database_admin_url.get_secret_value()).username):
            return ["AUTODEVOPS_DATABASE_MAINTENANCE_URL must use its own role, not the app's or the admin's"]
        if maintenance.password is not None and maintenance.password == app.password:
            return ["AUTODEVOPS_DATABASE_MAINTENANCE_URL must not reuse the app role's password"]
        return []


def _weak(secret: str) -> bool:
    """A secret that cannot be random: too few different characters (`'a' * 32`, `'abab...'`)."""
    return len(set(secret)) < MIN_DISTINCT_SECRET_CHARACTERS


def _weak_key(entry: str) -> bool:
    """A `KEY_ID:BASE64URL` key whose bytes cannot be random (all zeros, one repeated byte...)."""
    _, _, encoded = entry.strip().partition(":")
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (ValueError, binascii.Error):
        return False  # malformed keys are refused where the keyring is loaded, with their own message
    return len(set(raw)) < MIN_DISTINCT_KEY_BYTES


def asyncpg_url(value: str, setting: str) -> str:
    """`postgresql://` and `postgres://` (what hosting providers hand out) as `postgresql+asyncpg://`; any other
    scheme is refused with one line naming the setting."""
    scheme, sep, rest = value.partition("://")
    if sep and scheme in ("postgresql", "postgres", "postgresql+asyncpg"):
        return f"postgresql+asyncpg://{rest}"
    raise ValueError(
        f"AUTODEVOPS_{setting} must be a postgresql:// (or postgres://, postgresql+asyncpg://) URL, "
        f"not {scheme + '://' if sep else 'this'}"
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own `Settings(...)` instead of mutating this."""
    return Settings()
