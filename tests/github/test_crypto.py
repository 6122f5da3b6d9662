"""AES-256-GCM token encryption: round trip, tamper, wrong row/purpose, keyring rotation."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from autodevops.config import Settings
from autodevops.crypto import CryptoError, Key, Keyring, aad, key_id_of

AAD = aad("github_user_tokens", "8c6f", "access_token")


def test_round_trip_and_fresh_iv_each_time() -> None:
    ring = Keyring(Key.generate("k1"))
    a = ring.encrypt("gho_secret", associated_data=AAD)
    b = ring.encrypt("gho_secret", associated_data=AAD)
    assert a != b  # random IV: equal plaintexts do not produce equal ciphertexts
    assert ring.decrypt(a, associated_data=AAD) == "gho_secret"
    assert ring.decrypt(b, associated_data=AAD) == "gho_secret"
    assert "gho_secret" not in base64.b64decode(a).decode("latin-1")


def test_layout_is_key_id_iv_ciphertext_tag() -> None:
    ring = Keyring(Key.generate("k7"))
    raw = base64.b64decode(ring.encrypt("abc", associated_data=AAD))
    assert raw[0] == 2
    assert raw[1:3] == b"k7"
    assert len(raw) == 1 + 2 + 12 + len("abc") + 16
    assert key_id_of(ring.encrypt("abc", associated_data=AAD)) == "k7"


@pytest.mark.parametrize("position", [0, 5, 20, -1])
def test_any_flipped_byte_fails(position: int) -> None:
    ring = Keyring(Key.generate("k1"))
    raw = bytearray(base64.b64decode(ring.encrypt("gho_secret", associated_data=AAD)))
    raw[position] ^= 0x01
    with pytest.raises(CryptoError):
        ring.decrypt(base64.b64encode(bytes(raw)).decode(), associated_data=AAD)


def test_value_copied_to_another_row_or_purpose_fails() -> None:
    ring = Keyring(Key.generate("k1"))
    token = ring.encrypt("gho_secret", associated_data=AAD)
    with pytest.raises(CryptoError, match="authentication"):
        ring.decrypt(token, associated_data=aad("github_user_tokens", "other-row", "access_token"))
    with pytest.raises(CryptoError, match="authentication"):
        ring.decrypt(token, associated_data=aad("github_user_tokens", "8c6f", "refresh_token"))


def test_unknown_key_and_garbage_are_clear_errors() -> None:
    token = Keyring(Key.generate("old")).encrypt("x", associated_data=AAD)
    with pytest.raises(CryptoError, match=r"'old'.*not in the keyring"):
        Keyring(Key.generate("new")).decrypt(token, associated_data=AAD)
    for bad in ["", "not base64!", base64.b64encode(b"\x02k1short").decode()]:
        with pytest.raises(CryptoError):
            Keyring(Key.generate("k1")).decrypt(bad, associated_data=AAD)


def test_rotation_previous_key_decrypts_current_encrypts() -> None:
    old, new = Key.generate("k1"), Key.generate("k2")
    stored = Keyring(old).encrypt("gho_secret", associated_data=AAD)
    ring = Keyring(new, [old])
    assert ring.needs_rotation(stored)
    assert ring.decrypt(stored, associated_data=AAD) == "gho_secret"
    moved = ring.reencrypt(stored, associated_data=AAD)
    assert key_id_of(moved) == "k2"
    assert not ring.needs_rotation(moved)
    assert Keyring(new).decrypt(moved, associated_data=AAD) == "gho_secret"


def test_key_parsing_from_settings() -> None:
    k1, k2 = Key.generate("k1"), Key.generate("k2")
    settings = Settings(
        token_encryption_key=SecretStr(k2.spec()), token_encryption_previous_keys=SecretStr(f" {k1.spec()} ,")
    )
    ring = Keyring.from_settings(settings)
    assert ring.current.id == "k2"
    assert ring.key_ids == ["k2", "k1"]
    assert "secret" not in repr(ring.current)
    assert k2.spec().split(":")[1] not in repr(ring.current)
    with pytest.raises(CryptoError, match="32 bytes"):
        Key.parse("k1:" + base64.urlsafe_b64encode(b"short").decode())
    with pytest.raises(CryptoError, match="KEY_ID:BASE64URL"):
        Key.parse("no-separator")
    with pytest.raises(CryptoError, match="twice"):
        Keyring(k1, [Key.generate("k1")])


def test_production_requires_a_configured_key() -> None:
    with pytest.raises(CryptoError, match="not set"):
        Keyring.from_settings(Settings(env="production"))
    assert Keyring.from_settings(Settings()).current.id == "dev"
