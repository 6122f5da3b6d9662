"""JavaScript and TypeScript projects on Node.js (npm, yarn classic/berry, pnpm, bun).

A stack is the repository root's package.json when it is a real project (it tests, builds, lints or ships
something), plus every nested package.json with its own lockfile that is not a workspace member (an asset bundle
inside a PHP framework, a release tool with its own install, a top-level documentation site that no hosting
service builds). Workspace members
are built and tested through the root, so they are not separate stacks, unless the root runs no tests at all:
then each member with tests of its own is tested on its own, and is a stack.

The package manager follows Railpack's order: the `packageManager` field, then pnpm-lock.yaml, bun.lock(b),
.yarnrc.yml, yarn.lock, and npm otherwise. Test, lint and build commands are the project's own scripts
(`npm test`, `pnpm run lint`, `yarn build`).
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

from autodevops.engine import runtimes
from autodevops.engine.detect import services as svc
from autodevops.engine.detect.base import MAX_MANIFEST_BYTES, Context, unique
from autodevops.engine.detect.builder import nearest_file
from autodevops.engine.model import Evidence, LintTool, Provenance, Service, Stack, TestTool

# Directories whose package.json files are fixtures, examples or documentation sites, not tested projects.
NON_PROJECT_PARTS = frozenset(
    {
        "node_modules",
        "bower_components",
        "test",
        "tests",
        "__tests__",
        "spec",
        "fixtures",
        "fixture",
        "__fixtures__",
        "testdata",
        "examples",
        "example",
        "samples",
        "docs",
        "doc",
        "website",
        "site",
        "vendor",
        "third_party",
        "dist",
        "build",
        "templates",
        "template",
        "playground",
        "e2e",
        "benchmarks",
        "benchmark",
        "bench",
        "demo",
        "demos",
    }
)
# Directory names like `runtime-tests`, `e2e_fixtures`, `perf-benchmarks`: auxiliary by their last word
# (plural only: `bundle-test` is a project that tests bundling).
_AUXILIARY = re.compile(r"(?:^|[-_])(?:tests|specs|fixtures|examples|samples|benchmarks|bench|demos)$", re.I)
LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock", "bun.lockb")
BUNDLER_CONFIGS = re.compile(
    r"(?:vite|webpack|rollup|esbuild|tsup|rspack|parcel|next|nuxt|astro|svelte|gulpfile|Gulpfile)"
    r"(?:\.config)?\.(?:js|mjs|cjs|ts|mts|cts)"
)
# The script that builds the package, by its conventional names.
BUILD_SCRIPTS = ("build", "compile")
PLACEHOLDER_TEST = re.compile(r"no test specified|exit 1\s*$")

# Test runners, most specific first: `node ./node_modules/jest/bin/jest.js` is jest, not node:test.
TEST_RUNNERS: tuple[tuple[re.Pattern[str], TestTool], ...] = (
    (re.compile(r"\bvitest\b"), "vitest"),
    (re.compile(r"\bjest\b"), "jest"),
    (re.compile(r"\bmocha\b"), "mocha"),
    (re.compile(r"\bava\b"), "ava"),
    (re.compile(r"\bnode\b[^&|;]*\s--test\b"), "node-test"),
    (re.compile(r"\btsx\b[^&|;]*\s--test\b"), "node-test"),  # tsx runs Node's own test runner
    (re.compile(r"\bborp\b"), "node-test"),  # borp runs files with Node's own test runner (node:test)
    (re.compile(r"\b(?:tap|tape|uvu|jasmine|karma|playwright|cypress|qunit)\b"), "other"),
)
RUNNER_PACKAGES: dict[str, TestTool] = {"vitest": "vitest", "jest": "jest", "mocha": "mocha", "ava": "ava"}
LINT_COMMANDS: tuple[tuple[re.Pattern[str], LintTool], ...] = (
    (re.compile(r"\b(?:eslint|xo|standard|next lint)\b"), "eslint"),
    (re.compile(r"\bprettier\b[^&|;]*\s(?:--check|-c|--list-different|-l)\b"), "prettier"),
    (re.compile(r"\bbiome\s+(?:check|lint|ci|format)\b"), "biome"),
    (re.compile(r"(?<![\w-])(?:tsc|vue-tsc|tsgo)\b(?![^&|;]*\s(?:-w|--watch)\b)"), "tsc"),
    (
        re.compile(
            r"\b(?:cspell|knip|dtslint|markdownlint(?:-cli2)?|stylelint|publint|oxlint|lockfile-lint"
            r"|sort-package-json --check|attw)\b"
        ),
        "other",
    ),
)
# Scripts that change files or ship things: their tools are not checks.
NON_CHECK_SCRIPT = re.compile(
    r"(?:^|[:.-])(?:fix|format|fmt|dev|start|serve|watch|release|publish|version|prepare|docs?|build\w*|bench\w*|clean|postinstall|preinstall|size\w*)$"
    r"|^(?:build|compile|bundle)(?:[:.-]|$)",
    re.I,
)
# A script named as a check (`test:format`, `check:types`, `lint:prettier`) checks whatever its last word says;
# one named as a fix (`fix:lint`, `lint:fix`) rewrites files.
_CHECK_PREFIX = re.compile(r"^(?:test|check|lint|verify|ci)[:.-]", re.I)
_FIX_SEGMENT = re.compile(r"(?:^|[:.-])fix(?:[:.-]|$)", re.I)


def non_check_script(name: str) -> bool:
    """Whether a package script changes files or ships things, so that the linters it runs are not checks."""
    if _FIX_SEGMENT.search(name):
        return True
    return not _CHECK_PREFIX.match(name) and NON_CHECK_SCRIPT.search(name) is not None


FRAMEWORKS = {
    "next": "nextjs",
    "nuxt": "nuxt",
    "react": "react",
    "vue": "vue",
    "svelte": "svelte",
    "@sveltejs/kit": "sveltekit",
    "@angular/core": "angular",
    "express": "express",
    "fastify": "fastify",
    "koa": "koa",
    "@nestjs/core": "nestjs",
    "astro": "astro",
    "@remix-run/node": "remix",
    "electron": "electron",
    "hono": "hono",
}


def detect(ctx: Context) -> list[Stack]:
    """One stack per independently installed and tested Node.js project."""
    members = _workspace_members(ctx)
    # A root that tests nothing itself leaves each member's tests to be run on their own: those members are stacks.
    separate = {m for m in members if _tests(_member_scripts(ctx, m)[1])} if not _root_tests(ctx) else set()
    stacks: list[Stack] = []
    for path in ctx.find("package.json"):
        root = Context.dirname(path)
        if root != "." and not _nested_project(ctx, root, members, separate):
            continue
        # A root whose members are tested on their own is a project only by its own scripts.
        own_members = members if root == "." and not separate else set()
        stack = _stack(ctx, root, own_members, tested_alone=root in separate)
        if stack is not None:
            stacks.append(stack)
    return stacks


def _nested_project(ctx: Context, root: str, members: set[str], separate: set[str]) -> bool:
    """Whether the package.json in directory `root` (not the repository root) is a project of its own."""
    if root in separate:
        return True
    own_lockfile = any(ctx.exists(Context.join(root, n)) for n in LOCKFILES)
    if _docs_site(root) and not _hosting_builds(ctx, root):
        if own_lockfile:
            return True  # a documentation site installed on its own is built by CI on its own
        if root in members and "build" in _member_scripts(ctx, root)[1]:
            # So is a site that is a workspace member: the root's tests never build it; CI builds it where
            # it deploys it from.
            return True
    if any(p in NON_PROJECT_PARTS or p.startswith(".") or _AUXILIARY.search(p) for p in root.split("/")):
        return False
    if root in members or _inside_member(root, members):
        return False
    # Without a lockfile, a package is a project when nothing else in the repository is Node.js: a client suite
    # in another language's repository (`other_langs/tests_js`) that tests with its own script.
    return own_lockfile or (not ctx.exists("package.json") and _tests(_member_scripts(ctx, root)[1]))


def _inside_member(root: str, members: set[str]) -> bool:
    return any(root.startswith(m + "/") for m in members)


# Top-level directories that hold a project's documentation site.
DOCS_SITE_DIRS = frozenset({"docs", "doc", "website", "site"})


def _docs_site(root: str) -> bool:
    return root in DOCS_SITE_DIRS


# Hosting services that build a site themselves from the repository (so CI does not).
HOSTING_CONFIGS = ("netlify.toml", "vercel.json")


def _hosting_builds(ctx: Context, root: str) -> bool:
    return any(ctx.exists(Context.join(d, n)) for d in (root, ".") for n in HOSTING_CONFIGS)


def _tests(scripts: dict[str, str]) -> bool:
    """Whether a package's scripts run tests: a real `test` script, or `test:*` / `test-*` ones."""
    if "test" in scripts:
        return not PLACEHOLDER_TEST.search(scripts["test"])
    return any(n.startswith(("test:", "test-")) for n in scripts)


