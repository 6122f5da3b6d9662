"""Encryption of secrets at rest (OAuth access and refresh tokens, single sign-on client secrets) with AES-256-GCM.

Stored form: ``Base64(len(key id) ‖ key id ‖ IV ‖ ciphertext ‖ tag)`` (standard Base64, ASCII). The key id is
1-32 ASCII characters `[A-Za-z0-9_-]`, prefixed by its length in one byte; the IV is 12 random bytes drawn for
every encryption; the tag is GCM's 16 bytes. The associated data binds a ciphertext to the row and purpose it
was written for (`aad("github_user_tokens", row_id, "access_token")`), so a value copied to another row or
column fails to decrypt instead of silently authenticating someone else.

Keys come from settings as a keyring: one current key (encrypts and decrypts) and any number of previous keys
(decrypt only). Rotation: make the new key current and the old one previous, roll the service, run
`autodevops keys rotate` to re-encrypt every stored value, then drop the previous key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from autodevops.config import Settings

IV_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class CryptoError(Exception):
    """A value cannot be decrypted (unknown key, tampered, wrong associated data) or a key is malformed.

    The message never contains key material or plaintext.
    """


def aad(table: str, row_id: object, purpose: str) -> bytes:
    """Associated data binding a ciphertext to one row of one table and one use of it."""
    return f"autodevops:{table}:{row_id}:{purpose}".encode()


@dataclass(frozen=True, slots=True)
class Key:
    id: str
    secret: bytes

    def __post_init__(self) -> None:
        if not _KEY_ID.match(self.id):
            raise CryptoError("a key id is 1-32 characters of A-Z a-z 0-9 _ -")
        if len(self.secret) != KEY_BYTES:
            raise CryptoError(f"key {self.id!r} must be {KEY_BYTES} bytes (AES-256)")

    def __repr__(self) -> str:  # never print the key material
        return f"Key(id={self.id!r})"

    @classmethod
    def parse(cls, spec: str) -> Key:
        """Parse `KEY_ID:BASE64URL(32 bytes)` (padding optional; standard Base64 accepted too)."""
        kid, sep, b64 = spec.strip().partition(":")
        if not sep:
            raise CryptoError("a key is written KEY_ID:BASE64URL(32 bytes)")
        raw = b64.strip().replace("+", "-").replace("/", "_")
        try:
            secret = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        except (binascii.Error, ValueError):
            raise CryptoError(f"key {kid!r} is not valid Base64") from None
        return cls(kid, secret)

    @classmethod
    def generate(cls, kid: str) -> Key:
        """A fresh random key (for `autodevops keys generate` and tests)."""
        return cls(kid, os.urandom(KEY_BYTES))

    def spec(self) -> str:
        """The `KEY_ID:BASE64URL` form settings take."""
        return f"{self.id}:{base64.urlsafe_b64encode(self.secret).decode().rstrip('=')}"


class Keyring:
    """The current key and the previous ones. Encrypts with the current key; decrypts with whichever key
    id the value names."""

    def __init__(self, current: Key, previous: list[Key] | tuple[Key, ...] = ()) -> None:
        self.current = current
        self._keys: dict[str, Key] = {}
        for key in (current, *previous):
            if key.id in self._keys:
                raise CryptoError(f"key id {key.id!r} appears twice in the keyring")
            self._keys[key.id] = key

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        """The keyring from `AUTODEVOPS_TOKEN_ENCRYPTION_KEY` and `..._PREVIOUS_KEYS`.

        Outside production, a missing key falls back to one derived from the secret key, so a development
        machine works without set-up (`Settings.check` refuses that in production).
        """
        if settings.token_encryption_key is not None:
            current = Key.parse(settings.token_encryption_key.get_secret_value())
        else:
            if settings.env == "production":
                raise CryptoError("AUTODEVOPS_TOKEN_ENCRYPTION_KEY is not set")
            derived = hashlib.sha256(b"autodevops-token-key:" + settings.secret_key.get_secret_value().encode())
            current = Key("dev", derived.digest())
        previous: list[Key] = []
        if settings.token_encryption_previous_keys is not None:
            for spec in settings.token_encryption_previous_keys.get_secret_value().split(","):
                if spec.strip():
                    previous.append(Key.parse(spec))
        return cls(current, previous)

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def encrypt(self, plaintext: str, *, associated_data: bytes) -> str:
        """Encrypt under the current key with a fresh random IV."""
        iv = os.urandom(IV_BYTES)
        sealed = AESGCM(self.current.secret).encrypt(iv, plaintext.encode("utf-8"), associated_data)
        kid = self.current.id.encode("ascii")
        return base64.b64encode(bytes([len(kid)]) + kid + iv + sealed).decode("ascii")

    def decrypt(self, token: str, *, associated_data: bytes) -> str:
        """Decrypt a stored value; `CryptoError` if the key is unknown, the value was altered, or it was
        written for another row or purpose."""
        kid, iv, sealed = _split(token)
        key = self._keys.get(kid)
        if key is None:
            raise CryptoError(f"value was encrypted with key {kid!r}, which is not in the keyring")
        try:
            return AESGCM(key.secret).decrypt(iv, sealed, associated_data).decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise CryptoError("value failed authentication (tampered, or bound to another row)") from None

    def needs_rotation(self, token: str) -> bool:
        """True when the value is not encrypted under the current key."""
        return key_id_of(token) != self.current.id

    def reencrypt(self, token: str, *, associated_data: bytes) -> str:
        """The same plaintext under the current key (a new IV even when the key is unchanged)."""
        return self.encrypt(self.decrypt(token, associated_data=associated_data), associated_data=associated_data)


@dataclass
class RotationReport:
    """What one re-encryption pass (`autodevops keys rotate`) did to one kind of stored secret."""

    scanned: int = 0
    rotated: int = 0
    current: int = 0  # already under the current key
    changed: int = 0  # rewritten concurrently by the service; left as the service wrote it
    failed: list[str] = field(default_factory=list)  # ids whose ciphertext no key in the keyring opens


def key_id_of(token: str) -> str:
    """The id of the key a stored value was encrypted with (no key needed)."""
    return _split(token)[0]


def _split(token: str) -> tuple[str, bytes, bytes]:
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise CryptoError("value is not Base64") from None
    if not raw:
        raise CryptoError("value is empty")
    n = raw[0]
    if n == 0 or len(raw) < 1 + n + IV_BYTES + TAG_BYTES:
        raise CryptoError("value is truncated")
    try:
        kid = raw[1 : 1 + n].decode("ascii")
    except UnicodeDecodeError:
        raise CryptoError("value has a malformed key id") from None
    return kid, raw[1 + n : 1 + n + IV_BYTES], raw[1 + n + IV_BYTES :]
