"""The analyzer's output: an `Analysis` of one repository.

`Stack` field names and vocabularies follow `shared/corpus/SCHEMA.md` exactly, so an analysis can be scored
against hand-read ground truth. Every inferred value carries its provenance (evidence + confidence) in
`Stack.provenance`, keyed by field name, instead of wrapping each field: consumers that only want the values
(the generator, the scorer, API clients) read plain fields, and those that want to explain a value look it up.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

Language = Literal[
    "python",
    "javascript",
    "typescript",
    "go",
    "rust",
    "java",
    "kotlin",
    "ruby",
    "php",
    "csharp",
    "elixir",
    "c",
    "cpp",
    "swift",
    "dart",
    "shell",
]
PackageManager = Literal[
    "pip",
    "poetry",
    "uv",
    "pipenv",
    "pdm",
    "hatch",
    "conda",
    "npm",
    "yarn",
    "pnpm",
    "bun",
    "deno",
    "go",
    "cargo",
    "maven",
    "gradle",
    "bundler",
    "composer",
    "dotnet",
    "mix",
    "swiftpm",
    "cmake",
    "make",
    "none",
]
TestTool = Literal[
    "pytest",
    "tox",
    "nox",
    "unittest",
    "jest",
    "vitest",
    "mocha",
    "ava",
    "node-test",
    "go-test",
    "cargo-test",
    "cargo-nextest",
    "maven",
    "gradle",
    "rspec",
    "minitest",
    "rake",
    "phpunit",
    "pest",
    "dotnet-test",
    "mix-test",
    "ctest",
    "swift-test",
    "make",
    "other",
    "none",
]
LintTool = Literal[
    "ruff",
    "flake8",
    "pylint",
    "black",
    "isort",
    "mypy",
    "pyright",
    "eslint",
    "prettier",
    "biome",
    "tsc",
    "golangci-lint",
    "gofmt",
    "go-vet",
    "staticcheck",
    "clippy",
    "rustfmt",
    "rubocop",
    "standardrb",
    "phpstan",
    "psalm",
    "php-cs-fixer",
    "phpcs",
    "dotnet-format",
    "credo",
    "pre-commit",
    "other",
]
Service = Literal[
    "postgres",
    "mysql",
    "mariadb",
    "redis",
    "mongodb",
    "rabbitmq",
    "elasticsearch",
    "memcached",
    "kafka",
    "nats",
    "minio",
    "other",
]
Severity = Literal["info", "warning", "error"]
Source = Literal["rules", "ai"]
CIProvider = Literal[
    "github-actions",
    "gitlab-ci",
    "circleci",
    "azure-pipelines",
    "travis-ci",
    "jenkins",
    "appveyor",
    "bitbucket-pipelines",
    "buildkite",
    "drone",
    "woodpecker",
    "other",
]
OS = Literal["linux", "macos", "windows"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Evidence(_Model):
    """Where a conclusion came from: a file, and the key or line inside it."""

    file: str
    key: str | None = None
    line: int | None = None
    excerpt: str | None = Field(default=None, description="A short quote of what was read, when useful.")

    def cite(self) -> str:
        """`pyproject.toml [tool.pytest.ini_options]`, `.nvmrc:1` — a compact reference for comments and tables."""
        where = self.file
        if self.key:
            where += f" {self.key}"
        if self.line is not None:
            where += f":{self.line}"
        return where


# Facts at or above this confidence are stated as settled; a generated pipeline marks anything less for review.
CONFIDENT = 0.8


class Provenance(_Model):
    """Why a field has its value: the evidence, how sure the rule is, and who decided (rules or AI)."""

    evidence: list[Evidence] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0)
    source: Source = "rules"
    justification: str | None = None


class Finding(_Model):
    """Something a person should know: a conflict, a risk, an unparseable file. Never silently resolved."""

    code: str = Field(description="Stable kebab-case identifier, e.g. `multiple-lockfiles`.")
    severity: Severity
    message: str
    stack: str | None = Field(default=None, description="Path of the stack this is about, if any.")
    evidence: list[Evidence] = Field(default_factory=list)


class Stack(_Model):
    """One independently built and tested project root."""

    path: str = "."
    language: Language
    package_manager: PackageManager = "none"
    versions: list[str] = Field(default_factory=list, description="Language versions to test (the matrix).")
    test_tool: TestTool = "none"
    test_commands: list[str] = Field(default_factory=list)
    lint_tools: list[LintTool] = Field(default_factory=list)
    lint_commands: list[str] = Field(
        default_factory=list, description="The project's own lint entry points (pre-commit, tox -e lint, npm run lint)."
    )
    lint_advisory: list[str] = Field(
        default_factory=list,
        description="Those of `lint_commands` offered as non-blocking checks: the tool is configured, but nothing "
        "shows that the project runs it (no script, task, hook or pinned dependency), so a failure is reported "
        "without failing the pipeline.",
    )
    build_commands: list[str] = Field(default_factory=list)
    install_commands: list[str] = Field(
        default_factory=list,
        description="The project's own install entry point (scripts/install); empty means the package manager's.",
    )
    extras: list[str] = Field(
        default_factory=list, description="Optional-dependency extras CI installs with the project (test, lint)."
    )
    dependency_groups: list[str] = Field(
        default_factory=list, description="Dependency groups (PEP 735) CI installs: the development ones."
    )
    version_from_git: bool = Field(
        default=False,
        description="The build derives its version from git tags (setuptools-scm, hatch-vcs, git describe...).",
    )
    matrix_env: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Per version of the matrix, variables its commands read (TOX_ENV for `tox run -e`, NOX_PYTHON).",
    )
    services: list[Service] = Field(default_factory=list)
    frameworks: list[str] = Field(default_factory=list)
    manifests: list[str] = Field(default_factory=list, description="Repo-relative manifest files of this stack.")
    lockfiles: list[str] = Field(default_factory=list, description="Repo-relative lockfiles of this stack.")
    operating_systems: list[OS] = Field(
        default_factory=list, description="Operating systems the project says it targets; empty means Linux only."
    )
    workspace_members: list[str] = Field(
        default_factory=list, description="Member paths when this stack is a workspace built as one unit."
    )
    provenance: dict[str, Provenance] = Field(
        default_factory=dict, description="Per field name: the evidence and confidence behind its value."
    )


class LanguageShare(_Model):
    name: str
    bytes: int
    percent: float


class Dockerfile(_Model):
    path: str
    base_images: list[str] = Field(default_factory=list)
    exposed_ports: list[int] = Field(default_factory=list)
    multi_stage: bool = False


class ComposeService(_Model):
    name: str
    image: str | None = None
    build: bool = False
    kind: Service | None = Field(default=None, description="The backing service this container provides, if known.")


class ComposeFile(_Model):
    path: str
    services: list[ComposeService] = Field(default_factory=list)


class DockerInfo(_Model):
    dockerfiles: list[Dockerfile] = Field(default_factory=list)
    compose_files: list[ComposeFile] = Field(default_factory=list)

    @property
    def has_dockerfile(self) -> bool:
        return bool(self.dockerfiles)


class ExistingCI(_Model):
    provider: CIProvider
    path: str


class DeployHint(_Model):
    """A deployment target the repository already declares (Procfile, fly.toml, a Helm chart...)."""

    kind: str
    path: str
    evidence: list[Evidence] = Field(default_factory=list)


class Monorepo(_Model):
    tools: list[str] = Field(default_factory=list, description="npm-workspaces, pnpm-workspace, turbo, nx, go-work...")
    evidence: list[Evidence] = Field(default_factory=list)


class ScanStats(_Model):
    files: int = 0
    bytes: int = 0
    files_read: int = 0
    skipped: int = Field(default=0, description="Entries skipped: symlinks, special files, too deep.")


class Analysis(_Model):
    schema_version: int = SCHEMA_VERSION
    source: str = Field(description="What was analyzed: a directory or a URL, as given.")
    analyzed_on: dt.date = Field(description="The date runtime end-of-life dates are judged against.")
    default_branch: str | None = Field(
        default=None, description="The repository's default branch, when the source knows it (push triggers)."
    )
    stacks: list[Stack] = Field(default_factory=list)
    languages: list[LanguageShare] = Field(default_factory=list)
    docker: DockerInfo = Field(default_factory=DockerInfo)
    existing_ci: list[ExistingCI] = Field(default_factory=list)
    deploy: list[DeployHint] = Field(default_factory=list)
    monorepo: Monorepo | None = None
    findings: list[Finding] = Field(default_factory=list)
    stats: ScanStats = Field(default_factory=ScanStats)

    def stack(self, path: str) -> Stack | None:
        return next((s for s in self.stacks if s.path == path), None)