def _root_tests(ctx: Context) -> bool:
    if not ctx.exists("package.json"):
        return False
    raw = ctx.json("package.json")
    scripts = raw.get("scripts") if isinstance(raw, dict) else None
    return isinstance(scripts, dict) and _tests({k: v for k, v in scripts.items() if isinstance(v, str)})


# ---- workspaces ----------------------------------------------------------------------------------------------


def _workspace_globs(ctx: Context) -> tuple[list[str], Evidence | None]:
    if ctx.exists("pnpm-workspace.yaml"):
        doc = ctx.yaml("pnpm-workspace.yaml")
        pkgs = doc.get("packages") if isinstance(doc, dict) else None
        if isinstance(pkgs, list):
            return [p for p in pkgs if isinstance(p, str)], Evidence(file="pnpm-workspace.yaml", key="packages")
    pkg = ctx.json("package.json") if ctx.exists("package.json") else None
    if isinstance(pkg, dict):
        ws = pkg.get("workspaces")
        if isinstance(ws, dict):
            ws = ws.get("packages")
        if isinstance(ws, list):
            return [p for p in ws if isinstance(p, str)], Evidence(file="package.json", key="workspaces")
    return [], None


def _workspace_members(ctx: Context) -> set[str]:
    globs, _ = _workspace_globs(ctx)
    include = [g for g in globs if not g.startswith("!")]
    exclude = [g[1:] for g in globs if g.startswith("!")]
    dirs = {Context.dirname(p) for p in ctx.find("package.json")} - {"."}
    return {d for d in dirs if any(_glob(g, d) for g in include) and not any(_glob(g, d) for g in exclude)}


def _glob(pattern: str, path: str) -> bool:
    p = pattern.strip().strip("/").removeprefix("./")
    rx = re.escape(p).replace(r"\*\*", "\x00").replace(r"\*", "[^/]*").replace("\x00", ".*")
    return re.fullmatch(rx, path) is not None


# ---- one stack -----------------------------------------------------------------------------------------------


class _B:
    def __init__(self, ctx: Context, root: str) -> None:
        self.ctx = ctx
        self.stack = Stack(path=root, language="javascript")

    def set(self, name: str, value: Any, confidence: float, *evidence: Evidence, why: str | None = None) -> None:
        setattr(self.stack, name, value)
        self.stack.provenance[name] = Provenance(evidence=list(evidence), confidence=confidence, justification=why)

    def finding(self, code: str, severity: str, message: str, *evidence: Evidence) -> None:
        self.ctx.finding(code, severity, message, *evidence, stack=self.stack.path)  # type: ignore[arg-type]


