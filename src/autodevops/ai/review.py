"""Deterministic checks of the model's proposed corrections: the model suggests, this code decides.

A correction is accepted only when the repository itself proves it, from what the digest carries (the file
names next to each stack, the manifest and config excerpts) and the engine's own tables:

- only fields the engine marked uncertain, on a stack that exists;
- a package manager must be one the stack's language uses, with its lockfile or manifest present;
- a test tool or linter must be shown by its configuration file or a dependency/script naming it (or be the
  language's own: `go test`, `cargo test`, `dotnet test`, `mix test`, clippy...);
- a command must be one plain command (no shell operators) whose program is the stack's package manager,
  a tool shown as above, `make` with a Makefile, or a package script that exists;
- a version must be a release line in the runtime table (`engine/runtimes.toml`) for the stack's language.

Accepted values are written with `Provenance(source="ai", justification=...)`; rejected ones are logged with
the reason and returned for the record.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, get_args

from autodevops.ai.digest import uncertain_fields
from autodevops.ai.schemas import AIReview, Correction
from autodevops.engine import runtimes
from autodevops.engine.model import Analysis, Evidence, LintTool, PackageManager, Provenance, Stack, TestTool
from autodevops.logging import get_logger

log = get_logger(__name__)

AI_CONFIDENCE = 0.6

PACKAGE_MANAGERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # manager: (languages, files that prove it; a leading "." is a suffix)
    "pip": (("python",), ("requirements.txt", "requirements-dev.txt", "setup.py", "setup.cfg", "pyproject.toml")),
    "poetry": (("python",), ("poetry.lock",)),
    "uv": (("python",), ("uv.lock",)),
    "pipenv": (("python",), ("Pipfile", "Pipfile.lock")),
    "pdm": (("python",), ("pdm.lock",)),
    "hatch": (("python",), ("hatch.toml",)),
    "conda": (("python",), ("environment.yml", "environment.yaml")),
    "npm": (("javascript", "typescript"), ("package-lock.json", "npm-shrinkwrap.json")),
    "yarn": (("javascript", "typescript"), ("yarn.lock", ".yarnrc.yml")),
    "pnpm": (("javascript", "typescript"), ("pnpm-lock.yaml", "pnpm-workspace.yaml")),
    "bun": (("javascript", "typescript"), ("bun.lock", "bun.lockb")),
    "deno": (("javascript", "typescript"), ("deno.json", "deno.jsonc", "deno.lock")),
    "go": (("go",), ("go.mod",)),
    "cargo": (("rust",), ("Cargo.toml",)),
    "maven": (("java", "kotlin"), ("pom.xml",)),
    "gradle": (("java", "kotlin"), ("build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts")),
    "bundler": (("ruby",), ("Gemfile", "Gemfile.lock")),
    "composer": (("php",), ("composer.json",)),
    "dotnet": (("csharp",), (".csproj", ".sln", ".fsproj")),
    "mix": (("elixir",), ("mix.exs",)),
    "swiftpm": (("swift",), ("Package.swift",)),
    "cmake": (("c", "cpp"), ("CMakeLists.txt",)),
    "make": (("c", "cpp"), ("Makefile",)),
}

# Programs each package manager provides on the command line.
PM_PROGRAMS: dict[str, tuple[str, ...]] = {
    "pip": ("pip", "python", "python3"),
    "poetry": ("poetry",),
    "uv": ("uv", "uvx"),
    "pipenv": ("pipenv",),
    "pdm": ("pdm",),
    "hatch": ("hatch",),
    "conda": ("conda",),
    "npm": ("npm", "npx"),
    "yarn": ("yarn",),
    "pnpm": ("pnpm",),
    "bun": ("bun", "bunx"),
    "deno": ("deno",),
    "go": ("go",),
    "cargo": ("cargo",),
    "maven": ("mvn", "./mvnw"),
    "gradle": ("gradle", "./gradlew"),
    "bundler": ("bundle",),
    "composer": ("composer",),
    "dotnet": ("dotnet",),
    "mix": ("mix",),
    "swiftpm": ("swift",),
    "cmake": ("cmake", "ctest"),
    "make": ("make",),
}

# Programs that run another program: the next word is what must be verified.
RUNNERS: dict[tuple[str, ...], int] = {
    ("uv", "run"): 2,
    ("poetry", "run"): 2,
    ("pdm", "run"): 2,
    ("pipenv", "run"): 2,
    ("hatch", "run"): 2,
    ("bundle", "exec"): 2,
    ("pnpm", "exec"): 2,
    ("npm", "exec"): 2,
    ("python", "-m"): 2,
    ("python3", "-m"): 2,
    ("npx",): 1,
    ("bunx",): 1,
    ("uvx",): 1,
}
# Runners that come with the language rather than with one package manager.
RUNNER_LANGUAGES: dict[str, tuple[str, ...]] = {
    "python": ("python",),
    "python3": ("python",),
    "uvx": ("python",),
    "npx": ("javascript", "typescript"),
    "bunx": ("javascript", "typescript"),
}
SCRIPT_RUNNERS = {"npm", "yarn", "pnpm", "bun"}
# Package-manager subcommands that are not scripts (`yarn install`, `pnpm test` runs the test script).
PM_BUILTINS = {"install", "ci", "add", "build", "pack", "publish", "exec", "dlx", "x", "why", "audit"}

# tool: (files that configure it, words that name it in a manifest, languages that ship it)
MARKERS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "pytest": (("pytest.ini", "conftest.py"), ("pytest",), ()),
    "tox": (("tox.ini", "tox.toml"), ("tox",), ()),
    "nox": (("noxfile.py",), ("nox",), ()),
    "unittest": ((), (), ("python",)),
    "jest": (("jest.config.js", "jest.config.ts", "jest.config.mjs", "jest.config.cjs"), ("jest",), ()),
    "vitest": (("vitest.config.ts", "vitest.config.js", "vitest.config.mts", "vitest.workspace.ts"), ("vitest",), ()),
    "mocha": ((".mocharc.yml", ".mocharc.json", ".mocharc.js", ".mocharc.cjs"), ("mocha",), ()),
    "ava": ((), ("ava",), ()),
    "node-test": ((), ("--test",), ()),
    "go-test": ((), (), ("go",)),
    "cargo-test": ((), (), ("rust",)),
    "cargo-nextest": ((), ("nextest",), ()),
    "maven": (("pom.xml",), (), ()),
    "gradle": (("build.gradle", "build.gradle.kts"), (), ()),
    "rspec": ((".rspec",), ("rspec",), ()),
    "minitest": ((), ("minitest",), ()),
    "rake": (("Rakefile",), ("rake",), ()),
    "phpunit": (("phpunit.xml", "phpunit.xml.dist"), ("phpunit",), ()),
    "pest": ((), ("pestphp/pest",), ()),
    "dotnet-test": ((), (), ("csharp",)),
    "mix-test": ((), (), ("elixir",)),
    "ctest": (("CMakeLists.txt",), (), ()),
    "swift-test": (("Package.swift",), (), ()),
    "make": (("Makefile",), (), ()),
    "ruff": (("ruff.toml", ".ruff.toml"), ("ruff",), ()),
    "flake8": ((".flake8",), ("flake8",), ()),
    "pylint": ((".pylintrc", "pylintrc"), ("pylint",), ()),
    "black": ((), ("black",), ()),
    "isort": ((".isort.cfg",), ("isort",), ()),
    "mypy": (("mypy.ini", ".mypy.ini"), ("mypy",), ()),
    "pyright": (("pyrightconfig.json",), ("pyright",), ()),
    "eslint": (
        (
            "eslint.config.js",
            "eslint.config.mjs",
            "eslint.config.cjs",
            "eslint.config.ts",
            ".eslintrc.json",
            ".eslintrc.js",
            ".eslintrc.cjs",
            ".eslintrc.yml",
            ".eslintrc",
        ),
        ("eslint",),
        (),
    ),
    "prettier": ((".prettierrc", ".prettierrc.json", ".prettierrc.yml", "prettier.config.js"), ("prettier",), ()),
    "biome": (("biome.json", "biome.jsonc"), ("@biomejs/biome",), ()),
    "tsc": (("tsconfig.json",), ("typescript",), ()),
    "golangci-lint": ((".golangci.yml", ".golangci.yaml", ".golangci.toml"), ("golangci-lint",), ()),
    "gofmt": ((), (), ("go",)),
    "go-vet": ((), (), ("go",)),
    "staticcheck": (("staticcheck.conf",), ("staticcheck",), ()),
    "clippy": (("clippy.toml", ".clippy.toml"), (), ("rust",)),
    "rustfmt": (("rustfmt.toml", ".rustfmt.toml"), (), ("rust",)),
    "rubocop": ((".rubocop.yml",), ("rubocop",), ()),
    "standardrb": ((".standard.yml",), ("standard",), ()),
    "phpstan": (("phpstan.neon", "phpstan.neon.dist"), ("phpstan",), ()),
    "psalm": (("psalm.xml", "psalm.xml.dist"), ("psalm",), ()),
    "php-cs-fixer": ((".php-cs-fixer.php", ".php-cs-fixer.dist.php"), ("php-cs-fixer",), ()),
    "phpcs": (("phpcs.xml", "phpcs.xml.dist", ".phpcs.xml"), ("phpcs", "php_codesniffer"), ()),
    "dotnet-format": ((), (), ("csharp",)),
    "credo": ((".credo.exs",), ("credo",), ()),
    "pre-commit": ((".pre-commit-config.yaml",), (), ()),
}
# Command-line program → the tool that must be shown (`vendor/bin/phpunit` → phpunit).
PROGRAM_TOOL = {"golangci-lint": "golangci-lint", "pre-commit": "pre-commit", "rspec": "rspec", "tsc": "tsc"}

RUNTIME_LANGUAGE = {
    "python": "python",
    "javascript": "node",
    "typescript": "node",
    "go": "go",
    "java": "java",
    "kotlin": "java",
    "ruby": "ruby",
    "php": "php",
    "csharp": "dotnet",
    "elixir": "elixir",
}
_SHELL_OPERATORS = re.compile(r"[;&|`<>\n\r]|\$\(")
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


class Rejected(Exception):
    """A correction the repository does not prove; the message says why."""


@dataclass
class RepoFacts:
    """What the checks may rely on, taken from the digest (built by deterministic code, not the model)."""

    files: list[str]
    excerpts: dict[str, str]

    @classmethod
    def from_digest(cls, data: dict[str, Any]) -> RepoFacts:
        excerpts = {str(e.get("path")): str(e.get("text", "")) for e in data.get("excerpts", []) if isinstance(e, dict)}
        return cls(files=[str(f) for f in data.get("files", [])], excerpts=excerpts)

    def files_of(self, stack: Stack) -> list[str]:
        base = "" if stack.path in (".", "") else stack.path.strip("/")
        own = [f for f in self.files if posixpath.dirname(f) == base]
        return sorted({*own, *stack.manifests, *stack.lockfiles})

    def text_of(self, stack: Stack) -> dict[str, str]:
        files = set(self.files_of(stack))
        return {path: text for path, text in self.excerpts.items() if path in files or posixpath.dirname(path) == ""}

    def scripts(self, stack: Stack) -> set[str] | None:
        """The stack's package.json scripts, when its excerpt is at hand (None: unknown)."""
        for path, text in self.text_of(stack).items():
            if posixpath.basename(path) == "package.json" and posixpath.dirname(path) == _base(stack):
                try:
                    scripts = json.loads(text).get("scripts")
                except (ValueError, AttributeError):
                    return None
                return set(scripts) if isinstance(scripts, dict) else set()
        return None


