"""Node.js (JavaScript/TypeScript) and Deno detection on small fixture repositories."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from autodevops.engine.analyze import analyze
from autodevops.engine.detect import deno, node
from autodevops.engine.detect.base import Context
from autodevops.engine.generate.plan import build_plan
from autodevops.engine.model import Stack
from autodevops.engine.source import LocalDir

TODAY = dt.date(2026, 11, 26)  # Node 22, 24, 26 are the supported LTS lines; 20 ended 2026-04-30


def write(root: Path, files: dict[str, str | dict[str, Any]]) -> Context:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return Context(LocalDir(root), TODAY)


def detect(root: Path, files: dict[str, str | dict[str, Any]]) -> tuple[list[Stack], Context]:
    ctx = write(root, files)
    return node.detect(ctx), ctx


def codes(ctx: Context) -> set[str]:
    return {f.code for f in ctx.findings}


def test_npm_library(tmp_path: Path) -> None:
    pkg = {
        "name": "lib",
        "main": "index.js",
        "engines": {"node": ">=22"},
        "scripts": {"test": "mocha test/", "lint": "eslint .", "build": "rollup -c"},
        "devDependencies": {"mocha": "*", "eslint": "*"},
        "dependencies": {"ioredis": "*"},
    }
    (stack,), ctx = detect(tmp_path, {"package.json": pkg, "package-lock.json": "{}", "index.js": ""})
    assert stack.language == "javascript"
    assert stack.package_manager == "npm"
    assert stack.versions == ["22", "24", "26"]
    assert stack.provenance["versions"].evidence[0].key == "engines.node"
    assert stack.test_tool == "mocha"
    assert stack.test_commands == ["npm test"]
    assert stack.lint_tools == ["eslint"]
    assert stack.lint_commands == ["npm run lint"]
    assert stack.build_commands == ["npm run build"]
    assert stack.services == ["redis"]
    assert codes(ctx) == set()


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pnpm-lock.yaml": "", "yarn.lock": ""}, "pnpm"),
        ({"bun.lockb": ""}, "bun"),
        ({"bun.lock": "", "yarn.lock": ""}, "bun"),
        ({".yarnrc.yml": "", "package-lock.json": "{}"}, "yarn"),
        ({"yarn.lock": ""}, "yarn"),
        ({"package-lock.json": "{}"}, "npm"),
    ],
)
def test_package_manager_order(tmp_path: Path, files: dict[str, str | dict[str, Any]], expected: str) -> None:
    (stack,), _ = detect(tmp_path, {"package.json": {"scripts": {"test": "jest"}}, **files})
    assert stack.package_manager == expected


def test_package_manager_field_wins(tmp_path: Path) -> None:
    pkg = {"packageManager": "pnpm@9.1.0", "scripts": {"test": "vitest run"}}
    (stack,), ctx = detect(tmp_path, {"package.json": pkg, "yarn.lock": "", "package-lock.json": "{}"})
    assert stack.package_manager == "pnpm"
    assert stack.test_commands == ["pnpm test"]
    assert "multiple-lockfiles" in codes(ctx)


def test_no_lockfile_is_a_finding(tmp_path: Path) -> None:
    (stack,), ctx = detect(tmp_path, {"package.json": {"scripts": {"test": "ava"}}})
    assert stack.package_manager == "npm"
    assert stack.test_tool == "ava"
    assert "no-lockfile" in codes(ctx)


@pytest.mark.parametrize(
    ("script", "deps", "expected"),
    [
        ("vitest run", {}, "vitest"),
        ("node --experimental-vm-modules ./node_modules/jest/bin/jest.js", {}, "jest"),
        ("node --test", {}, "node-test"),
        ("xo && c8 ava && tsd", {}, "ava"),
        ("npm run unit", {"mocha": "*"}, "mocha"),
        ("node ./run-tests.js", {}, "other"),
    ],
)
def test_test_runner_from_script(tmp_path: Path, script: str, deps: dict[str, str], expected: str) -> None:
    pkg = {"scripts": {"test": script}, "devDependencies": deps}
    (stack,), _ = detect(tmp_path, {"package.json": pkg, "package-lock.json": "{}"})
    assert stack.test_tool == expected


def test_a_test_script_that_only_lints_is_a_lint_command(tmp_path: Path) -> None:
    pkg = {"scripts": {"test": "pnpm prettier:check", "prettier:check": "prettier --check ."}}
    (stack,), _ = detect(tmp_path, {"package.json": pkg, "pnpm-lock.yaml": ""})
    assert stack.test_tool == "none"
    assert stack.test_commands == []
    assert stack.lint_tools == ["prettier"]
    assert stack.lint_commands == ["pnpm test"]


def test_referenced_scripts_are_followed(tmp_path: Path) -> None:
    pkg = {"scripts": {"test": "npm run test:unit && npm run test:types", "test:unit": "jest", "test:types": "tsc"}}
    (stack,), _ = detect(tmp_path, {"package.json": pkg, "package-lock.json": "{}"})
    assert stack.test_tool == "jest"
    assert stack.lint_tools == ["tsc"]


def test_lint_tools_from_check_scripts_only(tmp_path: Path) -> None:
    pkg = {
        "scripts": {
            "lint": "eslint --cache .",
            "format": "prettier --write .",
            "format-check": "prettier --check .",
            "check": "tsc --noEmit",
            "build-dts": "tsc -p tsconfig.build.json",
            "spell": "cspell .",
            "lint:fix": "biome check --write",
        }
    }
    (stack,), _ = detect(tmp_path, {"package.json": pkg, "pnpm-lock.yaml": ""})
    assert stack.lint_tools == ["eslint", "prettier", "tsc", "other"]
    assert stack.lint_commands == ["pnpm run lint", "pnpm run check", "pnpm run format-check", "pnpm run spell"]


def test_scripts_named_as_checks_check_and_fix_scripts_do_not(tmp_path: Path) -> None:
    # `test:format` checks formatting whatever its last word; `fix:lint` rewrites files like `lint:fix`.
    pkg = {
        "scripts": {
            "fix:lint": "eslint . --fix",
            "fix:format": "prettier . --write",
            "test:format": "prettier . --list-different",
            "test:lint": "eslint .",
            "test": "vitest run",
        }
    }
    (stack,), _ = detect(tmp_path, {"package.json": pkg, "pnpm-lock.yaml": ""})
    assert stack.lint_tools == ["prettier", "eslint"]
    assert stack.lint_commands == ["pnpm run test:format", "pnpm run test:lint"]


def test_linters_the_test_script_runs_get_no_lint_command_of_their_own(tmp_path: Path) -> None:
    # xo runs inside `npm test` (the project has no eslint config: `eslint .` would stop at once).
    pkg = {
        "scripts": {"test": "xo && npm run build && ava", "build": "tsc"},
        "devDependencies": {"xo": "1", "ava": "6"},
    }
    (stack,), _ = detect(tmp_path, {"package.json": pkg, "package-lock.json": "{}"})
    assert stack.lint_tools == ["eslint"]
    assert stack.lint_commands == []
    plan = build_plan(analyze(LocalDir(tmp_path), today=TODAY))
    assert plan.stacks[0].lint == []


def test_typescript_when_typescript_sources_dominate(tmp_path: Path) -> None:
    files: dict[str, str | dict[str, Any]] = {
        "package.json": {"scripts": {"test": "vitest"}},
        "tsconfig.json": "{}",
        "src/a.ts": "",
        "src/b.ts": "",
        "src/c.tsx": "",
        "index.d.ts": "",
        "eslint.config.js": "",
    }
    (stack,), _ = detect(tmp_path, files)
    assert stack.language == "typescript"


def test_language_by_bytes_and_tests_do_not_count(tmp_path: Path) -> None:
    files: dict[str, str | dict[str, Any]] = {
        "package.json": {"scripts": {"test": "jest"}},
        "src/index.ts": "export const x = 1;\n" * 50,
        "src/a.js": "x\n",
        "src/b.js": "y\n",
        "__tests__/a.test.js": "",
        "__tests__/b.test.js": "",
        "__tests__/c.test.js": "",
    }
    (stack,), _ = detect(tmp_path, files)
    assert stack.language == "typescript"


def test_a_site_without_sources_is_written_in_the_language_of_its_config(tmp_path: Path) -> None:
    site = {"scripts": {"build": "vitepress build"}, "devDependencies": {"vitepress": "1.6.4"}}
    files: dict[str, str | dict[str, Any]] = {
        "package.json": site,
        ".vitepress/config.mts": "export default {}\n",
        "guide/index.md": "# Guide\n",
    }
    (stack,), _ = detect(tmp_path / "ts", files)
    assert stack.language == "typescript"
    (stack,), _ = detect(tmp_path / "js", {"package.json": site, ".vitepress/config.mjs": "export default {}\n"})
    assert stack.language == "javascript"


def test_nvmrc_pin_and_engines_conflict(tmp_path: Path) -> None:
    pkg = {"engines": {"node": ">=22"}, "scripts": {"test": "jest"}}
    (stack,), ctx = detect(tmp_path, {"package.json": pkg, ".nvmrc": "v20.11.1\n", "package-lock.json": "{}"})
    assert stack.versions == ["20.11.1"]  # the pin outside the range: no floor beside it, a finding instead
    finding = next(f for f in ctx.findings if f.code == "node-version-mismatch")
    assert [e.file for e in finding.evidence] == [".nvmrc", "package.json"]
    assert "eol-runtime" in codes(ctx)  # Node 20 ended 2026-04-30


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({".node-version": "lts/*\n"}, ["lts/*"]),
        ({".tool-versions": "nodejs 24.3.0\n"}, ["24.3.0"]),  # an exact pin stays exact
        ({".nvmrc": "v24\n"}, ["24"]),
        ({".nvmrc": "22.x\n"}, ["22"]),
    ],
)
def test_version_pins(tmp_path: Path, files: dict[str, str | dict[str, Any]], expected: list[str]) -> None:
    (stack,), _ = detect(tmp_path, {"package.json": {"scripts": {"test": "jest"}}, **files})
    assert stack.versions == expected


def test_a_pin_and_an_older_supported_engines_floor_are_both_tested(tmp_path: Path) -> None:
    pkg = {"engines": {"node": ">=22.22.0"}, "scripts": {"test": "vitest"}}
    (stack,), ctx = detect(tmp_path, {"package.json": pkg, ".nvmrc": "24\n", "pnpm-lock.yaml": ""})
    assert stack.versions == ["22.22.0", "24"]  # the promised minimum, exactly, and the developers' line
    assert [e.key for e in stack.provenance["versions"].evidence] == ["engines.node", None]
    assert "node-version-mismatch" not in codes(ctx)


@pytest.mark.parametrize(
    ("engines", "pin", "expected"),
    [
        (">=24", "24.3.0", ["24.3.0"]),  # the floor is on the pinned line
        (">=18", "24", ["24"]),  # an end-of-life floor (Node 18 ended 2025-04-30) is not added
        ("<24", "24", ["24"]),  # no floor to test
    ],
)
def test_an_engines_floor_is_added_beside_a_pin_only_on_another_supported_line(
    tmp_path: Path, engines: str, pin: str, expected: list[str]
) -> None:
    pkg = {"engines": {"node": engines}, "scripts": {"test": "jest"}}
    (stack,), _ = detect(tmp_path, {"package.json": pkg, ".node-version": pin + "\n"})
    assert stack.versions == expected


def test_the_node_image_a_dockerfile_builds_the_app_in_is_its_version(tmp_path: Path) -> None:
    dockerfile = "FROM --platform=$BUILDPLATFORM node:24-alpine3.21 AS assets\nRUN npm ci\nFROM nginx:1.27\n"
    files: dict[str, str | dict[str, Any]] = {
        "package.json": {"private": True, "scripts": {"build": "vite build", "test": "vitest"}},
        "package-lock.json": "{}",
        "Dockerfile": dockerfile,
    }
    (stack,), _ = detect(tmp_path, files)
    assert stack.versions == ["24"]
    evidence = stack.provenance["versions"].evidence[0]
    assert (evidence.file, evidence.line) == ("Dockerfile", 1)


@pytest.mark.parametrize(
    "files",
    [
        # engines is the promise to users: it decides, not the image one deployment uses
        {"package.json": {"engines": {"node": ">=22"}, "scripts": {"test": "jest"}}, "Dockerfile": "FROM node:26\n"},
        # an image in another directory (an example, a dev container) says nothing about this package
        {"package.json": {"scripts": {"test": "jest"}}, "docker/Dockerfile": "FROM node:20.11.0\n"},
        {"package.json": {"scripts": {"test": "jest"}}, "Dockerfile": "FROM node:lts-slim\n"},
    ],
)
def test_a_node_image_is_not_a_pin_beside_engines_elsewhere_or_without_a_number(
    tmp_path: Path, files: dict[str, str | dict[str, Any]]
) -> None:
    (stack,), _ = detect(tmp_path, files)
    assert stack.versions == ["22", "24", "26"]


def test_nothing_declared_means_the_supported_lts_lines_marked_uncertain(tmp_path: Path) -> None:
    (stack,), _ = detect(tmp_path, {"package.json": {"scripts": {"test": "jest"}}})
    assert stack.versions == ["22", "24", "26"]  # on 2026-11-26
    assert stack.provenance["versions"].confidence < 0.5


def test_engines_floor_through_newest_lts_with_an_end_of_life_floor_reported(tmp_path: Path) -> None:
    pkg = {"engines": {"node": ">=18"}, "scripts": {"test": "mocha"}}
    (stack,), ctx = detect(tmp_path, {"package.json": pkg, "package-lock.json": "{}"})
    assert stack.versions == ["18", "20", "22", "24", "26"]
    finding = next(f for f in ctx.findings if f.code == "eol-runtime")
    assert "18, 20" in finding.message


def test_nested_packages_run_on_their_enclosing_projects_node(tmp_path: Path) -> None:
    files: dict[str, str | dict[str, Any]] = {
        "package.json": {"engines": {"node": ">=22"}, "scripts": {"test": "jest"}},
        "package-lock.json": "{}",
        "tools/bundle/package.json": {"private": True, "scripts": {"test": "node --test"}},
        "tools/bundle/package-lock.json": "{}",
        "scripts/release/package.json": {
            "private": True,
            "engines": {"node": ">=20"},
            "scripts": {"test": "node --test"},
        },
        "scripts/release/package-lock.json": "{}",
    }
    stacks, _ = detect(tmp_path, files)
    versions = {s.path: s.versions for s in stacks}
    assert versions["."] == ["22", "24", "26"]
    assert versions["tools/bundle"] == []  # nothing declared: the root's Node.js
    assert versions["scripts/release"] == ["20"]  # private tooling: the lowest line it allows


def test_volta_pin(tmp_path: Path) -> None:
    pkg = {"volta": {"node": "22.4.0"}, "scripts": {"test": "jest"}}
    (stack,), _ = detect(tmp_path, {"package.json": pkg})
    assert stack.versions == ["22.4.0"]
    assert stack.provenance["versions"].evidence[0].key == "volta.node"


def test_workspaces_are_one_stack_and_nested_projects_with_lockfiles_are_separate(tmp_path: Path) -> None:
    files: dict[str, str | dict[str, Any]] = {
        "package.json": {"private": True, "workspaces": ["packages/*"], "scripts": {"test": "vitest"}},
        "pnpm-workspace.yaml": "packages:\n  - 'packages/*'\n",
        "pnpm-lock.yaml": "",
        "packages/a/package.json": {"name": "a", "scripts": {"test": "vitest"}},
        "packages/b/package.json": {"name": "b", "scripts": {"build": "tsup"}},
        "packages/b/pnpm-lock.yaml": "",
        "tools/release/package.json": {"scripts": {"test": "node --test"}},
        "tools/release/yarn.lock": "",
        "test/fixtures/app/package.json": {"scripts": {"test": "jest"}},
        "test/fixtures/app/package-lock.json": "{}",
        "docs/package.json": {"scripts": {"build": "vitepress build"}},
    }
    stacks, _ = detect(tmp_path, files)
    assert [s.path for s in stacks] == [".", "tools/release"]
    assert stacks[0].workspace_members == ["packages/a", "packages/b"]
    assert stacks[1].package_manager == "yarn"
    assert stacks[1].test_tool == "node-test"
    # a nested package that tests itself is surely a stack; one with only a build is less sure
    assert stacks[1].provenance["path"].confidence >= 0.8


def test_a_documentation_site_that_is_a_workspace_member_is_built_on_its_own(tmp_path: Path) -> None:
    files: dict[str, str | dict[str, Any]] = {
        "package.json": {"private": True, "workspaces": ["packages/*", "website"], "scripts": {"test": "vitest"}},
        "pnpm-lock.yaml": "",
        "pnpm-workspace.yaml": "packages:\n  - 'packages/*'\n  - website\n",
        "packages/core/package.json": {"name": "core", "scripts": {"test": "vitest"}},
        "website/package.json": {"name": "website", "scripts": {"build": "docusaurus build"}},
        "website/docusaurus.config.ts": "export default {}\n",
    }
    stacks, _ = detect(tmp_path, files)
    assert [s.path for s in stacks] == [".", "website"]
    site = stacks[1]
    assert site.package_manager == "pnpm"
    assert site.build_commands == ["pnpm run build"]
    assert site.provenance["path"].confidence < 0.8
    # Without a build script the site is only content the root's tooling reads.
    files["website/package.json"] = {"name": "website", "scripts": {"start": "docusaurus start"}}
    stacks, _ = detect(tmp_path / "b", files)
    assert [s.path for s in stacks] == ["."]


def test_drivers_of_a_test_suite_member_are_services_of_the_workspace(tmp_path: Path) -> None:
    files: dict[str, str | dict[str, Any]] = {
        "package.json": {"private": True, "scripts": {"test": "vitest"}},
        "pnpm-lock.yaml": "",
        "pnpm-workspace.yaml": "packages:\n  - 'packages/*'\n  - 'tests/*'\n",
        # A library's optional peer drivers are the users' choice; the API test suite's are what it runs against.
        "packages/core/package.json": {"name": "core", "peerDependencies": {"pg": "^8", "mysql2": "^3"}},
        "tests/api-tests/package.json": {"name": "api-tests", "devDependencies": {"pg": "^8", "mariadb": "^3"}},
    }
    (stack,), _ = detect(tmp_path, files)
    assert stack.services == ["mariadb", "postgres"]
    assert stack.provenance["services"].evidence[0].file == "tests/api-tests/package.json"


def test_members_of_a_root_that_tests_nothing_are_tested_on_their_own(tmp_path: Path) -> None:
    files: dict[str, str | dict[str, Any]] = {
        "package.json": {"private": True, "workspaces": ["packages/*"]},
        "package-lock.json": "{}",
        ".nvmrc": "24\n",
        "packages/server/package.json": {
            "scripts": {"compile": "tsc", "format:check": "prettier --check lib", "test": "npm run compile && mocha"}
        },
        "packages/emitter/package.json": {"scripts": {"test": "tsx --test test/*.ts"}},
        "packages/types/package.json": {"name": "types"},
    }
    stacks, _ = detect(tmp_path, files)
    # the root only installs: no stack of its own; the member without tests is not one either
    assert [s.path for s in stacks] == ["packages/emitter", "packages/server"]
    emitter, server = stacks
    assert (server.package_manager, server.versions, server.test_tool) == ("npm", ["24"], "mocha")
    assert server.build_commands == ["npm run compile"]
    assert server.lint_tools == ["prettier"]
    assert emitter.test_tool == "node-test"  # tsx --test runs Node's own test runner


def test_members_without_a_version_pin_get_the_supported_lines(tmp_path: Path) -> None:
    files: dict[str, str | dict[str, Any]] = {
        "package.json": {"private": True, "workspaces": ["packages/*"], "scripts": {"lint": "eslint ."}},
        "package-lock.json": "{}",
        "packages/a/package.json": {"scripts": {"test": "mocha"}},
    }
    stacks, _ = detect(tmp_path, files)
    # the root still lints, so it stays a stack, without the member it no longer runs
    assert [s.path for s in stacks] == [".", "packages/a"]
    assert stacks[0].workspace_members == []
    assert stacks[1].versions == ["22", "24", "26"]


def test_documentation_site_with_its_own_install_is_a_build_only_stack(tmp_path: Path) -> None:
    files: dict[str, str | dict[str, Any]] = {
        "Cargo.toml": "[package]\nname = 'x'\n",
        "docs/package.json": {"scripts": {"build": "vitepress build", "dev": "vitepress dev"}},
        "docs/package-lock.json": "{}",
        "examples/site/package.json": {"scripts": {"build": "vite build"}},
        "examples/site/package-lock.json": "{}",
    }
    (stack,), _ = detect(tmp_path, files)
    assert stack.path == "docs"
    assert stack.build_commands == ["npm run build"]
    assert stack.test_tool == "none"
    assert stack.provenance["path"].confidence < 0.8
    # a site a hosting service builds from the repository is not CI's to build
    stacks, _ = detect(tmp_path, {"netlify.toml": "[build]\nbase = 'docs'\n"})
    assert stacks == []


def test_root_that_delegates_to_members_takes_their_runner_linters_and_build(tmp_path: Path) -> None:
    files: dict[str, str | dict[str, Any]] = {
        "package.json": {"workspaces": ["apps/*"], "scripts": {"test": "npm test --workspaces", "lint": "turbo lint"}},
        "package-lock.json": "{}",
        "apps/web/package.json": {"scripts": {"test": "vitest run", "lint": "biome check .", "build": "vite build"}},
        "apps/api/package.json": {"scripts": {"test": "vitest"}},
    }
    (stack,), _ = detect(tmp_path, files)
    assert stack.test_tool == "vitest"
    assert stack.lint_tools == ["biome"]
    assert stack.build_commands == ["npm run build --workspaces --if-present"]
    assert stack.provenance["build_commands"].evidence[0].file == "apps/web/package.json"


def test_benchmark_and_runtime_test_folders_are_not_projects(tmp_path: Path) -> None:
    files: dict[str, str | dict[str, Any]] = {
        "package.json": {"scripts": {"test": "vitest"}},
        "bun.lock": "",
        "benchmarks/routers/package.json": {"scripts": {"start": "node index.js"}},
        "benchmarks/routers/bun.lock": "",
        "runtime-tests/node/package.json": {"scripts": {"test": "vitest"}},
        "runtime-tests/node/package-lock.json": "{}",
        "tools/bundle-test/package.json": {"scripts": {"test": "node index.js"}},
        "tools/bundle-test/yarn.lock": "",
    }
    stacks, _ = detect(tmp_path, files)
    assert [s.path for s in stacks] == [".", "tools/bundle-test"]


def test_release_tooling_package_json_is_not_a_stack(tmp_path: Path) -> None:
    pkg = {"devDependencies": {"release-it": "*"}, "scripts": {"release": "release-it"}}
    stacks, _ = detect(tmp_path, {"package.json": pkg, "pyproject.toml": "[project]\nname='x'\n"})
    assert stacks == []


def test_asset_bundle_with_only_a_lockfile_and_bundler_config(tmp_path: Path) -> None:
    files: dict[str, str | dict[str, Any]] = {
        "composer.json": "{}",
        "resources/renderer/package.json": "",  # unreadable: an empty file
        "resources/renderer/package-lock.json": "{}",
        "resources/renderer/vite.config.js": "",
    }
    (stack,), ctx = detect(tmp_path, files)
    assert stack.path == "resources/renderer"
    assert stack.build_commands == ["npm run build"]
    assert stack.provenance["build_commands"].confidence < 0.6
    assert "parse-error" in codes(ctx)


def test_configured_runner_not_installed(tmp_path: Path) -> None:
    files: dict[str, str | dict[str, Any]] = {
        "package.json": {"scripts": {"test": "node test.js"}, "devDependencies": {}},
        "jest.config.js": "",
        "package-lock.json": "{}",
    }
    _, ctx = detect(tmp_path, files)
    assert "test-runner-not-installed" in codes(ctx)


def test_deno_workspace(tmp_path: Path) -> None:
    config = {"workspace": ["./packages/core"], "tasks": {"test": "deno test -A", "build": "deno run build.ts"}}
    ctx = write(
        tmp_path,
        {
            "deno.json": config,
            "deno.lock": "{}",
            "packages/core/deno.json": {"name": "@x/core"},
            "tests/fixture/deno.json": "{}",
        },
    )
    (stack,) = deno.detect(ctx)
    assert (stack.path, stack.language, stack.package_manager) == (".", "typescript", "deno")
    assert stack.test_commands == ["deno task test"]
    assert stack.build_commands == ["deno task build"]
    assert stack.lockfiles == ["deno.lock"]
    assert stack.workspace_members == ["packages/core"]


def test_deno_jsonc_with_comments(tmp_path: Path) -> None:
    ctx = write(tmp_path, {"deno.jsonc": '{\n  // tasks\n  "tasks": {"check": "deno check ."},\n}\n'})
    (stack,) = deno.detect(ctx)
    assert stack.test_commands == ["deno test -A"]
    assert "deno task check" in stack.lint_commands
    assert ctx.findings == []


def test_tests_that_load_the_esm_loader_stop_the_matrix_at_the_last_line_it_runs_on(tmp_path: Path) -> None:
    pkg = {
        "name": "lib",
        "main": "dist/index.js",
        "engines": {"node": ">=18"},
        "scripts": {"test": "uvu -r esm test"},
        "devDependencies": {"esm": "3.2.25", "uvu": "0.5.4"},
    }
    (stack,), ctx = detect(tmp_path / "loads", {"package.json": pkg, "index.js": ""})
    # esm cannot compile `import` on Node.js 22+: those cells would be red whatever the code does.
    assert stack.versions == ["18", "20"]
    assert stack.provenance["versions"].evidence[0].key == "scripts.test"
    (finding,) = [f for f in ctx.findings if f.code == "node-tooling-ceiling"]
    assert "does not run on Node.js 22, 24, 26: the matrix stops at 20" in finding.message
    # Installed but not loaded by any script (a leftover): the declared lines stand.
    unused = {**pkg, "scripts": {"test": "uvu test"}}
    (stack,), ctx = detect(tmp_path / "unused", {"package.json": unused, "index.js": ""})
    assert stack.versions == ["18", "20", "22", "24", "26"]
    assert "node-tooling-ceiling" not in codes(ctx)


def test_a_tested_package_in_another_languages_repository_needs_no_lockfile(tmp_path: Path) -> None:
    suite = {"name": "sdk-examples", "type": "module", "scripts": {"test": "node --test *.test.js"}}
    files: dict[str, str | dict[str, Any]] = {
        "pyproject.toml": "[project]\nname = 'server'\n",
        "other_langs/tests_js/package.json": suite,
        "other_langs/tests_js/s3.test.js": "",
        "scripts/helper/package.json": {"name": "helper"},  # no tests of its own: a tool, not a project
    }
    (stack,), _ = detect(tmp_path / "polyglot", files)
    assert stack.path == "other_langs/tests_js"
    assert stack.test_commands == ["npm test"]
    # beside a Node.js root, a nested package without a lockfile stays a part of it (fixtures, examples)
    stacks, _ = detect(tmp_path / "node", {**files, "package.json": {"scripts": {"test": "vitest"}}})
    assert [s.path for s in stacks] == ["."]


def test_the_matrix_starts_where_the_locked_test_runner_installs(tmp_path: Path) -> None:
    pkg = {
        "name": "lib",
        "main": "index.js",
        "engines": {"node": ">=12"},
        "scripts": {"test": "jest"},
        "devDependencies": {"jest": "^30.0.0"},
    }
    lock = {
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "lib"},
            "node_modules/jest": {"version": "30.2.0", "engines": {"node": "^18.14.0 || ^20.0.0 || >=22.0.0"}},
        },
    }
    (stack,), ctx = detect(tmp_path / "npm", {"package.json": pkg, "package-lock.json": lock, "index.js": ""})
    # engines.node admits 12-16, but jest 30 does not install there: those cells could never be green.
    assert stack.versions == ["18", "20", "22", "24", "26"]
    assert stack.provenance["versions"].evidence[-1].file == "package-lock.json"
    (finding,) = [f for f in ctx.findings if f.code == "node-tooling-floor"]
    assert "jest, which the test script runs, needs Node.js 18.14.0" in finding.message
    assert "Node.js 12, 14, 16 cannot run them" in finding.message
    # Without a lockfile nothing says which release is installed: the declared lines stand.
    (stack,), ctx = detect(tmp_path / "unlocked", {"package.json": pkg, "index.js": ""})
    assert stack.versions == ["12", "14", "16", "18", "20", "22", "24", "26"]
    assert "node-tooling-floor" not in codes(ctx)


def test_the_matrix_starts_at_the_first_release_with_the_node_features_the_code_uses(tmp_path: Path) -> None:
    pkg = {"name": "lib", "main": "index.js", "engines": {"node": ">=18"}, "scripts": {"test": "node --test"}}
    snapshot_test = "import {describe, test, snapshot} from 'node:test';\nsnapshot.setDefaultSnapshotSerializers([]);\n"
    files: dict[str, str | dict[str, Any]] = {
        "package.json": pkg,
        "index.js": "export const here = import.meta.dirname;\n",
        "lint/rules.test.js": snapshot_test,
    }
    (stack,), ctx = detect(tmp_path / "snapshots", files)
    # node:test's snapshot export arrived in 22.3: the 18 and 20 cells would fail with a SyntaxError.
    assert stack.versions == ["22", "24", "26"]
    (finding,) = [f for f in ctx.findings if f.code == "node-feature-floor"]
    assert finding.message.startswith("lint/rules.test.js uses node:test snapshots, which Node.js 18, 20 does not")
    assert stack.provenance["versions"].evidence[-1].file == "lint/rules.test.js"
    # import.meta.dirname is in 20.11 and later: only 18 goes, and a setup-node "20" cell gets the newest 20.x.
    (stack,), ctx = detect(tmp_path / "dirname", {**files, "lint/rules.test.js": "import test from 'node:test';\n"})
    assert stack.versions == ["20", "22", "24", "26"]
    assert "import.meta.dirname" in next(f.message for f in ctx.findings if f.code == "node-feature-floor")


def test_code_without_newer_node_features_keeps_every_declared_line(tmp_path: Path) -> None:
    pkg = {"name": "lib", "main": "index.js", "engines": {"node": ">=18"}, "scripts": {"test": "node --test"}}
    files: dict[str, str | dict[str, Any]] = {
        "package.json": pkg,
        "index.js": "module.exports = (xs) => xs.reduce((a, x) => a + x, 0);\n",
        # Naming a module is not loading it (a list of the builtins).
        "src/builtins.js": "export const builtins = ['node:fs', 'node:sqlite'];\n",
        "test/sum.test.js": "const test = require('node:test');\n",
        # A package's dependencies and build output are not its code.
        "node_modules/dep/index.js": "Object.groupBy([], x => x);\n",
        "dist/bundle.js": "Promise.withResolvers();\n",
    }
    (stack,), ctx = detect(tmp_path, files)
    assert stack.versions == ["18", "20", "22", "24", "26"]
    assert "node-feature-floor" not in codes(ctx)


def test_a_workspace_member_is_held_to_the_hoisted_tools_its_test_script_runs(tmp_path: Path) -> None:
    root = {
        "name": "repo",
        "private": True,
        "workspaces": ["packages/*"],
        "devDependencies": {"nyc": "17", "mocha": "10"},
    }
    member = {
        "name": "server",
        "main": "index.js",
        "engines": {"node": ">=16"},
        "scripts": {"test": "npm run test:unit", "test:unit": "nyc mocha test"},
    }
    lock = (
        "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    devDependencies:\n      nyc:\n        specifier: '17'\n"
        "        version: 17.0.0\n\npackages:\n\n  mocha@10.6.0:\n    resolution: {integrity: sha512-x}\n"
        "    engines: {node: '>= 14.0.0'}\n    hasBin: true\n\n  nyc@17.0.0:\n    resolution: {integrity: sha512-y}\n"
        "    engines: {node: '>=18'}\n    hasBin: true\n\nsnapshots:\n\n  nyc@17.0.0: {}\n"
    )
    files: dict[str, str | dict[str, Any]] = {
        "package.json": root,
        "pnpm-lock.yaml": lock,
        "pnpm-workspace.yaml": "packages:\n  - packages/*\n",
        "packages/server/package.json": member,
        "packages/server/index.js": "",
    }
    stacks, ctx = detect(tmp_path, files)
    (server,) = [s for s in stacks if s.path == "packages/server"]
    assert server.versions == ["18", "20", "22", "24", "26"]
    assert any(f.code == "node-tooling-floor" and "nyc" in f.message for f in ctx.findings)


def test_the_runner_a_test_script_uses_most_names_the_test_tool(tmp_path: Path) -> None:
    pkg = {
        "name": "client",
        "main": "index.js",
        "scripts": {
            "test": "npm run test:unit && npm run test:fetch && npm run test:jest",
            "test:unit": "borp -p 'test/*.js'",
            "test:fetch": "borp -p 'test/fetch/*.js'",
            "test:jest": "jest",
        },
        "devDependencies": {"borp": "0.20.0", "jest": "30.0.0"},
    }
    (stack,), _ = detect(tmp_path / "mostly-node-test", {"package.json": pkg, "package-lock.json": "{}"})
    # borp runs the files with node:test; jest covers one corner of the suite.
    assert stack.test_tool == "node-test"
    mostly_jest = {**pkg, "scripts": {"test": "jest && jest --selectProjects dom && borp"}}
    (stack,), _ = detect(tmp_path / "mostly-jest", {"package.json": mostly_jest, "package-lock.json": "{}"})
    assert stack.test_tool == "jest"


def test_shipped_bundles_do_not_decide_the_language(tmp_path: Path) -> None:
    pkg = {"name": "live", "main": "./priv/static/live.cjs.js", "scripts": {"build": "tsc", "test": "jest"}}
    files: dict[str, str | dict[str, Any]] = {
        "package.json": pkg,
        "package-lock.json": "{}",
        "assets/js/live/index.ts": "export const x = 1;\n" * 50,
        # The built bundles an Elixir package ships (and a minified copy) outweigh the sources they come from.
        "priv/static/live.cjs.js": "var x = 1;\n" * 500,
        "assets/vendor/lib.min.js": "var y=1;" * 500,
    }
    (stack,), _ = detect(tmp_path, files)
    assert stack.language == "typescript"


def test_a_package_with_a_single_test_kind_script_is_tested_by_it(tmp_path: Path) -> None:
    pkg = {
        "name": "app-ui-tests",
        "scripts": {"test:playwright": "playwright test", "lint:style": "stylelint '**/*.less'"},
        "devDependencies": {"@playwright/test": "^1.48.0"},
    }
    (stack,), _ = detect(tmp_path, {"package.json": pkg, "package-lock.json": "{}", "tests/a.spec.js": ""})
    assert stack.path == "."
    assert stack.test_commands == ["npm run test:playwright"]
    assert stack.test_tool == "other"
