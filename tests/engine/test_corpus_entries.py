"""Every ground-truth entry in bench/corpus is well formed, so a malformed one fails CI instead of the benchmark.

An entry is `OWNER__NAME/` with `source.json`, `expected.json` (the schema and vocabularies of the corpus's
SCHEMA.md) and `ci/` (the CI files the truth was read from); bench/corpus/README.md describes the format.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from autodevops.engine import bench

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "corpus"

# The vocabularies of SCHEMA.md, written out here so that a change to the analyzer's model cannot widen them.
KINDS = {"library", "application", "cli", "framework", "monorepo"}
ECOSYSTEMS = {"python", "javascript", "go", "rust", "jvm", "ruby", "php", "dotnet", "elixir", "cpp", "swift"}
LANGUAGES = {"python", "javascript", "typescript", "go", "rust", "java", "kotlin", "ruby", "php", "csharp", "elixir",
             "c", "cpp", "swift", "dart", "shell"}  # fmt: skip
PACKAGE_MANAGERS = {"pip", "poetry", "uv", "pipenv", "pdm", "hatch", "conda", "npm", "yarn", "pnpm", "bun", "deno",
                    "go", "cargo", "maven", "gradle", "bundler", "composer", "dotnet", "mix", "swiftpm", "cmake",
                    "make", "none"}  # fmt: skip
TEST_TOOLS = {"pytest", "tox", "nox", "unittest", "jest", "vitest", "mocha", "ava", "node-test", "go-test",
              "cargo-test", "cargo-nextest", "maven", "gradle", "rspec", "minitest", "rake", "phpunit", "pest",
              "dotnet-test", "mix-test", "ctest", "swift-test", "make", "other", "none"}  # fmt: skip
LINT_TOOLS = {"ruff", "flake8", "pylint", "black", "isort", "mypy", "pyright", "eslint", "prettier", "biome", "tsc",
              "golangci-lint", "gofmt", "go-vet", "staticcheck", "clippy", "rustfmt", "rubocop", "standardrb",
              "phpstan", "psalm", "php-cs-fixer", "phpcs", "dotnet-format", "credo", "pre-commit", "other"}  # fmt: skip
SERVICES = {"postgres", "mysql", "mariadb", "redis", "mongodb", "rabbitmq", "elasticsearch", "memcached", "kafka",
            "nats", "minio", "other"}  # fmt: skip

SOURCE_KEYS = {"repo", "commit", "fetched", "ecosystem", "default_branch"}
OPTIONAL_SOURCE_KEYS = {"test_read"}
EXPECTED_KEYS = {"repo", "kind", "languages", "stacks", "docker", "os_matrix", "notes"}
STACK_KEYS = {"path", "language", "package_manager", "versions", "test_tool", "test_commands", "lint_tools",
              "build_commands", "services"}  # fmt: skip
ENTRY_CONTENTS = {"source.json", "expected.json", "ci"}
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.][A-Za-z0-9_.-]*")
_COMMIT = re.compile(r"[0-9a-f]{40}")


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _vocabulary(where: str, value: Any, allowed: set[str]) -> list[str]:
    if not _strings(value):
        return [f"{where} must be a list of strings"]
    out = [f"{where}: {v!r} is not in SCHEMA.md's list" for v in value if v not in allowed]
    if len(set(value)) != len(value):
        out.append(f"{where} lists a value twice")
    return out


def _load(path: Path) -> tuple[Any, list[str]]:
    try:
        return json.loads(path.read_text("utf-8")), []
    except (OSError, ValueError) as exc:
        return None, [f"{path.name}: cannot be read as JSON ({exc})"]


def _source_problems(entry: Path, source: Any) -> list[str]:
    if not isinstance(source, dict):
        return ["source.json must be an object"]
    out = [f"source.json: missing {k!r}" for k in sorted(SOURCE_KEYS - source.keys())]
    out += [f"source.json: unknown key {k!r}" for k in sorted(source.keys() - SOURCE_KEYS - OPTIONAL_SOURCE_KEYS)]
    repo = source.get("repo")
    if not isinstance(repo, str) or not _REPO.fullmatch(repo):
        out.append(f"source.json: repo {repo!r} is not owner/name")
    elif entry.name != repo.replace("/", "__"):
        out.append(f"folder {entry.name!r} does not match repo {repo!r} (expected {repo.replace('/', '__')!r})")
    if not isinstance(source.get("commit"), str) or not _COMMIT.fullmatch(source["commit"]):
        out.append(f"source.json: commit {source.get('commit')!r} is not a 40-hex sha")
    try:
        dt.date.fromisoformat(str(source.get("fetched")))
    except ValueError:
        out.append(f"source.json: fetched {source.get('fetched')!r} is not YYYY-MM-DD")
    if source.get("ecosystem") not in ECOSYSTEMS:
        out.append(f"source.json: ecosystem {source.get('ecosystem')!r} is not one of {sorted(ECOSYSTEMS)}")
    if not isinstance(source.get("default_branch"), str) or not source["default_branch"].strip():
        out.append("source.json: default_branch must be a branch name")
    return out + _test_read_problems(source)


def _test_read_problems(source: dict[str, Any]) -> list[str]:
    """`test_read` (the day a test entry's misses were read for causes) only makes sense on a test entry, and
    never before its truth was read."""
    if "test_read" not in source:
        return []
    try:
        read = dt.date.fromisoformat(str(source["test_read"]))
    except ValueError:
        return [f"source.json: test_read {source['test_read']!r} is not YYYY-MM-DD"]
    out = []
    if isinstance(source.get("repo"), str) and bench.split_of(source["repo"]) != bench.TEST:
        out.append("source.json: test_read marks a tuning entry; only test-split entries can be read and retired")
    if isinstance(source.get("fetched"), str) and str(read) < source["fetched"]:
        out.append("source.json: test_read is earlier than fetched")
    return out


def _stack_problems(i: int, stack: Any, languages: list[str]) -> list[str]:
    where = f"stacks[{i}]"
    if not isinstance(stack, dict):
        return [f"{where} must be an object"]
    out = [f"{where}: missing {k!r}" for k in sorted(STACK_KEYS - stack.keys())]
    out += [f"{where}: unknown key {k!r}" for k in sorted(stack.keys() - STACK_KEYS)]
    path = stack.get("path")
    if not isinstance(path, str) or not path or path.startswith("/") or ".." in path.split("/"):
        out.append(f"{where}.path {path!r} must be a relative path inside the repository ('.' for the root)")
    if stack.get("language") not in LANGUAGES:
        out.append(f"{where}.language {stack.get('language')!r} is not in SCHEMA.md's list")
    elif stack.get("language") not in languages:
        out.append(f"{where}.language {stack['language']!r} is missing from the entry's languages")
    if stack.get("package_manager") not in PACKAGE_MANAGERS:
        out.append(f"{where}.package_manager {stack.get('package_manager')!r} is not in SCHEMA.md's list")
    if stack.get("test_tool") not in TEST_TOOLS:
        out.append(f"{where}.test_tool {stack.get('test_tool')!r} is not in SCHEMA.md's list")
    out += _vocabulary(f"{where}.lint_tools", stack.get("lint_tools"), LINT_TOOLS)
    out += _vocabulary(f"{where}.services", stack.get("services"), SERVICES)
    for key in ("versions", "test_commands", "build_commands"):
        if not _strings(stack.get(key)):
            out.append(f"{where}.{key} must be a list of non-empty strings")
    return out


def _expected_problems(expected: Any, repo: Any) -> list[str]:
    if not isinstance(expected, dict):
        return ["expected.json must be an object"]
    out = [f"expected.json: missing {k!r}" for k in sorted(EXPECTED_KEYS - expected.keys())]
    out += [f"expected.json: unknown key {k!r}" for k in sorted(expected.keys() - EXPECTED_KEYS)]
    if expected.get("repo") != repo:
        out.append(f"expected.json: repo {expected.get('repo')!r} differs from source.json's {repo!r}")
    if expected.get("kind") not in KINDS:
        out.append(f"expected.json: kind {expected.get('kind')!r} is not one of {sorted(KINDS)}")
    out += _vocabulary("languages", expected.get("languages"), LANGUAGES)
    languages = expected.get("languages") if _strings(expected.get("languages")) else []
    stacks = expected.get("stacks")
    if not isinstance(stacks, list) or not stacks:
        out.append("expected.json: stacks must list at least one stack")
    else:
        for i, stack in enumerate(stacks):
            out += _stack_problems(i, stack, languages)
    docker = expected.get("docker")
    if (
        not isinstance(docker, dict)
        or set(docker) != {"has_dockerfile", "ci_builds_image"}
        or not all(isinstance(v, bool) for v in docker.values())
    ):
        out.append("expected.json: docker must be {has_dockerfile: bool, ci_builds_image: bool}")
    if not _strings(expected.get("os_matrix")):
        out.append("expected.json: os_matrix must be a list of runner names")
    if not isinstance(expected.get("notes"), str) or not expected["notes"].strip():
        out.append("expected.json: notes must explain the judgement calls")
    return out


def problems(entry: Path) -> list[str]:
    """Everything wrong with one corpus entry, as messages that say what to fix."""
    out = [f"unexpected {p.name!r}: an entry holds only source.json, expected.json and ci/"
           for p in sorted(entry.iterdir()) if p.name not in ENTRY_CONTENTS]  # fmt: skip
    source, errors = _load(entry / "source.json")
    out += errors or _source_problems(entry, source)
    expected, errors = _load(entry / "expected.json")
    repo = source.get("repo") if isinstance(source, dict) else None
    out += errors or _expected_problems(expected, repo)
    ci = entry / "ci"
    ci_files = [p for p in ci.rglob("*") if p.is_file()] if ci.is_dir() else []
    if not ci_files:
        out.append("ci/ must hold the CI files the truth was read from (same relative paths as in the repository)")
    out += [f"ci/{p.relative_to(ci)} is a symlink" for p in ci.rglob("*") if p.is_symlink()] if ci.is_dir() else []
    return out


def _entries() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []


@pytest.mark.parametrize("entry", _entries(), ids=lambda p: p.name)
def test_corpus_entry_is_well_formed(entry: Path) -> None:
    assert problems(entry) == []


def test_the_checks_catch_a_malformed_entry(tmp_path: Path) -> None:
    entry = tmp_path / "someone__else"
    entry.mkdir()
    (entry / "source.json").write_text(
        json.dumps({"repo": "owner/name", "commit": "abc123", "fetched": "2026-12-04", "ecosystem": "python",
                    "default_branch": "main"})
    )  # fmt: skip
    stack = {"path": "../x", "language": "python", "package_manager": "pip", "versions": ["3.12"],
             "test_tool": "pytest-xdist", "test_commands": ["pytest"], "lint_tools": ["ruff", "ruff"],
             "build_commands": [], "services": ["postgresql"]}  # fmt: skip
    (entry / "expected.json").write_text(
        json.dumps({"repo": "owner/name", "kind": "library", "languages": ["go"], "stacks": [stack],
                    "docker": {"has_dockerfile": False, "ci_builds_image": False}, "os_matrix": ["ubuntu-latest"],
                    "notes": " "})
    )  # fmt: skip
    (entry / "src").mkdir()
    assert problems(entry) == [
        "unexpected 'src': an entry holds only source.json, expected.json and ci/",
        "folder 'someone__else' does not match repo 'owner/name' (expected 'owner__name')",
        "source.json: commit 'abc123' is not a 40-hex sha",
        "stacks[0].path '../x' must be a relative path inside the repository ('.' for the root)",
        "stacks[0].language 'python' is missing from the entry's languages",
        "stacks[0].test_tool 'pytest-xdist' is not in SCHEMA.md's list",
        "stacks[0].lint_tools lists a value twice",
        "stacks[0].services: 'postgresql' is not in SCHEMA.md's list",
        "expected.json: notes must explain the judgement calls",
        "ci/ must hold the CI files the truth was read from (same relative paths as in the repository)",
    ]


def test_no_test_entry_is_a_repository_the_generator_was_tuned_on() -> None:
    # The execution corpus (bench/green_rate.toml) is where generated pipelines are run and fixed: a repository
    # there has shaped the analyzer, so as a corpus entry it counts as read (tuning), never as unseen.
    execution = {r["repo"] for r in tomllib.loads((CORPUS.parent / "green_rate.toml").read_text())["repo"]}
    unseen = {
        source["repo"]
        for entry in _entries()
        if (source := json.loads((entry / "source.json").read_text())) and bench.entry_split(source) == bench.TEST
    }
    assert sorted(unseen & execution) == []


def test_only_a_test_entry_can_be_marked_read(tmp_path: Path) -> None:
    source = {"repo": "owner/name", "commit": "a" * 40, "fetched": "2026-12-04", "ecosystem": "python",
              "default_branch": "main", "test_read": "2026-12-04"}  # fmt: skip
    assert bench.split_of("owner/name") == bench.TUNING
    assert _source_problems(tmp_path / "owner__name", source) == [
        "source.json: test_read marks a tuning entry; only test-split entries can be read and retired"
    ]
    assert bench.split_of("owner/other") == bench.TEST
    read_early = source | {"repo": "owner/other", "test_read": "2026-12-01"}
    assert _source_problems(tmp_path / "owner__other", read_early) == ["source.json: test_read is earlier than fetched"]
    assert _source_problems(tmp_path / "owner__other", read_early | {"test_read": "2026-12-05"}) == []
