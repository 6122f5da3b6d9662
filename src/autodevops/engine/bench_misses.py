"""What the misses of a full-tree benchmark are made of: for each value the analysis got wrong, whether the
repository, its CI hidden, says it anywhere.

A value the ground truth has and the analysis lacks is *missing*. Its cause is one of:

- `named`: the repository names it outside its CI (a lint tool in a config file, a script or a dependency list; a
  version line in a manifest or toolchain file; a service in a compose file, settings or test code): the
  evidence was there and the analysis did not use it;
- `in-range`: a release line between the lowest and the highest line the analysis proposed, left out;
- `toolchain`: a tool that comes with the language's own toolchain (`gofmt`, `clippy`, `mix format`...), which
  any project of the language could run: proposing it or not is a policy, not a reading;
- `other-tool`: the ground truth records a tool outside the schema's list (`other`), which cannot be looked up;
- `ci-only`: only the CI configuration names it. Such a value is a choice the maintainers made in CI alone (the
  lines CI tests, a channel, a linter run only as a workflow step) that no analysis of the repository can recover.

A value the analysis states and the ground truth lacks is `extra` when the analysis states that field with
confidence (something the repository declares or configures that CI does not use: a line its range admits, a
linter configured but not run; or a misreading), and `flagged` when it states it with low confidence, which the
generated pipeline marks for review (a default, such as the supported lines when no range is declared). An expected
stack the analysis did not find at all loses every field under the cause `no-stack`.

Each miss carries the share of its field's score it costs (`loss`), so the causes add up exactly to the field's
shortfall from 1: a Jaccard or F1 field loses one equal part per differing value (`|A △ B| / |A ∪ B|` and
`(fp + fn) / (2tp + fp + fn)` are sums of such parts; a single-valued field loses half for the value it lacks and
half for the one it states instead, all of it when it states none), and a repository's stacks share its score.

The search is deliberately generous (a word anywhere in a text file counts as naming it), so the `ci-only` share
is a lower bound of what the repository cannot tell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from autodevops.engine.bench import (
    FIELDS,
    FullTreeResult,
    RepoScore,
    StackScore,
    WithoutCI,
    _norm_path,
    _norm_version,
    checkout_of,
)
from autodevops.engine.source import LocalDir, RepoSource

CAUSES = ("named", "in-range", "toolchain", "other-tool", "ci-only", "extra", "flagged", "no-stack")

_TEXT_LIMIT = 256 * 1024  # larger files are data or generated, not where a project states its tooling
_INDEX_LIMIT = 96 * 1024 * 1024  # the whole index of one repository, so a huge monorepo stays bounded
_SKIPPED_DIRS = re.compile(r"(?:^|/)(?:node_modules|vendor|third_party|\.git|dist)/")

# Files where a project states the runtimes it supports: manifests, toolchain pins, container images, its README.
_VERSION_FILES = re.compile(
    r"(?:^|/)(?:pyproject\.toml|setup\.py|setup\.cfg|tox\.ini|noxfile\.py|\.python-version|runtime\.txt|"
    r"package\.json|\.nvmrc|\.node-version|\.tool-versions|mise\.toml|\.mise\.toml|go\.mod|go\.work|\.go-version|"
    r"Cargo\.toml|rust-toolchain(?:\.toml)?|clippy\.toml|pom\.xml|build\.gradle(?:\.kts)?|gradle\.properties|"
    r"libs\.versions\.toml|\.java-version|\.sdkmanrc|\.ruby-version|Gemfile|[^/]*\.gemspec|composer\.json|"
    r"global\.json|[^/]*\.(?:cs|fs)proj|Directory\.Build\.props|mix\.exs|\.elixir-version|Package(?:@swift-[\d.]+)?"
    r"\.swift|\.swift-version|CMakeLists\.txt|Makefile|[^/]*Dockerfile[^/]*|docker-compose[^/]*\.ya?ml|"
    r"compose\.ya?ml|README[^/]*)$",
    re.IGNORECASE,
)
_TOOLCHAIN_FILES = re.compile(
    r"(?:^|/)(?:rust-toolchain(?:\.toml)?|\.nvmrc|\.node-version|\.tool-versions|mise\.toml|\.mise\.toml|"
    r"\.ruby-version|\.python-version|\.go-version|global\.json)$"
)

# Tools every project of a language has through its toolchain: whether to run them is policy, not evidence.
_TOOLCHAIN_TOOLS = {
    "gofmt": "go",
    "go-vet": "go",
    "go-test": "go",
    "clippy": "rust",
    "rustfmt": "rust",
    "cargo-test": "rust",
    "dotnet-format": "csharp",
    "dotnet-test": "csharp",
    "mix-test": "elixir",
    "swift-test": "swift",
    "unittest": "python",
    "node-test": "javascript",
    "tsc": "typescript",
}

# How a value is written where a repository names it, when that is not simply its own name.
_SPELLINGS = {
    "postgres": r"postgres|postgresql|psycopg2?|asyncpg|npgsql|libpq",
    "mysql": r"mysql|mysqli|pymysql",
    "mongodb": r"mongo|mongodb|mongoose",
    "elasticsearch": r"elasticsearch|opensearch",
    "rabbitmq": r"rabbitmq|amqp",
    "golangci-lint": r"golangci",
    "go-vet": r"go vet|govet",
    "rustfmt": r"rustfmt|cargo fmt",
    "dotnet-format": r"dotnet[ -]format",
    "php-cs-fixer": r"php-cs-fixer|php_cs",
    "phpcs": r"phpcs|php_codesniffer",
    "pre-commit": r"pre-commit",
    "cargo-nextest": r"nextest",
    "cargo-test": r"cargo test",
    "mix-test": r"mix test",
    "swift-test": r"swift test",
    "dotnet-test": r"dotnet test|xunit|nunit|mstest",
    "node-test": r"node --test|node:test|borp",
    "go-test": r"go test|_test\.go",
    "minitest": r"minitest",
    "standardrb": r"standardrb|standard",
    "swiftpm": r"Package\.swift",
    "bundler": r"Gemfile|bundler",
    "dotnet": r"\.csproj|\.fsproj|\.sln|dotnet",
    "mix": r"mix\.exs",
    "maven": r"pom\.xml|mvnw|maven",
    "gradle": r"gradlew|build\.gradle|gradle",
    "cmake": r"CMakeLists\.txt|cmake",
    "go": r"go\.mod",
    "cargo": r"Cargo\.toml",
}

# A command that runs something the project defines: the script, target or env is the second group's word.
_RUNS_SCRIPT = re.compile(
    r"(?:npm run(?:-script)?|yarn(?: run)?|pnpm(?: -r)?(?: run)?|bun run|make|just|task|tox -e|nox -s|"
    r"rake|composer(?: run)?)\s+(?:--?\S+\s+)*([\w:.-]+)"
)
# `cd DIR && ...`: where the command runs, not what it runs.
_CD_PREFIX = re.compile(r"^(?:cd\s+\S+\s*(?:&&|;)\s*)+")
# Prefixes that run a program from the project's environment: the program is what counts.
_RUNNER_PREFIX = re.compile(r"(?:(?:uv|poetry|hatch|pdm|pipx) run|npx|bundle exec|pnpm exec|yarn exec)\s+")
_TOOLCHAIN_BUILD = re.compile(
    r"(?:go (?:build|install|vet|generate)|cargo (?:build|check|doc|package|publish)|dotnet (?:build|pack|publish)|"
    r"(?:\./)?mvnw?\b|(?:\./)?gradlew?\b|swift build|xcodebuild|python3? -m build|(?:uv|poetry|hatch|pdm|flit) build|"
    r"mix (?:compile|docs|hex\.build)|gem build|npm pack|cmake|ctest|meson|ninja|bazel|tsc\b)"
)
_CHANNELS = re.compile(r"stable|oldstable|beta|nightly|lts.*|latest|head|dev|.*-dev|.*t|pypy.*|jruby.*|truffleruby.*")
_NUMERIC = re.compile(r"\d+(?:\.\d+)*")


@dataclass(frozen=True)
class Miss:
    """One value at stake in one field of one expected stack, why it was missed, and what it cost the
    repository's score in that field (0..1)."""

    field: str
    value: str
    cause: str
    loss: float


