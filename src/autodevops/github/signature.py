"""GitHub webhook signatures: `X-Hub-Signature-256: sha256=HEX(HMAC-SHA256(secret, raw body))`.

Verification runs over the exact bytes received (never a re-serialized JSON document) and compares in
constant time. During a webhook-secret rotation more than one secret is accepted; each is tried in full so the
time taken does not reveal which one matched.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime

from autodevops.config import Settings

PREFIX = "sha256="


def sign(secret: str | bytes, body: bytes) -> str:
    """The header value GitHub sends for `body` signed with `secret`."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(secrets: Iterable[str], body: bytes, header: str | None) -> bool:
    """True when `header` is a valid signature of `body` under one of `secrets`."""
    if not header or not header.startswith(PREFIX):
        return False
    given = header.strip().encode("ascii", "replace")
    matched = False
    for secret in secrets:
        # compare_digest on equal-length ASCII bytes: constant time for the comparison itself.
        if hmac.compare_digest(sign(secret, body).encode("ascii"), given):
            matched = True
    return matched


def active_secrets(settings: Settings, *, now: datetime | None = None) -> list[str]:
    """The webhook secrets accepted right now: the current one, plus the previous one until its grace
    window (`AUTODEVOPS_GITHUB_WEBHOOK_SECRET_PREVIOUS_UNTIL`) ends. A previous secret with no end date is
    not accepted: a rotation always has a deadline."""
    secrets: list[str] = []
    if settings.github_webhook_secret is not None:
        secrets.append(settings.github_webhook_secret.get_secret_value())
    until = settings.github_webhook_secret_previous_until
    if settings.github_webhook_secret_previous is not None and until is not None:
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        if (now or datetime.now(UTC)) < until:
            secrets.append(settings.github_webhook_secret_previous.get_secret_value())
    return [s for s in secrets if s]
