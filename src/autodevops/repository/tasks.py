"""`repository.sync`: refresh a repository's metadata (default branch, visibility, latest commit).

A repository connected through the GitHub App is asked through the GitHub API as its installation (the
repository may be private; the API also says whether it is); a GitLab project through GitLab's API with its
connection's token. Any other repository is asked with
`git ls-remote --symref URL HEAD` (no clone), with the URL checked again and pinned right before, a timeout of
its own (`AUTODEVOPS_GIT_TIMEOUT_S`, within the job's) and its whole process tree killed if the job is
cancelled: it runs without credentials, so a remote that answers is readable by anyone, i.e. public.
Idempotent by nature: it overwrites the same fields with what the remote says now.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.config import get_settings
from autodevops.crypto import Keyring
from autodevops.engine.clone import NetworkGuard
from autodevops.engine.git import run_git_async
from autodevops.github.client import GitHubClient
from autodevops.gitlab.client import GitLabClient
from autodevops.gitlab.secrets import connection_token
from autodevops.jobs.queues import SYNC
from autodevops.jobs.registry import JobContext, task
from autodevops.jobs.service import JobsRuntime, enqueue_job
from autodevops.models import GitHubRepositoryLink, GitLabConnection, Job, Repository, utcnow
from autodevops.repository.git_url import GitURLPolicy, network_guard

NAME = "repository.sync"


@dataclass(frozen=True, slots=True)
class RemoteHead:
    default_branch: str | None
    commit_sha: str | None


@dataclass(frozen=True, slots=True)
class RemoteMetadata:
    """What a sync learns about a repository: its default branch, where that branch points, who may read it."""

    default_branch: str | None
    commit_sha: str | None
    visibility: str


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


async def ls_remote_head(url: str, *, guard: NetworkGuard, limit_s: float) -> RemoteHead:
    """Where the remote's HEAD points. `SourceError` (permanent when retrying cannot help) on failure."""
    network = await asyncio.to_thread(guard, url)  # resolves the host: not on the event loop
    out = await run_git_async(
        ["ls-remote", "--symref", "--", url, "HEAD"], url=url, action="ls-remote", limit_s=limit_s, network=network
    )
    return parse_ls_remote(out.decode("utf-8", "replace"))


async def submit(
    session: AsyncSession, runtime: JobsRuntime, repository: Repository, *, idempotency_key: str | None = None
) -> Job:
    """Queue a metadata refresh of `repository` (after COMMIT)."""
    return await enqueue_job(
        session,
        runtime,
        organization_id=repository.organization_id,
        queue=SYNC.name,
        name=NAME,
        payload={"repository_id": str(repository.id)},
        idempotency_key=idempotency_key,
    )


async def github_metadata(client: GitHubClient, link: GitHubRepositoryLink) -> RemoteMetadata:
    """Metadata of a GitHub App connected repository, read as its installation."""
    owner, _, name = link.full_name.partition("/")
    found = await client.get_repository(link.installation_id, owner, name)
    sha = await client.get_branch_head(link.installation_id, owner, name, found.default_branch)
    return RemoteMetadata(found.default_branch, sha, found.visibility)


async def git_metadata(url: str, *, guard: NetworkGuard, limit_s: float) -> RemoteMetadata:
    """Metadata of a plain git URL; readable without credentials, so public."""
    head = await ls_remote_head(url, guard=guard, limit_s=limit_s)
    return RemoteMetadata(head.default_branch, head.commit_sha, "public")


@task(NAME, queue=SYNC.name)
async def sync(ctx: JobContext) -> None:
    repository_id = uuid.UUID(ctx.payload["repository_id"])
    # Read without a lock: the remote may take its whole timeout to answer, and a row lock held that long
    # would stall every other writer of the repository. The lock is taken below, around the write.
    repository = await ctx.session.get(Repository, repository_id)
    if repository is None:
        return
    await ctx.progress("syncing", 20)
    link = await ctx.session.get(GitHubRepositoryLink, repository.id)
    gitlab = await ctx.session.get(GitLabConnection, repository.id)
    settings = get_settings()
    if link is not None:
        metadata = await github_metadata(GitHubClient(settings), link)
    elif gitlab is not None:
        from autodevops.gitlab import service as gitlab_service  # imports this module: not at the top

        token = connection_token(Keyring.from_settings(settings), gitlab)
        metadata = await gitlab_service.gitlab_metadata(GitLabClient(settings), gitlab, token)
    else:
        guard = network_guard(GitURLPolicy.from_settings(settings))
        limit_s = max(1.0, min(settings.git_timeout_s, ctx.deadline_s))
        metadata = await git_metadata(repository.clone_url, guard=guard, limit_s=limit_s)
    repository = await ctx.session.get(Repository, repository_id, with_for_update=True, populate_existing=True)
    if repository is None:
        return  # deleted while the remote was asked
    if metadata.default_branch:
        repository.default_branch = metadata.default_branch
    repository.latest_commit_sha = metadata.commit_sha
    repository.visibility = metadata.visibility
    repository.synced_at = utcnow()
    await ctx.session.flush()
    await ctx.progress(
        "storing",
        90,
        message=f"default branch {metadata.default_branch}, commit {metadata.commit_sha}, {metadata.visibility}",
    )