def _stack(ctx: Context, root: str, members: set[str], *, tested_alone: bool = False) -> Stack | None:
    j = functools.partial(Context.join, root)
    manifest = j("package.json")
    raw = ctx.json(manifest)
    pkg: dict[str, Any] = raw if isinstance(raw, dict) else {}
    scripts: dict[str, str] = (
        {k: v for k, v in (pkg.get("scripts") or {}).items() if isinstance(v, str)}
        if isinstance(pkg.get("scripts"), dict)
        else {}
    )
    deps = _names(pkg.get("dependencies"))
    dev = _names(pkg.get("devDependencies"))
    has_bundler = [n for n in ctx.listdir(root) if BUNDLER_CONFIGS.fullmatch(n)]
    lockfiles = [j(n) for n in LOCKFILES if ctx.exists(j(n))]
    real_test = "test" in scripts and not PLACEHOLDER_TEST.search(scripts["test"])
    is_project = (
        _tests(scripts)
        or any(k in scripts for k in ("build", "lint", "start", "dev"))
        or bool(has_bundler)
        or bool(members)
        or (raw is None and bool(lockfiles))
        or bool(pkg.get("main") or pkg.get("exports") or pkg.get("bin") or pkg.get("module"))
    )
    if root == "." and not is_project:
        # A package.json that only carries release tooling or editor config is not a project of its own.
        return None
    b = _B(ctx, root)
    b.stack.manifests = [manifest]
    b.stack.lockfiles = lockfiles
    b.stack.workspace_members = sorted(members)
    ev_manifest = Evidence(file=manifest)
    # A nested package with its own install (an asset bundle, a site) is often built only through its parent.
    confident = root == "." or tested_alone or real_test
    b.stack.provenance["path"] = Provenance(evidence=[ev_manifest], confidence=0.9 if confident else 0.6)
    _language(b, root, deps | dev)
    pm = _package_manager(b, root, pkg)
    _versions(b, root, pkg, tested_alone=tested_alone)
    _tooling_ceiling(b, root, scripts, deps | dev)
    _tooling_floor(b, root, scripts, deps | dev)
    _feature_floor(b, root)
    _test(b, root, pkg, scripts, deps | dev, pm)
    _lint(b, root, scripts, pm)
    if members and _delegates(scripts):
        _from_members(b, sorted(members))
    build = next((n for n in BUILD_SCRIPTS if n in scripts), None)
    if build:
        b.set(
            "build_commands",
            [_run(pm, build)],
            0.85,
            Evidence(file=manifest, key=f"scripts.{build}", excerpt=scripts[build]),
        )
    elif has_bundler and raw is None:
        b.set(
            "build_commands",
            [_run(pm, "build")],
            0.5,
            Evidence(file=j(has_bundler[0])),
            why="bundler configuration (low confidence)",
        )
    # Sorted: `deps` is a set, and its order would follow the interpreter's hash seed from run to run.
    found = svc.services_from_dependencies("node", sorted(deps))
    # A Testcontainers module among the development dependencies: the tests start that server themselves.
    found += [(svc.TESTCONTAINERS_NODE[n], n) for n in sorted(dev - deps) if n in svc.TESTCONTAINERS_NODE]
    in_process = svc.services_run_in_process("node", deps | dev)
    found = [(s, n) for s, n in found if s not in in_process]
    if found:
        services: list[Service] = unique(s for s, _ in found)  # type: ignore[assignment]
        keys = [f"dependencies.{n}" if n in deps else f"devDependencies.{n}" for _, n in found]
        b.set("services", services, 0.55, *(Evidence(file=manifest, key=k) for k in keys))
    if members:
        _test_suite_services(b, sorted(members))
    frameworks = [
        fw for name, fw in FRAMEWORKS.items() if name in deps or (name in dev and name in ("next", "nuxt", "astro"))
    ]
    if frameworks:
        b.set("frameworks", frameworks, 0.8, ev_manifest)
    _runner_not_installed(b, root, deps | dev)
    return b.stack


def _names(value: Any) -> set[str]:
    return {k for k in value if isinstance(k, str)} if isinstance(value, dict) else set()


def _run(pm: str, script: str) -> str:
    if pm == "npm":
        return "npm test" if script == "test" else f"npm run {script}"
    if pm == "bun":
        return f"bun run {script}"
    return f"{pm} {script}" if script == "test" else f"{pm} run {script}"


_TS_EXT = (".ts", ".tsx", ".mts", ".cts")
_JS_EXT = (".js", ".jsx", ".mjs", ".cjs")


# Built, vendored and test-only directories: tests and fixtures are often plain JavaScript even in a TypeScript
# project, so the project's language is read from the rest.
_SKIPPED_SOURCE_DIR = re.compile(
    r"(?:^|/)(?:node_modules|(?:[\w-]+-)?dist|build|coverage|vendor|fixtures|__fixtures__|__tests__|__mocks__|test|tests|e2e"
    r"|examples?|types|priv/static|\.[^/]*)/"  # priv/static: the bundles an Elixir/Erlang package ships, built
    r"|\.min\.js$"  # minified bundles are build output too
)
_CONFIG_SCRIPT = re.compile(r"(?:^|/)(?:eslint\.config|\.eslintrc|prettier\.config)[^/]*$")


def _script_files(ctx: Context) -> list[tuple[str, bool]]:
    """(path, is TypeScript) for the repository's own JavaScript/TypeScript sources, listed once per analysis:
    declaration files, tool configs and vendored, built or fixture directories are left out."""

    def compute() -> list[tuple[str, bool]]:
        out: list[tuple[str, bool]] = []
        for p in ctx.sizes:
            if p.endswith(_TS_EXT):
                if not p.endswith(".d.ts") and not _SKIPPED_SOURCE_DIR.search(p):
                    out.append((p, True))
            elif p.endswith(_JS_EXT) and not _SKIPPED_SOURCE_DIR.search(p) and not _CONFIG_SCRIPT.search(p):
                out.append((p, False))
        return out

    files: list[tuple[str, bool]] = ctx.memo("node.script_files", compute)
    return files


def _language(b: _B, root: str, all_deps: set[str]) -> None:
    """TypeScript when TypeScript sources outnumber JavaScript ones (declaration files do not count)."""
    prefix = "" if root == "." else root + "/"
    ts = js = ts_bytes = js_bytes = 0
    sizes = b.ctx.sizes
    for path, is_ts in _script_files(b.ctx):
        if path.startswith(prefix):
            if is_ts:
                ts += 1
                ts_bytes += sizes[path]
            else:
                js += 1
                js_bytes += sizes[path]
    # Bytes decide, as for repository languages; file counts when sizes are unknown (an index without sizes).
    typescript = ts_bytes > js_bytes if ts_bytes + js_bytes > 0 else ts > js
    if ts + js == 0:
        # No sources at all (a documentation site of Markdown pages): the site's own configuration script
        # (`.vitepress/config.mts`, `astro.config.ts`) or a tsconfig.json says which language it is written in.
        typescript = _typescript_config(b.ctx, root)
    b.stack.language = "typescript" if typescript else "javascript"
    evidence = [Evidence(file=Context.join(root, "package.json"))]
    if b.ctx.exists(Context.join(root, "tsconfig.json")):
        evidence.append(Evidence(file=Context.join(root, "tsconfig.json")))
    b.stack.provenance["language"] = Provenance(
        evidence=evidence,
        confidence=0.85 if abs(ts - js) > 5 else 0.6,
        justification=f"{ts} TypeScript ({ts_bytes:,} bytes) and {js} JavaScript ({js_bytes:,} bytes) source files",
    )


