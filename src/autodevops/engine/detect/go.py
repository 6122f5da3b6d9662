"""Go: modules and `go.work` workspaces.

A stack is a Go module (`go.mod`), or a `go.work` workspace with the modules it `use`s (built and tested as one
unit). A module that no `go.work` uses is its own stack: `go test ./...` never crosses a module boundary, so
each module is tested on its own. Modules under `testdata/`, `vendor/` and similar directories are not projects.

Versions: the `go` directive is the minimum the module claims to build with, so the matrix is every Go release
from it through the newest one, end-of-life releases included (the claim is tested, and an end-of-life minimum is
reported: Go supports only its two newest releases). Numbered releases rather than setup-go's `oldstable`/`stable`
aliases: the matrix then states what it tests and the claimed minimum stays covered. A pinned `.go-version` (or an
asdf/mise pin) wins. A `toolchain` directive names the toolchain the module builds with (an older local Go
switches to it; setup-go's `go-version-file` selects it): it is the version tested, an end-of-life one reported; it
must not be older than the `go` directive.
"""

from __future__ import annotations

import posixpath
import re

from autodevops.engine import runtimes
from autodevops.engine.detect.base import Context
from autodevops.engine.detect.builder import (
    MAKEFILES,
    MakeRule,
    StackBuilder,
    ev,
    files_under,
    first_under,
    frameworks_from_deps,
    in_test_dir,
    is_project_path,
    line_of,
    make_rule,
    matrix,
    nearest_file,
    pinned,
    services_from_deps,
    tool_pin,
)
from autodevops.engine.model import OS, Evidence, LintTool, Stack

GOLANGCI_CONFIGS = (".golangci.yml", ".golangci.yaml", ".golangci.toml", ".golangci.json")
FRAMEWORKS = {
    "github.com/labstack/echo/v4": "echo",
    "github.com/labstack/echo": "echo",
    "github.com/gofiber/fiber/v2": "fiber",
    "github.com/gofiber/fiber/v3": "fiber",
    "github.com/go-chi/chi/v5": "chi",
    "github.com/go-chi/chi": "chi",
    "github.com/gorilla/mux": "gorilla-mux",
    "github.com/beego/beego/v2": "beego",
    "google.golang.org/grpc": "grpc",
    "gorm.io/gorm": "gorm",
    "github.com/urfave/cli/v2": "urfave-cli",
}
_DIRECTIVE = re.compile(r"^(go|toolchain)\s+(\S+)\s*$", re.M)
_REQUIRE_BLOCK = re.compile(r"^require\s*\((.*?)^\)", re.M | re.S)
_REQUIRE_LINE = re.compile(r"^require[ \t]+([^\s(]\S*)[ \t]+\S+", re.M)
_MODULE = re.compile(r"^module\s+(\S+)", re.M)
_USE_BLOCK = re.compile(r"^use\s*\((.*?)^\)", re.M | re.S)
_USE_LINE = re.compile(r"^use[ \t]+([^\s(]\S*)", re.M)


class _Module:
    def __init__(self, ctx: Context, manifest: str) -> None:
        self.manifest = manifest
        self.dir = Context.dirname(manifest)
        self.text = ctx.text(manifest) or ""
        text = _strip_comments(self.text)
        m = _MODULE.search(text)
        self.path = m.group(1).strip('"') if m else ""
        self.directives: dict[str, tuple[str, int]] = {}
        for d in _DIRECTIVE.finditer(text):
            self.directives[d.group(1)] = (d.group(2), line_of(text, d.start()))
        # Indirect requirements are dependencies of dependencies: they say nothing about this module's needs.
        direct = "\n".join(line for line in self.text.splitlines() if "// indirect" not in line)
        direct = _strip_comments(direct)
        requires = [
            line.split()[0] for blk in _REQUIRE_BLOCK.findall(direct) for line in blk.splitlines() if line.split()
        ]
        requires += _REQUIRE_LINE.findall(direct)
        self.requires = [r.strip('"') for r in requires]


def _strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", text)