class RepoText:
    """The repository's text files, CI hidden, loaded once and searched by word."""

    def __init__(self, source: RepoSource) -> None:
        self.source = source
        self.paths = [f.path for f in source.files() if not _SKIPPED_DIRS.search(f.path)]
        self._sizes = {f.path: f.size for f in source.files()}

    def _text(self, paths: Iterable[str]) -> str:
        parts: list[str] = []
        total = 0
        for path in paths:
            size = self._sizes.get(path, 0)
            if size > _TEXT_LIMIT or total + size > _INDEX_LIMIT:
                continue
            try:
                data = self.source.read_bytes(path, _TEXT_LIMIT)
            except OSError:
                continue
            if b"\0" in data[:8192]:
                continue
            total += len(data)
            parts.append(data.decode("utf-8", "replace"))
        return "\n".join(parts)

    @cached_property
    def everything(self) -> str:
        """Every text file and every path: a tool named only by its config file's name counts as named."""
        return "\n".join(self.paths) + "\n" + self._text(self.paths)

    def version_text(self, stack_path: str) -> str:
        """The files where the stack (or the repository root) states its runtimes."""
        return self._files_text(stack_path, _VERSION_FILES)

    def toolchain_text(self, stack_path: str) -> str:
        return self._files_text(stack_path, _TOOLCHAIN_FILES)

    def _files_text(self, stack_path: str, pattern: re.Pattern[str]) -> str:
        prefix = "" if stack_path == "." else stack_path + "/"
        chosen = [p for p in self.paths if pattern.search(p) and (p.startswith(prefix) or "/" not in p)]
        return self._text(chosen)

    def defines(self, entry_point: str) -> bool:
        """Whether a script, target, env or session of that name is defined (package.json, Makefile, tox, nox,
        Rakefile, justfile...)."""
        name = re.escape(entry_point)
        pattern = rf"(?m)\"{name}\"\s*:|^{name}\s*:|\[testenv:{name}\]|def {name}\(|task :?{name}\b|^{name}\s*="
        return re.search(pattern, self.everything) is not None

    def names(self, value: str) -> bool:
        spelled = _SPELLINGS.get(value, re.escape(value))
        return re.search(rf"(?<![\w-])(?:{spelled})(?![\w-])", self.everything, re.IGNORECASE) is not None


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(part) for part in v.split("."))