def _typescript_config(ctx: Context, root: str) -> bool:
    """Whether a package's own configuration is TypeScript: a tsconfig.json, or config scripts in TypeScript at
    its root or in its tools' dot directories (`.vitepress/`, `.storybook/`)."""
    if ctx.exists(Context.join(root, "tsconfig.json")):
        return True
    prefix = "" if root == "." else root + "/"
    dirs = [root] + [d for d in ctx.by_dir if d.startswith(prefix + ".") and "/" not in d[len(prefix) :]]
    return any(n.endswith(_TS_EXT) and not n.endswith(".d.ts") for d in dirs for n in ctx.listdir(d))


def _package_manager(b: _B, root: str, pkg: dict[str, Any]) -> str:
    ctx = b.ctx
    j = functools.partial(Context.join, root)
    field = pkg.get("packageManager")
    locks = b.stack.lockfiles
    if len({_lock_pm(p) for p in locks}) > 1:
        b.finding(
            "multiple-lockfiles",
            "warning",
            f"{root}: lockfiles of different package managers ({', '.join(locks)}); installs are ambiguous",
            *(Evidence(file=p) for p in locks),
        )
    if isinstance(field, str) and "@" in field:
        name = field.split("@", 1)[0].strip()
        if name in ("npm", "yarn", "pnpm", "bun"):
            b.set("package_manager", name, 0.95, Evidence(file=j("package.json"), key="packageManager", excerpt=field))
            return name
    # Lockfiles of the stack's own directory, then the repository root's for nested projects.
    for directory in unique([root, "."]):
        for name, pm in (
            ("pnpm-lock.yaml", "pnpm"),
            ("bun.lock", "bun"),
            ("bun.lockb", "bun"),
            (".yarnrc.yml", "yarn"),
            ("yarn.lock", "yarn"),
            ("package-lock.json", "npm"),
            ("npm-shrinkwrap.json", "npm"),
        ):
            path = Context.join(directory, name)
            if ctx.exists(path):
                b.set("package_manager", pm, 0.9 if directory == root else 0.7, Evidence(file=path))
                return pm
    b.set("package_manager", "npm", 0.6, Evidence(file=j("package.json")), why="no lockfile: npm is the default")
    b.finding(
        "no-lockfile",
        "warning",
        f"{j('package.json')}: no lockfile is committed, so CI cannot use `npm ci` and installs are not reproducible",
        Evidence(file=j("package.json")),
    )
    return "npm"


