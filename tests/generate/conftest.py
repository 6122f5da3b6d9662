"""Generated trees for every fixture analysis, validated once per session (the validators are the slow part)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autodevops.engine.generate import Generated, generate
from autodevops.engine.validate import Problem, actionlint, schema_problems, shellcheck, zizmor

from .fixtures import FIXTURES


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


@pytest.fixture(scope="session")
def generated() -> dict[str, Generated]:
    return {name: generate(a, "all") for name, a in FIXTURES.items()}


@pytest.fixture(scope="session")
def fixture_problems(generated: dict[str, Generated], tmp_path_factory: pytest.TempPathFactory) -> list[Problem]:
    """actionlint + zizmor + schemas over every fixture's files, in one run of each validator."""
    root = tmp_path_factory.mktemp("fixtures")
    files: list[str] = []
    for name, result in generated.items():
        write_tree(root / name, result.files)
        files += [f"{name}/{rel}" for rel in result.files]
    return validate_many(root, files)


def validate_many(root: Path, files: list[str]) -> list[Problem]:
    """Like `validate_tree` over many generated trees at once: one run of each external validator."""
    workflows = [root / f for f in files if "/.github/workflows/" in f]
    dependabot = [root / f for f in files if f.endswith("/.github/dependabot.yml")]
    problems = actionlint(workflows) + shellcheck(workflows) + zizmor(workflows + dependabot)
    for f in files:
        text = (root / f).read_text(encoding="utf-8")
        if f.endswith("/.gitlab-ci.yml"):
            problems += schema_problems(text, "gitlab-ci", f)
        elif f.endswith("/.github/dependabot.yml"):
            problems += schema_problems(text, "dependabot", f)
        elif "/.github/workflows/" in f:
            problems += schema_problems(text, "github-workflows", f)
    return problems
