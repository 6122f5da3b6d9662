"""Re-encrypting stored GitHub tokens under the keyring's current key, while the service keeps running.

Runs as the owner role (the admin URL): it must see every user's row, which row-level security hides from the
app role. Rows are walked in id order, a batch per transaction. Each row is updated with a compare-and-swap
on its old ciphertexts, so a sign-in that writes fresh tokens at the same moment is never overwritten; such a
row is counted as changed and, being written by a service that already encrypts under the current key, needs
nothing more. Running services read with current + previous keys throughout, so nothing fails mid-rotation.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autodevops.crypto import CryptoError, Keyring, RotationReport, aad
from autodevops.github import queries


def _moved(keyring: Keyring, value: str | None, row_id: uuid.UUID, purpose: str) -> str | None:
    if value is None:
        return None
    data = aad("github_accounts", row_id, purpose)
    return keyring.reencrypt(value, associated_data=data) if keyring.needs_rotation(value) else value


async def rotate_tokens(
    sessionmaker: async_sessionmaker[AsyncSession], keyring: Keyring, *, batch_size: int = 200
) -> RotationReport:
    """Move every stored token to `keyring.current`. Idempotent: a second run rotates nothing."""
    report = RotationReport()
    after: uuid.UUID | None = None
    while True:
        async with sessionmaker() as session, session.begin():
            accounts = await queries.accounts_page(session, after=after, limit=batch_size)
            if not accounts:
                return report
            for account in accounts:
                report.scanned += 1
                old_access, old_refresh = account.access_token_enc, account.refresh_token_enc
                if not keyring.needs_rotation(old_access) and (
                    old_refresh is None or not keyring.needs_rotation(old_refresh)
                ):
                    report.current += 1
                    continue
                try:
                    new_access = _moved(keyring, old_access, account.id, "access_token")
                    new_refresh = _moved(keyring, old_refresh, account.id, "refresh_token")
                except CryptoError:
                    report.failed.append(str(account.id))
                    continue
                assert new_access is not None
                swapped = await queries.swap_ciphertexts(
                    session,
                    account.id,
                    old_access=old_access,
                    new_access=new_access,
                    old_refresh=old_refresh,
                    new_refresh=new_refresh,
                )
                if swapped:
                    report.rotated += 1
                else:
                    report.changed += 1
            after = accounts[-1].id
            session.expunge_all()
