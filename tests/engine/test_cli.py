"""`autodevops analyze` and `autodevops bench` as a user runs them: real processes, exit codes, stdout/stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from autodevops.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        "[project]\nname='app'\nrequires-python='>=3.12'\n[dependency-groups]\ndev=['pytest']\n"
    )
    (root / "uv.lock").write_text("")
    (root / ".nvmrc").write_text("22\n")
    (root / "tests" / "test_app.py").write_text("def test_x():\n    pass\n")
    return root


def test_analyze_json_is_the_full_analysis_on_stdout(repo: Path) -> None:
    result = cli("analyze", str(repo), "--json", "--date", "2026-11-26")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["analyzed_on"] == "2026-11-26"
    (stack,) = data["stacks"]
    assert stack["package_manager"] == "uv"
    assert stack["test_commands"] == ["uv run pytest"]
    assert stack["versions"] == ["3.12", "3.13", "3.14"]
    assert stack["provenance"]["package_manager"]["evidence"][0]["file"] == "uv.lock"


def test_analyze_table_cites_the_files(repo: Path) -> None:
    result = cli("analyze", str(repo), "--date", "2026-11-26")
    assert result.returncode == 0, result.stderr
    assert "uv run pytest" in result.stdout
    assert "uv.lock" in result.stdout
    assert "project.requires-python" in result.stdout


def test_nonexistent_path_exits_2_with_a_message_on_stderr(tmp_path: Path) -> None:
    result = cli("analyze", str(tmp_path / "missing"), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "no such file or directory" in result.stderr


def test_unreachable_git_url_exits_2(tmp_path: Path) -> None:
    result = cli("analyze", f"file://{tmp_path}/nothing-here.git")
    assert result.returncode == 2
    assert "git clone failed" in result.stderr


def test_bad_date_exits_2(repo: Path) -> None:
    result = cli("analyze", str(repo), "--date", "26/11/2026")
    assert result.returncode == 2
    assert "--date" in result.stderr


def test_analyze_a_git_url_clones_and_cleans_up(repo: Path, tmp_path: Path) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "init"], check=True)
    result = cli("analyze", f"file://{repo}", "--json", "--date", "2026-11-26")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["source"] == f"file://{repo}"
    assert data["stacks"][0]["package_manager"] == "uv"


def test_bench_on_a_missing_corpus_exits_2(tmp_path: Path) -> None:
    result = cli("bench", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "not a directory" in result.stderr
