"""PHP: Composer projects.

A stack is a `composer.json` that is not part of another one: packages a root composer.json `replace`s or
autoloads from its own source tree (monorepo split packages) are built and tested with it, and tool manifests
(`vendor-bin/*`, bamarni's composer-bin-plugin) are not projects; nor are nested projects without tests.

Versions: `require.php` (else `config.platform.php` as the lowest supported version) intersected with the PHP
lines supported on the analysis date. Tests: Pest or PHPUnit, run through `composer test` when the project
defines that script.
"""

from __future__ import annotations

import re
from typing import Any

from autodevops.engine.detect.base import Context
from autodevops.engine.detect.builder import (
    StackBuilder,
    ancestors,
    check_pin,
    ev,
    files_under,
    frameworks_from_deps,
    is_project_path,
    is_under,
    join,
    matrix,
    paths_under,
    services_from_deps,
)
from autodevops.engine.detect.services import services_from_env
from autodevops.engine.model import Stack

PHPUNIT_CONFIGS = ("phpunit.xml", "phpunit.xml.dist", "phpunit.dist.xml")
LINTERS: tuple[tuple[str, re.Pattern[str], tuple[str, ...], str], ...] = (
    # (tool, config file name pattern, composer packages, command)
    (
        "phpstan",
        re.compile(r"phpstan[\w.\-]*\.neon(\.dist)?"),
        ("phpstan/phpstan", "larastan/larastan"),
        "vendor/bin/phpstan analyse",
    ),
    ("psalm", re.compile(r"psalm\.xml(\.dist)?"), ("vimeo/psalm", "psalm/phar"), "vendor/bin/psalm"),
    (
        "php-cs-fixer",
        re.compile(r"\.php[-_]cs(-fixer)?(\.dist)?(\.php)?"),
        ("friendsofphp/php-cs-fixer",),
        "vendor/bin/php-cs-fixer fix --dry-run --diff",
    ),
    ("phpcs", re.compile(r"\.?phpcs\.xml(\.dist)?"), ("squizlabs/php_codesniffer",), "vendor/bin/phpcs"),
    # Laravel Pint, the Laravel code style fixer (`other` in the vocabulary); `--test` checks without fixing. Not
    # where StyleCI, a hosted service, checks the style instead.
    ("other", re.compile(r"pint\.json"), ("laravel/pint",), "vendor/bin/pint --test"),
)
_LINT_SCRIPT = re.compile(r"(lint|analy[sz]e|phpstan|psalm|cs|cs-check|check-style|static-analysis|stan)", re.I)
FRAMEWORKS = {
    "symfony/framework-bundle": "symfony",
    "slim/slim": "slim",
    "cakephp/cakephp": "cakephp",
    "yiisoft/yii2": "yii",
    "laminas/laminas-mvc": "laminas",
    "drupal/core": "drupal",
    "drupal/core-recommended": "drupal",
    "codeigniter4/framework": "codeigniter",
}


def detect(ctx: Context) -> list[Stack]:
    manifests = [p for p in ctx.find("composer.json") if is_project_path(p)]
    data = {p: ctx.json(p) for p in manifests}
    data = {p: d if isinstance(d, dict) else {} for p, d in data.items()}
    by_dir = {Context.dirname(p): p for p in manifests}
    autoload = {p: _autoload_dirs(p, d) for p, d in data.items()}
    roots = [p for p in manifests if not _part_of_another(p, data, by_dir, autoload)]
    root_dirs = {Context.dirname(r): r for r in roots}
    owners = {m: _owner(m, root_dirs) for m in manifests}
    members: dict[str, list[str]] = {r: [] for r in roots}
    for m, owner in owners.items():
        if owner is not None and owner != m:
            members[owner].append(m)
    stacks = [_stack(ctx, p, data[p], members[p]) for p in roots]
    # A nested Composer project with no test suite is a tool bundle or a fixture (coding-standard installs,
    # end-to-end inputs), not a project CI tests on its own.
    return [s for s in stacks if s.path == "." or s.test_tool != "none"]