def detect(ctx: Context) -> list[Stack]:
    candidates = [
        _Module(ctx, p)
        for p in ctx.find("go.mod")
        if is_project_path(p, allow_test_dirs=True)
        or (is_project_path(p, allow_test_dirs=True, allow_doc_dirs=True) and _tested_docs(ctx, p))
    ]
    root_path = next((m.path for m in candidates if m.dir == "."), "")
    modules = [m for m in candidates if not _ignored_by_go(m.manifest) and _own_module(m, root_path)]
    if not modules:
        return []
    works = [p for p in ctx.find("go.work") if is_project_path(p)]
    # Each go.work claims the modules it uses; a module is claimed by the nearest go.work that uses it.
    claimed: dict[str, str] = {}
    work_uses: dict[str, list[str]] = {}
    for work in works:
        wdir = Context.dirname(work)
        text = _strip_comments(ctx.text(work) or "")
        uses = [u for blk in _USE_BLOCK.findall(text) for u in blk.split()] + _USE_LINE.findall(text)
        dirs = [posixpath.normpath(Context.join(wdir, u.strip('"'))) for u in uses if u != "("]
        work_uses[work] = dirs
        for m in modules:
            if m.dir in dirs and (m.manifest not in claimed or len(wdir) > len(Context.dirname(claimed[m.manifest]))):
                claimed[m.manifest] = work
    stacks: list[Stack] = []
    for work, _dirs in work_uses.items():
        members = [m for m in modules if claimed.get(m.manifest) == work]
        if members:
            stacks.append(_stack(ctx, Context.dirname(work), members, work))
    # A module a go.work uses is built by its choice; any other must have code of its own.
    for m in _with_code(ctx, [m for m in modules if m.manifest not in claimed]):
        stacks.append(_stack(ctx, m.dir, [m], None))
    return stacks


def _tested_docs(ctx: Context, manifest: str) -> bool:
    """Whether a module in a documentation directory has tests (`docs/ex/..._test.go`): documentation whose
    examples are compiled and tested is code CI runs like any other module, not pages."""
    prefix = Context.dirname(manifest) + "/"
    return any(path.startswith(prefix) and path.endswith("_test.go") for path in _go_sources(ctx))


def _go_sources(ctx: Context) -> list[str]:
    """Every Go source file of the repository, listed once per analysis."""
    sources: list[str] = ctx.memo("go.sources", lambda: ctx.find_matching(_GO_SOURCE))
    return sources


def _own_module(module: _Module, root_path: str) -> bool:
    """Whether a module is one of the repository's own. Inside a test directory, only a module named under the
    root module's path is: an integration-test module `go test ./...` at the root never reaches, so CI tests it on
    its own; other modules there are sample inputs of the tests (Go keeps fixtures in `testdata/`, excluded
    anyway)."""
    if not in_test_dir(module.manifest):
        return True
    return bool(root_path) and module.path.startswith(root_path + "/")


_GO_SOURCE = re.compile(r"[^.].*\.go")
_TOOLS_CONSTRAINT = re.compile(r"^//(?:go:build|\s*\+build)\s+tools\s*$", re.M)


def _with_code(ctx: Context, modules: list[_Module]) -> list[_Module]:
    """The modules with code of their own to build and test. A nested go.mod with no Go file (one that only
    fences off assets or docs from the enclosing module) or whose only files are `//go:build tools` files
    (a module that pins the versions of developer tools) has no package: `go test ./...` finds nothing
    there, and no CI tests it. The root module is the repository's project whatever it holds. (A file in a
    module nested deeper belongs to that module, so each is counted for the nearest of `modules` only.)"""
    if all(m.dir == "." for m in modules):
        return modules  # the common single-module repository: nothing nested to weigh (and no file walk)
    dirs = {m.dir for m in modules}
    own: dict[str, list[str]] = {d: [] for d in dirs}
    for path in _go_sources(ctx):
        d = Context.dirname(path)
        while d not in dirs and d != ".":
            d = Context.dirname(d)
        rel = path[len(d) + 1 :] if d != "." else path
        if d in dirs and not _ignored_by_go(rel) and not {"testdata", "vendor"} & set(rel.split("/")[:-1]):
            own[d].append(path)
    return [m for m in modules if m.dir == "." or not _tools_only(ctx, own[m.dir])]


