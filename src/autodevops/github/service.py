"""GitHub business rules: the user's installations and repositories, connecting a repository, opening the
pipeline pull request, and turning webhook deliveries into jobs."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.analysis import tasks as analysis_tasks
from autodevops.audit.service import record
from autodevops.auth import oauth
from autodevops.config import Settings
from autodevops.crypto import CryptoError, Keyring
from autodevops.db import bind_tenant
from autodevops.engine.source import RepoSource
from autodevops.errors import AppError, Conflict, NotFound
from autodevops.github import pr_body, queries
from autodevops.github.client import (
    PR_BRANCH,
    GitHubClient,
    GitHubError,
    GitHubRepository,
    Installation,
    check_repo_name,
)
from autodevops.github.source import GitHubSource
from autodevops.jobs.queues import SYNC
from autodevops.jobs.service import JobsRuntime, enqueue_job
from autodevops.logging import get_logger
from autodevops.models import (
    Analysis,
    CIDriftFinding,
    GitHubAccount,
    GitHubInstallation,
    GitHubPullRequest,
    GitHubRepositoryLink,
    Repository,
    User,
    utcnow,
)
from autodevops.organization import quotas
from autodevops.organization.service import require_manager
from autodevops.repository import service as repository_service

log = get_logger(__name__)

SYNC_INSTALLATION = "github.sync_installation"
RECORD_PULL_REQUEST = "github.record_pull_request"
CHECK_DRIFT = "github.check_drift"
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_MAX_CI_FILE = 1024 * 1024


class GitHubAccountRequired(AppError):
    status_code = 409
    error = "github_account_required"


# ---- the signed-in user's GitHub --------------------------------------------------------------------------


async def user_token(session: AsyncSession, keyring: Keyring, client: GitHubClient, user: User) -> str:
    """The user's GitHub access token, refreshed first when it has expired and a refresh token exists."""
    account = await queries.get_account(session, user.id)
    if account is None:
        raise GitHubAccountRequired("sign in with GitHub to use your GitHub installations")
    try:
        return await _current_token(session, keyring, client, account)
    except CryptoError:
        # Stored under a key no longer in the keyring (dropped before `keys rotate` ran): signing in again
        # stores fresh tokens under the current key.
        log.warning("github token undecryptable", account_id=str(account.id))
        raise GitHubAccountRequired("your GitHub authorization must be renewed; sign in with GitHub again") from None


async def _current_token(session: AsyncSession, keyring: Keyring, client: GitHubClient, account: GitHubAccount) -> str:
    expires = account.access_token_expires_at
    if expires is not None and expires <= utcnow():
        refresh = oauth.refresh_token(keyring, account)
        if refresh is None:
            raise GitHubAccountRequired("your GitHub authorization expired; sign in with GitHub again")
        try:
            fresh = await client.refresh_user_token(refresh)
        except GitHubError as error:
            if error.upstream_status is not None and error.upstream_status >= 500:
                raise
            raise GitHubAccountRequired("your GitHub authorization expired; sign in with GitHub again") from None
        oauth.store_tokens(keyring, account, fresh)
        await session.flush()
    return oauth.access_token(keyring, account)


async def list_installations(
    session: AsyncSession, keyring: Keyring, client: GitHubClient, user: User
) -> list[Installation]:
    return await client.list_user_installations(await user_token(session, keyring, client, user))


async def list_installation_repositories(
    session: AsyncSession, keyring: Keyring, client: GitHubClient, user: User, installation_id: int
) -> list[GitHubRepository]:
    token = await user_token(session, keyring, client, user)
    return await client.list_user_installation_repositories(token, installation_id)