def _lock_pm(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return {
        "package-lock.json": "npm",
        "npm-shrinkwrap.json": "npm",
        "yarn.lock": "yarn",
        "pnpm-lock.yaml": "pnpm",
    }.get(name, "bun")


# ---- versions ------------------------------------------------------------------------------------------------


def _pin(ctx: Context, root: str, pkg: dict[str, Any]) -> tuple[str | None, Evidence | None]:
    """The Node.js version pinned for `root`: by its own files, else by those of an enclosing directory (nvm, fnm
    and asdf look upwards; a workspace member runs on the repository root's pin)."""
    found = _own_pin(ctx, root, pkg)
    if found[0] is None and root != ".":
        for parent in _parents(root):
            raw = ctx.json(Context.join(parent, "package.json")) if parent == "." else None
            found = _own_pin(ctx, parent, raw if isinstance(raw, dict) else {})
            if found[0] is not None:
                break
    return found


def _parents(root: str) -> list[str]:
    out = []
    while root not in (".", ""):
        root = Context.dirname(root)
        out.append(root)
    return out


def _own_pin(ctx: Context, root: str, pkg: dict[str, Any]) -> tuple[str | None, Evidence | None]:
    for name in (".nvmrc", ".node-version"):
        path = Context.join(root, name)
        if ctx.exists(path):
            for i, line in enumerate((ctx.text(path) or "").splitlines(), 1):
                value = line.split("#", 1)[0].strip()
                if value:
                    return value, Evidence(file=path, line=i, excerpt=value)
    tv = Context.join(root, ".tool-versions")
    if ctx.exists(tv):
        for i, line in enumerate((ctx.text(tv) or "").splitlines(), 1):
            parts = line.split()
            if len(parts) >= 2 and parts[0] in ("nodejs", "node"):
                return parts[1], Evidence(file=tv, line=i, excerpt=line.strip())
    volta = pkg.get("volta")
    if isinstance(volta, dict) and isinstance(volta.get("node"), str):
        return volta["node"], Evidence(file=Context.join(root, "package.json"), key="volta.node", excerpt=volta["node"])
    return None, None


def _normalize_pin(value: str) -> str:
    """A pinned version as CI should run it: an exact release stays exact (the developers run that one, and
    `node-version-file` would install it), a partial one (`24`, `v22.x`) is its release line."""
    v = value.strip().lstrip("v")
    if re.fullmatch(r"\d+\.\d+\.\d+", v):
        return v
    cycle = runtimes.cycle_of("node", v)
    if cycle and re.fullmatch(r"\d+(?:\.[\dx*]+)*", v):
        return cycle
    return value.strip()


# `FROM node:24-alpine`, `FROM --platform=$BUILDPLATFORM node:26.7.0-trixie AS assets`: the numeric tag only.
_NODE_IMAGE = re.compile(
    r"^\s*FROM\s+(?:--platform=\S+\s+)?(?:docker\.io/)?(?:library/)?node:v?(\d+(?:\.\d+){0,2})\b", re.I | re.M
)


def _image_pin(ctx: Context, root: str) -> tuple[str | None, Evidence | None]:
    """The Node.js of the image a Dockerfile in `root` itself builds the project in: the version it ships on."""
    for name in ctx.listdir(root):
        if not re.fullmatch(r"(?:Dockerfile|Containerfile)(?:\.[\w.-]+)?", name):
            continue
        path = Context.join(root, name)
        text = ctx.text(path) or ""
        m = _NODE_IMAGE.search(text)
        if m:
            line = text.count("\n", 0, m.start()) + 1
            return m.group(1), Evidence(file=path, line=line, excerpt=m.group(0).strip())
    return None, None


def _engines_floor(ctx: Context, engine: str, pin: str) -> str | None:
    """The lowest Node.js `engine` (engines.node) admits, when it is on another release line than the pin and
    still supported: a project that develops on one line and promises an older one tests both ends."""
    try:
        floor = runtimes.range_floor(engine)
    except ValueError:
        return None
    floor_line = runtimes.cycle_of("node", floor) if floor else None
    if not floor or not floor_line or floor_line == runtimes.cycle_of("node", pin):
        return None
    if runtimes.is_eol("node", floor_line, ctx.today) is not False:
        # An end-of-life floor is left out: the developers work on the pinned line, and today's test tooling
        # rarely installs on a line that old any more (the unpinned case reports it as eol-runtime).
        return None
    return floor


def _inside_node_project(ctx: Context, root: str) -> bool:
    """True when a directory above `root` has its own package.json."""
    parent = root
    while parent not in (".", ""):
        parent = Context.dirname(parent)
        if ctx.exists(Context.join(parent, "package.json")):
            return True
    return False


def _versions(b: _B, root: str, pkg: dict[str, Any], *, tested_alone: bool) -> None:
    ctx = b.ctx
    today = ctx.today
    pin, pin_ev = _pin(ctx, root, pkg)
    engines = pkg.get("engines") if isinstance(pkg.get("engines"), dict) else {}
    assert isinstance(engines, dict)
    engine = engines.get("node") if isinstance(engines.get("node"), str) else None
    eng_ev = Evidence(file=Context.join(root, "package.json"), key="engines.node", excerpt=engine) if engine else None
    if not pin and not engine:
        pin, pin_ev = _image_pin(ctx, root)
    if pin and pin_ev:
        version = _normalize_pin(pin)
        pin_allowed = True
        if engine and eng_ev and runtimes.cycle_of("node", version):
            with contextlib.suppress(ValueError):  # an unreadable range says nothing against the pin
                pin_allowed = runtimes.matches("node", version, engine)
            if not pin_allowed:
                b.finding(
                    "node-version-mismatch",
                    "warning",
                    f"{pin_ev.cite()} pins Node.js {pin}, which {eng_ev.cite()} ({engine}) does not allow",
                    pin_ev,
                    eng_ev,
                )
        floor = _engines_floor(ctx, engine, version) if engine and eng_ev and pin_allowed else None
        if floor and eng_ev:
            b.set(
                "versions",
                [floor, version],
                0.7,
                eng_ev,
                pin_ev,
                why="the lowest Node.js engines.node allows and the version the project pins",
            )
        else:
            # The developers' version; CI often tests other LTS lines beside it, so it is stated for review.
            b.set("versions", [version], 0.7, pin_ev, why="the Node.js version the project pins")
        if runtimes.is_eol("node", version, today):
            b.finding(
                "eol-runtime", "warning", f"{pin_ev.cite()} pins Node.js {pin}, past end of life on {today}", pin_ev
            )
        return
    if engine and eng_ev:
        try:
            declared = runtimes.supported_versions("node", engine, today, include_eol=True)
        except ValueError as exc:
            b.finding("invalid-version-range", "warning", f"{eng_ev.cite()}: {exc}", eng_ev)
            return
        if declared and pkg.get("private") is True and _inside_node_project(ctx, root):
            # Private tooling inside a larger project (release scripts, internal plugins) is not published for
            # others to run on many versions: it needs to work on the lowest line it allows.
            b.set("versions", declared[:1], 0.6, eng_ev, why="private package inside another project: its floor")
            return
        if declared:
            # A project tests every LTS line it claims to support, from its floor up: an end-of-life floor
            # stays in the matrix (the claim is only true if it is tested) and is reported so it gets raised.
            b.set(
                "versions",
                declared,
                0.75,
                eng_ev,
                why=f"engines.node: the LTS lines it allows, up to {today}",
            )
            expired = [c for c in declared if runtimes.is_eol("node", c, today)]
            if expired:
                b.finding(
                    "eol-runtime",
                    "warning",
                    f"{eng_ev.cite()} ({engine}) still admits end-of-life Node.js {', '.join(expired)} on {today}; "
                    "raise the minimum",
                    eng_ev,
                )
            return
    manifest = Context.join(root, "package.json")
    if _inside_node_project(ctx, root) and not tested_alone:
        return  # a nested package runs on its enclosing project's Node.js
    current = runtimes.supported_versions("node", None, today)
    if current:
        # Nothing declared: the LTS lines supported today, marked uncertain for a person (or the AI) to confirm.
        b.set(
            "versions",
            current,
            0.4,
            Evidence(file=manifest, key="engines.node", excerpt="(not declared)"),
            why=f"no Node.js version declared; the LTS lines supported on {today}",
        )


# Test-time packages whose last release stops working on newer Node.js lines, with the newest line they run on.
# The tests load them, so a cell above that line is red on the first push whatever the project's code does.
NODE_CEILINGS = {
    # esm 3.2.25 (2019, its last release) no longer compiles `import` in CommonJS files from Node.js 22 on:
    # "SyntaxError: Cannot use import statement outside a module".
    "esm": ("20", re.compile(r"(?:-r|--require)[=\s]+esm\b|require\(\s*['\"]esm['\"]\s*\)")),
}


def _tooling_ceiling(b: _B, root: str, scripts: dict[str, str], all_deps: set[str]) -> None:
    """Keep the matrix at or below the newest Node.js line the test tooling runs on, with a finding that says what
    to replace so that newer lines can be tested."""
    for package, (ceiling, loads) in NODE_CEILINGS.items():
        script = next((name for name in scripts if loads.search(scripts[name])), None)
        if package not in all_deps or script is None:
            continue
        too_new = [v for v in b.stack.versions if (m := re.match(r"\d+", v)) and int(m.group()) > int(ceiling)]
        if not too_new:
            continue
        kept = [v for v in b.stack.versions if v not in too_new] or [ceiling]
        ev = Evidence(file=Context.join(root, "package.json"), key=f"scripts.{script}", excerpt=scripts[script])
        b.set("versions", kept, 0.7, ev, why=f"the tests load {package}, which runs on Node.js {ceiling} at most")
        b.finding(
            "node-tooling-ceiling",
            "warning",
            f"{ev.cite()} loads {package}, which does not run on Node.js {', '.join(too_new)}: the matrix stops at "
            f"{kept[-1]}. Replace {package} (Node.js runs ES modules natively) to test the newer lines.",
            ev,
        )


def _tooling_floor(b: _B, root: str, scripts: dict[str, str], all_deps: set[str]) -> None:
    """Start the matrix at the oldest Node.js line the test tooling installs on.

    A range like `engines.node: ">=12"` admits lines that today's test runner no longer runs on (jest 30 needs 18,
    vitest 4 needs 20): those cells are red on the first push whatever the project's code does. The lockfile
    records each installed package's own `engines.node`; the highest floor among the test script's tools (and the
    runners installed) is where the matrix starts, with a finding that says to raise `engines.node`."""
    if len(b.stack.versions) < 2:
        return  # one version is the project's choice (a pin, a floor): nothing to narrow
    lock = _lockfile_above(b.ctx, root)
    if lock is None:
        return
    # A workspace member's tools are often the workspace root's dev dependencies (hoisted there).
    installed = set(all_deps)
    workspace_manifest = Context.join(Context.dirname(lock), "package.json")
    if workspace_manifest != Context.join(root, "package.json"):
        top = b.ctx.json(workspace_manifest)
        if isinstance(top, dict):
            installed |= _names(top.get("devDependencies")) | _names(top.get("dependencies"))
    expanded = _expand(scripts, "test") if "test" in scripts else ""
    tools = sorted(
        name
        for name in installed
        if (name in RUNNER_PACKAGES and name in all_deps)
        or (not name.startswith("@") and re.search(rf"(?<![\w@/.-]){re.escape(name)}(?![\w/-])", expanded))
    )
    needs = [(name, floor) for name in tools if (floor := _locked_node_floor(b.ctx, lock, root, name))]
    if not needs:
        return
    name, floor = max(needs, key=lambda need: runtimes.version_key(need[1]))
    ev = Evidence(file=lock, key=name, excerpt=f"engines.node >= {floor}")
    _raise_floor(
        b,
        "node-tooling-floor",
        floor,
        ev,
        f"{name} needing Node.js {floor}",
        lambda dropped, first: (
            f"{name}, which the test script runs, needs Node.js {floor} or newer ({lock}), so Node.js {dropped} "
            f"cannot run them: the matrix starts at {first}. Raise engines.node to match what is tested."
        ),
    )


# Node.js features whose use sets the oldest release a package's code runs on: (use, first release, feature). Cells
# below it fail on the first push with a SyntaxError or "is not a function" whatever else the project does.
NODE_FEATURE_FLOORS = (
    (
        re.compile(r"import\s*\{[^}]*\bsnapshot\b[^}]*\}\s*from\s*['\"]node:test['\"]|\.assert\.snapshot\("),
        "22.3.0",
        "node:test snapshots",
    ),
    (
        re.compile(r"(?:\bfrom|\brequire\(|\bimport\()\s*['\"]node:sqlite['\"]"),
        "22.13.0",
        "node:sqlite without a flag",
    ),
    (re.compile(r"\bPromise\.withResolvers\("), "22.0.0", "Promise.withResolvers"),
    (re.compile(r"\bArray\.fromAsync\("), "22.0.0", "Array.fromAsync"),
    (re.compile(r"\b(?:Object|Map)\.groupBy\("), "21.0.0", "Object.groupBy"),
    (re.compile(r"\bimport\.meta\.(?:dirname|filename)\b"), "20.11.0", "import.meta.dirname"),
)
_FEATURE_SCAN_FILES = 400  # sources read at most per package, tests first: enough to find what its tests use
_FEATURE_SCAN_BYTES = 256 * 1024
_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|__tests__|spec)/|\.(?:test|spec)\.[cm]?[jt]sx?$")


