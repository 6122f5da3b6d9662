"""Platform settings: one pydantic-settings class read from `AUTODEVOPS_*` environment variables.

The engine never reads settings; only the platform (API, worker, migrations) does. Each area adds its own
fields here, grouped under a comment, with a default that is safe for development. `Settings.check()`
refuses to run in production with default or missing secrets, listing every problem at once.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Literal
from urllib.parse import urlsplit

from limits import parse as parse_rate_limit
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Environment = Literal["development", "test", "production"]

# Development-only defaults. `check()` refuses them in production.
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105 - a known-bad default, refused in production
DEV_DATABASE_URL = "postgresql+asyncpg://autodevops_app:autodevops_app@127.0.0.1:5432/autodevops"
DEV_DATABASE_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/autodevops"


class ConfigError(Exception):
    """Settings that must not be used (production with default secrets...)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTODEVOPS_", env_file=None, extra="ignore")

    # ---- core -----------------------------------------------------------------------------------------
    env: Environment = "development"
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    database_url: SecretStr = SecretStr(DEV_DATABASE_URL)
    database_admin_url: SecretStr = SecretStr(DEV_DATABASE_ADMIN_URL)
    redis_url: str = "redis://127.0.0.1:6379/0"
    allow_insecure_git_urls: bool = Field(
        default=False, description="Allow http:// and loopback/private git hosts (development and tests only)."
    )
    log_level: str = "INFO"
    sentry_dsn: SecretStr | None = None

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
    rate_limit_key_prefix: str = Field(default="autodevops-ratelimit", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    ready_timeout_s: float = Field(default=2.0, gt=0, le=30)
    # JSON log lines; unset means JSON everywhere but development, which gets readable console lines.
    log_json: bool | None = None
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0, le=1)

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("rate_limit_per_ip", "rate_limit_per_user")
    @classmethod
    def _valid_rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)  # raises ValueError with a readable message on bad notation
        return value

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

    def check(self) -> None:
        """Raise `ConfigError` listing every setting that is unsafe for the current environment."""
        problems: list[str] = []
        if self.env == "production":
            if self.secret_key.get_secret_value() in ("", DEV_SECRET_KEY) or len(self.secret_key) < 32:
                problems.append("AUTODEVOPS_SECRET_KEY must be set to a random value of at least 32 characters")
            if self.database_url.get_secret_value() == DEV_DATABASE_URL:
                problems.append("AUTODEVOPS_DATABASE_URL must be set (the default is for development)")
            if self.database_admin_url.get_secret_value() == DEV_DATABASE_ADMIN_URL:
                problems.append("AUTODEVOPS_DATABASE_ADMIN_URL must be set (the default is for development)")
            if self.allow_insecure_git_urls:
                problems.append("AUTODEVOPS_ALLOW_INSECURE_GIT_URLS is refused in production")
            if self.token_encryption_key is None:
                problems.append("AUTODEVOPS_TOKEN_ENCRYPTION_KEY must be set (KEY_ID:BASE64URL of 32 random bytes)")
            if not self.session_cookie_secure:
                problems.append("AUTODEVOPS_SESSION_COOKIE_SECURE=false is refused in production")
            if "*" in self.cors_origins:
                problems.append("AUTODEVOPS_CORS_ORIGINS='*' is refused in production; list the origins")
        if not self.session_cookie_secure and urlsplit(self.public_url).hostname not in ("localhost", "127.0.0.1"):
            problems.append("AUTODEVOPS_SESSION_COOKIE_SECURE=false is only allowed for an http://localhost public URL")
        if problems:
            raise ConfigError("refusing to start:\n  - " + "\n  - ".join(problems))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own `Settings(...)` instead of mutating this."""
    return Settings()
