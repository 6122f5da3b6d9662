"""Production refuses to start with default or missing secrets, listing all of them at once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from autodevops.cli import app as cli
from autodevops.config import ConfigError, Settings, get_settings
from autodevops.web import create_app

EVERY_SECRET = (
    "AUTODEVOPS_SECRET_KEY",
    "AUTODEVOPS_DATABASE_URL",
    "AUTODEVOPS_DATABASE_ADMIN_URL",
    "AUTODEVOPS_TOKEN_ENCRYPTION_KEY",
)


def test_production_with_defaults_lists_every_missing_secret() -> None:
    with pytest.raises(ConfigError) as refused:
        Settings(env="production").check()
    for name in EVERY_SECRET:
        assert name in str(refused.value)


def test_production_refuses_a_wildcard_cors_origin() -> None:
    with pytest.raises(ConfigError, match="AUTODEVOPS_CORS_ORIGINS"):
        Settings(env="production", cors_origins=["*"]).check()


def test_app_factory_refuses_unsafe_production_settings() -> None:
    with pytest.raises(ConfigError, match="AUTODEVOPS_SECRET_KEY"):
        create_app(Settings(env="production"))


def test_serve_refuses_to_start_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTODEVOPS_ENV", "production")
    monkeypatch.delenv("AUTODEVOPS_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve", "--port", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    for name in ("AUTODEVOPS_SECRET_KEY", "AUTODEVOPS_DATABASE_URL"):
        assert name in result.output


def test_cors_and_proxy_lists_read_comma_separated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTODEVOPS_CORS_ORIGINS", "https://a.example.com, https://b.example.com")
    monkeypatch.setenv("AUTODEVOPS_TRUSTED_PROXIES", "10.0.0.0/8")
    settings = Settings()
    assert settings.cors_origins == ["https://a.example.com", "https://b.example.com"]
    assert settings.trusted_proxies == ["10.0.0.0/8"]


def test_sentry_is_enabled_only_with_a_dsn(make_settings: Callable[..., Settings]) -> None:
    import sentry_sdk

    create_app(make_settings())
    assert not sentry_sdk.get_client().is_active()
    create_app(make_settings(sentry_dsn=""))  # an empty variable, as compose passes an unset one
    assert not sentry_sdk.get_client().is_active()
    # Nothing listens on port 9: events would be dropped, and this test sends none.
    create_app(make_settings(sentry_dsn="http://public@127.0.0.1:9/1"))
    try:
        client = sentry_sdk.get_client()
        assert client.is_active()
        assert not client.options.get("send_default_pii")
        assert client.options["max_request_body_size"] == "never"
        assert client.options["environment"] == "test"
    finally:
        sentry_sdk.get_client().close(timeout=0)
        sentry_sdk.init()  # back to a disabled client for the rest of the run


# A production configuration that passes: every later test changes one thing and expects that one refused.
STRONG = {
    "env": "production",
    "secret_key": "k3Jd9-xQ2vLp8ZrT4mNw7YbC1hFg6sAe",
    "database_url": "postgresql://autodevops_app:Zq8vN3xLp2Rw@db:5432/autodevops",
    "database_admin_url": "postgresql://postgres:Hy7cK2mT9wQs@db:5432/autodevops",
    "token_encryption_key": "k1:Jq3-9hTz0aXw2LrV8bNc5YmQ1dKf7sGe6uPi4oHj0Zk",
    "public_url": "https://autodevops.example.com",
    "trusted_proxies": ["10.0.0.2"],
    "database_maintenance_url": "postgresql://autodevops_maintenance:Wp4sD8nX1cVb@db:5432/autodevops",
}


def test_a_strong_production_configuration_passes() -> None:
    Settings(**STRONG).check(maintenance=True)


def test_the_api_runs_without_the_maintenance_url_and_workers_do_not() -> None:
    api = {key: value for key, value in STRONG.items() if key != "database_maintenance_url"}
    Settings(**api).check()  # the API never holds the maintenance role's password
    with pytest.raises(ConfigError, match="AUTODEVOPS_DATABASE_MAINTENANCE_URL must be set in production"):
        Settings(**api).check(maintenance=True)
    with pytest.raises(ConfigError, match="AUTODEVOPS_DATABASE_MAINTENANCE_URL must be set in production"):
        _ = Settings(**api).effective_database_maintenance_url


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"secret_key": "a" * 32}, "AUTODEVOPS_SECRET_KEY is not random"),
        ({"secret_key": "abab" * 10}, "AUTODEVOPS_SECRET_KEY is not random"),
        (
            {"database_url": "postgresql://autodevops_app:autodevops_app@db:5432/autodevops"},
            "AUTODEVOPS_DATABASE_URL uses the development password",
        ),
        ({"token_encryption_key": "k1:" + "A" * 43}, "AUTODEVOPS_TOKEN_ENCRYPTION_KEY holds a key that is not random"),
        (
            {"token_encryption_previous_keys": "k0:" + "A" * 43},
            "AUTODEVOPS_TOKEN_ENCRYPTION_PREVIOUS_KEYS holds a key that is not random",
        ),
        ({"trusted_proxies": ["*"]}, "AUTODEVOPS_TRUSTED_PROXIES='*' is refused in production"),
        ({"public_url": "http://autodevops.example.com"}, "AUTODEVOPS_PUBLIC_URL must be an https:// URL"),
        ({"hsts_max_age": 0}, "AUTODEVOPS_HSTS_MAX_AGE must be at least 31536000"),
        (
            {"database_maintenance_url": "postgresql://autodevops_maintenance:Zq8vN3xLp2Rw@db:5432/autodevops"},
            "AUTODEVOPS_DATABASE_MAINTENANCE_URL must not reuse the app role's password",
        ),
        (
            {"database_maintenance_url": "postgresql://autodevops_app:Wp4sD8nX1cVb@db:5432/autodevops"},
            "AUTODEVOPS_DATABASE_MAINTENANCE_URL must use its own role",
        ),
    ],
)
def test_production_refuses_weak_settings(change: dict[str, object], refusal: str) -> None:
    # The assessment: each of these passed the production check.
    with pytest.raises(ConfigError) as refused:
        Settings(**(STRONG | change)).check(maintenance=True)
    assert refusal in str(refused.value)
    assert str(refused.value).count("\n  - ") == 1  # only the weakened setting is named


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+asyncpg"])
def test_database_urls_as_hosts_hand_them_out_use_asyncpg(scheme: str) -> None:
    settings = Settings(database_url=f"{scheme}://u:p@db:5432/x", database_admin_url=f"{scheme}://o@db/x")
    assert settings.database_url.get_secret_value() == "postgresql+asyncpg://u:p@db:5432/x"
    assert settings.database_admin_url.get_secret_value() == "postgresql+asyncpg://o@db/x"


def test_another_database_scheme_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # The assessment: postgresql:// failed with a traceback (No module named 'psycopg').
    monkeypatch.setenv("AUTODEVOPS_DATABASE_URL", "mysql://u:p@db/x")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["migrate"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert result.output == (
        "AUTODEVOPS_DATABASE_URL must be a postgresql:// (or postgres://, postgresql+asyncpg://) URL, not mysql://\n"
    )
