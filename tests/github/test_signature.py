"""Webhook signature verification, including GitHub's published test vector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from autodevops.config import Settings
from autodevops.github.signature import active_secrets, sign, verify

# https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
VECTOR_SECRET = "It's a Secret to Everybody"
VECTOR_BODY = b"Hello, World!"
VECTOR_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_github_published_test_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_BODY) == VECTOR_SIGNATURE
    assert verify([VECTOR_SECRET], VECTOR_BODY, VECTOR_SIGNATURE)


def test_wrong_missing_or_malformed_signature_is_rejected() -> None:
    assert not verify([VECTOR_SECRET], VECTOR_BODY + b" ", VECTOR_SIGNATURE)
    assert not verify(["another secret"], VECTOR_BODY, VECTOR_SIGNATURE)
    assert not verify([VECTOR_SECRET], VECTOR_BODY, None)
    assert not verify([VECTOR_SECRET], VECTOR_BODY, "")
    assert not verify([VECTOR_SECRET], VECTOR_BODY, VECTOR_SIGNATURE.removeprefix("sha256="))
    assert not verify([VECTOR_SECRET], VECTOR_BODY, "sha1=" + VECTOR_SIGNATURE[7:])
    assert not verify([VECTOR_SECRET], VECTOR_BODY, "sha256=é")
    assert not verify([], VECTOR_BODY, VECTOR_SIGNATURE)


def test_rotation_grace_window() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    settings = Settings(
        github_webhook_secret=SecretStr("new"),
        github_webhook_secret_previous=SecretStr("old"),
        github_webhook_secret_previous_until=now + timedelta(hours=1),
    )
    assert active_secrets(settings, now=now) == ["new", "old"]
    assert verify(active_secrets(settings, now=now), b"{}", sign("old", b"{}"))
    later = now + timedelta(hours=2)
    assert active_secrets(settings, now=later) == ["new"]
    assert not verify(active_secrets(settings, now=later), b"{}", sign("old", b"{}"))
    # A previous secret without a deadline is never accepted.
    assert active_secrets(Settings(github_webhook_secret_previous=SecretStr("old")), now=now) == []
