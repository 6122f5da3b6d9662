"""Re-encrypting stored secrets under the keyring's current key, while the service keeps running.

One procedure for every table that holds ciphertexts (GitHub and GitLab tokens, GitLab webhook secrets, single
sign-on client secrets), run by `autodevops keys rotate` as the owner role (the admin URL): it must see every
organization's and user's rows, which row-level security hides from the app role. Rows are walked in key order,
a batch per transaction. A row's stale ciphertexts are swapped only if the row still holds the ones read (a
compare-and-swap), so a value the service writes at the same moment (already under the current key) is left as
written; such a row is counted as `changed`. Running services read with current + previous keys throughout, so
nothing fails mid-rotation.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autodevops.crypto import CryptoError, Keyring, RotationReport, aad
from autodevops.models.base import Base


async def rotate_columns(
    sessionmaker: async_sessionmaker[AsyncSession],
    keyring: Keyring,
    model: type[Base],
    *,
    key: str,
    table: str,
    columns: Mapping[str, str],
    batch_size: int = 200,
) -> RotationReport:
    """Move every ciphertext of `columns` (purpose -> column; the purpose is part of its associated data,
    `aad(table, row key, purpose)`) in `model`'s rows to `keyring.current`. Idempotent: a second run rotates
    nothing."""
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
