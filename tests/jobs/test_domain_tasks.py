"""The platform's own tasks run by a real worker: analysis.run, pipeline.generate, repository.sync."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from autodevops import models
from autodevops.analysis import tasks as analysis_tasks
from autodevops.db import tenant_session
from autodevops.pipeline import tasks as pipeline_tasks
from autodevops.repository import tasks as repository_tasks
from autodevops.repository.tasks import parse_ls_remote

from .conftest import Jobs, Workers

pytestmark = pytest.mark.slow


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def sample_repo(tmp_path: Path) -> tuple[str, str]:
    """A local git repository (a small Python project on branch `trunk`); returns its URL and HEAD commit."""
    repo = tmp_path / "sample"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "trunk")
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "sample"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        '[project.optional-dependencies]\ndev = ["pytest"]\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
    )
    (repo / "tests").mkdir()
    (repo / "tests" / "test_x.py").write_text("def test_x():\n    assert True\n")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init")
    return f"file://{repo}", _git(repo, "rev-parse", "HEAD")


async def _add_repository(jobs: Jobs, url: str, default_branch: str | None = None) -> uuid.UUID:
    repository_id = uuid.uuid4()
    async with jobs.admin.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO repositories (id, organization_id, name, source, clone_url, default_branch)"
                " VALUES (:i, :o, 'sample', 'git', :u, :b)"
            ),
            {"i": repository_id, "o": jobs.org, "u": url, "b": default_branch},
        )
    return repository_id


async def test_analysis_then_pipeline_generation_store_their_results(
    jobs: Jobs, workers: Workers, sample_repo: tuple[str, str]
) -> None:
    url, head = sample_repo
    repository_id = await _add_repository(jobs, url)
    # Real engine work: give it real timeouts (half scale: 2.5 min for analysis, 1.5 min for generation).
    workers.start("analysis", "ci_generation", concurrency=2, AUTODEVOPS_JOBS_TIME_SCALE="0.5")

    async with tenant_session(jobs.database, organization_id=jobs.org) as session:
        repository = await session.get(models.Repository, repository_id)
        assert repository is not None
        job, analysis = await analysis_tasks.submit(session, jobs.runtime, repository)
    assert (await jobs.wait_state(job.id, "completed", "dead_letter", within=60)).state == "completed"
    async with tenant_session(jobs.database, organization_id=jobs.org) as session:
        stored = await session.get(models.Analysis, analysis.id)
        assert stored is not None
        assert stored.status == "succeeded"
        assert stored.commit_sha == head
        assert stored.result is not None
        assert [s["language"] for s in stored.result["stacks"]] == ["python"]
    stages = [e.stage for e in await jobs.runtime.bus.read(str(job.id))]
    assert stages[0] == "queued"
    assert stages[-1] == "done"
    assert stages.index("cloning") < stages.index("analyzing") < stages.index("done")

    async with tenant_session(jobs.database, organization_id=jobs.org) as session:
        repository = await session.get(models.Repository, repository_id)
        assert repository is not None
        generation = await pipeline_tasks.submit(session, jobs.runtime, repository)
    done = await jobs.wait_state(generation.id, "completed", "dead_letter", within=120)
    assert done.state == "completed", done.last_error
    async with tenant_session(jobs.database, organization_id=jobs.org) as session:
        pipeline = await session.get(models.Pipeline, pipeline_tasks.pipeline_id_for(generation.id))
        assert pipeline is not None
        assert pipeline.analysis_id == analysis.id
        paths = {f["path"] for f in pipeline.files}
        assert ".github/workflows/ci.yml" in paths
        assert pipeline.validation is not None
        assert set(pipeline.validation) >= {"valid", "problems", "unavailable", "findings"}


async def test_a_failing_analysis_is_dead_lettered_and_marked_failed(
    jobs: Jobs, workers: Workers, tmp_path: Path
) -> None:
    repository_id = await _add_repository(jobs, f"file://{tmp_path}/does-not-exist")
    # Scale 0.05: a 15 s timeout (the child process must start on a loaded machine), retries after 1.5 s and 6 s.
    workers.start("analysis", AUTODEVOPS_JOBS_TIME_SCALE="0.05")
    async with tenant_session(jobs.database, organization_id=jobs.org) as session:
        repository = await session.get(models.Repository, repository_id)
        assert repository is not None
        job, analysis = await analysis_tasks.submit(session, jobs.runtime, repository)
    final = await jobs.wait_state(job.id, "dead_letter", within=60)
    assert final.attempts == 3
    assert "git clone failed" in (final.last_error or "")
    async with tenant_session(jobs.database, organization_id=jobs.org) as session:
        stored = await session.get(models.Analysis, analysis.id)
        assert stored is not None
        assert stored.status == "failed"
        assert stored.error == final.last_error


async def test_sync_reads_the_default_branch_latest_commit_and_visibility_from_the_remote(
    jobs: Jobs, workers: Workers, sample_repo: tuple[str, str]
) -> None:
    url, head = sample_repo
    repository_id = await _add_repository(jobs, url, default_branch="main")
    workers.start("sync")
    queued_at = models.utcnow()
    async with tenant_session(jobs.database, organization_id=jobs.org) as session:
        repository = await session.get(models.Repository, repository_id)
        assert repository is not None
        job = await repository_tasks.submit(session, jobs.runtime, repository)
    assert (await jobs.wait_state(job.id, "completed")).state == "completed"
    async with tenant_session(jobs.database, organization_id=jobs.org) as session:
        repository = await session.get(models.Repository, repository_id)
        assert repository is not None
        assert repository.default_branch == "trunk"
        assert repository.latest_commit_sha == head  # `git rev-parse HEAD` of the remote
        assert repository.visibility == "public"  # read without credentials
        assert repository.synced_at is not None
        assert repository.synced_at >= queued_at


def test_ls_remote_output_is_parsed() -> None:
    sha = "a" * 40
    head = parse_ls_remote(f"ref: refs/heads/develop\tHEAD\n{sha}\tHEAD\n")
    assert (head.default_branch, head.commit_sha) == ("develop", sha)
    assert parse_ls_remote("") == repository_tasks.RemoteHead(None, None)