async def connect_repository(
    session: AsyncSession,
    keyring: Keyring,
    client: GitHubClient,
    user: User,
    *,
    organization_id: uuid.UUID,
    installation_id: int,
    full_name: str,
    settings: Settings,
) -> Repository:
    """Connect a GitHub repository the user can access through `installation_id` to an organization
    (`QuotaExceeded` when the plan allows no more repositories)."""
    await require_manager(session, user, organization_id)
    owner, _, name = full_name.partition("/")
    check_repo_name(owner, name)
    token = await user_token(session, keyring, client, user)
    # Listing through the user's token proves the user may see this installation and repository.
    installations = {i.id: i for i in await client.list_user_installations(token)}
    if installation_id not in installations:
        raise NotFound("GitHub installation not found")
    repos = await client.list_user_installation_repositories(token, installation_id)
    found = next((r for r in repos if r.full_name.lower() == full_name.lower()), None)
    if found is None:
        raise NotFound("repository not found in this installation")

    installation = await queries.get_installation(session, organization_id, installation_id)
    if installation is None:
        account = installations[installation_id]
        session.add(
            GitHubInstallation(
                organization_id=organization_id,
                installation_id=installation_id,
                account_login=account.account_login,
                account_type=account.account_type,
            )
        )
    repository = Repository(
        organization_id=organization_id,
        name=found.name,
        source="github",
        clone_url=f"{client.web_url}/{found.full_name}.git",
        github_full_name=found.full_name,
        default_branch=found.default_branch,
        visibility=found.visibility,
        created_by_id=user.id,
    )
    await quotas.add_repository(session, settings, repository, repository_service.ALREADY_CONNECTED)
    session.add(
        GitHubRepositoryLink(
            repository_id=repository.id,
            organization_id=organization_id,
            installation_id=installation_id,
            github_repo_id=found.id,
            full_name=found.full_name,
        )
    )
    await session.flush()
    await record(
        session,
        "repository.connected",
        user_id=user.id,
        organization_id=organization_id,
        target_type="repository",
        target_id=repository.id,
        data={"github": found.full_name, "installation_id": installation_id},
    )
    return repository


# ---- pull requests ----------------------------------------------------------------------------------------


async def open_pull_request(
    session: AsyncSession, client: GitHubClient, user: User, repository_id: uuid.UUID
) -> GitHubPullRequest:
    """Commit the repository's latest generated pipeline to `autodevops/ci` and open (or update) its pull
    request; the pull request and its state are recorded."""
    repository = await repository_service.get_repository(session, user, repository_id)
    await require_manager(session, user, repository.organization_id)
    link = await queries.get_link(session, repository.id)
    if link is None:
        raise Conflict("only repositories connected through the GitHub App can receive pull requests")
    pipeline = await queries.latest_pipeline(session, repository.id)
    if pipeline is None or not pipeline.files:
        raise Conflict("generate a pipeline for this repository first")
    files = {str(f["path"]): str(f["content"]) for f in pipeline.files}
    analysis = await session.get(Analysis, pipeline.analysis_id) if pipeline.analysis_id else None
    body = pr_body.render_body(analysis.result if analysis else None, pipeline.validation, list(files))
    owner, _, name = link.full_name.partition("/")
    result = await client.open_or_update_pull_request(
        link.installation_id,
        owner,
        name,
        base=repository.default_branch or "main",
        files=files,
        title=pr_body.TITLE,
        body=body,
        commit_message="ci: add the pipeline generated by AutoDevOps",
    )
    pr = await queries.get_pull_request(session, repository.id, result.number)
    if pr is None:
        pr = GitHubPullRequest(
            organization_id=repository.organization_id,
            repository_id=repository.id,
            full_name=link.full_name,
            number=result.number,
            url=result.html_url,
            head_branch=result.head_branch,
            head_sha=result.head_sha,
        )
        session.add(pr)
    pr.pipeline_id = pipeline.id
    pr.head_sha = result.head_sha
    pr.url = result.html_url
    pr.state = "open"
    await session.flush()
    await record(
        session,
        "pull_request.opened" if result.created else "pull_request.updated",
        user_id=user.id,
        organization_id=repository.organization_id,
        target_type="repository",
        target_id=repository.id,
        data={"number": result.number, "committed": result.committed},
    )
    return pr


