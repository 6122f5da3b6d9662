"""Re-encrypting stored single sign-on client secrets under the keyring's current key (`autodevops keys rotate`).

The same procedure as for GitHub tokens (`github.rotation`): the owner role walks every organization's rows
in id order, a batch per transaction, and swaps each ciphertext only if it is still the one read, so a secret
an owner saves at the same moment (already under the current key) is left as saved.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autodevops.crypto import CryptoError, Keyring, RotationReport, aad
from autodevops.sso import queries

TABLE = "sso_connections"
PURPOSE = "client_secret"


def secret_aad(connection_id: uuid.UUID) -> bytes:
    """Associated data binding a client secret's ciphertext to its connection row."""
    return aad(TABLE, connection_id, PURPOSE)


async def rotate_client_secrets(
    sessionmaker: async_sessionmaker[AsyncSession], keyring: Keyring, *, batch_size: int = 200
) -> RotationReport:
    """Move every stored client secret to `keyring.current`. Idempotent: a second run rotates nothing."""
    report = RotationReport()
    after: uuid.UUID | None = None
    while True:
        async with sessionmaker() as session, session.begin():
            connections = await queries.connections_page(session, after=after, limit=batch_size)
            if not connections:
                return report
            for connection in connections:
                report.scanned += 1
                old = connection.client_secret_enc
                if not keyring.needs_rotation(old):
                    report.current += 1
                    continue
                try:
                    new = keyring.reencrypt(old, associated_data=secret_aad(connection.id))
                except CryptoError:
                    report.failed.append(str(connection.id))
                    continue
                if await queries.swap_secret(session, connection.id, old=old, new=new):
                    report.rotated += 1
                else:
                    report.changed += 1
            after = connections[-1].id
            session.expunge_all()
