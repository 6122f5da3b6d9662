"""GitHub webhook signatures: `X-Hub-Signature-256: sha256=HEX(HMAC-SHA256(secret, raw body))`.

Verification runs over the exact bytes received (never a re-serialized JSON document), incrementally while the
body streams in (`Verifier`), and compares in constant time. During a webhook-secret rotation more than one
secret is accepted; each is tried in full so the time taken does not reveal which one matched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from autodevops.config import Settings

PREFIX = "sha256="


def sign(secret: str | bytes, body: bytes) -> str:
    """The header value GitHub sends for `body` signed with `secret`."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


_HEADER = re.compile(r"^sha256=[0-9a-f]{64}$")


def well_formed(header: str | None) -> bool:
    """Whether `header` can be a signature at all: checked before a byte of the body is read."""
    return header is not None and bool(_HEADER.match(header.strip()))


class Verifier:
    """HMACs of the body under every accepted secret, fed chunk by chunk as the body arrives."""

    def __init__(self, secrets: Iterable[str], header: str | None) -> None:
        self._given = (header or "").strip().encode("ascii", "replace")
        self._macs = [hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256) for secret in secrets]

    def update(self, chunk: bytes) -> None:
        for mac in self._macs:
            mac.update(chunk)

    def valid(self) -> bool:
        """True when the header is a valid signature of everything fed so far under one of the secrets."""
        if not well_formed(self._given.decode("ascii")):
            return False
        matched = False
        for mac in self._macs:
            # compare_digest on equal-length ASCII bytes: constant time for the comparison itself.
            if hmac.compare_digest((PREFIX + mac.hexdigest()).encode("ascii"), self._given):
                matched = True
        return matched


def verify(secrets: Iterable[str], body: bytes, header: str | None) -> bool:
    """True when `header` is a valid signature of `body` under one of `secrets`."""
    verifier = Verifier(secrets, header)
    verifier.update(body)
    return verifier.valid()


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