async def list_pull_requests(
    session: AsyncSession, user: User, repository_id: uuid.UUID
) -> Sequence[GitHubPullRequest]:
    repository = await repository_service.get_repository(session, user, repository_id)
    return await queries.list_pull_requests(session, repository.id)


# ---- webhooks ---------------------------------------------------------------------------------------------


async def dispatch_webhook(session: AsyncSession, runtime: JobsRuntime, event: str, payload: dict[str, Any]) -> str:
    """Queue the work a delivery calls for (after COMMIT) and describe the outcome. Does no GitHub call."""
    if event == "push":
        return await _on_push(session, runtime, payload)
    if event in ("installation", "installation_repositories"):
        return await _on_installation(session, runtime, payload)
    if event == "pull_request":
        return await _on_pull_request(session, runtime, payload)
    return "ignored"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def _on_push(session: AsyncSession, runtime: JobsRuntime, payload: dict[str, Any]) -> str:
    repo = payload.get("repository") or {}
    repo_id = _int(repo.get("id"))
    ref = payload.get("ref")
    if repo_id is None or not isinstance(ref, str) or not ref.startswith("refs/heads/") or payload.get("deleted"):
        return "ignored"
    branch = ref.removeprefix("refs/heads/")
    queued = 0
    for organization_id, repository_id in await queries.repository_targets(session, repo_id):
        await bind_tenant(session, organization_id=organization_id)
        repository = await session.get(Repository, repository_id)
        if repository is None:
            continue
        default = repository.default_branch or repo.get("default_branch")
        if branch != default:
            continue
        if not await analysis_tasks.submit_for_webhook(session, runtime, repository, ref=branch):
            continue
        after = payload.get("after")
        if isinstance(after, str) and _SHA.match(after):
            await enqueue_job(
                session,
                runtime,
                organization_id=organization_id,
                queue=SYNC.name,
                name=CHECK_DRIFT,
                payload={"repository_id": str(repository.id), "commit_sha": after},
            )
        queued += 1
    return f"queued {queued} analysis" if queued else "ignored"


async def _on_installation(session: AsyncSession, runtime: JobsRuntime, payload: dict[str, Any]) -> str:
    installation_id = _int((payload.get("installation") or {}).get("id"))
    if installation_id is None:
        return "ignored"
    action = str(payload.get("action") or "")[:50]
    queued = 0
    for organization_id in await queries.installation_organizations(session, installation_id):
        await bind_tenant(session, organization_id=organization_id)
        await enqueue_job(
            session,
            runtime,
            organization_id=organization_id,
            queue=SYNC.name,
            name=SYNC_INSTALLATION,
            payload={"installation_id": installation_id, "action": action},
        )
        queued += 1
    return f"queued {queued} sync" if queued else "ignored"


async def _on_pull_request(session: AsyncSession, runtime: JobsRuntime, payload: dict[str, Any]) -> str:
    pull = payload.get("pull_request") or {}
    repo_id = _int((payload.get("repository") or {}).get("id"))
    number = _int(pull.get("number"))
    if payload.get("action") != "closed" or repo_id is None or number is None:
        return "ignored"
    if (pull.get("head") or {}).get("ref") != PR_BRANCH:
        return "ignored"
    merged = bool(pull.get("merged"))
    queued = 0
    for organization_id, repository_id in await queries.repository_targets(session, repo_id):
        await bind_tenant(session, organization_id=organization_id)
        pr = await queries.get_pull_request(session, repository_id, number)
        if pr is None:
            continue
        await enqueue_job(
            session,
            runtime,
            organization_id=organization_id,
            queue=SYNC.name,
            name=RECORD_PULL_REQUEST,
            payload={"pull_request_id": str(pr.id), "merged": merged, "at": _timestamp(pull)},
        )
        queued += 1
    return f"queued {queued} outcome" if queued else "ignored"