def _tools_only(ctx: Context, sources: list[str]) -> bool:
    """Whether a module has no Go file, or only files built with the `tools` tag (a handful at most)."""
    if len(sources) > 5:
        return False
    return all(_TOOLS_CONSTRAINT.search(ctx.text(p) or "") for p in sources)


def _ignored_by_go(path: str) -> bool:
    # The go command ignores directories starting with "." or "_" and directories named testdata.
    return any(part.startswith((".", "_")) for part in path.split("/")[:-1])


# Go builds `name_GOOS.go` and `name_GOOS_GOARCH.go` only on that system (and their `_test` forms).
_PLATFORM_SOURCE = re.compile(r"\w+_(windows|darwin)(?:_(?:amd64|arm64|386|arm))?(?:_test)?\.go")


def _platforms(b: StackBuilder, ctx: Context, members: list[_Module]) -> None:
    """Code built only on Windows or macOS (`_windows.go`, `_darwin_arm64.go` files) is code the maintainers
    test there: the test job gets those runners beside Linux."""
    sources = ctx.memo("go.platform_sources", lambda: ctx.find_matching(_PLATFORM_SOURCE))
    found: dict[str, str] = {}
    for m in members:
        prefix = "" if m.dir == "." else m.dir + "/"
        for path in sources:
            if path.startswith(prefix) and is_project_path(path):
                match = _PLATFORM_SOURCE.fullmatch(posixpath.basename(path))
                if match:
                    found.setdefault("windows" if match.group(1) == "windows" else "macos", path)
    if not found:
        return
    oses: list[OS] = ["linux"]
    if "macos" in found:
        oses.append("macos")
    if "windows" in found:
        oses.append("windows")
    b.set("operating_systems", oses, 0.6, *(ev(p) for p in found.values()), why="platform-specific sources")


