"""`autodevops analyze PATH --json` takes a direct path that must behave exactly like the full CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autodevops.__main__ import _fast_analyze_args


def run(entry: str, *args: str) -> subprocess.CompletedProcess[str]:
    code = {
        "fast": "from autodevops.__main__ import main; main()",
        "cli": "from autodevops.cli import main; main()",
    }[entry]
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "package.json").write_text(
        '{"name": "web", "scripts": {"test": "vitest run"}, "devDependencies": {"vitest": "^2.0.0"}}'
    )
    (tmp_path / "pnpm-lock.yaml").write_text("lockfileVersion: '9.0'\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.ts").write_text("export const x = 1;\n")
    (tmp_path / "pyproject.toml").write_text("[project\nname = 'broken'\n")  # a finding, not a crash
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "{repo}", "--json", "--date", "2026-01-01"],
        ["analyze", "--json", "--date=2026-01-01", "{repo}"],
        ["analyze", "{repo}/missing", "--json"],
    ],
)
def test_fast_path_output_equals_the_cli(repo: Path, args: list[str]) -> None:
    argv = [a.format(repo=repo) for a in args]
    assert _fast_analyze_args(argv) is not None
    fast, cli = run("fast", *argv), run("cli", *argv)
    assert (fast.returncode, fast.stdout, fast.stderr) == (cli.returncode, cli.stdout, cli.stderr)


def test_fast_path_reports_a_missing_directory(repo: Path) -> None:
    result = run("fast", "analyze", str(repo / "missing"), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "no such file or directory" in result.stderr


def test_fast_path_does_not_load_the_cli_framework(repo: Path) -> None:
    code = (
        "import sys\n"
        f"sys.argv = ['autodevops', 'analyze', {str(repo)!r}, '--json']\n"
        "from autodevops.__main__ import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(repr(sorted(m for m in ('typer', 'click', 'rich', 'fastapi') if m in sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stderr == "[]"
    assert '"stacks"' in result.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "."],  # the human summary
        ["analyze", ".", "--json", "--help"],
        ["analyze", ".", "--json", "--date", "yesterday"],  # the CLI owns the error message
        ["analyze", ".", "--json", "--date"],
        ["analyze", ".", "extra", "--json"],
        ["analyze", "--json"],
        ["generate", ".", "--json"],
        [],
    ],
)
def test_other_command_lines_go_through_the_cli(argv: list[str]) -> None:
    assert _fast_analyze_args(argv) is None
