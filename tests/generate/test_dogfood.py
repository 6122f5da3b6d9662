"""This repository's own CI is exactly what `autodevops generate .` writes for it.

The analysis runs over the files git tracks (what a fresh clone has), not over local build output, and on a
fixed date so that a runtime reaching end of life does not silently change the expected matrix. When this
test fails, regenerate and review the change:

    autodevops generate . --force --date 2026-11-26 --default-branch main
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autodevops.cli import app

REPO = Path(__file__).resolve().parents[2]
DATE = "2026-11-26"


def _tracked_copy(dest: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        src = REPO / rel
        if src.is_file() and not src.is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest / rel)
    return dest


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="needs the git checkout")
def test_committed_workflows_match_the_generator(tmp_path: Path) -> None:
    source = _tracked_copy(tmp_path / "checkout")
    args = ["generate", str(source), "--out", str(REPO), "--check", "--date", DATE, "--default-branch", "main"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (
        f"{result.output}\nThe committed CI drifted from the generator: run "
        f"`autodevops generate . --force --date {DATE} --default-branch main` and commit the result."
    )


def test_committed_workflows_include_the_services_the_platform_needs() -> None:
    ci = (REPO / ".github/workflows/ci.yml").read_text()
    assert "postgres:" in ci
    assert "redis:" in ci


def test_committed_workflows_pass_the_validators() -> None:
    from autodevops.engine.validate import validate_tree

    files = [p.relative_to(REPO).as_posix() for p in (REPO / ".github").rglob("*.yml")]
    assert ".github/workflows/ci.yml" in files
    assert [str(p) for p in validate_tree(REPO, sorted(files))] == []