def _stack(ctx: Context, directory: str, members: list[_Module], work: str | None) -> Stack:
    main = next((m for m in members if m.dir == directory), members[0])
    anchor = work or main.manifest
    b = StackBuilder(ctx, directory, "go", ev(anchor), 0.95)
    if directory != ".":
        # A nested module may be an example, a tool or a generator that CI never tests on its own.
        b.stack.provenance["path"].confidence = 0.7
    b.set("package_manager", "go", 0.95, ev(anchor))
    b.add("manifests", [*([work] if work else []), *(m.manifest for m in members)], 0.95, ev(anchor))
    if work:
        b.add("workspace_members", [m.dir for m in members], 0.95, ev(work, key="use"))
    sums = [s for m in members if ctx.exists(s := Context.join(m.dir, "go.sum"))]
    if work and ctx.exists(ws := Context.join(directory, "go.work.sum")):
        sums.append(ws)
    b.add("lockfiles", sums, 0.95, *(ev(s) for s in sums))
    if not sums and any(m.requires for m in members):
        b.finding(
            "no-lockfile",
            "warning",
            f"{main.manifest} has requirements but no go.sum is committed; builds cannot verify module checksums",
            ev(main.manifest),
        )

    _versions(b, members, work)

    test_cmd = "go test ./..." if not work else "go test " + " ".join(_pkg_pattern(directory, m.dir) for m in members)
    b.set("test_tool", "go-test", 0.95, ev(main.manifest), why="Go's built-in test runner")
    make_test = make_rule(ctx, directory, "test")
    if make_test:
        b.set(
            "test_commands",
            ["make test"],
            0.8,
            ev(make_test.makefile, key="test", line=make_test.line),
            why="the project's own test entry point (build tags, race detector, coverage live there)",
        )
    else:
        b.set("test_commands", [test_cmd], 0.85, ev(main.manifest))

    # golangci-lint reads its config from the module directory (or the workspace root), else from the nearest
    # parent; a parent that is itself a module keeps its config to itself in practice (the linter runs there).
    # Without one, the toolchain's own checks are the baseline.
    cfg = _golangci_config(ctx, directory)
    if cfg:
        # golangci-lint is run; CI often runs more checkers beside it (formatters, spell checkers): for review.
        b.add("lint_tools", ["golangci-lint"], 0.75, ev(cfg))
        b.add("lint_commands", ["golangci-lint run"], 0.9, ev(cfg))
    else:
        why = "standard checks shipped with the Go toolchain"
        b.add("lint_tools", ["gofmt", "go-vet"], 0.5, ev(main.manifest), why=why)
        b.add("lint_commands", ['test -z "$(gofmt -l .)"', "go vet ./..."], 0.5, ev(main.manifest), why=why)

    make_lint = make_rule(ctx, directory, "lint")
    if make_lint:
        make_ev = ev(make_lint.makefile, key="lint", line=make_lint.line)
        ran = _linters_in(_make_body(ctx, directory, make_lint))
        if cfg and ran and "golangci-lint" not in ran:
            # The project's own lint entry point runs other linters: the golangci-lint configuration is kept for
            # editors or left over, and a first run of it would fail on whatever it was never checked against.
            b.finding(
                "unused-lint-config",
                "info",
                f"{cfg} configures golangci-lint, but `make lint` runs {', '.join(ran)} instead; not run in CI",
                ev(cfg),
                make_ev,
            )
            cfg = None
        if ran and not cfg:
            # What the entry point runs replaces the toolchain's baseline checks. Linters outside the toolchain
            # must be installed first: by the target the Makefile keeps for that (`make init`), when it has one.
            body = _make_body(ctx, directory, make_lint)
            setup = None if _GO_INSTALL.search(body) else _install_target(ctx, directory, body)
            b.set("lint_tools", ran, 0.8, make_ev, why="what `make lint` runs")
            b.set("lint_commands", [*([f"make {setup}"] if setup else []), "make lint"], 0.8, make_ev)
        else:
            b.add("lint_tools", ran, 0.8, make_ev)
            b.add("lint_commands", ["make lint"], 0.8, make_ev)
    if directory != "." and not make_lint:
        inherited = _root_lints(ctx).get(directory)
        if inherited:
            # The root's lint target walks this module too (`cd $(mod) && golangci-lint run` over MODULE_DIRS):
            # its linters are this module's, and golangci-lint finds the root's configuration from here.
            tools, root_ev = inherited
            b.set("lint_tools", tools, 0.7, root_ev, why="the root's lint target runs them in this module")
            if "golangci-lint" in tools:
                b.set("lint_commands", ["golangci-lint run"], 0.7, root_ev)
    staticcheck = files_under(ctx, directory, ["staticcheck.conf"]) or files_under(ctx, ".", ["staticcheck.conf"])
    if staticcheck:
        b.add("lint_tools", ["staticcheck"], 0.85, ev(staticcheck[0]))
        b.add("lint_commands", ["staticcheck ./..."], 0.8, ev(staticcheck[0]))

    # A build step matters when the module produces a program (a main package at its root or under cmd/);
    # go vet and go test already compile libraries, and example programs are not deliverables.
    all_mains = ctx.find("main.go")  # sorted
    program: str | None = None
    for m in members:
        program = first_under(all_mains, Context.join(m.dir, "cmd"))
        if ctx.exists(Context.join(m.dir, "main.go")):
            program = Context.join(m.dir, "main.go")
        if program:
            break
    if program and not _is_example(directory):
        b.set("build_commands", ["go build ./..."], 0.7, ev(program))

    _platforms(b, ctx, members)
    for m in members:
        # A client library's own tests need its server: the module's own path counts like a dependency.
        names = [m.path, *m.requires]
        services_from_deps(b, "go", names, m.manifest, confidence=0.5)
        frameworks_from_deps(b, FRAMEWORKS, m.requires, m.manifest)
    return b.build()


