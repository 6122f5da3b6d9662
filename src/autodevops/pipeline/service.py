"""Reading generated pipelines: the latest one of a repository and how it differs from the CI it has now.

Generating a pipeline is a job (`pipeline.tasks.submit`); opening its pull request belongs to the GitHub
integration (`github.service.open_pull_request`).
"""

from __future__ import annotations

import asyncio
import difflib
import io
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.analysis import queries as analysis_queries
from autodevops.config import Settings
from autodevops.crypto import Keyring
from autodevops.engine.source import RepoSource, SourceError
from autodevops.errors import AppError, NotFound
from autodevops.github import queries as github_queries
from autodevops.github.client import GitHubClient
from autodevops.github.source import GitHubSource
from autodevops.gitlab.client import CI_FILE, GitLabClient
from autodevops.gitlab.secrets import connection_token
from autodevops.gitlab.source import GitLabSource
from autodevops.models import Analysis, GitLabConnection, Pipeline, Repository, User
from autodevops.pipeline import queries
from autodevops.repository import service as repository_service

MAX_CI_FILE = 1024 * 1024


async def latest_pipeline(session: AsyncSession, user: User, repository_id: uuid.UUID) -> Pipeline | None:
    """The repository's most recently generated pipeline (None before the first); 404 for another tenant's."""
    repository = await repository_service.get_repository(session, user, repository_id)
    return await github_queries.latest_pipeline(session, repository.id)


async def require_latest_pipeline(session: AsyncSession, user: User, repository_id: uuid.UUID) -> Pipeline:
    """`latest_pipeline`, or `NotFound` saying none was generated yet."""
    pipeline = await latest_pipeline(session, user, repository_id)
    if pipeline is None:
        raise NotFound("this repository has no generated pipeline yet; generate one first")
    return pipeline


async def get_pipeline(session: AsyncSession, user: User, pipeline_id: uuid.UUID) -> Pipeline:
    """A pipeline of one of the user's organizations; `NotFound` otherwise (another tenant's too)."""
    pipeline = await queries.get_for_user(session, user.id, pipeline_id)
    if pipeline is None:
        raise NotFound("pipeline not found")
    return pipeline


async def list_pipelines(
    session: AsyncSession, user: User, repository_id: uuid.UUID, *, limit: int, offset: int
) -> Sequence[Row[Any]]:
    """The repository's pipelines, newest first (paths and validity, no contents); 404 for another tenant's."""
    repository = await repository_service.get_repository(session, user, repository_id)
    return await queries.list_for_repository(session, repository.id, limit=limit, offset=offset)


async def source_analysis(session: AsyncSession, user: User, pipeline: Pipeline) -> Analysis | None:
    """The analysis `pipeline` was generated from, if it still exists."""
    if pipeline.analysis_id is None:
        return None
    return await analysis_queries.get_for_user(session, user.id, pipeline.analysis_id)


def archive(pipeline: Pipeline) -> bytes:
    """The generated files as a zip, laid out as they go into the repository."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for file in pipeline.files:
            zipped.writestr(str(file["path"]), str(file["content"]))
    return buffer.getvalue()


def archive_name(pipeline: Pipeline) -> str:
    return f"pipeline-{pipeline.id}.zip"


@dataclass(frozen=True, slots=True)
class FileDiff:
    """How one generated file compares with the repository's copy on its default branch."""

    path: str
    # "new" (the repository has no such file), "same", "changed"; from a git-URL repository's analysis,
    # "exists" (it has the file, contents not compared) or "other" (its CI file the pipeline does not generate)
    status: str
    diff: str  # a unified diff, empty unless changed


@dataclass(frozen=True, slots=True)
class CIComparison:
    """The comparison of a pipeline with the repository's current CI; `problem` says why there is none."""

    files: list[FileDiff]
    problem: str | None = None


def _unified(path: str, current: str, generated: str) -> str:
    lines = difflib.unified_diff(
        current.splitlines(keepends=True),
        generated.splitlines(keepends=True),
        fromfile=f"a/{path} (repository)",
        tofile=f"b/{path} (generated)",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _compare(source: RepoSource, files: dict[str, str]) -> list[FileDiff]:
    present = {entry.path for entry in source.files()}
    result: list[FileDiff] = []
    for path, generated in sorted(files.items()):
        if path not in present:
            result.append(FileDiff(path, "new", ""))
            continue
        current = source.read_bytes(path, MAX_CI_FILE).decode("utf-8", "replace")
        diff = _unified(path, current, generated)
        result.append(FileDiff(path, "changed" if diff else "same", diff))
    return result


async def compare_with_repository(
    session: AsyncSession, client: GitHubClient, repository: Repository, pipeline: Pipeline
) -> CIComparison:
    """Diff the pipeline's files against the repository's default branch, read through the GitHub App.

    Repositories connected by git URL are not cloned again for this: their analysis lists the CI files it
    found, so each generated file is known to be new or to replace one of them (without a line diff).
    """
    files = {str(f["path"]): str(f["content"]) for f in pipeline.files}
    gitlab = await session.get(GitLabConnection, repository.id) if repository.source == "gitlab" else None
    if gitlab is not None:
        return await _compare_on_gitlab(client.settings, gitlab, repository, files)
    link = await github_queries.get_link(session, repository.id)
    if link is None:
        return await _compare_with_analysis(session, pipeline, files)
    owner, _, name = link.full_name.partition("/")
    source = GitHubSource(client, link.installation_id, owner, name, ref=repository.default_branch)
    try:
        return CIComparison(await asyncio.to_thread(_compare, source, files))
    except (SourceError, AppError) as error:
        return CIComparison([], f"The repository's current CI could not be read: {error}")


async def _compare_with_analysis(session: AsyncSession, pipeline: Pipeline, files: dict[str, str]) -> CIComparison:
    """Which generated files the repository already has, from the CI files its analysis found; the
    repository's other CI files are listed as kept (status "other")."""
    analysis = await session.get(Analysis, pipeline.analysis_id) if pipeline.analysis_id else None
    if analysis is None or analysis.result is None:
        return CIComparison([], "The analysis this pipeline came from is gone: analyze again to compare.")
    existing = {
        str(ci.get("path")): str(ci.get("provider") or "")
        for ci in analysis.result.get("existing_ci") or []
        if isinstance(ci, dict) and ci.get("path")
    }
    result = [FileDiff(path, "exists" if path in existing else "new", "") for path in sorted(files)]
    result += [FileDiff(path, "other", "") for path in sorted(existing) if path not in files]
    return CIComparison(
        result,
        "From the analysis of this git URL: which files the repository already has. "
        "Line-by-line changes need a repository connected through GitHub or GitLab.",
    )


async def _compare_on_gitlab(
    settings: Settings, connection: GitLabConnection, repository: Repository, files: dict[str, str]
) -> CIComparison:
    """The GitLab project's `.gitlab-ci.yml` against the generated one (GitLab runs no other CI file)."""
    ci = {path: content for path, content in files.items() if path == CI_FILE}

    def compare() -> list[FileDiff]:
        token = connection_token(Keyring.from_settings(settings), connection)
        ref = repository.default_branch
        # GitLabSource runs its own event loop: it lives and dies in this worker thread.
        with GitLabSource(
            GitLabClient(settings), token, connection.project_id, connection.full_path, ref=ref
        ) as source:
            return _compare(source, ci)

    try:
        return CIComparison(await asyncio.to_thread(compare))
    except (SourceError, AppError) as error:
        return CIComparison([], f"The repository's current CI could not be read: {error}")