def _version_named(v: str, text: str) -> bool:
    pattern = rf"(?<![\w.])v?{re.escape(v)}(?!\d)"
    if re.fullmatch(r"3\.\d+", v):
        pattern += "|" + rf"\bpy{v.replace('.', '')}\b"
    return re.search(pattern, text, re.IGNORECASE) is not None


def _version_cause(v: str, predicted: list[str], stack_path: str, text: RepoText) -> str:
    if _NUMERIC.fullmatch(v):
        key = _version_key(v)
        # Lines written as precisely as the value (a patch pin such as 22.22 is not a line of 22, 24, 26).
        lines = sorted(k for k in (_version_key(p) for p in predicted if _NUMERIC.fullmatch(p)) if len(k) == len(key))
        if lines and lines[0] < key < lines[-1]:
            return "in-range"
        return "named" if _version_named(v, text.version_text(stack_path)) else "ci-only"
    if _CHANNELS.fullmatch(v):
        return "named" if _version_named(v, text.toolchain_text(stack_path)) else "ci-only"
    return "named" if _version_named(v, text.version_text(stack_path)) else "ci-only"


def _tool_cause(value: str, language: str, text: RepoText) -> str:
    if value == "other":
        return "other-tool"
    home = _TOOLCHAIN_TOOLS.get(value)
    if home is not None and (home == language or (home, language) == ("javascript", "typescript")):
        return "toolchain"
    return "named" if text.names(value) else "ci-only"