def _base(stack: Stack) -> str:
    return "" if stack.path in (".", "") else stack.path.strip("/")


@dataclass
class ReviewOutcome:
    analysis: Analysis
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def _file_proves(files: list[str], names: tuple[str, ...]) -> str | None:
    for path in files:
        name = posixpath.basename(path)
        for wanted in names:
            if name == wanted or (wanted.startswith(".") and wanted.count(".") == 1 and name.endswith(wanted)):
                return path
    return None


def _word_in(texts: dict[str, str], word: str) -> str | None:
    pattern = re.compile(rf"(?<![\w@/-]){re.escape(word)}(?![\w-])")
    for path, text in sorted(texts.items()):
        if pattern.search(text):
            return path
    return None


def prove_tool(tool: str, stack: Stack, facts: RepoFacts) -> list[Evidence]:
    """The evidence that the repository uses `tool` for this stack, or `Rejected`."""
    marker = MARKERS.get(tool)
    if marker is None:
        raise Rejected(f"{tool!r} is not a tool that can be checked")
    files, words, languages = marker
    if stack.language in languages:
        return []
    found = _file_proves(facts.files_of(stack), files)
    if found:
        return [Evidence(file=found)]
    for word in words:
        where = _word_in(facts.text_of(stack), word)
        if where:
            return [Evidence(file=where, excerpt=word)]
    raise Rejected(f"nothing in the repository shows {tool!r} (no configuration file or dependency)")