def _timestamp(pull: dict[str, Any]) -> str | None:
    value = pull.get("merged_at") or pull.get("closed_at")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return None


# ---- job bodies -------------------------------------------------------------------------------------------


async def record_pull_request_outcome(
    session: AsyncSession, pull_request_id: uuid.UUID, *, merged: bool, at: str | None
) -> None:
    """Mark our pull request merged or closed (idempotent: a merged PR stays merged)."""
    pr = await session.get(GitHubPullRequest, pull_request_id, with_for_update=True)
    if pr is None or pr.state == "merged":
        return
    when = datetime.fromisoformat(at) if at else utcnow()
    pr.state = "merged" if merged else "closed"
    pr.closed_at = when
    pr.merged_at = when if merged else None
    await session.flush()


async def sync_installation(
    session: AsyncSession, client: GitHubClient, organization_id: uuid.UUID, installation_id: int, action: str
) -> None:
    """Bring one organization's view of an installation up to date with GitHub."""
    rows = await queries.list_installations_by_github_id(session, installation_id)
    now = utcnow()
    for row in rows:
        if action == "deleted":
            row.removed_at = now
        elif action == "suspend":
            row.suspended_at = now
        elif action == "unsuspend":
            row.suspended_at = None
    await session.flush()
    if action in ("deleted", "suspend"):
        return
    by_id = {r.id: r for r in await client.list_installation_repositories(installation_id)}
    for link in await queries.list_links_of_installation(session, installation_id):
        current = by_id.get(link.github_repo_id)
        if current is None:
            continue  # access removed: the repository stays connected, reads will fail with a clear error
        link.full_name = current.full_name
        repository = await session.get(Repository, link.repository_id)
        if repository is not None:
            repository.github_full_name = current.full_name
            repository.default_branch = current.default_branch
            repository.visibility = current.visibility
    await session.flush()


def _normalized(text: str) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def compare_ci(source: RepoSource, files: dict[str, str]) -> list[dict[str, str]]:
    """How the repository's copies of `files` differ from them: missing, or different beyond whitespace."""
    present = {f.path for f in source.files()}
    differences: list[dict[str, str]] = []
    for path, content in sorted(files.items()):
        if path not in present:
            differences.append({"path": path, "status": "missing"})
        elif _normalized(source.read_bytes(path, _MAX_CI_FILE).decode("utf-8", "replace")) != _normalized(content):
            differences.append({"path": path, "status": "differs"})
    return differences


async def check_drift(
    session: AsyncSession, client: GitHubClient, repository_id: uuid.UUID, commit_sha: str
) -> CIDriftFinding | None:
    """Compare the repository's CI at `commit_sha` with the latest recommended pipeline; record a finding
    when they differ (once per commit and pipeline)."""
    repository = await session.get(Repository, repository_id)
    link = await queries.get_link(session, repository_id)
    pipeline = await queries.latest_pipeline(session, repository_id)
    if repository is None or link is None or pipeline is None or not pipeline.files:
        return None
    existing = await queries.find_drift(session, repository_id, commit_sha, pipeline.id)
    if existing is not None:
        return existing
    owner, _, name = link.full_name.partition("/")
    source = GitHubSource(client, link.installation_id, owner, name, ref=commit_sha)
    files = {str(f["path"]): str(f["content"]) for f in pipeline.files}
    differences = await asyncio.to_thread(compare_ci, source, files)
    if not differences:
        return None
    finding = CIDriftFinding(
        organization_id=repository.organization_id,
        repository_id=repository_id,
        pipeline_id=pipeline.id,
        commit_sha=commit_sha,
        differences=differences,
    )
    session.add(finding)
    await session.flush()
    return finding


async def list_drift(session: AsyncSession, user: User, repository_id: uuid.UUID) -> Sequence[CIDriftFinding]:
    repository = await repository_service.get_repository(session, user, repository_id)
    return await queries.list_drift(session, repository.id)
