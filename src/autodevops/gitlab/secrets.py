"""The secrets of a GitLab connection at rest, and their re-encryption by `autodevops keys rotate`.

Each is AES-256-GCM encrypted with the token keyring (`autodevops.crypto`), its associated data binding it to
its connection row and purpose, so a ciphertext copied to another row or column fails to decrypt. Rotation
follows `github.rotation`: the owner role walks every organization's connections in id order, a batch per
transaction, and swaps a row's ciphertexts only if they are still the ones read, so a token or webhook secret
written at the same moment (already under the current key) is left as written.
"""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autodevops.crypto import CryptoError, Keyring, RotationReport, aad
from autodevops.errors import AppError
from autodevops.logging import get_logger
from autodevops.models import GitLabAccount, GitLabConnection

log = get_logger(__name__)

TABLE = "gitlab_connections"
Purpose = Literal["access_token", "webhook_secret", "previous_webhook_secret"]
_COLUMNS: dict[Purpose, str] = {
    "access_token": "token_enc",
    "webhook_secret": "webhook_secret_enc",
    "previous_webhook_secret": "previous_webhook_secret_enc",
}


class GitLabTokenUnusable(AppError):
    status_code = 409
    error = "gitlab_token_invalid"


def connection_token(keyring: Keyring, connection: GitLabConnection) -> str:
    """The connection's access token; `GitLabTokenUnusable` when the stored value cannot be decrypted."""
    try:
        token = unseal(keyring, connection, "access_token")
    except CryptoError:
        # Stored under a key no longer in the keyring (dropped before `keys rotate` ran).
        log.warning("gitlab token undecryptable", repository_id=str(connection.repository_id))
        token = None
    if token is None:
        raise GitLabTokenUnusable("the stored GitLab token cannot be used; connect the project again with a new token")
    return token


def seal(keyring: Keyring, connection: GitLabConnection, purpose: Purpose, value: str) -> str:
    return keyring.encrypt(value, associated_data=aad(TABLE, connection.repository_id, purpose))


def unseal(keyring: Keyring, connection: GitLabConnection, purpose: Purpose) -> str | None:
    """The plaintext of one of the connection's secrets, None when it has none. `CryptoError` if undecryptable."""
    value: str | None = getattr(connection, _COLUMNS[purpose])
    if value is None:
        return None
    return keyring.decrypt(value, associated_data=aad(TABLE, connection.repository_id, purpose))


async def rotate_connection_secrets(
    sessionmaker: async_sessionmaker[AsyncSession], keyring: Keyring, *, batch_size: int = 200
) -> RotationReport:
    """Move every stored GitLab token and webhook secret to `keyring.current`. A second run rotates nothing."""
    columns = {str(purpose): column for purpose, column in _COLUMNS.items()}
    return await _rotate(sessionmaker, keyring, GitLabConnection, "repository_id", TABLE, columns, batch_size)


async def rotate_account_tokens(
    sessionmaker: async_sessionmaker[AsyncSession], keyring: Keyring, *, batch_size: int = 200
) -> RotationReport:
    """Move every stored "Sign in with GitLab" token to `keyring.current` (same procedure as above)."""
    columns = {"access_token": "access_token_enc", "refresh_token": "refresh_token_enc"}
    return await _rotate(sessionmaker, keyring, GitLabAccount, "id", "gitlab_accounts", columns, batch_size)


async def _rotate(
    sessionmaker: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    model: type[GitLabConnection] | type[GitLabAccount],
    key: str,
    table: str,
    columns: dict[str, str],
    batch_size: int,
) -> RotationReport:
    """Walk `model`'s rows in `key` order, a batch per transaction, re-encrypting each stale ciphertext of
    `columns` (purpose -> column) and swapping it only if the row still holds the ciphertext read."""
    report = RotationReport()
    key_column = getattr(model, key)
    after: uuid.UUID | None = None
    while True:
        async with sessionmaker() as session, session.begin():
            query = select(model).order_by(key_column).limit(batch_size)
            if after is not None:
                query = query.where(key_column > after)
            rows = (await session.scalars(query)).all()
            if not rows:
                return report
            for row in rows:
                report.scanned += 1
                row_id = getattr(row, key)
                old = {purpose: getattr(row, column) for purpose, column in columns.items()}
                stale = {p: v for p, v in old.items() if v is not None and keyring.needs_rotation(v)}
                if not stale:
                    report.current += 1
                    continue
                try:
                    new = {
                        columns[p]: keyring.reencrypt(v, associated_data=aad(table, row_id, p))
                        for p, v in stale.items()
                    }
                except CryptoError:
                    report.failed.append(str(row_id))
                    continue
                swap = (
                    update(model)
                    .where(key_column == row_id)
                    .where(*(getattr(model, columns[p]) == v for p, v in stale.items()))
                    .values(**new)
                    .execution_options(synchronize_session=False)
                )
                if (await session.execute(swap)).rowcount:  # type: ignore[attr-defined]
                    report.rotated += 1
                else:
                    report.changed += 1
            after = getattr(rows[-1], key)
            session.expunge_all()
