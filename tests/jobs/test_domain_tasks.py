"""The platform's own tasks run by a real worker: analysis.run, pipeline.generate, repository.sync."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from autodevops import models
from autodevops.analysis import tasks as analysis_tasks
from autodevops.db import tenant_session
from autodevops.engine.clone import CloneDir
from autodevops.pipeline import tasks as pipeline_tasks
from autodevops.repository import tasks as repository_tasks
from autodevops.repository.tasks import parse_ls_remote
from git_server import GitHTTPServer, git, make_empty_repository, make_repository
from process_support import wait_until_gone

from .conftest import Jobs, Workers

pytestmark = pytest.mark.slow


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[GitHTTPServer]:
    root = tmp_path / "srv"
    root.mkdir()
    with GitHTTPServer(root) as server:
        yield server


@pytest.fixture
def sample_repo(git_server: GitHTTPServer) -> tuple[str, str]:
    """A repository on the git server (a small Python project on branch `trunk`); its URL and HEAD commit."""
    bare = make_repository(
        git_server.root,
        "sample",
        {
            "pyproject.toml": '[project]\nname = "sample"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
            '[project.optional-dependencies]\ndev = ["pytest"]\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
            "tests/test_x.py": "def test_x():\n    assert True\n",
        },
        branch="trunk",
    )
    return f"{git_server.base}/smart/sample.git", git(bare, "rev-parse", "HEAD")


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
    jobs: Jobs, workers: Workers, git_server: GitHTTPServer, sample_repo: tuple[str, str]
) -> None:
    url, head = sample_repo
    repository_id = await _add_repository(jobs, url)
    # Real engine work: give it real timeouts (half scale: 2.5 min for analysis, 1.5 min for generation).
    workers.start("analysis", "ci_generation", concurrency=2, AUTODEVOPS_JOBS_TIME_SCALE="0.5", **git_server.env)

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


async def _analyze(jobs: Jobs, repository_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    async with tenant_session(jobs.database, organization_id=jobs.org) as session:
        repository = await session.get(models.Repository, repository_id)
        assert repository is not None
        job, analysis = await analysis_tasks.submit(session, jobs.runtime, repository)
    return job.id, analysis.id


async def _analysis(jobs: Jobs, analysis_id: uuid.UUID) -> models.Analysis:
    async with tenant_session(jobs.database, organization_id=jobs.org) as session:
        stored = await session.get(models.Analysis, analysis_id)
        assert stored is not None
        return stored


async def test_an_unreachable_server_is_retried_then_dead_lettered_and_marked_failed(
    jobs: Jobs, workers: Workers, tmp_path: Path
) -> None:
    repository_id = await _add_repository(jobs, "http://127.0.0.1:1/team/app.git")
    # Scale 0.05: a 15 s timeout (the child process must start on a loaded machine), retries after 1.5 s and 6 s.
    workers.start(
        "analysis",
        AUTODEVOPS_JOBS_TIME_SCALE="0.05",
        AUTODEVOPS_ALLOW_INSECURE_GIT_URLS="true",
        AUTODEVOPS_GIT_PRIVATE_SERVERS="127.0.0.1:1",
    )
    job_id, analysis_id = await _analyze(jobs, repository_id)
    final = await jobs.wait_state(job_id, "dead_letter", within=60)
    assert final.attempts == 3  # a refused connection may be temporary
    assert "Couldn't connect to server" in (final.last_error or "")
    stored = await _analysis(jobs, analysis_id)
    assert stored.status == "failed"
    assert stored.error == final.last_error


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("smart/missing.git", "git clone failed: fatal: repository '{url}/' not found"),
        ("smart/empty.git", "the repository is empty (it has no commit yet)"),
        ("redirect/app.git", "git clone failed: the server answered with a redirect (HTTP 301)"),
    ],
)
async def test_a_permanent_clone_error_fails_the_job_at_once_with_gits_message(
    jobs: Jobs, workers: Workers, git_server: GitHTTPServer, path: str, reason: str
) -> None:
    # Not found, empty, redirected: retrying cannot help, so no retry schedule (2 min 38 s before) and the
    # analysis is failed together with the job, with the message a person can act on.
    make_empty_repository(git_server.root, "empty")
    git_server.redirect_to("http://127.0.0.1:6379/")
    url = f"{git_server.base}/{path}"
    repository_id = await _add_repository(jobs, url)
    workers.start("analysis", AUTODEVOPS_JOBS_TIME_SCALE="0.05", **git_server.env)
    job_id, analysis_id = await _analyze(jobs, repository_id)
    final = await jobs.wait_state(job_id, "dead_letter", within=60)
    assert final.attempts == 1
    assert (final.last_error or "").startswith(f"{url}: {reason.format(url=url)}")
    assert "6379" not in (final.last_error or "")
    stored = await _analysis(jobs, analysis_id)
    assert (stored.status, stored.error) == ("failed", final.last_error)


async def test_a_timed_out_clone_leaves_no_git_process_and_no_directory(
    jobs: Jobs, workers: Workers, tmp_path: Path, silent_port: int
) -> None:
    # The assessment: the job's timeout killed only the child's process group; git, in a session of its own,
    # went on under PID 1, and every attempt left an `autodevops-clone-*` directory behind.
    url = f"http://127.0.0.1:{silent_port}/team/stalled.git"
    repository_id = await _add_repository(jobs, url)
    scratch = tmp_path / "worker-tmp"
    scratch.mkdir()
    # Scale 0.02: 6 s per attempt, then retries after 0.6 s and 2.4 s; every attempt times out.
    workers.start(
        "analysis",
        TMPDIR=str(scratch),
        AUTODEVOPS_JOBS_TIME_SCALE="0.02",
        AUTODEVOPS_ALLOW_INSECURE_GIT_URLS="true",
        AUTODEVOPS_GIT_PRIVATE_SERVERS=f"127.0.0.1:{silent_port}",
    )
    job_id, _ = await _analyze(jobs, repository_id)
    final = await jobs.wait_state(job_id, "dead_letter", within=90)
    assert final.attempts == 3
    assert "timed out" in (final.last_error or "")
    wait_until_gone(url)
    assert list(scratch.glob("autodevops-clone-*")) == []


async def test_a_worker_removes_the_clone_directories_of_dead_workers_at_start(
    jobs: Jobs, workers: Workers, tmp_path: Path
) -> None:
    # What a worker killed mid-clone leaves: a clone directory whose lock nobody holds any more.
    stale = tmp_path / "autodevops-clone-dead"
    (stale / "repo").mkdir(parents=True)
    (stale / ".owner.lock").touch()
    held = CloneDir(str(tmp_path))  # a live worker's, in use
    workers.start("analysis", TMPDIR=str(tmp_path))
    await asyncio.to_thread(_wait_until_removed, stale)
    assert await asyncio.to_thread(Path(held.path).is_dir)
    held.close()


def _wait_until_removed(path: Path, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not path.exists()


async def test_sync_reads_the_default_branch_latest_commit_and_visibility_from_the_remote(
    jobs: Jobs, workers: Workers, git_server: GitHTTPServer, sample_repo: tuple[str, str]
) -> None:
    url, head = sample_repo
    repository_id = await _add_repository(jobs, url, default_branch="main")
    workers.start("sync", **git_server.env)
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