def check_package_manager(value: str, stack: Stack, facts: RepoFacts) -> list[Evidence]:
    if value not in get_args(PackageManager) or value not in PACKAGE_MANAGERS:
        raise Rejected(f"unknown package manager {value!r}")
    languages, files = PACKAGE_MANAGERS[value]
    if stack.language not in languages:
        raise Rejected(f"{value} is not a {stack.language} package manager")
    found = _file_proves(facts.files_of(stack), files)
    if found:
        return [Evidence(file=found)]
    for path, text in facts.text_of(stack).items():
        if posixpath.basename(path) == "package.json" and re.search(rf'"packageManager":"{value}@', text):
            return [Evidence(file=path, key="packageManager")]
    raise Rejected(f"no lockfile or manifest of {value} next to the stack")


def check_command(command: str, stack: Stack, facts: RepoFacts) -> list[Evidence]:
    """One plain command whose program the repository has."""
    if _SHELL_OPERATORS.search(command):
        raise Rejected(f"{command!r} is not a single command (shell operators)")
    try:
        words = [w for w in shlex.split(command) if w]
    except ValueError as exc:
        raise Rejected(f"{command!r} cannot be parsed: {exc}") from None
    while words and _ENV_ASSIGNMENT.match(words[0]):
        words.pop(0)
    if not words:
        raise Rejected("empty command")
    return _check_program(words, stack, facts, command)


