"""Re-encrypting stored single sign-on client secrets under the keyring's current key (`autodevops keys rotate`).

The procedure is `autodevops.keyrotation`'s: the owner role walks every organization's `sso_connections` rows,
and a secret an owner saves at the same moment (already under the current key) is left as saved.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autodevops.crypto import Keyring, RotationReport, aad
from autodevops.keyrotation import rotate_columns
from autodevops.models import SSOConnection

TABLE = "sso_connections"
PURPOSE = "client_secret"


def secret_aad(connection_id: uuid.UUID) -> bytes:
    """Associated data binding a client secret's ciphertext to its connection row."""
    return aad(TABLE, connection_id, PURPOSE)


async def rotate_client_secrets(
    sessionmaker: async_sessionmaker[AsyncSession], keyring: Keyring, *, batch_size: int = 200
) -> RotationReport:
    """Move every stored client secret to `keyring.current`. Idempotent: a second run rotates nothing."""
    return await rotate_columns(
        sessionmaker,
        keyring,
        SSOConnection,
        key="id",
        table=TABLE,
        columns={PURPOSE: "client_secret_enc"},
        batch_size=batch_size,
    )
