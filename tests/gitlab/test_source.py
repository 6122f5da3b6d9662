"""`GitLabSource` reads a project through the repository API exactly as a checkout would be read, and the
analysis child analyzes a GitLab project without cloning it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autodevops.config import Settings
from autodevops.engine.analyze import analyze
from autodevops.engine.source import MAX_DEPTH, LocalDir, SourceError
from autodevops.gitlab.client import GitLabClient
from autodevops.gitlab.source import GitLabSource

from .conftest import gitlab_overrides
from .fake_gitlab import FakeGitLab, FakeProject

FILES: dict[str, str] = {
    "pyproject.toml": '[project]\nname = "svc"\nrequires-python = ">=3.11"\n[tool.pytest.ini_options]\n',
    "uv.lock": "version = 1\n",
    "src/svc/__init__.py": "VALUE = 1\n" * 40,
    "tests/test_svc.py": "def test_value():\n    assert True\n",
    "scripts/test": "#!/bin/sh\npytest\n",
    "node_modules/left-pad/package.json": "{}",
    "a/" * MAX_DEPTH + "deep.txt": "too deep\n",
}


def _project(fake: FakeGitLab) -> tuple[FakeProject, str]:
    owner = fake.add_user("alice")
    project = fake.add_project("acme/svc", members={owner: 30}, files=dict(FILES))
    fake.commits[project.branches["main"]].modes.update({"scripts/test": "100755", "link": "120000"})
    fake.commits[project.branches["main"]].files["link"] = b"pyproject.toml"
    return project, fake.user_token(owner)


def test_lists_files_with_sizes_and_modes_within_the_limits(fake_gitlab: FakeGitLab, gitlab_settings: Settings) -> None:
    project, token = _project(fake_gitlab)
    with GitLabSource(GitLabClient(gitlab_settings), token, project.id, "acme/svc") as source:
        assert source.commit_sha == project.branches["main"]
        entries = {e.path: e for e in source.files()}
        assert sorted(entries) == [
            "pyproject.toml",
            "scripts/test",
            "src/svc/__init__.py",
            "tests/test_svc.py",
            "uv.lock",
        ]
        assert entries["src/svc/__init__.py"].size == len(FILES["src/svc/__init__.py"])
        assert entries["scripts/test"].executable
        assert not entries["uv.lock"].executable
        assert source.skipped == 2  # the symlink and the entry deeper than MAX_DEPTH
        assert source.read_bytes("pyproject.toml", 10) == FILES["pyproject.toml"].encode()[:10]
        assert source.read_bytes("pyproject.toml", 10_000) == FILES["pyproject.toml"].encode()
        assert source.reads == 2  # the short read is not mistaken for the whole file
        with pytest.raises(ValueError, match="not a file"):
            source.read_bytes("link", 100)
        with pytest.raises(ValueError, match="not a file"):
            source.read_bytes("../etc/passwd", 100)


def test_analysis_equals_the_analysis_of_a_checkout(
    fake_gitlab: FakeGitLab, gitlab_settings: Settings, tmp_path: Path
) -> None:
    project, token = _project(fake_gitlab)
    for path, content in FILES.items():
        if path.startswith(("a/", "node_modules/")):
            continue
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(content)
    (tmp_path / "scripts/test").chmod(0o755)
    with GitLabSource(GitLabClient(gitlab_settings), token, project.id, "acme/svc") as source:
        remote = analyze(source).model_dump(mode="json")
    local = analyze(LocalDir(tmp_path)).model_dump(mode="json")
    assert remote["stacks"] == local["stacks"]
    assert remote["languages"] == local["languages"]


def test_a_pinned_ref_and_a_pushed_branch_do_not_mix(fake_gitlab: FakeGitLab, gitlab_settings: Settings) -> None:
    project, token = _project(fake_gitlab)
    first = project.branches["main"]
    with GitLabSource(GitLabClient(gitlab_settings), token, project.id, "acme/svc", ref=first) as source:
        fake_gitlab.push(project, "main", {"README.md": "later\n"})
        assert source.commit_sha == first
        assert "pyproject.toml" in {e.path for e in source.files()}


def test_a_project_the_token_cannot_see_is_a_permanent_failure(
    fake_gitlab: FakeGitLab, gitlab_settings: Settings
) -> None:
    project, _ = _project(fake_gitlab)
    stranger = fake_gitlab.user_token(fake_gitlab.add_user("eve"))
    with (
        GitLabSource(GitLabClient(gitlab_settings), stranger, project.id, "acme/svc") as source,
        pytest.raises(SourceError, match="not found") as caught,
    ):
        source.files()
    assert caught.value.permanent


def run_child(fake: FakeGitLab, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUTODEVOPS_ENV": "test"}
    for name, value in gitlab_overrides(fake).items():
        env[f"AUTODEVOPS_{name.upper()}"] = ",".join(value) if isinstance(value, list) else str(value)
    return subprocess.run(
        [sys.executable, "-m", "autodevops.gitlab.analysis_child", *args],
        env=env,
        input=token + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_child_analyzes_a_project_through_the_api(fake_gitlab: FakeGitLab) -> None:
    project, token = _project(fake_gitlab)
    done = run_child(fake_gitlab, token, "--project-id", str(project.id), "--path", "acme/svc")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["commit_sha"] == project.branches["main"]
    assert [s["language"] for s in result["analysis"]["stacks"]] == ["python"]
    assert token not in done.stderr
    # Only what the analyzer opened was fetched (the Python sources were not).
    assert fake_gitlab.count("GET", f"/api/v4/projects/{project.id}/repository/files/src") == 0


def test_child_reports_a_rate_limit_clearly(fake_gitlab: FakeGitLab) -> None:
    project, token = _project(fake_gitlab)
    fake_gitlab.rate_limit(f"/api/v4/projects/{project.id}/repository/tree", reset_in=3600)
    done = run_child(fake_gitlab, token, "--project-id", str(project.id), "--path", "acme/svc")
    assert done.returncode == 2
    assert "rate limit exceeded" in done.stderr
    assert "resets in" in done.stderr