def _check_program(words: list[str], stack: Stack, facts: RepoFacts, command: str) -> list[Evidence]:
    for prefix, width in RUNNERS.items():
        if tuple(words[: len(prefix)]) == prefix and len(words) > width:
            runner = prefix[0]
            language = RUNNER_LANGUAGES.get(runner)
            if language is not None:
                if stack.language not in language:
                    raise Rejected(f"{command!r} runs through {runner}, which a {stack.language} stack lacks")
            elif not _pm_allows(runner, stack):
                raise Rejected(f"{command!r} runs through {runner}, which this stack does not use")
            return _check_program(words[width:], stack, facts, command)
    program = words[0]
    if program in SCRIPT_RUNNERS and _pm_allows(program, stack):
        return _check_script(words, stack, facts, command)
    if _pm_allows_program(program, stack):
        return []
    if program == "make" or program.endswith("/make"):
        found = _file_proves(facts.files_of(stack), ("Makefile", "makefile", "GNUmakefile"))
        if not found:
            raise Rejected(f"{command!r} needs a Makefile")
        return [Evidence(file=found)]
    tool = PROGRAM_TOOL.get(posixpath.basename(program), posixpath.basename(program))
    if tool in MARKERS:
        return prove_tool(tool, stack, facts)
    raise Rejected(f"{command!r} uses {program!r}, which the repository does not show")


