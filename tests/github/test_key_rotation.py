"""Key rotation while the service runs: tokens move to the new key, reads never fail; webhook secret
rotation with a grace window."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from autodevops.auth import service as auth_service
from autodevops.crypto import Key, Keyring, aad, key_id_of
from autodevops.db import Database, tenant_session
from autodevops.github.client import GitHubClient
from autodevops.github.rotation import rotate_tokens
from autodevops.github.signature import sign

from .conftest import app_overrides, settings_for
from .fake_github import FakeGitHub
from .flows import add_account, sign_in

pytestmark = pytest.mark.usefixtures("clean_db")

OLD = Key.generate("k1")
NEW = Key.generate("k2")


async def stored(pg_admin: AsyncEngine) -> list[Any]:
    async with pg_admin.connect() as conn:
        return list(
            (await conn.execute(text("SELECT id, access_token_enc, refresh_token_enc FROM github_accounts"))).all()
        )


async def test_rotation_while_the_service_reads_and_writes_tokens(
    make_api_client: Any, fake_github: FakeGitHub, database: Database, pg_admin: AsyncEngine
) -> None:
    old_ring = Keyring(OLD)
    mona = fake_github.add_user("mona")
    fake_github.add_installation("mona", users=[mona])
    mona_user = await add_account(database, old_ring, mona.id, fake_github._issue_user_token(mona.id)["access_token"])
    for n in range(24):
        await add_account(database, old_ring, 10_000 + n, f"ghu_token_{n}")
    async with tenant_session(database, user_id=mona_user) as session:
        user = await auth_service.get_user_by_email(session, f"gh{mona.id}@example.com")
        _, api_token = await auth_service.create_token(session, user, "rotation")

    # The service has been rolled with the new key current and the old one previous.
    client: httpx.AsyncClient = await make_api_client(
        **app_overrides(fake_github, token_encryption_key=NEW.spec(), token_encryption_previous_keys=OLD.spec())
    )
    headers = {"Authorization": f"Bearer {api_token}"}

    async def reads() -> list[int]:
        codes = []
        for _ in range(8):
            codes.append((await client.get("/api/v1/github/installations", headers=headers)).status_code)
            await asyncio.sleep(0)
        return codes

    async def new_sign_in() -> None:
        await sign_in(client, fake_github, fake_github.add_user("newbie"))

    engine_sessions = async_sessionmaker(pg_admin, expire_on_commit=False)
    report, codes, _ = await asyncio.gather(
        rotate_tokens(engine_sessions, Keyring(NEW, [OLD]), batch_size=3), reads(), new_sign_in()
    )
    assert codes == [200] * 8
    assert report.failed == []
    assert report.rotated + report.current + report.changed == report.scanned
    assert report.rotated >= 25

    # Every token now opens with the new key alone: the old key can be dropped.
    new_only = Keyring(NEW)
    rows = await stored(pg_admin)
    assert len(rows) == 26
    for row in rows:
        assert key_id_of(row.access_token_enc) == "k2"
        assert key_id_of(row.refresh_token_enc) == "k2" if row.refresh_token_enc else True
        new_only.decrypt(row.access_token_enc, associated_data=aad("github_accounts", row.id, "access_token"))
    again = await rotate_tokens(engine_sessions, Keyring(NEW, [OLD]))
    assert (again.rotated, again.current) == (0, 26)


async def test_undecryptable_rows_are_reported_not_lost(database: Database, pg_admin: AsyncEngine) -> None:
    await add_account(database, Keyring(OLD), 1, "ghu_a")
    bad = await add_account(database, Keyring(Key.generate("lost")), 2, "ghu_b")
    report = await rotate_tokens(async_sessionmaker(pg_admin, expire_on_commit=False), Keyring(NEW, [OLD]))
    assert report.rotated == 1
    async with pg_admin.connect() as conn:
        bad_account = await conn.scalar(text("SELECT id FROM github_accounts WHERE user_id = :u"), {"u": bad})
    assert report.failed == [str(bad_account)]


async def test_cli_rotate(pg_settings: Any, database: Database, pg_admin: AsyncEngine) -> None:
    await add_account(database, Keyring(OLD), 1, "ghu_a")
    env = {
        **os.environ,
        "AUTODEVOPS_ENV": "test",
        "AUTODEVOPS_DATABASE_URL": pg_settings.database_url.get_secret_value(),
        "AUTODEVOPS_DATABASE_ADMIN_URL": pg_settings.database_admin_url.get_secret_value(),
        "AUTODEVOPS_TOKEN_ENCRYPTION_KEY": NEW.spec(),
        "AUTODEVOPS_TOKEN_ENCRYPTION_PREVIOUS_KEYS": OLD.spec(),
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [str(Path(sys.executable).parent / "autodevops"), "keys", "rotate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 GitHub accounts, 1 re-encrypted" in done.stdout
    assert key_id_of((await stored(pg_admin))[0].access_token_enc) == "k2"


async def test_webhook_secret_rotation_with_grace_window(make_api_client: Any, fake_github: FakeGitHub) -> None:
    # The App is told the new secret...
    await GitHubClient(settings_for(fake_github, github_webhook_secret="new-secret")).set_app_webhook_secret(
        "new-secret"
    )
    assert fake_github.hook_secret == "new-secret"

    # ...while the service accepts both until the grace window ends.
    # A new body per delivery: the same signed body again would be refused as a replay.
    def delivery(secret: str) -> dict[str, Any]:
        body = json.dumps({"zen": "Approachable is better than simple.", "hook_id": uuid.uuid4().int}).encode()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "ping",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(secret, body),
        }
        return {"content": body, "headers": headers}

    until = datetime.now(UTC) + timedelta(hours=1)
    rolling = await make_api_client(
        **app_overrides(
            fake_github,
            github_webhook_secret="new-secret",
            github_webhook_secret_previous="old-secret",
            github_webhook_secret_previous_until=until,
        )
    )
    for secret in ("old-secret", "new-secret"):
        assert (await rolling.post("/api/v1/github/webhooks", **delivery(secret))).status_code == 200
    after = await make_api_client(
        **app_overrides(
            fake_github,
            github_webhook_secret="new-secret",
            github_webhook_secret_previous="old-secret",
            github_webhook_secret_previous_until=datetime.now(UTC) - timedelta(seconds=1),
        )
    )
    assert (await after.post("/api/v1/github/webhooks", **delivery("old-secret"))).status_code == 401
    assert (await after.post("/api/v1/github/webhooks", **delivery("new-secret"))).status_code == 200
