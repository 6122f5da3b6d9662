"""PHP detection on small fixture repositories: Composer projects, PHPUnit/Pest, static analysis, versions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from autodevops.engine.detect import php
from autodevops.engine.detect.base import Context
from autodevops.engine.model import Stack
from autodevops.engine.source import LocalDir

TODAY = dt.date(2026, 11, 26)  # PHP 8.2-8.5 are supported


def analyze(root: Path, files: dict[str, Any]) -> tuple[list[Stack], Context]:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    ctx = Context(LocalDir(root), TODAY)
    return php.detect(ctx), ctx


LIBRARY = {
    "name": "acme/http",
    "require": {"php": "^7.4 || ^8.0", "ext-curl": "*"},
    "require-dev": {"phpunit/phpunit": "^9.6", "phpstan/phpstan": "^1.10", "predis/predis": "^2"},
    "autoload": {"psr-4": {"Acme\\Http\\": "src/"}},
}


def test_library_with_phpunit_phpstan_and_a_version_range(tmp_path: Path) -> None:
    (stack,), ctx = analyze(
        tmp_path,
        {
            "composer.json": LIBRARY,
            "phpunit.xml.dist": "<phpunit/>",
            ".php-cs-fixer.dist.php": "<?php return [];",
            "vendor-bin/psalm/composer.json": {"require": {"vimeo/psalm": "^5"}},
            "vendor/acme/dep/composer.json": {"name": "acme/dep"},
        },
    )
    assert stack.path == "."
    assert stack.package_manager == "composer"
    # Every line the constraint admits, from its 7.4 floor on: end-of-life ones stay while they are declared.
    assert stack.versions == ["7.4", "8.0", "8.1", "8.2", "8.3", "8.4", "8.5"]
    assert stack.provenance["versions"].evidence[0].key == "require.php"
    (eol,) = [f for f in ctx.findings if f.code == "eol-runtime"]
    assert "7.4, 8.0, 8.1" in eol.message
    assert "php 8.2" in eol.message
    assert stack.test_tool == "phpunit"
    assert stack.test_commands == ["vendor/bin/phpunit"]
    assert stack.lint_tools == ["phpstan", "psalm", "php-cs-fixer"]
    assert stack.services == ["redis"]
    assert not any(f.code == "no-lockfile" for f in ctx.findings)  # a library commits no lock


def test_composer_test_script_is_the_entry_point_and_pest_the_runner(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "composer.json": {"require-dev": {"pestphp/pest": "^3"}, "scripts": {"test": "pest"}},
            "tests/Pest.php": "<?php",
        },
    )
    assert stack.test_tool == "pest"
    assert stack.test_commands == ["composer test"]


def test_split_packages_of_a_monorepo_are_not_stacks(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "composer.json": {
                "name": "acme/framework",
                "require": {"php": "^8.3"},
                "replace": {"acme/support": "self.version"},
                "autoload": {"psr-4": {"Acme\\": "src/Acme/"}},
            },
            "src/Acme/Support/composer.json": {"name": "acme/support"},
            "src/Acme/Queue/composer.json": {"name": "acme/queue"},
            "tools/site/composer.json": {"name": "acme/site", "require-dev": {"pestphp/pest": "^3"}},
        },
    )
    by_path = {s.path: s for s in stacks}
    assert sorted(by_path) == [".", "tools/site"]
    assert by_path["."].versions == ["8.3", "8.4", "8.5"]
    assert by_path["."].workspace_members == ["src/Acme/Queue", "src/Acme/Support"]


def test_application_without_lockfile_and_phpunit_env_services(tmp_path: Path) -> None:
    (stack,), ctx = analyze(
        tmp_path,
        {
            "composer.json": {"type": "project", "require": {"php": ">=8.2"}},
            "artisan": "#!/usr/bin/env php\n",
            "phpunit.xml": '<phpunit><php><env name="DB_CONNECTION" value="mysql"/>'
            '<env name="REDIS_HOST" value="127.0.0.1"/></php></phpunit>',
        },
    )
    assert sorted(stack.services) == ["mysql", "redis"]
    assert stack.frameworks == ["laravel"]
    assert stack.versions == ["8.2", "8.3", "8.4", "8.5"]
    assert any(f.code == "no-lockfile" and f.stack == "." for f in ctx.findings)


def test_platform_php_is_the_lowest_supported_version(tmp_path: Path) -> None:
    (stack,), _ = analyze(tmp_path, {"composer.json": {"config": {"platform": {"php": "8.3.99"}}}})
    assert stack.versions == ["8.3", "8.4", "8.5"]
    assert stack.provenance["versions"].evidence[0].key == "config.platform.php"


def test_require_php_without_a_floor_gets_the_supported_lines(tmp_path: Path) -> None:
    # "<9" says nothing about how old a PHP the package supports: only the lines still supported are proposed.
    (stack,), ctx = analyze(tmp_path, {"composer.json": {"require": {"php": "<9"}}})
    assert stack.versions == ["8.2", "8.3", "8.4", "8.5"]
    assert not [f for f in ctx.findings if f.code == "eol-runtime"]


def test_an_alternative_of_carets_from_an_old_floor_spans_both_majors(tmp_path: Path) -> None:
    (stack,), _ = analyze(tmp_path, {"composer.json": {"require": {"php": "^7.2.5 || ^8.0"}}})
    assert stack.versions == ["7.2", "7.3", "7.4", "8.0", "8.1", "8.2", "8.3", "8.4", "8.5"]


def test_require_php_allowing_only_ended_lines_is_reported(tmp_path: Path) -> None:
    (stack,), ctx = analyze(tmp_path, {"composer.json": {"require": {"php": "~7.4.0"}}})
    assert stack.versions == ["7.4"]
    assert any(f.code == "eol-runtime" for f in ctx.findings)


def test_nested_projects_without_tests_are_tool_bundles(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "composer.json": {"require-dev": {"phpunit/phpunit": "^11"}},
            "build-cs/composer.json": {"require": {"squizlabs/php_codesniffer": "^3"}},
            "e2e/bug-1/composer.json": {"require-dev": {"phpstan/phpstan": "^2"}},
            "issue-bot/composer.json": {"require-dev": {"phpunit/phpunit": "^11"}},
        },
    )
    assert sorted(s.path for s in stacks) == [".", "issue-bot"]


def test_malformed_composer_json_is_a_finding(tmp_path: Path) -> None:
    (stack,), ctx = analyze(tmp_path, {"composer.json": "{not json"})
    assert stack.package_manager == "composer"
    assert any(f.code == "parse-error" for f in ctx.findings)


def test_a_configured_runner_that_is_not_required_is_reported(tmp_path: Path) -> None:
    (stack,), ctx = analyze(
        tmp_path / "a", {"composer.json": {"require-dev": {"mockery/mockery": "^1"}}, "phpunit.xml.dist": "<phpunit/>"}
    )
    assert stack.test_tool == "phpunit"
    finding = next(f for f in ctx.findings if f.code == "test-runner-not-installed")
    assert finding.evidence[0].file == "phpunit.xml.dist"
    _, ok = analyze(
        tmp_path / "b", {"composer.json": {"require-dev": {"phpunit/phpunit": "^11"}}, "phpunit.xml.dist": "<phpunit/>"}
    )
    assert not any(f.code == "test-runner-not-installed" for f in ok.findings)


def test_platform_php_outside_require_php_is_a_conflict(tmp_path: Path) -> None:
    _, ctx = analyze(
        tmp_path, {"composer.json": {"require": {"php": "^8.3"}, "config": {"platform": {"php": "8.1.0"}}}}
    )
    assert any(f.code == "version-conflict" for f in ctx.findings)


def test_composer_lint_scripts_are_the_lint_entry_points(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "composer.json": {
                "require-dev": {"phpstan/phpstan": "^2"},
                "scripts": {"analyse": "phpstan analyse", "test": "phpunit"},
            }
        },
    )
    assert stack.lint_tools == ["phpstan"]
    assert stack.lint_commands[0] == "composer analyse"


def test_laravel_pint_is_a_style_check_unless_styleci_runs_it(tmp_path: Path) -> None:
    files = {
        "composer.json": '{"require-dev": {"laravel/pint": "^1.0", "pestphp/pest": "^3.0"}}',
        "pint.json": '{"preset": "laravel"}',
        "tests/Pest.php": "<?php\n",
    }
    (stack,), _ = analyze(tmp_path / "pint", files)
    assert "other" in stack.lint_tools
    assert "vendor/bin/pint --test" in stack.lint_commands
    (hosted,), _ = analyze(tmp_path / "styleci", {**files, ".styleci.yml": "preset: laravel\n"})
    assert "other" not in hosted.lint_tools
    # PHP-CS-Fixer required without a configuration of its own is Pint's engine, not a second style check.
    engine = {**files, "composer.json": '{"require-dev": {"friendsofphp/php-cs-fixer": "^3", "pestphp/pest": "^3"}}'}
    (stack,), _ = analyze(tmp_path / "engine", engine)
    assert stack.lint_tools == ["other"]
    (stack,), _ = analyze(tmp_path / "both", {**engine, ".php-cs-fixer.dist.php": "<?php\n"})
    assert stack.lint_tools == ["php-cs-fixer", "other"]


def test_a_tool_shipped_as_a_phar_builds_it_through_its_own_entry_point(tmp_path: Path) -> None:
    composer = {"name": "acme/fixer", "bin": ["fixer"], "require-dev": {"phpunit/phpunit": "^11"}}
    build_sh = "#!/bin/sh\ncomposer update --no-dev\ndev-tools/bin/box compile\n"
    (stack,), _ = analyze(
        tmp_path / "a", {"composer.json": composer, "box.json.dist": "{}", "dev-tools/build.sh": build_sh}
    )
    assert stack.build_commands == ["./dev-tools/build.sh"]
    (stack,), _ = analyze(tmp_path / "b", {"composer.json": composer, "box.json": "{}"})
    assert stack.build_commands[0].startswith("composer global require humbug/box && ")
    ant = '<project><target name="phar"/><target name="phar-snapshot"/></project>'
    (stack,), _ = analyze(tmp_path / "c", {"composer.json": composer, "build.xml": ant})
    assert stack.build_commands == ["ant phar-snapshot"]
    # A PHAR committed to the repository (Laravel Zero's builds/) is built at release by a maintainer.
    committed = {**composer, "bin": ["builds/fixer"]}
    (stack,), _ = analyze(tmp_path / "d", {"composer.json": committed, "box.json": "{}", "builds/fixer": ""})
    assert stack.build_commands == []
    # A library ships no archive.
    (stack,), _ = analyze(tmp_path / "e", {"composer.json": {"name": "acme/lib"}})
    assert stack.build_commands == []
