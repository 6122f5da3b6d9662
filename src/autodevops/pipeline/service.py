"""Reading generated pipelines: the latest one of a repository and how it differs from the CI it has now.

Generating a pipeline is a job (`pipeline.tasks.submit`); opening its pull request belongs to the GitHub
integration (`github.service.open_pull_request`).
"""

from __future__ import annotations

import asyncio
import difflib
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from autodevops.engine.source import SourceError
from autodevops.errors import AppError
from autodevops.github import queries as github_queries
from autodevops.github.client import GitHubClient
from autodevops.github.source import GitHubSource
from autodevops.models import Pipeline, Repository, User
from autodevops.repository import service as repository_service

MAX_CI_FILE = 1024 * 1024


async def latest_pipeline(session: AsyncSession, user: User, repository_id: uuid.UUID) -> Pipeline | None:
    """The repository's most recently generated pipeline (None before the first); 404 for another tenant's."""
    repository = await repository_service.get_repository(session, user, repository_id)
    return await github_queries.latest_pipeline(session, repository.id)


@dataclass(frozen=True, slots=True)
class FileDiff:
    """How one generated file compares with the repository's copy on its default branch."""

    path: str
    status: str  # "new" (the repository has no such file), "same", or "changed"
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


def _compare(source: GitHubSource, files: dict[str, str]) -> list[FileDiff]:
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

    Repositories connected by git URL are not cloned for this: the comparison says so instead.
    """
    link = await github_queries.get_link(session, repository.id)
    if link is None:
        return CIComparison([], "Comparing needs a repository connected through GitHub.")
    owner, _, name = link.full_name.partition("/")
    source = GitHubSource(client, link.installation_id, owner, name, ref=repository.default_branch)
    files = {str(f["path"]): str(f["content"]) for f in pipeline.files}
    try:
        return CIComparison(await asyncio.to_thread(_compare, source, files))
    except (SourceError, AppError) as error:
        return CIComparison([], f"The repository's current CI could not be read: {error}")
