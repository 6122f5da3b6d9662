"""Checkers of the files a repository owns (spelling, TOML, YAML, Markdown): configured means run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from autodevops.engine.analyze import analyze
from autodevops.engine.source import LocalDir

TODAY = dt.date(2026, 11, 26)


def write(root: Path, files: dict[str, str]) -> LocalDir:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return LocalDir(root)


def test_a_checker_configuration_is_a_lint_tool_of_the_stack_owning_it(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\n',
        "src/main.rs": "fn main() {}\n" * 40,
        "_typos.toml": "[default.extend-words]\nser = 'ser'\n",
        "web/package.json": '{"scripts": {"test": "vitest"}}',
        "web/package-lock.json": "{}",
        "web/src/app.ts": "export const a = 1\n",
        "web/.markdownlint.yaml": "MD013: false\n",
        "vendor/lib/.yamllint": "rules: {}\n",
    }
    analysis = analyze(write(tmp_path, files), TODAY)
    by_path = {s.path: s for s in analysis.stacks}
    assert "other" in by_path["."].lint_tools
    assert "_typos.toml" in [e.file for e in by_path["."].provenance["lint_tools"].evidence]
    assert "other" in by_path["web"].lint_tools
    # no command is invented for it: which files it checks is the project's choice
    assert not any("typos" in c for s in analysis.stacks for c in s.lint_commands)


def test_codespell_settings_in_pyproject_count_and_vendored_configs_do_not(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": "[project]\nname = 'x'\n[tool.codespell]\nskip = '*.po'\n",
        "x/__init__.py": "",
        "third_party/mod/sub/.codespellrc": "[codespell]\n",
    }
    (stack,) = analyze(write(tmp_path / "a", files), TODAY).stacks
    assert stack.lint_tools == ["other"]
    assert stack.provenance["lint_tools"].evidence[0].key == "tool.codespell"
    del files["pyproject.toml"]
    (stack,) = analyze(write(tmp_path / "b", {**files, "pyproject.toml": "[project]\nname = 'x'\n"}), TODAY).stacks
    assert stack.lint_tools == []
