"""The secrets of a GitLab connection at rest, and their re-encryption by `autodevops keys rotate`.

Each is AES-256-GCM encrypted with the token keyring (`autodevops.crypto`), its associated data binding it to
its connection row and purpose, so a ciphertext copied to another row or column fails to decrypt. Rotation is
`autodevops.keyrotation`'s, over the three columns.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autodevops.crypto import CryptoError, Keyring, RotationReport, aad
from autodevops.errors import AppError
from autodevops.keyrotation import rotate_columns
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
    return await rotate_columns(
        sessionmaker,
        keyring,
        GitLabConnection,
        key="repository_id",
        table=TABLE,
        columns=columns,
        batch_size=batch_size,
    )


async def rotate_account_tokens(
    sessionmaker: async_sessionmaker[AsyncSession], keyring: Keyring, *, batch_size: int = 200
) -> RotationReport:
    """Move every stored "Sign in with GitLab" token to `keyring.current` (same procedure as above)."""
    columns = {"access_token": "access_token_enc", "refresh_token": "refresh_token_enc"}
    return await rotate_columns(
        sessionmaker, keyring, GitLabAccount, key="id", table="gitlab_accounts", columns=columns, batch_size=batch_size
    )
