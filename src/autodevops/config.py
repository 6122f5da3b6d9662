"""Platform settings: one pydantic-settings class read from `AUTODEVOPS_*` environment variables.

The engine never reads settings; only the platform (API, worker, migrations) does. Each area adds its own
fields here, grouped under a comment, with a default that is safe for development. `Settings.check()`
refuses to run in production with default or missing secrets, listing every problem at once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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
        if problems:
            raise ConfigError("refusing to start:\n  - " + "\n  - ".join(problems))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own `Settings(...)` instead of mutating this."""
    return Settings()
