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
