"""One `Analysis` per ecosystem the generator supports, shaped like the analyzer's output."""

from __future__ import annotations

import datetime as dt
from typing import Any

from autodevops.engine.model import (
    Analysis,
    ComposeFile,
    ComposeService,
    Dockerfile,
    DockerInfo,
    Evidence,
    Finding,
    Provenance,
    Stack,
)

TODAY = dt.date(2026, 11, 26)


def ev(file: str, key: str | None = None) -> Provenance:
    return Provenance(evidence=[Evidence(file=file, key=key)], confidence=0.9)


def stack(**kw: Any) -> Stack:
    return Stack(**kw)


def analysis(*stacks: Stack, **kw: Any) -> Analysis:
    return Analysis(source="fixture", analyzed_on=TODAY, stacks=list(stacks), **kw)


FIXTURES: dict[str, Analysis] = {
    "python-uv-postgres": analysis(
        stack(
            language="python",
            package_manager="uv",
            versions=["3.12", "3.11", "3.13"],
            test_tool="pytest",
            lint_tools=["ruff", "mypy"],
            lint_commands=["uv run ruff check .", "uv run mypy src/app"],
            services=["postgres", "redis"],
            manifests=["pyproject.toml"],
            lockfiles=["uv.lock"],
            provenance={
                "test_tool": ev("pyproject.toml", "[tool.pytest.ini_options]"),
                "versions": ev("pyproject.toml", "project.requires-python"),
                "services": ev("pyproject.toml", "project.dependencies"),
            },
        )
    ),
    "python-poetry": analysis(
        stack(
            language="python",
            package_manager="poetry",
            versions=["3.12"],
            test_tool="pytest",
            lint_tools=["black", "isort", "flake8"],
            lint_commands=["poetry run black --check .", "poetry run isort --check-only .", "poetry run flake8"],
            manifests=["pyproject.toml"],
            lockfiles=["poetry.lock"],
        )
    ),
    "python-pip-tox": analysis(
        stack(
            language="python",
            package_manager="pip",
            versions=["3.10", "3.11", "3.12"],
            test_tool="tox",
            lint_tools=["pre-commit"],
            lint_commands=["pre-commit run --all-files"],
            manifests=["setup.cfg", "requirements-dev.txt", "tox.ini"],
            operating_systems=["linux", "macos", "windows"],
            provenance={"test_tool": ev("tox.ini", "[tox]")},
        )
    ),
    "python-pip-configured-linters": analysis(
        stack(
            language="python",
            package_manager="pip",
            versions=["3.12", "3.13"],
            test_tool="pytest",
            lint_tools=["ruff", "mypy"],
            lint_commands=["ruff check .", "mypy src/app"],
            lint_advisory=["mypy src/app"],
            manifests=["pyproject.toml", "requirements-dev.txt"],
        )
    ),
    "node-npm": analysis(
        stack(
            language="javascript",
            package_manager="npm",
            versions=["20", "22"],
            test_tool="jest",
            lint_tools=["eslint", "prettier"],
            lint_commands=["npm run lint"],
            build_commands=["npm run build"],
            manifests=["package.json"],
            lockfiles=["package-lock.json"],
            services=["mongodb"],
        )
    ),
    "node-pnpm": analysis(
        stack(
            language="typescript",
            package_manager="pnpm",
            versions=["22"],
            test_tool="vitest",
            lint_tools=["tsc"],
            lint_commands=["pnpm run lint"],
            manifests=["package.json", "pnpm-workspace.yaml"],
            lockfiles=["pnpm-lock.yaml"],
            provenance={"package_manager": ev("package.json", "packageManager")},
        )
    ),
    "node-yarn": analysis(
        stack(
            language="javascript",
            package_manager="yarn",
            test_tool="mocha",
            manifests=["package.json", ".yarnrc.yml"],
            lockfiles=["yarn.lock"],
        )
    ),
    "node-bun": analysis(
        stack(language="typescript", package_manager="bun", test_tool="node-test", lockfiles=["bun.lock"])
    ),
    "deno": analysis(
        stack(language="typescript", package_manager="deno", test_tool="other", test_commands=["deno test -A"])
    ),
    "go": analysis(
        stack(
            language="go",
            package_manager="go",
            versions=["1.24", "1.25"],
            test_tool="go-test",
            test_commands=["go test -race ./..."],
            lint_tools=["golangci-lint", "gofmt"],
            manifests=["go.mod"],
            lockfiles=["go.sum"],
            operating_systems=["linux", "windows"],
        )
    ),
    "rust": analysis(
        stack(
            language="rust",
            package_manager="cargo",
            versions=["stable", "1.80"],
            test_tool="cargo-test",
            lint_tools=["clippy", "rustfmt"],
            manifests=["Cargo.toml"],
            lockfiles=["Cargo.lock"],
        )
    ),
    "maven": analysis(
        stack(
            language="java",
            package_manager="maven",
            versions=["17", "21"],
            test_tool="maven",
            manifests=["pom.xml", "mvnw"],
            services=["mysql"],
        )
    ),
    "gradle": analysis(
        stack(
            language="kotlin",
            package_manager="gradle",
            versions=["21"],
            test_tool="gradle",
            manifests=["build.gradle.kts", "gradlew"],
        )
    ),
    "ruby": analysis(
        stack(
            language="ruby",
            package_manager="bundler",
            versions=["3.2", "3.3"],
            test_tool="rspec",
            lint_tools=["rubocop"],
            manifests=["Gemfile"],
            lockfiles=["Gemfile.lock"],
        )
    ),
    "php": analysis(
        stack(
            language="php",
            package_manager="composer",
            versions=["8.2", "8.3"],
            test_tool="phpunit",
            lint_tools=["phpstan"],
            manifests=["composer.json"],
            lockfiles=["composer.lock"],
            services=["mariadb", "memcached"],
        )
    ),
    "dotnet": analysis(
        stack(
            language="csharp",
            package_manager="dotnet",
            versions=["8.0", "9.0"],
            test_tool="dotnet-test",
            lint_tools=["dotnet-format"],
            manifests=["App.sln"],
            lockfiles=["packages.lock.json"],
        )
    ),
    "elixir": analysis(
        stack(
            language="elixir",
            package_manager="mix",
            versions=["1.17", "1.18"],
            test_tool="mix-test",
            lint_tools=["credo"],
            manifests=["mix.exs"],
            lockfiles=["mix.lock"],
            services=["postgres"],
        )
    ),
    "cmake": analysis(
        stack(
            language="cpp",
            package_manager="cmake",
            test_tool="ctest",
            manifests=["CMakeLists.txt"],
            operating_systems=["linux", "macos", "windows"],
        )
    ),
    "swift": analysis(stack(language="swift", package_manager="swiftpm", test_tool="swift-test")),
    "docker": analysis(
        stack(language="python", package_manager="pip", test_tool="none", manifests=["requirements.txt"]),
        docker=DockerInfo(
            dockerfiles=[
                Dockerfile(path="Dockerfile"),
                Dockerfile(path="worker/Dockerfile"),
                Dockerfile(path="tests/fixtures/Dockerfile"),
            ],
            compose_files=[ComposeFile(path="compose.yaml", services=[ComposeService(name="db", image="postgres")])],
        ),
        findings=[
            Finding(code="multiple-lockfiles", severity="warning", message="two lockfiles", stack="."),
        ],
    ),
    "monorepo": analysis(
        stack(
            path=".",
            language="python",
            package_manager="uv",
            test_tool="pytest",
            manifests=["pyproject.toml"],
            lockfiles=["uv.lock"],
        ),
        stack(
            path="apps/web",
            language="typescript",
            package_manager="pnpm",
            test_tool="vitest",
            lint_tools=["eslint"],
            lint_commands=["pnpm run lint"],
            build_commands=["pnpm run build"],
            manifests=["apps/web/package.json"],
            lockfiles=["apps/web/pnpm-lock.yaml"],
        ),
        stack(
            path="services/api",
            language="go",
            package_manager="go",
            test_tool="go-test",
            manifests=["services/api/go.mod"],
            lockfiles=["services/api/go.sum"],
            services=["nats", "kafka", "rabbitmq", "elasticsearch"],
        ),
    ),
    "empty": analysis(),
}
