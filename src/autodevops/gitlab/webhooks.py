"""What a verified GitLab delivery calls for. No GitLab call is made here: work that needs one is queued.

* **Push Hook** to the project's default branch: a new analysis of that branch and a CI drift check of the
  pushed commit (`gitlab.check_drift`). Other branches, tags and branch deletions are ignored.
* **Merge Request Hook** for our merge request (source branch `autodevops/ci`): its state (merged, closed,
  reopened) is recorded.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.analysis import tasks as analysis_tasks
from autodevops.gitlab.client import MR_BRANCH
from autodevops.gitlab.service import CHECK_DRIFT
from autodevops.jobs.queues import SYNC
from autodevops.jobs.service import JobsRuntime, enqueue_job
from autodevops.models import GitLabConnection, GitLabMergeRequest, Repository, utcnow

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_DELETED = "0" * 40


async def dispatch(
    session: AsyncSession, runtime: JobsRuntime, connection: GitLabConnection, event: str, payload: dict[str, Any]
) -> str:
    project = payload.get("project")
    if not isinstance(project, dict) or project.get("id") != connection.project_id:
        return "ignored"  # a delivery about another project (a misconfigured or moved hook)
    if event == "Push Hook" and payload.get("object_kind") == "push":
        return await _on_push(session, runtime, connection, payload)
    if event == "Merge Request Hook" and payload.get("object_kind") == "merge_request":
        return await _on_merge_request(session, connection, payload)
    return "ignored"


async def _on_push(
    session: AsyncSession, runtime: JobsRuntime, connection: GitLabConnection, payload: dict[str, Any]
) -> str:
    repository = await session.get(Repository, connection.repository_id)
    ref, after = payload.get("ref"), payload.get("after")
    if repository is None or not isinstance(ref, str) or not ref.startswith("refs/heads/"):
        return "ignored"
    if not isinstance(after, str) or not _SHA.match(after) or after == _DELETED:
        return "ignored"
    branch = ref.removeprefix("refs/heads/")
    if branch != (repository.default_branch or payload["project"].get("default_branch")):
        return "ignored"
    if not await analysis_tasks.submit_for_webhook(session, runtime, repository, ref=after):
        return "skipped: the plan's analyses per day are used up (recorded in the audit trail)"
    await enqueue_job(
        session,
        runtime,
        organization_id=connection.organization_id,
        queue=SYNC.name,
        name=CHECK_DRIFT,
        payload={"repository_id": str(repository.id), "commit_sha": after},
    )
    return "queued 1 analysis"


async def _on_merge_request(session: AsyncSession, connection: GitLabConnection, payload: dict[str, Any]) -> str:
    attributes = payload.get("object_attributes")
    if not isinstance(attributes, dict) or attributes.get("source_branch") != MR_BRANCH:
        return "ignored"
    iid, state = attributes.get("iid"), attributes.get("state")
    if not isinstance(iid, int) or state not in ("opened", "closed", "merged"):
        return "ignored"
    mr = await session.scalar(
        select(GitLabMergeRequest)
        .where(GitLabMergeRequest.repository_id == connection.repository_id, GitLabMergeRequest.iid == iid)
        .with_for_update()
    )
    if mr is None or mr.state == "merged":
        return "ignored"  # not ours, or final already
    when = _timestamp(attributes.get("updated_at")) or utcnow()
    mr.state = state
    mr.closed_at = when if state != "opened" else None
    mr.merged_at = when if state == "merged" else None
    await session.flush()
    return f"merge request {state}"


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        # GitLab writes "2026-01-01 10:00:00 UTC" in hooks and ISO 8601 elsewhere.
        return datetime.fromisoformat(value.replace(" UTC", "+00:00").replace("Z", "+00:00"))
    except ValueError:
        return None
