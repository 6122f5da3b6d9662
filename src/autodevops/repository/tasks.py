"""`repository.sync`: refresh a repository's metadata from its remote (default branch and latest commit).

Asks the remote with `git ls-remote --symref URL HEAD` (no clone), in a subprocess the job's timeout kills.
Idempotent by nature: it overwrites the same fields with what the remote says now.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.jobs.queues import SYNC
from autodevops.jobs.registry import JobContext, task
from autodevops.jobs.service import JobsRuntime, enqueue_job
from autodevops.models import Job, Repository

NAME = "repository.sync"
_GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "true",
    "SSH_ASKPASS": "true",
    "GCM_INTERACTIVE": "never",
    "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=20",
}


class RemoteError(Exception):
    """The remote could not be asked (unreachable, not a repository, access denied)."""


@dataclass(frozen=True, slots=True)
class RemoteHead:
    default_branch: str | None
    commit_sha: str | None


def parse_ls_remote(output: str) -> RemoteHead:
    """Read `git ls-remote --symref URL HEAD`: `ref: refs/heads/main\\tHEAD` then `<sha>\\tHEAD`."""
    branch: str | None = None
    sha: str | None = None
    for line in output.splitlines():
        left, _, right = line.partition("\t")
        if right.strip() != "HEAD":
            continue
        if left.startswith("ref: refs/heads/"):
            branch = left.removeprefix("ref: refs/heads/").strip() or None
        elif len(left) in (40, 64) and all(c in "0123456789abcdef" for c in left):
            sha = left
    return RemoteHead(branch, sha)


async def ls_remote_head(url: str) -> RemoteHead:
    proc = await asyncio.create_subprocess_exec(
        "git",
        "ls-remote",
        "--symref",
        "--",
        url,
        "HEAD",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **_GIT_ENV},
        start_new_session=True,
    )
    try:
        out, err = await proc.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        raise
    if proc.returncode != 0:
        lines = [ln for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
        raise RemoteError(lines[-1] if lines else f"git ls-remote exited with status {proc.returncode}")
    return parse_ls_remote(out.decode("utf-8", "replace"))


async def submit(session: AsyncSession, runtime: JobsRuntime, repository: Repository) -> Job:
    """Queue a metadata refresh of `repository` (after COMMIT)."""
    return await enqueue_job(
        session,
        runtime,
        organization_id=repository.organization_id,
        queue=SYNC.name,
        name=NAME,
        payload={"repository_id": str(repository.id)},
    )


@task(NAME, queue=SYNC.name)
async def sync(ctx: JobContext) -> None:
    repository = await ctx.session.get(Repository, uuid.UUID(ctx.payload["repository_id"]), with_for_update=True)
    if repository is None:
        return
    await ctx.progress("syncing", 20)
    head = await ls_remote_head(repository.clone_url)
    if head.default_branch:
        repository.default_branch = head.default_branch
    await ctx.session.flush()
    await ctx.progress("storing", 90, message=f"default branch {head.default_branch}, commit {head.commit_sha}")