def _build_cause(commands: list[str], text: RepoText) -> str:
    """`named` when a build command CI runs is an entry point the project defines (a package.json script, a
    make target, a tox env...) or a tool it configures; `toolchain` when it is the language's own build command
    (`go build`, `cargo doc`, `python -m build`); else `ci-only`."""
    causes = set()
    for raw in commands:
        command = _RUNNER_PREFIX.sub("", _CD_PREFIX.sub("", raw.strip()), count=1)
        words = command.split()
        script = _RUNS_SCRIPT.match(command)
        if command.startswith("uses:"):
            causes.add("ci-only")  # a CI action, not a command of the project's
        elif script is not None:
            causes.add("named" if text.defines(script.group(1)) else "ci-only")
        elif _TOOLCHAIN_BUILD.match(command):
            causes.add("toolchain")
        elif words:
            causes.add("named" if text.names(words[0].rsplit("/", 1)[-1]) else "ci-only")
    return next((c for c in ("named", "toolchain") if c in causes), "ci-only")


def _values(field: str, stack: dict[str, Any] | None) -> list[str]:
    if stack is None:
        return []
    if field == "versions":
        return sorted({_norm_version(v) for v in stack.get("versions") or []})
    if field in ("lint_tools", "services"):
        return sorted(set(stack.get(field) or []))
    if field == "build":
        return ["build"] if stack.get("build_commands") else []
    value = stack.get(field)
    return [str(value)] if value else []


def stack_misses(stack: StackScore, text: RepoText) -> list[Miss]:
    """The misses of one expected stack, each with its cause and its loss within the stack (0..1 per field)."""
    if not stack.matched:
        return [Miss(name, _norm_path(stack.path), "no-stack", 1.0) for name in FIELDS]
    out: list[Miss] = []
    for name in FIELDS:
        lost = 1.0 - stack.fields[name]
        if lost <= 0.0:
            continue
        expected, predicted = _values(name, stack.expected), _values(name, stack.predicted)
        part = lost / max(len(set(expected) ^ set(predicted)), 1)
        for value in expected:
            if value in predicted:
                continue
            if name == "versions":
                cause = _version_cause(value, predicted, _norm_path(stack.path), text)
            elif name == "build":
                cause = _build_cause(stack.expected.get("build_commands") or [], text)
            else:
                cause = _tool_cause(value, stack.language, text)
            out.append(Miss(name, value, cause, part))
        extra = "extra" if name in stack.confident else "flagged"
        out.extend(Miss(name, value, extra, part) for value in predicted if value not in expected)
    return out


def repo_misses(repo: RepoScore, source: RepoSource) -> list[Miss]:
    """Every miss of a repository, its loss scaled to the repository's score (its stacks share it)."""
    text = RepoText(source)
    share = 1.0 / len(repo.stacks) if repo.stacks else 0.0
    return [Miss(m.field, m.value, m.cause, m.loss * share) for stack in repo.stacks for m in stack_misses(stack, text)]


def shortfall(misses_per_repo: list[list[Miss]]) -> dict[str, dict[str, float]]:
    """Per field and cause, the share of the split's field score lost (averaged over repositories, as the
    scores are): the causes of a field add up to 1 minus its score."""
    out: dict[str, dict[str, float]] = {name: dict.fromkeys(CAUSES, 0.0) for name in FIELDS}
    n = len(misses_per_repo) or 1
    for misses in misses_per_repo:
        for miss in misses:
            out[miss.field][miss.cause] += miss.loss / n
    return out


def explain(full: FullTreeResult, checkouts: Path) -> dict[str, dict[str, dict[str, float]]]:
    """Per split, field and cause, the share of the field's score lost (`shortfall`) on a full-tree run."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for split, result in full.splits.items():
        per_repo = []
        for repo in result.repos:
            source = WithoutCI(LocalDir(checkout_of(Path(repo.name), checkouts), name=repo.name))
            per_repo.append(repo_misses(repo, source))
        out[split] = shortfall(per_repo)
    return out