def _feature_floor(b: _B, root: str) -> None:
    """Start the matrix at the oldest Node.js release that has the features the package's code uses.

    A range like `engines.node: ">=20"` promises lines the code itself no longer runs on (a test file importing
    `snapshot` from `node:test` needs 22.3): read only when the matrix reaches below the newest such floor."""
    newest = max(int(floor.split(".")[0]) for _, floor, _ in NODE_FEATURE_FLOORS)
    if len(b.stack.versions) < 2 or all(_major(v) >= newest for v in b.stack.versions):
        return
    prefix = "" if root == "." else root + "/"
    paths = sorted(
        (path for path, _ in _script_files(b.ctx) if path.startswith(prefix)),
        key=lambda path: (not _TEST_PATH.search(path), path),
    )[:_FEATURE_SCAN_FILES]
    found: tuple[str, str, str] | None = None  # (floor, feature, path)
    for path in paths:
        try:
            text = b.ctx.source.read_bytes(path, _FEATURE_SCAN_BYTES).decode("utf-8", "replace")
        except (OSError, ValueError):
            continue
        for use, floor, feature in NODE_FEATURE_FLOORS:
            if (found is None or runtimes.version_key(floor) > runtimes.version_key(found[0])) and use.search(text):
                found = (floor, feature, path)
    if found is None:
        return
    floor, feature, path = found
    ev = Evidence(file=path, excerpt=feature)
    _raise_floor(
        b,
        "node-feature-floor",
        floor,
        ev,
        f"{path} using {feature} (Node.js {floor})",
        lambda dropped, first: (
            f"{path} uses {feature}, which Node.js {dropped} does not have (it needs {floor}): "
            f"the matrix starts at {first}. Raise engines.node to match what the code needs."
        ),
    )


def _major(version: str) -> int:
    m = re.match(r"\d+", version)
    return int(m.group()) if m else 0


def _raise_floor(b: _B, code: str, floor: str, ev: Evidence, why: str, message: Callable[[str, str], str]) -> None:
    """Drop the matrix's lines below `floor`'s release line, with a finding `code` (`message` says why, given the
    dropped lines and the first line kept); nothing when no line is dropped or none would be left."""
    line = runtimes.cycle_of("node", floor)
    if line is None:
        return
    versions = list(b.stack.versions)
    too_old = [v for v in versions if re.match(r"\d+", v) and _major(v) < int(line)]
    kept = [v for v in versions if v not in too_old]
    if not too_old or not kept:
        return
    b.set(
        "versions",
        kept,
        b.stack.provenance["versions"].confidence,
        *b.stack.provenance["versions"].evidence,
        ev,
        why=f"the lines the project allows that can run its tests, {why}",
    )
    b.finding(code, "warning", message(", ".join(too_old), kept[0]), ev)


def _lockfile_above(ctx: Context, root: str) -> str | None:
    """The npm or pnpm lockfile that installs `root`: its own, else the nearest one above (a workspace's)."""
    lock = nearest_file(ctx, root, ("package-lock.json", "pnpm-lock.yaml"))
    # An optional read: a lockfile too large to parse is skipped without a finding.
    return lock if lock is not None and ctx.sizes.get(lock, 0) <= MAX_MANIFEST_BYTES else None