# Go linters a lint target runs, and their vocabulary names (`other` for linters outside it).
_GO_LINTERS: tuple[tuple[re.Pattern[str], LintTool], ...] = (
    (re.compile(r"(?<![\w-])golangci-lint\s+run\b"), "golangci-lint"),
    (re.compile(r"(?<![\w-])staticcheck\b"), "staticcheck"),
    (re.compile(r"(?<![\w-])gofmt\b"), "gofmt"),
    (re.compile(r"(?<![\w-])go\s+vet\b"), "go-vet"),
    (re.compile(r"(?<![\w-])(?:golint|revive|gofumpt|goimports|errcheck|ineffassign|misspell)\b"), "other"),
)


def _linters_in(body: str) -> list[LintTool]:
    return [tool for pattern, tool in _GO_LINTERS if pattern.search(body)]


_GO_INSTALL = re.compile(r"(?<![\w-])go\s+install\s+(\S+)")
_MAKE_TARGET = re.compile(r"^([A-Za-z][\w.-]*)[ \t]*:(?!=)", re.M)
_PROGRAM_WORD = re.compile(r"(?<![\w$/{(.-])([a-z][\w-]*)\b")


def _install_target(ctx: Context, directory: str, body: str) -> str | None:
    """The Makefile target that `go install`s a program the lint recipe runs (`init`, `tools`), if any."""
    makefile = next((p for p in (Context.join(directory, n) for n in MAKEFILES) if ctx.exists(p)), None)
    if makefile is None:
        return None
    words = set(_PROGRAM_WORD.findall(body))
    targets: list[str] = _MAKE_TARGET.findall(ctx.text(makefile) or "")
    for target in targets:
        rule = make_rule(ctx, directory, target)
        installed = (
            {m.split("@")[0].rstrip("/").rsplit("/", 1)[-1] for m in _GO_INSTALL.findall(rule.recipe)}
            if rule
            else set()
        )
        if installed & words:
            return target
    return None


_MAKE_VARIABLE = re.compile(r"^(?:export\s+)?([A-Za-z_]\w*)\s*[:?+]?=[ \t]*(.*)$", re.M)
_MAKE_REFERENCE = re.compile(r"\$[({]([A-Za-z_]\w*)[)}]")


def _root_lints(ctx: Context) -> dict[str, tuple[list[LintTool], Evidence]]:
    """The nested module directories the root Makefile's lint target names (itself, the targets it depends on,
    and the variables they use), each with the linters that target runs."""

    def compute() -> dict[str, tuple[list[LintTool], Evidence]]:
        rule = make_rule(ctx, ".", "lint")
        if rule is None:
            return {}
        body = _make_body(ctx, ".", rule)
        tools = _linters_in(body)
        if not tools:
            return {}
        variables = {m.group(1): m.group(2) for m in _MAKE_VARIABLE.finditer(ctx.text(rule.makefile) or "")}
        expanded = _MAKE_REFERENCE.sub(lambda m: variables.get(m.group(1), m.group(0)), body)
        words = {w.removeprefix("./").rstrip("/") for w in re.split(r"[\s;&|(),]+", expanded)}
        evidence = ev(rule.makefile, key="lint", line=rule.line)
        return {w: (tools, evidence) for w in words if w and w != "." and ctx.exists(Context.join(w, "go.mod"))}

    result: dict[str, tuple[list[LintTool], Evidence]] = ctx.memo("go.root_lints", compute)
    return result


def _make_body(ctx: Context, directory: str, rule: MakeRule, depth: int = 0) -> str:
    """A Makefile rule's recipe with the recipes of the targets it depends on (`lint: golangci-lint vet`)."""
    parts = [rule.recipe]
    if depth < 3:
        for name in rule.prerequisites:
            prerequisite = make_rule(ctx, directory, name)
            if prerequisite is not None and prerequisite != rule:
                parts.append(_make_body(ctx, directory, prerequisite, depth + 1))
    return "\n".join(parts)


def _golangci_config(ctx: Context, directory: str) -> str | None:
    # golangci-lint searches upward, but never into an enclosing module.
    return nearest_file(ctx, directory, GOLANGCI_CONFIGS, boundary="go.mod")


def _pkg_pattern(root: str, module_dir: str) -> str:
    rel = module_dir if root in ("", ".") else module_dir[len(root) + 1 :] if module_dir != root else "."
    return "./..." if rel in (".", "") else f"./{rel}/..."


