"""`autodevops verify` end to end: the generated pipeline of a small repository, a red run, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .support import PYTHON_VERSION


def verify(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autodevops", "verify", "--cache-dir", str(cache), *args],
        capture_output=True,
        text=True,
        timeout=240,
    )


def python_repo(root: Path, *, passing: bool) -> Path:
    """A stdlib-only package with unittest tests (no downloads beyond pip itself)."""
    (root / "src" / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "calc"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    (root / "src" / "calc" / "__init__.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "tests" / "__init__.py").write_text("")
    expected = 3 if passing else 4
    (root / "tests" / "test_calc.py").write_text(
        "import unittest\n\nfrom calc import add\n\n\nclass AddTest(unittest.TestCase):\n"
        f"    def test_add(self):\n        self.assertEqual(add(1, 2), {expected})\n"
    )
    return root


def test_generated_pipeline_goes_green(tmp_path: Path, verify_cache: Path) -> None:
    repo = python_repo(tmp_path / "calc", passing=True)
    logs = tmp_path / "logs"
    done = verify(
        str(repo),
        "--python",
        f"{PYTHON_VERSION}={sys.executable}",
        "--job",
        "python-test",
        "--matrix",
        f"python-version={PYTHON_VERSION}",
        "--logs",
        str(logs),
        "--json",
        cache=verify_cache,
    )
    report = json.loads(done.stdout)
    ran = [j for j in report["jobs"] if j["status"] != "skipped"]
    assert ran, report
    assert all(j["status"] == "green" for j in ran), json.dumps(ran, indent=2)
    assert done.returncode == 0, done.stderr
    assert not (repo / ".github").exists()  # generated in memory, never written into the repository
    assert (logs / "report.json").is_file()
    test_logs = [p for p in logs.rglob("*.log") if "unittest" in p.read_text()]
    assert any("Ran 1 test" in p.read_text() for p in test_logs)


WORKFLOW = """\
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Unit tests
        run: python3 -m unittest discover -v
"""


def test_failing_test_is_red_with_command_and_log(tmp_path: Path, verify_cache: Path) -> None:
    repo = python_repo(tmp_path / "calc", passing=False)
    (repo / "tests" / "__init__.py").write_text("import sys\nsys.path.insert(0, 'src')\n")
    workflow = tmp_path / "ci.yml"
    workflow.write_text(WORKFLOW)
    done = verify(str(repo), "--workflow", str(workflow), "--logs", str(tmp_path / "logs"), cache=verify_cache)
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "✗ .github/workflows/ci.yml › test  [red" in out
    assert "python3 -m unittest discover -v" in out  # the failing command
    assert "AssertionError: 3 != 4" in out  # the log tail
    assert "jobs: 0 green of 1 run, 1 red, 0 blocked, 0 skipped" in out
    [log] = (tmp_path / "logs").rglob("*Unit-tests.log")
    assert "FAILED (failures=1)" in log.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--matrix", "python-version"], "--matrix takes KEY=VALUE"),
        (["--python", "3.12=/nonexistent/python"], "no such file"),
        (["--service", "postgres=http"], "the port must be a number"),
        (["--timeout", "0"], "--timeout must be a positive"),
        (["--workflow", "/nonexistent.yml"], "no such file"),
    ],
)
def test_bad_input_exits_2(tmp_path: Path, verify_cache: Path, args: list[str], message: str) -> None:
    done = verify(str(tmp_path), *args, cache=verify_cache)
    assert done.returncode == 2
    assert message in done.stderr


def test_broken_workflow_is_reported(tmp_path: Path, verify_cache: Path) -> None:
    workflow = tmp_path / "ci.yml"
    workflow.write_text("on: push\njobs:\n  a:\n    needs: missing\n    steps: [{run: 'true'}]\n")
    done = verify(str(tmp_path), "--workflow", str(workflow), cache=verify_cache)
    assert done.returncode == 2
    assert "needs 'missing'" in done.stderr


def test_help_warns_that_it_runs_the_repositorys_code(verify_cache: Path) -> None:
    done = verify("--help", cache=verify_cache)
    assert "executes the repository's own code" in done.stdout
    assert "sandbox" in done.stdout
