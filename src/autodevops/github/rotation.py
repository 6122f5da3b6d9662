"""Re-encrypting stored GitHub tokens under the keyring's current key, while the service keeps running.

The procedure is `autodevops.keyrotation`'s: the owner role walks every user's `github_accounts` rows, and a
sign-in writing fresh tokens at the same moment is never overwritten.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from autodevops.crypto import Keyring, RotationReport
from autodevops.keyrotation import rotate_columns
from autodevops.models import GitHubAccount

_COLUMNS = {"access_token": "access_token_enc", "refresh_token": "refresh_token_enc"}


async def rotate_tokens(
    sessionmaker: async_sessionmaker[AsyncSession], keyring: Keyring, *, batch_size: int = 200
) -> RotationReport:
    """Move every stored token to `keyring.current`. Idempotent: a second run rotates nothing."""
    return await rotate_columns(
        sessionmaker, keyring, GitHubAccount, key="id", table="github_accounts", columns=_COLUMNS, batch_size=batch_size
    )