def _locked_node_floor(ctx: Context, lock: str, root: str, name: str) -> str | None:
    """The lowest Node.js version `name`'s installed release declares (`engines.node` in the lockfile)."""
    if lock.endswith("package-lock.json"):
        data = ctx.json(lock)
        packages = data.get("packages") if isinstance(data, dict) else None
        if not isinstance(packages, dict):
            return None
        base = Context.dirname(lock)
        member = root if base == "." else root[len(base) + 1 :] if root != base else "."
        keys = ([f"{member}/node_modules/{name}"] if member != "." else []) + [f"node_modules/{name}"]
        entry = next((packages[k] for k in keys if isinstance(packages.get(k), dict)), None)
        engines = entry.get("engines") if entry else None
        specs = [engines["node"]] if isinstance(engines, dict) and isinstance(engines.get("node"), str) else []
    else:
        # pnpm: `  name@1.2.3:` blocks under `packages:` carry `engines: {node: ...}`. Where several releases are
        # locked, the lowest floor among them decides (a line is dropped only when no installed release runs on it).
        text = ctx.text(lock) or ""
        block = re.compile(rf"^  '?/?{re.escape(name)}@[^:\n]*:\n((?:    [^\n]*\n)+)", re.M)
        specs = [
            m.group(1).strip().strip("'\"")
            for found in block.finditer(text)
            if (m := re.search(r"^    engines: \{node: ([^}]+)\}", found.group(1), re.M))
        ]
    floors: list[str] = []
    for spec in specs:
        with contextlib.suppress(ValueError):
            if floor := runtimes.range_floor(spec):
                floors.append(floor)
    return min(floors, key=runtimes.version_key) if floors else None


# ---- tests, lint ---------------------------------------------------------------------------------------------


def _expand(scripts: dict[str, str], name: str, depth: int = 0) -> str:
    """A script's command with `npm run x` / `yarn x` / `pnpm x` references to other scripts inlined."""
    body = scripts.get(name, "")
    if depth > 5:
        return body

    def inline(m: re.Match[str]) -> str:
        ref = m.group(1)
        return f"( {_expand(scripts, ref, depth + 1)} )" if ref in scripts and ref != name else m.group(0)

    return re.sub(r"\b(?:npm run|npm run-script|yarn run|yarn|pnpm run|pnpm|bun run)\s+([\w:.-]+)", inline, body)


def _test(b: _B, root: str, pkg: dict[str, Any], scripts: dict[str, str], all_deps: set[str], pm: str) -> None:
    manifest = Context.join(root, "package.json")
    name = "test"
    if name not in scripts:
        # No `test` script but a single `test:<kind>` one (`test:playwright`): that one is the test suite.
        only = [n for n in scripts if n.startswith(("test:", "test-"))]
        name = only[0] if len(only) == 1 else name
    test = scripts.get(name)
    if test and not PLACEHOLDER_TEST.search(test):
        ev = Evidence(file=manifest, key=f"scripts.{name}", excerpt=test)
        expanded = _expand(scripts, name)
        tool = _main_runner(expanded)
        if tool is None:
            tool = next((RUNNER_PACKAGES[n] for n in RUNNER_PACKAGES if n in all_deps), None)
            if tool is None and any(pattern.search(expanded) for pattern, _ in LINT_COMMANDS):
                # `"test": "prettier --check ."`: the test script only checks style; there is no test runner.
                b.set("lint_commands", [_run(pm, name)], 0.7, ev, why="the test script runs only linters")
                return
            if tool is None:
                tool = "other"
            b.set("test_tool", tool, 0.6, ev, why="the test script's runner, from the installed packages")
        else:
            b.set("test_tool", tool, 0.85, ev, why="the runner the test script invokes")
        b.set("test_commands", [_run(pm, name)], 0.9, ev)
        return
    runner: TestTool | None = next((RUNNER_PACKAGES[n] for n in RUNNER_PACKAGES if n in all_deps), None)
    if runner:
        ev = Evidence(file=manifest, key=f"devDependencies.{runner}")
        b.set("test_tool", runner, 0.5, ev, why="runner installed but no test script (low confidence)")
        b.set("test_commands", [f"npx {runner}" if pm == "npm" else f"{pm} exec {runner}"], 0.5, ev)


def _main_runner(command: str) -> TestTool | None:
    """The runner a test script relies on most: the one it invokes most often (`borp` for fourteen suites and
    `jest` for one is a node:test project), the earlier in `TEST_RUNNERS` on a tie."""
    counts: dict[TestTool, int] = {}
    for pattern, family in TEST_RUNNERS:
        counts[family] = counts.get(family, 0) + len(pattern.findall(command))
    best = max(counts.values(), default=0)
    return next((family for family, n in counts.items() if n == best), None) if best else None


_DELEGATION = re.compile(
    r"--filter\b|\s-r\s|--recursive|--workspaces?\b|\s-ws\b|\bworkspaces foreach\b|\bturbo\b|\bnx\b|\blerna\b"
    r"|\bwsrun\b|\bultra\b"
)


def _delegates(scripts: dict[str, str]) -> bool:
    """Whether the root's scripts run the workspace members' own scripts (pnpm -r, --filter, turbo, nx...)."""
    return any(_DELEGATION.search(" " + scripts[name] + " ") for name in scripts)


def _member_scripts(ctx: Context, member: str) -> tuple[str, dict[str, str], set[str]]:
    manifest = Context.join(member, "package.json")
    raw = ctx.json(manifest)
    pkg: dict[str, Any] = raw if isinstance(raw, dict) else {}
    raw_scripts = pkg.get("scripts")
    scripts: dict[str, Any] = raw_scripts if isinstance(raw_scripts, dict) else {}
    return (
        manifest,
        {k: v for k, v in scripts.items() if isinstance(v, str)},
        _names(pkg.get("devDependencies")) | _names(pkg.get("dependencies")),
    )


def _yarn_berry(ctx: Context) -> bool:
    """Yarn 2+ (berry): configured by .yarnrc.yml or pinned by the packageManager field."""
    pkg = ctx.json("package.json") if ctx.exists("package.json") else None
    field = pkg.get("packageManager") if isinstance(pkg, dict) else None
    pinned = isinstance(field, str) and re.match(r"yarn@[2-9]", field) is not None
    return ctx.exists(".yarnrc.yml") or pinned


# Workspace members that are test suites (`tests/api-tests`, `integration-tests`, `e2e`).
_TEST_SUITE_PART = re.compile(r"(?:^|[-_])(?:tests?|spec|e2e)(?:$|[-_])", re.I)