def _is_example(directory: str) -> bool:
    return any(part in ("example", "examples", "_examples") for part in directory.split("/"))


def _versions(b: StackBuilder, members: list[_Module], work: str | None) -> None:
    # The workspace's own go directive governs a workspace; otherwise the highest minimum among its modules.
    sources: list[tuple[str, int, str]] = []
    if work:
        text = _strip_comments(b.ctx.text(work) or "")
        for d in _DIRECTIVE.finditer(text):
            if d.group(1) == "go":
                sources.append((d.group(2), line_of(text, d.start()), work))
    if not sources:
        sources = [(m.directives["go"][0], m.directives["go"][1], m.manifest) for m in members if "go" in m.directives]
    if not sources:
        return
    version, line, file = max(sources, key=lambda s: _vkey(s[0]))
    pin = _pinned_toolchain(b.ctx, b.path)
    evidence = ev(file, key="go", line=line, excerpt=f"go {version}")
    floor = runtimes.cycle_of("go", version)
    for m in members:
        tc = m.directives.get("toolchain")
        if tc and _vkey(tc[0].removeprefix("go")) < _vkey(version):
            b.finding(
                "toolchain-below-go-directive",
                "error",
                f"{m.manifest}: toolchain {tc[0]} is older than the go {version} directive it must satisfy",
                ev(m.manifest, key="toolchain", line=tc[1]),
                evidence,
            )
        elif tc and runtimes.is_eol("go", tc[0], b.ctx.today):
            b.finding(
                "eol-runtime",
                "warning",
                f"{m.manifest}: toolchain {tc[0]} is an end-of-life Go release on {b.ctx.today.isoformat()}",
                ev(m.manifest, key="toolchain", line=tc[1]),
            )
    if pin:
        pin_version, pin_ev = pin
        if _vkey(pin_version) < _vkey(version):
            b.finding(
                "toolchain-below-go-directive",
                "error",
                f"{pin_ev.cite()} pins Go {pin_version}, older than the go {version} directive of {file}",
                pin_ev,
                evidence,
            )
        pinned(b, "go", runtimes.cycle_of("go", pin_version) or pin_version, pin_ev)
        return
    # The toolchain the modules name is the one their builds use (a local Go older than it switches to it, and
    # setup-go's go-version-file selects it): test that release, as the maintainers do, even past its end of life
    # (reported above).
    toolchains = [
        (tc[0].removeprefix("go"), tc[1], m.manifest) for m in members if (tc := m.directives.get("toolchain"))
    ]
    if toolchains:
        tc_version, tc_line, tc_file = max(toolchains, key=lambda t: _vkey(t[0]))
        if _vkey(tc_version) >= _vkey(version):
            tc_ev = ev(tc_file, key="toolchain", line=tc_line, excerpt=f"toolchain go{tc_version}")
            # CI often tests the newest release beside it: stated for review.
            b.set("versions", [tc_version], 0.7, tc_ev, why="the toolchain directive")
            return
    if floor is None:
        return

    def at_least(cycle: str) -> bool:
        return _vkey(cycle) >= _vkey(floor)

    if not matrix(b, "go", at_least, evidence, label=f"go {version} and newer"):
        # Newer than every release the table knows: the directive itself is the only version to test.
        pinned(b, "go", floor, evidence, confidence=0.7)


def _pinned_toolchain(ctx: Context, directory: str) -> tuple[str, Evidence] | None:
    """A Go version pinned for developers: `.go-version`, or `golang`/`go` for asdf or mise."""
    for d in dict.fromkeys([directory, "."]):
        gv = Context.join(d, ".go-version")
        text = ctx.text(gv) if ctx.exists(gv) else None
        if text and text.strip():
            return text.strip().split()[0], ev(gv, line=1)
    return tool_pin(ctx, directory, ("golang", "go"))


def _vkey(v: str) -> tuple[int, ...]:
    """A comparable version: `1.23` and `1.23.0` compare equal."""
    nums = [int(p) for p in re.findall(r"\d+", v)][:3]
    return tuple(nums + [0] * (3 - len(nums)))
