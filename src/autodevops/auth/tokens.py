"""Personal API token format: `adt_` + 43 URL-safe characters (256 random bits).

The first 12 characters (`adt_` + 8) are the lookup prefix, stored in clear and unique; the whole token is
stored only as its SHA-256. A salted slow hash is unnecessary: the secret is random and long, not a password.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

TOKEN_SCHEME = "adt_"  # noqa: S105 - the public marker of our tokens
PREFIX_LENGTH = 12
_TOKEN_RE = re.compile(r"^adt_[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True, slots=True)
class NewToken:
    secret: str
    prefix: str
    hash: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token() -> NewToken:
    """A fresh token: the secret (shown once), its lookup prefix and its hash."""
    secret = TOKEN_SCHEME + secrets.token_urlsafe(32)
    return NewToken(secret=secret, prefix=secret[:PREFIX_LENGTH], hash=hash_token(secret))


def looks_like_token(token: str) -> bool:
    """Whether `token` has the shape of one of ours (rejects junk before touching the database)."""
    return bool(_TOKEN_RE.match(token))


def prefix_of(token: str) -> str:
    return token[:PREFIX_LENGTH]