def _autoload_dirs(manifest: str, d: dict[str, Any]) -> list[str]:
    base = Context.dirname(manifest)
    out: list[str] = []
    for section in ("autoload", "autoload-dev"):
        block = d.get(section)
        if not isinstance(block, dict):
            continue
        for kind in ("psr-4", "psr-0"):
            mapping = block.get(kind)
            if isinstance(mapping, dict):
                for paths in mapping.values():
                    for p in paths if isinstance(paths, list) else [paths]:
                        if isinstance(p, str) and p.strip("/."):
                            out.append(join(base, p.strip("/")))
    return out


def _part_of_another(
    manifest: str, data: dict[str, dict[str, Any]], by_dir: dict[str, str], autoload: dict[str, list[str]]
) -> bool:
    d = Context.dirname(manifest)
    name = data[manifest].get("name")
    for parent in ancestors(d):
        other = by_dir.get(parent)
        if other is None:
            continue
        replace = data[other].get("replace")
        if isinstance(name, str) and isinstance(replace, dict) and name in replace:
            return True
        if any(is_under(d, a) for a in autoload[other]):
            return True
    return False


def _owner(manifest: str, root_dirs: dict[str, str]) -> str | None:
    d = Context.dirname(manifest)
    return next((root_dirs[a] for a in [d, *ancestors(d)] if a in root_dirs), None)


def _stack(ctx: Context, manifest: str, data: dict[str, Any], members: list[str]) -> Stack:
    directory = Context.dirname(manifest)
    b = StackBuilder(ctx, directory, "php", ev(manifest), 0.95)
    b.set("package_manager", "composer", 0.95, ev(manifest))
    b.add("manifests", [manifest, *members], 0.95, ev(manifest))
    if members:
        b.add("workspace_members", [Context.dirname(m) for m in members], 0.8, ev(manifest, key="replace"))
    require = _table(data, "require")
    require_dev = _table(data, "require-dev")
    packages = [str(k).lower() for k in [*require, *require_dev]]
    lock = Context.join(directory, "composer.lock")
    if ctx.exists(lock):
        b.add("lockfiles", [lock], 0.95, ev(lock))
    elif data.get("type") == "project":
        b.finding(
            "no-lockfile",
            "warning",
            f"{manifest}: an application (type project) without a committed composer.lock installs different "
            "dependencies on every CI run",
            ev(manifest, key="type"),
        )

    _versions(b, manifest, data, require)
    _tests(ctx, b, directory, manifest, data, require_dev)
    _phar(ctx, b, directory, manifest, data, require_dev)

    names = ctx.listdir(directory)
    # Tools installed with bamarni/composer-bin-plugin live in vendor-bin/<tool>/composer.json.
    bin_tools = {
        p.split("/")[-2].lower(): p
        for p in paths_under(ctx.find("composer.json"), Context.join(directory, "vendor-bin"))
    }
    for tool, pattern, pkgs, command in LINTERS:
        cfg = next((n for n in sorted(names) if pattern.fullmatch(n)), None)
        pkg = next((p for p in pkgs if p in packages), None)
        binp = bin_tools.get(tool)
        if tool == "other" and ctx.exists(Context.join(directory, ".styleci.yml")):
            continue  # the hosted StyleCI service checks the code style, not the project's CI
        if tool == "php-cs-fixer" and not (cfg or binp) and "pint.json" in names:
            # Pint runs PHP-CS-Fixer's rules itself from pint.json; the package alone, with no configuration of
            # its own, is Pint's engine rather than a second style check.
            continue
        if cfg or pkg or binp:
            evidence = (
                ev(Context.join(directory, cfg))
                if cfg
                else ev(manifest, key=f"require-dev.{pkg}")
                if pkg
                else ev(binp or manifest)
            )
            # A committed config says the tool is used, not that it is the whole of what CI checks: for review.
            b.add("lint_tools", [tool], 0.75 if cfg else 0.7, evidence)
            b.add("lint_commands", [command], 0.8, evidence)
    # The project's own lint entry points come first when it defines them as Composer scripts.
    scripts = _table(data, "scripts")
    own = [f"composer {name}" for name in scripts if _LINT_SCRIPT.fullmatch(str(name))]
    if own:
        b.stack.lint_commands = own + [c for c in b.stack.lint_commands if c not in own]
        b.add("lint_commands", own, 0.85, ev(manifest, key="scripts"))

    services_from_deps(b, "php", packages, manifest, confidence=0.6)
    _phpunit_services(ctx, b, directory)
    frameworks_from_deps(b, FRAMEWORKS, packages, manifest)
    # Every Laravel application ships its console entry point, `artisan`, at the project root.
    artisan = Context.join(directory, "artisan")
    if ctx.exists(artisan):
        b.add("frameworks", ["laravel"], 0.9, ev(artisan))
    return b.build()


