"""Where the benchmark's score goes: each miss's cause, and losses that add up to each field's shortfall."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from autodevops.engine import bench, bench_misses
from autodevops.engine.bench_misses import RepoText, stack_misses
from autodevops.engine.source import LocalDir


def _stack(expected: dict[str, Any], predicted: dict[str, Any]) -> bench.StackScore:
    fields = {
        "language": float(expected["language"] == predicted["language"]),
        "package_manager": float(expected.get("package_manager") == predicted.get("package_manager")),
        "versions": bench.jaccard(expected.get("versions", []), predicted.get("versions", [])),
        "test_tool": float(expected.get("test_tool") == predicted.get("test_tool")),
        "lint_tools": bench.f1(expected.get("lint_tools", []), predicted.get("lint_tools", [])),
        "build": float(bool(expected.get("build_commands")) == bool(predicted.get("build_commands"))),
        "services": bench.f1(expected.get("services", []), predicted.get("services", [])),
    }
    confident = frozenset(bench.FIELDS)
    return bench.StackScore(".", expected["language"], True, fields, expected, predicted, confident)


def _repo(tmp_path: Path, files: dict[str, str]) -> RepoText:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return RepoText(bench.WithoutCI(LocalDir(tmp_path, name="r")))


PYPROJECT = "[project]\nrequires-python='>=3.9'\ndependencies=['psycopg']\n[tool.ruff]\nline-length=100\n"


def test_each_missed_value_is_traced_to_where_the_repository_names_it(tmp_path: Path) -> None:
    text = _repo(
        tmp_path,
        {
            "pyproject.toml": PYPROJECT,
            ".github/workflows/ci.yml": "jobs: {lint: {steps: [{run: typos}, {run: mypy .}]}}\n",
        },
    )
    expected = {"language": "python", "package_manager": "uv", "versions": ["3.9", "3.10", "3.12", "3.14t"],
                "test_tool": "pytest", "lint_tools": ["ruff", "mypy", "other"], "services": ["postgres"],
                "build_commands": ["uv build"]}  # fmt: skip
    predicted = {"language": "python", "package_manager": "uv", "versions": ["3.9", "3.12", "3.13"],
                 "test_tool": "pytest", "lint_tools": [], "services": [], "build_commands": []}  # fmt: skip
    causes = {(m.field, m.value): m.cause for m in stack_misses(_stack(expected, predicted), text)}
    assert causes == {
        ("versions", "3.10"): "in-range",  # between the 3.9 and the 3.13 the analysis proposed
        ("versions", "3.14t"): "ci-only",
        ("versions", "3.13"): "extra",
        ("lint_tools", "ruff"): "named",  # [tool.ruff]
        ("lint_tools", "mypy"): "ci-only",  # only the hidden workflow runs it
        ("lint_tools", "other"): "other-tool",
        ("services", "postgres"): "named",  # the psycopg dependency
        ("build", "build"): "toolchain",  # uv build: the packaging tool's own command
    }


def test_toolchain_tools_channels_and_lines_named_in_manifests(tmp_path: Path) -> None:
    text = _repo(tmp_path, {"Cargo.toml": "[package]\nrust-version = '1.70'\n", "rust-toolchain": "nightly\n"})
    expected = {"language": "rust", "package_manager": "cargo", "versions": ["1.70", "nightly", "beta"],
                "test_tool": "cargo-nextest", "lint_tools": ["clippy", "rustfmt"]}  # fmt: skip
    predicted = {"language": "rust", "package_manager": "cargo", "versions": ["stable"], "test_tool": "cargo-test",
                 "lint_tools": ["clippy"]}  # fmt: skip
    causes = {(m.field, m.value): m.cause for m in stack_misses(_stack(expected, predicted), text)}
    assert causes == {
        ("versions", "1.70"): "named",
        ("versions", "nightly"): "named",  # the rust-toolchain file
        ("versions", "beta"): "ci-only",
        ("versions", "stable"): "extra",
        ("test_tool", "cargo-nextest"): "ci-only",
        ("test_tool", "cargo-test"): "extra",
        ("lint_tools", "rustfmt"): "toolchain",
    }


def test_a_patch_pin_is_not_a_line_inside_the_proposed_range(tmp_path: Path) -> None:
    text = _repo(tmp_path, {"package.json": '{"engines": {"node": ">=22"}}'})
    stack = _stack(
        {"language": "javascript", "versions": ["22.22.2", "24"]}, {"language": "javascript", "versions": ["22", "26"]}
    )
    causes = {(m.value, m.cause) for m in stack_misses(stack, text)}
    assert causes == {("22.22", "ci-only"), ("24", "in-range"), ("22", "extra"), ("26", "extra")}


@pytest.mark.parametrize(
    ("expected", "predicted", "field"),
    [
        (["3.9", "3.10", "3.11"], ["3.10", "3.11", "3.12", "3.13"], "versions"),
        (["ruff", "mypy", "black"], ["ruff", "flake8"], "lint_tools"),
        (["postgres"], [], "services"),
    ],
)
def test_the_losses_of_a_field_add_up_to_its_shortfall(
    tmp_path: Path, expected: list[str], predicted: list[str], field: str
) -> None:
    text = _repo(tmp_path, {"pyproject.toml": PYPROJECT})
    stack = _stack({"language": "python", field: expected}, {"language": "python", field: predicted})
    lost = sum(m.loss for m in stack_misses(stack, text) if m.field == field)
    assert lost == pytest.approx(1.0 - stack.fields[field])
    assert stack.fields[field] < 1.0


def test_a_stated_value_ci_does_not_use_is_extra_when_confident_and_flagged_when_not(tmp_path: Path) -> None:
    text = _repo(tmp_path, {"pyproject.toml": PYPROJECT})
    stack = _stack({"language": "python", "versions": ["3.12"]}, {"language": "python", "versions": ["3.12", "3.13"]})
    assert [m.cause for m in stack_misses(stack, text)] == ["extra"]
    default = bench.StackScore(".", "python", True, stack.fields, stack.expected, stack.predicted, frozenset())
    assert [m.cause for m in stack_misses(default, text)] == ["flagged"]


def test_explain_splits_each_fields_shortfall_by_cause_per_split(tmp_path: Path) -> None:
    corpus, checkouts = tmp_path / "corpus", tmp_path / "checkouts"
    entry = corpus / "o__r"
    entry.mkdir(parents=True)
    (entry / "source.json").write_text('{"repo": "o/r", "commit": "' + "0" * 40 + '", "fetched": "2025-06-01"}')
    (entry / "expected.json").write_text(
        '{"stacks": [{"path": ".", "language": "python", "package_manager": "pip", "versions": ["3.12"],'
        ' "test_tool": "pytest", "lint_tools": ["mypy"], "build_commands": [], "services": []},'
        ' {"path": "docs", "language": "javascript", "package_manager": "npm", "versions": [],'
        ' "test_tool": "none", "lint_tools": [], "build_commands": [], "services": []}]}'
    )
    root = checkouts / "o__r"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname='x'\nrequires-python='>=3.12'\n")
    (root / "tests" / "test_x.py").write_text("import pytest\n\ndef test_x():\n    pass\n")

    full = bench.run_full(corpus, checkouts)
    explained = bench_misses.explain(full, checkouts)
    [repo] = full.splits[bench.TEST].repos
    for name in bench.FIELDS:
        assert sum(explained[bench.TEST][name].values()) == pytest.approx(1.0 - repo.field(name))
    assert explained[bench.TEST]["lint_tools"]["ci-only"] == pytest.approx(0.5)  # half the stacks, mypy unnamed
    assert explained[bench.TEST]["language"]["no-stack"] == pytest.approx(0.5)  # docs/ was not found
    assert all(v == 0.0 for fields in explained[bench.TUNING].values() for v in fields.values())


@pytest.mark.parametrize(
    ("command", "cause"),
    [
        ("npm run build:lib", "named"),  # a script of package.json
        ("npm run bundle", "ci-only"),  # no such script: CI's own
        ("make docs", "named"),
        ("uv run mkdocs build --strict", "named"),  # mkdocs.yml
        ("uv run sphinx-build docs out", "ci-only"),
        ("python -m build", "toolchain"),
        ("go build ./...", "toolchain"),
        ("cd cmd && go install .", "toolchain"),  # where it runs is not what it runs
        ("uses: pypa/gh-action-pypi-publish@v1", "ci-only"),  # a CI action
    ],
)
def test_a_missed_build_is_traced_to_the_entry_point_ci_runs(tmp_path: Path, command: str, cause: str) -> None:
    text = _repo(
        tmp_path,
        {
            "package.json": '{"scripts": {"build:lib": "tsc"}}',
            "Makefile": "docs:\n\tsphinx\n",
            "mkdocs.yml": "site_name: x\n",
        },
    )
    stack = _stack({"language": "python", "build_commands": [command]}, {"language": "python", "build_commands": []})
    assert [(m.field, m.cause) for m in stack_misses(stack, text)] == [("build", cause)]
