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


def _full_tree_corpus(tmp_path: Path) -> tuple[Path, Path]:
    corpus, checkouts = tmp_path / "corpus", tmp_path / "checkouts"
    for repo in ("o/r", "celery/celery"):  # test split, tuning split (no checkout)
        entry = corpus / repo.replace("/", "__")
        entry.mkdir(parents=True)
        (entry / "source.json").write_text(json.dumps({"repo": repo, "commit": "0" * 40, "fetched": "2025-06-01"}))
        stack = {"path": ".", "language": "python", "package_manager": "uv", "versions": ["3.12", "3.13"],
                 "test_tool": "pytest", "lint_tools": [], "build_commands": [], "services": []}  # fmt: skip
        (entry / "expected.json").write_text(json.dumps({"repo": repo, "stacks": [stack]}))
    root = checkouts / "o__r"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        "[project]\nname='x'\nrequires-python='>=3.12'\n[dependency-groups]\ndev=['pytest']\n"
    )
    (root / "uv.lock").write_text("")
    return corpus, checkouts


def test_bench_with_checkouts_prints_both_splits_and_the_skipped_entries(tmp_path: Path) -> None:
    corpus, checkouts = _full_tree_corpus(tmp_path)
    result = cli("bench", str(corpus), "--checkouts", str(checkouts))
    assert result.returncode == 0, result.stderr
    assert "Test split, per repository" in result.stdout
    assert "tuning (0)" in result.stdout
    assert "test (1)" in result.stdout
    assert "right when confidence >= 0.8" in result.stdout
    assert "celery__celery: no checkout at" in result.stdout

    as_json = cli("bench", str(corpus), "--checkouts", str(checkouts), "--json")
    data = json.loads(as_json.stdout)
    assert data["splits"]["test"]["repos"][0]["name"] == "o__r"
    assert data["splits"]["tuning"]["repos"] == []
    assert [s["name"] for s in data["skipped"]] == ["celery__celery"]


def test_bench_causes_splits_each_fields_shortfall_by_cause(tmp_path: Path) -> None:
    corpus, checkouts = _full_tree_corpus(tmp_path)
    expected_file = corpus / "o__r" / "expected.json"
    expected = json.loads(expected_file.read_text())
    expected["stacks"][0]["lint_tools"] = ["mypy"]  # run only by the repository's CI
    expected_file.write_text(json.dumps(expected))

    result = cli("bench", str(corpus), "--checkouts", str(checkouts), "--causes")
    assert result.returncode == 0, result.stderr
    assert "Where the test split's score goes" in result.stdout
    assert "ci-only: only CI names it" in result.stdout
    data = json.loads(cli("bench", str(corpus), "--checkouts", str(checkouts), "--causes", "--json").stdout)
    assert data["causes"]["test"]["lint_tools"]["ci-only"] == 1.0
    assert data["causes"]["test"]["versions"]["ci-only"] == 0.0

    bare = cli("bench", str(tmp_path / "corpus"), "--causes")
    assert bare.returncode == 2
    assert "--causes needs --checkouts" in bare.stderr


def test_bench_on_full_tree_entries_without_checkouts_says_what_to_pass(tmp_path: Path) -> None:
    corpus, _ = _full_tree_corpus(tmp_path)
    result = cli("bench", str(corpus))
    assert result.returncode == 2
    assert "--checkouts" in result.stderr
    missing = cli("bench", str(corpus), "--checkouts", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert "not a directory" in missing.stderr