def _versions(b: StackBuilder, manifest: str, data: dict[str, Any], require: dict[str, Any]) -> None:
    spec = require.get("php")
    # `config.platform.php` is the PHP version dependencies are resolved for: the lowest one supported, not a
    # pin of the runtime. Outside require.php, the lock resolves for a PHP the project does not support.
    config = data.get("config")
    platform = config.get("platform") if isinstance(config, dict) else None
    floor = platform.get("php") if isinstance(platform, dict) else None
    if isinstance(spec, str):
        evidence = ev(manifest, key="require.php", excerpt=spec)
        if isinstance(floor, str):
            floor_ev = ev(manifest, key="config.platform.php", excerpt=floor)
            check_pin(b, "php", floor, floor_ev, spec, evidence, flavor="composer")
        if matrix(b, "php", spec, evidence, flavor="composer", label=f"require.php {spec!r}"):
            return
    if isinstance(floor, str) and re.fullmatch(r"\d+(\.\d+)*", floor.strip()):
        evidence = ev(manifest, key="config.platform.php", excerpt=floor)
        if matrix(b, "php", f">={floor.strip()}", evidence, flavor="composer", label=f"config.platform.php {floor}"):
            return
    matrix(b, "php", None, ev(manifest), label="no declared PHP version", confidence=0.5)


def _tests(
    ctx: Context, b: StackBuilder, directory: str, manifest: str, data: dict[str, Any], require_dev: dict[str, Any]
) -> None:
    pest_file = files_under(ctx, directory, ["tests/Pest.php"])
    phpunit_cfg = files_under(ctx, directory, PHPUNIT_CONFIGS)
    tool: str | None = None
    if pest_file or "pestphp/pest" in require_dev:
        tool = "pest"
        evidence = ev(pest_file[0]) if pest_file else ev(manifest, key="require-dev.pestphp/pest")
    elif phpunit_cfg or "phpunit/phpunit" in require_dev:
        tool = "phpunit"
        evidence = ev(phpunit_cfg[0]) if phpunit_cfg else ev(manifest, key="require-dev.phpunit/phpunit")
    scripts = _table(data, "scripts")
    if tool is None:
        if "test" in scripts:
            b.set("test_tool", "other", 0.5, ev(manifest, key="scripts.test"))
            b.set("test_commands", ["composer test"], 0.8, ev(manifest, key="scripts.test"))
        return
    b.set("test_tool", tool, 0.9, evidence)
    installed = {**_table(data, "require"), **require_dev}
    package = "pestphp/pest" if tool == "pest" else "phpunit/phpunit"
    bin_dir = Context.join(directory, f"vendor-bin/{tool}/composer.json")
    # Pest brings PHPUnit along; anything else has to be required by the project itself.
    if package not in installed and "pestphp/pest" not in installed and not ctx.exists(bin_dir):
        b.finding(
            "test-runner-not-installed",
            "warning",
            f"{evidence.cite()} configures {tool}, but {manifest} does not require {package}: vendor/bin/{tool} "
            "will not exist after composer install",
            evidence,
            ev(manifest, key="require-dev"),
        )
    if "test" in scripts:
        b.set("test_commands", ["composer test"], 0.85, ev(manifest, key="scripts.test"))
    else:
        b.set("test_commands", [f"vendor/bin/{tool}"], 0.8, evidence)


