"""Workflow reading: YAML 1.2 keys, `needs` order, triggers, and matrix expansion with include/exclude."""

from __future__ import annotations

import pytest

from autodevops.engine.verify.expressions import Scope
from autodevops.engine.verify.workflow import (
    Cell,
    WorkflowError,
    cell_matches,
    expand_matrix,
    parse_workflow,
    triggered_by,
)

WORKFLOW = """
name: CI
on:
  push:
    branches: [main, 'release/**', '!release/old']
  pull_request: {}
env:
  FLAG: yes
jobs:
  deploy:
    needs: [test, lint]
    runs-on: ubuntu-latest
    steps:
      - run: echo deploy
  test:
    needs: lint
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Test
        run: pytest
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: |
          ruff check .
          mypy
"""


def test_parses_jobs_in_needs_order_with_yaml_12_values() -> None:
    workflow = parse_workflow(".github/workflows/ci.yml", WORKFLOW)
    assert [j.id for j in workflow.jobs] == ["lint", "test", "deploy"]
    assert workflow.env["FLAG"] == "yes"  # YAML 1.2: not a boolean
    assert set(workflow.triggers) == {"push", "pull_request"}
    steps = workflow.job("test").steps
    assert [s.display_name for s in steps] == ["Run actions/checkout@v4", "Test"]
    assert workflow.job("lint").steps[0].display_name == "Run ruff check ."


@pytest.mark.parametrize(
    ("event", "ref", "expected"),
    [
        ("push", "refs/heads/main", True),
        ("push", "refs/heads/release/1.x/fix", True),
        ("push", "refs/heads/release/old", False),
        ("push", "refs/heads/feature", False),
        ("push", "refs/tags/v1.0", False),  # branch filters only: tag pushes do not run it
        ("pull_request", "refs/heads/feature", True),
        ("workflow_dispatch", "refs/heads/main", False),
    ],
)
def test_triggers(event: str, ref: str, expected: bool) -> None:
    workflow = parse_workflow("ci.yml", WORKFLOW)
    assert triggered_by(workflow, event, ref) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("on: push\njobs:\n  a:\n    needs: b\n    steps: [{run: x}]\n", "needs 'b'"),
        ("on: push\njobs:\n  a:\n    needs: b\n    steps: [{run: x}]\n  b:\n    needs: a\n    steps: []\n", "cycle"),
        ("on: push\njobs:\n  a:\n    steps: [{name: nothing}]\n", "exactly one of"),
        ("on: push\njobs: [\n", "not valid YAML"),
        ("on: push\n", "no `jobs:`"),
    ],
)
def test_rejects_broken_workflows(text: str, message: str) -> None:
    with pytest.raises(WorkflowError, match=message):
        parse_workflow("ci.yml", text)


def cells(strategy: object) -> list[dict[str, object]]:
    return [dict(c.values) for c in expand_matrix(strategy, Scope({}))]


def test_matrix_product_in_key_order() -> None:
    assert cells({"matrix": {"os": ["ubuntu", "windows"], "py": ["3.11", "3.12"]}}) == [
        {"os": "ubuntu", "py": "3.11"},
        {"os": "ubuntu", "py": "3.12"},
        {"os": "windows", "py": "3.11"},
        {"os": "windows", "py": "3.12"},
    ]


def test_matrix_exclude_matches_partially() -> None:
    strategy = {"matrix": {"os": ["ubuntu", "windows"], "py": ["3.11", "3.12"], "exclude": [{"os": "windows"}]}}
    assert cells(strategy) == [{"os": "ubuntu", "py": "3.11"}, {"os": "ubuntu", "py": "3.12"}]


def test_matrix_include_follows_githubs_rules() -> None:
    # The example from GitHub's documentation.
    strategy = {
        "matrix": {
            "fruit": ["apple", "pear"],
            "animal": ["cat", "dog"],
            "include": [
                {"color": "green"},
                {"color": "pink", "animal": "cat"},
                {"fruit": "apple", "shape": "circle"},
                {"fruit": "banana"},
                {"fruit": "banana", "animal": "cat"},
            ],
        }
    }
    assert cells(strategy) == [
        {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
        {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
        {"fruit": "pear", "animal": "cat", "color": "pink"},
        {"fruit": "pear", "animal": "dog", "color": "green"},
        {"fruit": "banana"},
        {"fruit": "banana", "animal": "cat"},
    ]


def test_matrix_of_includes_only_and_from_json() -> None:
    assert cells({"matrix": {"include": [{"a": 1}, {"a": 2}]}}) == [{"a": 1}, {"a": 2}]
    assert cells({"matrix": '${{ fromJSON(\'{"v": ["1", "2"]}\') }}'}) == [{"v": "1"}, {"v": "2"}]
    assert cells(None) == [{}]


@pytest.mark.parametrize(
    "strategy",
    [
        {"matrix": {"py": "3.12"}},
        {"matrix": {"py": []}},
        {"matrix": {"py": ["3.12"], "exclude": [{"py": "3.12"}]}},
        {"matrix": ["3.12"]},
    ],
)
def test_matrix_errors(strategy: object) -> None:
    with pytest.raises(WorkflowError):
        cells(strategy)


def test_cell_filters_compare_printed_values() -> None:
    cell = Cell({"python-version": 3.1, "os": "ubuntu-latest"})
    assert cell_matches(cell, {"python-version": "3.1"})
    assert not cell_matches(cell, {"python-version": "3.10"})
    assert cell_matches(cell, {"node": "20"})  # a key the cell does not have filters nothing out
    assert cell.label() == "3.1, ubuntu-latest"