def _test_suite_services(b: _B, members: list[str]) -> None:
    """Servers the workspace's test-suite packages connect to: a database driver a package that exists only to
    run tests depends on (even as a development dependency) is there for those tests, unlike a library
    package's optional peer drivers."""
    found: dict[Service, Evidence] = {}
    for member in members:
        if not any(_TEST_SUITE_PART.search(part) for part in member.split("/")):
            continue
        manifest, _, deps = _member_scripts(b.ctx, member)
        in_process = svc.services_run_in_process("node", deps)
        for service, name in svc.services_from_dependencies("node", sorted(deps)):
            if service not in in_process:
                found.setdefault(service, Evidence(file=manifest, key=name))
    new = [s for s in found if s not in b.stack.services]
    if not new:
        return
    prov = b.stack.provenance.get("services")
    b.stack.services = [*b.stack.services, *new]
    if prov is None:
        why = "database drivers of the workspace's test-suite packages"
        b.stack.provenance["services"] = Provenance(evidence=[found[s] for s in new], confidence=0.6, justification=why)
    else:
        prov.evidence.extend(found[s] for s in new)


def _from_members(b: _B, members: list[str]) -> None:
    """Fill what the root delegates to its workspace members: their test runner and their linters."""
    ctx = b.ctx
    runners: dict[TestTool, list[Evidence]] = {}
    linters: dict[LintTool, Evidence] = {}
    for member in members:
        manifest, scripts, deps = _member_scripts(ctx, member)
        test = scripts.get("test")
        if test and not PLACEHOLDER_TEST.search(test):
            expanded = _expand(scripts, "test")
            family: TestTool | None = next((f for pattern, f in TEST_RUNNERS if pattern.search(expanded)), None)
            family = family or next((RUNNER_PACKAGES[n] for n in RUNNER_PACKAGES if n in deps), None)
            if family:
                runners.setdefault(family, []).append(Evidence(file=manifest, key="scripts.test", excerpt=test))
        for name, body in scripts.items():
            if non_check_script(name):
                continue
            for pattern, lint in LINT_COMMANDS:
                if pattern.search(body) and lint not in linters:
                    linters[lint] = Evidence(file=manifest, key=f"scripts.{name}", excerpt=body)
    unresolved = b.stack.test_tool in ("none", "other") and b.stack.provenance.get("test_tool", None) is not None
    if runners and (unresolved or b.stack.test_tool == "none"):
        common = max(runners, key=lambda f: len(runners[f]))
        b.set("test_tool", common, 0.6, *runners[common][:3], why="the runner of the workspace members the root runs")
    builders = [m for m in members if "build" in _member_scripts(ctx, m)[1]]
    if builders and not b.stack.build_commands:
        command = {
            "npm": "npm run build --workspaces --if-present",
            "pnpm": "pnpm -r run build",
            "yarn": "yarn workspaces foreach -A run build" if _yarn_berry(ctx) else "yarn workspaces run build",
            "bun": "bun run --filter '*' build",
        }[b.stack.package_manager]
        evidence = [Evidence(file=Context.join(m, "package.json"), key="scripts.build") for m in builders[:3]]
        b.set("build_commands", [command], 0.5, *evidence, why="workspace members with a build script")
    new = [t for t in linters if t not in b.stack.lint_tools]
    if new:
        evidence = [linters[t] for t in new]
        if b.stack.lint_tools:
            prov = b.stack.provenance["lint_tools"]
            b.stack.lint_tools = [*b.stack.lint_tools, *new]
            prov.evidence.extend(evidence)
            prov.confidence = min(prov.confidence, 0.6)
        else:
            b.set("lint_tools", new, 0.6, *evidence, why="linters of the workspace members the root runs")


_SCRIPT_REF = re.compile(r"\b(?:npm run|npm run-script|yarn run|yarn|pnpm run|pnpm|bun run)\s+([\w:.-]+)")
LINT_SCRIPTS = ("lint", "typecheck", "type-check", "check", "format-check", "format:check")


def _reached(scripts: dict[str, str], name: str) -> set[str]:
    """The scripts `npm run NAME` runs: itself, its `pre`/`post` hooks, and the scripts they run in turn."""
    seen: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        if current in seen or current not in scripts:
            continue
        seen.add(current)
        pending += [f"pre{current}", f"post{current}"]
        pending += [m.group(1) for m in _SCRIPT_REF.finditer(scripts[current])]
    return seen


def _lint(b: _B, root: str, scripts: dict[str, str], pm: str) -> None:
    manifest = Context.join(root, "package.json")
    tools: dict[str, Evidence] = {}
    linting: list[str] = []  # scripts that run a linter
    for name, body in scripts.items():
        if non_check_script(name):
            continue
        for pattern, tool in LINT_COMMANDS:
            if pattern.search(body):
                tools.setdefault(tool, Evidence(file=manifest, key=f"scripts.{name}", excerpt=body))
                if name not in linting:
                    linting.append(name)
    if tools:
        b.set("lint_tools", list(tools), 0.75, *tools.values(), why="linters the package scripts run")
    # The conventional check scripts, then any other script that runs a linter, unless the test script already
    # runs it (`"test": "xo && ava"`) or a script chosen before runs it (`"lint": "npm run lint:js"`).
    in_test = _reached(scripts, "test")
    names = [n for n in LINT_SCRIPTS if n in scripts]
    names += [n for n in linting if n not in names and n not in in_test]
    chosen: list[str] = []
    for n in names:
        if not any(n in _reached(scripts, c) for c in chosen):
            chosen.append(n)
    commands = [_run(pm, n) for n in chosen]
    if commands:
        merged = unique([*b.stack.lint_commands, *commands])
        b.set("lint_commands", merged, 0.8, Evidence(file=manifest, key="scripts"))


def _runner_not_installed(b: _B, root: str, all_deps: set[str]) -> None:
    configs = {
        "jest": re.compile(r"jest\.config\.\w+"),
        "vitest": re.compile(r"vitest\.config\.\w+"),
        "mocha": re.compile(r"\.mocharc(?:\.\w+)?"),
    }
    names = b.ctx.listdir(root)
    for runner, pattern in configs.items():
        cfg = next((n for n in names if pattern.fullmatch(n)), None)
        if cfg and runner not in all_deps and b.ctx.sizes.get(Context.join(root, "package.json"), 0) > 0:
            ev = Evidence(file=Context.join(root, cfg))
            b.finding(
                "test-runner-not-installed",
                "warning",
                f"{runner} is configured ({ev.cite()}) but not a dependency of {Context.join(root, 'package.json')}",
                ev,
            )


def iter_dependency_names(pkg: dict[str, Any]) -> Iterable[str]:
    """Every dependency name a package.json declares (runtime, dev, peer, optional)."""
    for key in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        yield from _names(pkg.get(key))