def _pm_allows(runner: str, stack: Stack) -> bool:
    return runner in PM_PROGRAMS.get(stack.package_manager, ())


def _pm_allows_program(program: str, stack: Stack) -> bool:
    return program in PM_PROGRAMS.get(stack.package_manager, ())


def _check_script(words: list[str], stack: Stack, facts: RepoFacts, command: str) -> list[Evidence]:
    """`npm test`, `npm run lint`, `yarn build`, `pnpm run test`: the script must exist."""
    rest = words[1:]
    if rest[:1] == ["run"] or rest[:1] == ["run-script"]:
        rest = rest[1:]
    if not rest:
        raise Rejected(f"{command!r} names no script")
    script = rest[0]
    if script in PM_BUILTINS and words[1] != "run":
        return []
    scripts = facts.scripts(stack)
    if scripts is None or script not in scripts:
        raise Rejected(f"{command!r}: package.json has no {script!r} script")
    return [Evidence(file=posixpath.join(_base(stack), "package.json"), key=f"scripts.{script}")]


def check_version(value: str, stack: Stack) -> None:
    language = RUNTIME_LANGUAGE.get(stack.language)
    if language is None:
        raise Rejected(f"no runtime table for {stack.language}")
    if runtimes.release(language, value) is None:
        raise Rejected(f"{value!r} is not a known {language} release line")


def check(correction: Correction, stack: Stack, facts: RepoFacts) -> tuple[Any, list[Evidence]]:
    """The value to set and its evidence, or `Rejected`."""
    name, values = correction.field, [v.strip() for v in correction.value if v.strip()]
    if not values:
        raise Rejected("empty value")
    if name in ("package_manager", "test_tool"):
        if len(values) != 1:
            raise Rejected(f"{name} takes one value")
        if name == "package_manager":
            return values[0], check_package_manager(values[0], stack, facts)
        if values[0] not in get_args(TestTool):
            raise Rejected(f"unknown test tool {values[0]!r}")
        return values[0], prove_tool(values[0], stack, facts)
    evidence: list[Evidence] = []
    if name == "lint_tools":
        for tool in values:
            if tool not in get_args(LintTool):
                raise Rejected(f"unknown lint tool {tool!r}")
            evidence += prove_tool(tool, stack, facts)
    elif name == "versions":
        for version in values:
            check_version(version, stack)
    else:  # test_commands, build_commands
        for command in values:
            evidence += check_command(command, stack, facts)
    return values, evidence


def apply_review(analysis: Analysis, review: AIReview, digest: dict[str, Any]) -> ReviewOutcome:
    """A copy of `analysis` with every correction that passes its check applied (marked `source: ai`)."""
    result = analysis.model_copy(deep=True)
    outcome = ReviewOutcome(analysis=result)
    facts = RepoFacts.from_digest(digest)
    for correction in review.corrections:
        record = correction.model_dump()
        stack = result.stack(correction.stack)
        try:
            if stack is None:
                raise Rejected(f"no stack at {correction.stack!r}")
            if correction.field not in uncertain_fields(analysis.stack(correction.stack) or stack):
                raise Rejected(f"{correction.field} was not marked uncertain")
            value, evidence = check(correction, stack, facts)
        except Rejected as exc:
            record["reason"] = str(exc)
            outcome.rejected.append(record)
            log.info("AI correction rejected", stack=correction.stack, field=correction.field, reason=str(exc))
            continue
        setattr(stack, correction.field, value)
        stack.provenance[correction.field] = Provenance(
            evidence=evidence, confidence=AI_CONFIDENCE, source="ai", justification=correction.justification
        )
        outcome.accepted.append(record)
    return outcome