BOX_CONFIGS = ("box.json", "box.json.dist")
_BOX_COMPILE = re.compile(r"\bbox(?:\.phar)?\s+compile\b")
_PHAR_TARGET = re.compile(r"<target\s+name=\"(phar(?:-snapshot)?)\"")
# Directories of the project's own scripts, where a script that builds the PHAR lives.
_SCRIPT_DIRS = ("dev-tools", "scripts", "bin", "build", "tools")


def _phar(
    ctx: Context, b: StackBuilder, directory: str, manifest: str, data: dict[str, Any], require_dev: dict[str, Any]
) -> None:
    """A command-line tool shipped as a PHAR (a Box configuration, or an Ant/Phing `phar` target) builds and
    checks the archive in CI, as the PHP tools that ship one do: the archive breaks in ways the tests of the
    sources do not see (scoped dependencies, files left out). The project's own build entry point is used.
    A PHAR committed to the repository (composer's `bin` pointing into `builds/`, the Laravel Zero layout)
    is built by a maintainer at release instead."""
    scripts = _table(data, "scripts")
    bins = data.get("bin")
    if any(isinstance(p, str) and p.split("/")[0] in ("builds",) for p in (bins if isinstance(bins, list) else [])):
        return
    box = files_under(ctx, directory, BOX_CONFIGS)
    if box:
        script = next((n for n, v in scripts.items() if _BOX_COMPILE.search(str(v))), None)
        if script is not None:
            b.set("build_commands", [f"composer {script}"], 0.7, ev(manifest, key=f"scripts.{script}"))
            return
        for d in _SCRIPT_DIRS:
            for name in sorted(ctx.listdir(Context.join(directory, d))):
                path = Context.join(directory, f"{d}/{name}")
                if name.endswith(".sh") and _BOX_COMPILE.search(ctx.text(path) or ""):
                    b.set("build_commands", [f"./{d}/{name}"], 0.7, ev(path), why="the script that builds the PHAR")
                    return
        if "humbug/box" in require_dev:
            b.set("build_commands", ["vendor/bin/box compile"], 0.6, ev(box[0]), why="a Box configuration")
        else:
            # Box is not among the project's dependencies: CI installs it first, where composer puts global tools.
            command = 'composer global require humbug/box && "$(composer global config bin-dir --absolute)/box" compile'
            b.set("build_commands", [command], 0.5, ev(box[0]), why="a Box configuration builds the PHAR")
        return
    for build_file in files_under(ctx, directory, ("build.xml",)):
        # A snapshot target builds without a release version or signing key, as CI on a push does.
        targets = sorted(_PHAR_TARGET.findall(ctx.text(build_file) or ""), key=lambda t: t != "phar-snapshot")
        if targets:
            tool = "vendor/bin/phing" if "phing/phing" in require_dev else "ant"
            b.set("build_commands", [f"{tool} {targets[0]}"], 0.6, ev(build_file, key=f"target.{targets[0]}"))
            return


def _phpunit_services(ctx: Context, b: StackBuilder, directory: str) -> None:
    """Services named by the test configuration's environment (`<env name="DB_CONNECTION" value="mysql"/>`)."""
    for cfg in files_under(ctx, directory, PHPUNIT_CONFIGS):
        root = ctx.xml(cfg)
        if root is None:
            continue
        lines = []
        for el in root.iter():
            if el.tag.rsplit("}", 1)[-1] in ("env", "server", "var") and el.get("name"):
                lines.append(f"{el.get('name')}={el.get('value', '')}")
        for service, what in services_from_env("\n".join(lines)):
            b.add("services", [service], 0.6, ev(cfg, key=what))


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}
