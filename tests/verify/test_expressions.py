"""The expression language: operators, coercions, functions and `if:` rules as the runner applies them."""

from __future__ import annotations

from pathlib import Path

import pytest

from autodevops.engine.verify.expressions import (
    ExpressionError,
    Scope,
    condition,
    evaluate,
    evaluate_value,
    hash_files,
    substitute,
)

CONTEXTS = {
    "matrix": {"python-version": "3.12", "os": "ubuntu-latest", "experimental": False},
    "github": {"event_name": "push", "ref": "refs/heads/main", "event": {"commits": [{"id": "a"}, {"id": "b"}]}},
    "env": {"GREETING": "hello", "COUNT": "3"},
    "steps": {"version": {"outputs": {"value": "1.2.3"}, "outcome": "success"}},
}


def ev(text: str, status: str = "success") -> object:
    return evaluate(text, Scope(CONTEXTS, status=status))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("matrix.python-version == '3.12'", True),
        ("github.event_name == 'PUSH'", True),  # strings compare ignoring case
        ("'3.10' == 3.1", True),  # different kinds compare as numbers
        ("env.COUNT == 3", True),
        ("null == 0", True),
        ("'' == false", True),
        ("'abc' == 0", False),  # NaN is equal to nothing
        ("1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3", True),
        ("!matrix.experimental", True),
        ("!(github.ref == 'refs/heads/main' || false)", False),
        ("github.missing.deep == null", True),
        ("github['event_name']", "push"),
        ("github.event.commits[1].id", "b"),
        ("github.event.commits.*.id", ["a", "b"]),
        ("contains(github.event.commits.*.id, 'B')", True),
        ("matrix.os || 'fallback'", "ubuntu-latest"),
        ("matrix.experimental || 'fallback'", "fallback"),
        ("matrix.experimental && 'x'", False),
        ("0x10", 16),
        ("-2.5e1", -25.0),
        ("'it''s'", "it's"),
        ("contains('Hello World', 'world')", True),
        ("contains(fromJSON('[\"a\", \"b\"]'), 'c')", False),
        ("startsWith(github.ref, 'refs/heads/')", True),
        ("endsWith(github.ref, '/MAIN')", True),
        ("format('{0}-{1} {{literal}}', 'a', 3)", "a-3 {literal}"),
        ("join(fromJSON('[1, 2, 3]'), '+')", "1+2+3"),
        ("fromJSON('{\"a\": [1]}').a[0]", 1),
        ("case(matrix.os == 'windows', 'win', matrix.os == 'ubuntu-latest', 'linux', 'other')", "linux"),
        ("steps.version.outputs.value", "1.2.3"),
        ("toJSON(matrix.python-version)", '"3.12"'),
    ],
)
def test_evaluates_like_the_runner(text: str, expected: object) -> None:
    assert ev(text) == expected


def test_status_functions_follow_the_job_status() -> None:
    assert ev("success()") is True
    assert ev("failure()", status="failure") is True
    assert ev("success()", status="failure") is False
    assert ev("always()", status="cancelled") is True
    assert ev("cancelled()", status="cancelled") is True


@pytest.mark.parametrize(
    "text",
    ["matrix.os ==", "a b", "'unterminated", "unknownfn(1)", "contains('a')", "nosuchcontext.x", "format('{2}', 1)"],
)
def test_rejects_invalid_expressions(text: str) -> None:
    with pytest.raises(ExpressionError):
        ev(text)


def test_substitution_prints_values_as_the_runner_does() -> None:
    scope = Scope(CONTEXTS)
    text = "py=${{ matrix.python-version }} x=${{ matrix.experimental }} n=${{ 3 }} o=${{ matrix }} e=${{ null }}"
    assert substitute(text, scope) == "py=3.12 x=false n=3 o=Object e="
    # `}}` inside a string literal does not end the expression.
    assert substitute("${{ format('{0}}}', 'a') }}", scope) == "a}"


def test_whole_value_expressions_keep_their_type() -> None:
    scope = Scope(CONTEXTS)
    assert evaluate_value('${{ fromJSON(\'["3.11", "3.12"]\') }}', scope) == ["3.11", "3.12"]
    assert evaluate_value("${{ matrix.experimental }}", scope) is False
    assert evaluate_value({"a": ["v${{ env.COUNT }}"]}, scope) == {"a": ["v3"]}


@pytest.mark.parametrize(
    ("text", "status", "expected"),
    [
        (None, "success", True),
        (None, "failure", False),
        ("github.event_name == 'push'", "success", True),
        ("github.event_name == 'push'", "failure", False),  # implicit success() &&
        ("${{ github.event_name == 'push' }}", "success", True),
        ("always()", "failure", True),
        ("failure() && matrix.os == 'ubuntu-latest'", "failure", True),
        ("${{ false }} ", "success", False),
        ("${{ false }} && true", "success", True),  # text outside ${{ }}: a non-empty string
        ("!cancelled()", "failure", True),
    ],
)
def test_if_conditions(text: str | None, status: str, expected: bool) -> None:
    assert condition(text, Scope(CONTEXTS, status=status)) is expected


def test_hash_files_is_stable_and_empty_without_matches(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "requirements.txt").write_text("x\n")
    (tmp_path / "b.txt").write_text("y\n")
    first = hash_files(tmp_path, ["**/requirements*.txt", "*.txt"])
    assert first == hash_files(tmp_path, ["*.txt", "**/requirements*.txt"])
    assert len(first) == 64
    assert hash_files(tmp_path, ["*.txt", "!b.txt"]) != first
    assert hash_files(tmp_path, ["*.lock"]) == ""
    scope = Scope({}, workspace=tmp_path)
    assert evaluate("hashFiles('*.lock')", scope) == ""
    (tmp_path / "b.txt").write_text("changed\n")
    assert hash_files(tmp_path, ["**/requirements*.txt", "*.txt"]) != first
