"""Rust: Cargo packages and workspaces.

A stack is a Cargo workspace (built and tested as one unit, members listed) or a package that belongs to no
workspace. A package that declares its own empty `[workspace]` (the usual way to keep `fuzz/` crates out of the
enclosing workspace) or that the enclosing workspace excludes is its own stack.

Versions: a `rust-toolchain(.toml)` pin wins; otherwise the declared MSRV (`rust-version` of the workspace, else
of each member) plus `stable` and `beta`; no MSRV job when no crate of the stack is published (the minimum is a
promise to downstream users), and `nightly` too when a crate has an `unstable` feature or a crate root (library,
binary, test, bench, example) with an unconditional `#![feature(...)]`: nightly-only code. Rust
supports only its latest stable release, so there is no end-of-life table to intersect with.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from typing import Any

from autodevops.engine.detect import entrypoints
from autodevops.engine.detect.base import Context, unique
from autodevops.engine.detect.builder import (
    StackBuilder,
    ev,
    files_under,
    frameworks_from_deps,
    is_project_path,
    is_under,
    join,
    line_of,
    nearest_file,
    paths_under,
    relpath,
    services_from_deps,
)
from autodevops.engine.model import OS, Evidence, Service, Stack

FRAMEWORKS = {
    "axum": "axum",
    "actix-web": "actix-web",
    "rocket": "rocket",
    "warp": "warp",
    "poem": "poem",
    "tide": "tide",
    "salvo": "salvo",
    "leptos": "leptos",
    "dioxus": "dioxus",
    "yew": "yew",
    "tauri": "tauri",
    "bevy": "bevy",
    "tokio": "tokio",
    "pyo3": "pyo3",
}
_NUMERIC = re.compile(r"^\d+\.\d+(\.\d+)?$")


class _Crate:
    def __init__(self, manifest: str, data: dict[str, Any]) -> None:
        self.manifest = manifest
        self.dir = Context.dirname(manifest)
        self.data = data
        pkg = data.get("package")
        self.package: dict[str, Any] = pkg if isinstance(pkg, dict) else {}
        ws = data.get("workspace")
        self.workspace: dict[str, Any] | None = ws if isinstance(ws, dict) else None

    @property
    def is_fuzz(self) -> bool:
        meta = self.package.get("metadata")
        if isinstance(meta, dict) and meta.get("cargo-fuzz"):
            return True
        return "libfuzzer-sys" in _deps(self.data) and posixpath.basename(self.dir) == "fuzz"


def _deps(data: dict[str, Any]) -> list[str]:
    """Dependency names from every dependency table, including target-specific and workspace ones."""
    names: list[str] = []

    def take(table: Any) -> None:
        for kind in ("dependencies", "dev-dependencies", "build-dependencies"):
            deps = table.get(kind) if isinstance(table, dict) else None
            if isinstance(deps, dict):
                for name, spec in deps.items():
                    # `foo = { package = "bar" }` renames: the real crate is `bar`
                    real = spec.get("package") if isinstance(spec, dict) else None
                    names.append(str(real or name))

    take(data)
    targets = data.get("target")
    if isinstance(targets, dict):
        for t in targets.values():
            take(t)
    ws = data.get("workspace")
    if isinstance(ws, dict):
        take(ws)
    return names


def _globs(value: Any) -> list[str]:
    return [str(v).strip("/") for v in value] if isinstance(value, list) else []


def _excluded(ws: _Crate, crate: _Crate) -> bool:
    """Whether `crate` lies under one of workspace `ws`'s `exclude` paths."""
    assert ws.workspace is not None
    rel = relpath(crate.dir, ws.dir)
    return any(rel == e or rel.startswith(e + "/") for e in _globs(ws.workspace.get("exclude")))


def _member_of(ws: _Crate, crate: _Crate) -> bool:
    """Whether `crate` is a member of workspace `ws` by its `members` globs (minus `exclude`); members by path
    dependency are `_implicit_members`."""
    assert ws.workspace is not None
    if crate is ws:
        return True
    if not is_under(crate.dir, ws.dir) or _excluded(ws, crate):
        return False
    members = _globs(ws.workspace.get("members")) + _globs(ws.workspace.get("default-members"))
    return any(fnmatch.fnmatchcase(relpath(crate.dir, ws.dir), posixpath.normpath(g)) for g in members)


def _implicit_members(ws: _Crate, crates: list[_Crate]) -> set[str]:
    """The directories of the crates that are members of `ws` because a member depends on them by path: Cargo
    makes every path dependency inside the workspace directory a member (an example's own library crates)."""
    members = [c for c in crates if _member_of(ws, c)]
    seen = {c.dir for c in members}
    found: set[str] = set()
    while members:
        deps: set[str] = set().union(*(_path_deps(m) for m in members))
        members = [c for c in crates if c.dir in deps and c.dir not in seen and is_under(c.dir, ws.dir)]
        members = [c for c in members if not _excluded(ws, c)]
        seen.update(c.dir for c in members)
        found.update(c.dir for c in members)
    return found


def _orphan(ws: _Crate, crate: _Crate, crates: list[_Crate]) -> bool:
    """Whether `crate`, inside workspace `ws` but not a member, is neither excluded from it nor a path
    dependency of another crate (which would make it a member implicitly, or be built through that crate)."""
    if _excluded(ws, crate):
        return False
    return not any(crate.dir in _path_deps(other) for other in crates if other is not crate)


def _path_deps(crate: _Crate) -> set[str]:
    """Directories of `crate`'s path dependencies (every dependency table, target-specific ones included)."""
    found: set[str] = set()

    def take(table: Any) -> None:
        for kind in ("dependencies", "dev-dependencies", "build-dependencies"):
            deps = table.get(kind) if isinstance(table, dict) else None
            if isinstance(deps, dict):
                for spec in deps.values():
                    if isinstance(spec, dict) and isinstance(spec.get("path"), str):
                        found.add(posixpath.normpath(posixpath.join(crate.dir, spec["path"])))

    take(crate.data)
    targets = crate.data.get("target")
    if isinstance(targets, dict):
        for t in targets.values():
            take(t)
    if crate.workspace is not None:
        take(crate.workspace)
    return found


def detect(ctx: Context) -> list[Stack]:
    crates: list[_Crate] = []
    for manifest in ctx.find("Cargo.toml"):
        if not is_project_path(manifest):
            continue
        data = ctx.toml(manifest)
        crates.append(_Crate(manifest, data if data is not None else {}))
    if not crates:
        return []
    workspaces = [c for c in crates if c.workspace is not None]
    owner: dict[str, _Crate] = {}
    implicit: dict[str, set[str]] = {}  # per workspace root manifest: its implicit members' directories
    for crate in crates:
        if crate.workspace is not None:
            owner[crate.manifest] = crate
            continue
        # Cargo looks upward for the nearest workspace root; the crate belongs to it only if it is a member
        # (an excluded crate is built on its own).
        nearest = max(
            (w for w in workspaces if w is not crate and is_under(crate.dir, w.dir)),
            key=lambda w: len(w.dir) if w.dir != "." else 0,
            default=None,
        )
        # `package.workspace = "../.."` names the root explicitly instead of the upward search.
        explicit = crate.package.get("workspace")
        if isinstance(explicit, str):
            target = join(crate.dir, explicit)
            nearest = next((w for w in workspaces if w.dir == target), nearest)
        if nearest is not None and nearest.manifest not in implicit:
            implicit[nearest.manifest] = _implicit_members(nearest, crates)
        if nearest is not None and (_member_of(nearest, crate) or crate.dir in implicit[nearest.manifest]):
            owner[crate.manifest] = nearest
        elif nearest is not None and not isinstance(explicit, str) and _orphan(nearest, crate, crates):
            # Cargo refuses to build a package that sits inside a workspace without being a member or excluded
            # ("current package believes it's in a workspace when it's not"): a crate left out of the
            # workspace (deprecated, moved away) is not built by CI.
            continue
        else:
            owner[crate.manifest] = crate
    groups: dict[str, list[_Crate]] = {}
    for c in crates:
        if c.manifest not in owner:
            continue
        groups.setdefault(owner[c.manifest].manifest, []).append(c)
    by_manifest = {c.manifest: c for c in crates}
    return [
        _stack(ctx, by_manifest[root], members)
        for root, members in groups.items()
        if not _built_by_msbuild(ctx, by_manifest[root].dir)
    ]


_MSBUILD_PROJECT = re.compile(r".+\.(?:csproj|fsproj|vbproj)")
_CARGO_EXEC = re.compile(r"<Exec\b[^>]*\bcargo\s+build\b[^>]*>", re.S)


def _built_by_msbuild(ctx: Context, directory: str) -> bool:
    """Whether a .NET project in the parent directory builds this crate (`<Exec Command="cargo build --release"
    WorkingDirectory="$(ProjectDir)/rust"/>`): a native library of that project, built by `dotnet build`."""
    if directory == ".":
        return False
    parent, _, name = directory.rpartition("/")
    parent = parent or "."
    for project in ctx.listdir(parent):
        if _MSBUILD_PROJECT.fullmatch(project):
            for m in _CARGO_EXEC.finditer(ctx.text(Context.join(parent, project)) or ""):
                if re.search(rf"WorkingDirectory=\"[^\"]*\b{re.escape(name)}/?\"", m.group(0)):
                    return True
    return False


def _stack(ctx: Context, root: _Crate, members: list[_Crate]) -> Stack:
    manifest = root.manifest
    b = StackBuilder(ctx, root.dir, "rust", ev(manifest), 0.95)
    if root.dir != ".":
        # A package outside the root workspace (fuzz targets, a sample) may be one CI never builds on its own.
        b.stack.provenance["path"].confidence = 0.7
    b.set("package_manager", "cargo", 0.95, ev(manifest))
    b.add("manifests", [c.manifest for c in members], 0.95, ev(manifest))
    member_dirs = [c.dir for c in members if c is not root]
    is_workspace = root.workspace is not None and bool(member_dirs)
    if root.workspace is not None and member_dirs:
        b.add("workspace_members", member_dirs, 0.9, ev(manifest, key="workspace.members"))
    lock = Context.join(root.dir, "Cargo.lock")
    if ctx.exists(lock):
        b.add("lockfiles", [lock], 0.95, ev(lock))
    elif _has_binary(ctx, members):
        b.finding(
            "no-lockfile",
            "warning",
            f"{manifest}: the project builds a binary but commits no Cargo.lock, so CI builds are not reproducible",
            ev(manifest),
        )

    _versions(ctx, b, root, members)
    fuzz = root.is_fuzz and not member_dirs
    ws_flag = " --workspace" if is_workspace else ""
    if fuzz:
        b.set(
            "versions",
            ["stable"],
            0.6,
            ev(manifest, key="package.metadata.cargo-fuzz"),
            why="the fuzz targets are compile-checked on stable; running them needs nightly",
        )
        b.set("test_tool", "none", 0.7, ev(manifest, key="package.metadata.cargo-fuzz"), why="fuzz targets, not tests")
        b.set(
            "build_commands",
            ["cargo check"],
            0.7,
            ev(manifest, key="package.metadata.cargo-fuzz"),
            why="fuzz targets need nightly to run; checking that they compile works on stable",
        )
        return b.build()

    nextest = files_under(ctx, root.dir, [".config/nextest.toml"]) or files_under(ctx, ".", [".config/nextest.toml"])
    test_entry = next(iter(entrypoints.find(ctx, root.dir, ["test"])), None)
    runs_nextest = test_entry is not None and _NEXTEST.search(test_entry.body) is not None
    if root.dir != "." and not _has_tests(ctx, members):
        # A helper crate beside the main one (a feature-combination harness, a code generator) that holds no
        # tests: `cargo test` would run nothing. It is built.
        b.set("test_tool", "none", 0.6, ev(manifest), why="no tests/ directory and no #[test] in its sources")
    elif nextest:
        b.set("test_tool", "cargo-nextest", 0.9, ev(nextest[0]))
        b.set("test_commands", [f"cargo nextest run{ws_flag}"], 0.85, ev(nextest[0]))
    elif runs_nextest and test_entry is not None:
        # The project's own test task (`just test`, `make test`) runs its tests with nextest.
        b.set("test_tool", "cargo-nextest", 0.8, test_entry.evidence, why=f"`{test_entry.command}` runs cargo nextest")
        b.set("test_commands", [f"cargo nextest run{ws_flag}"], 0.75, test_entry.evidence)
    else:
        b.set("test_tool", "cargo-test", 0.9, ev(manifest))
        b.set("test_commands", [f"cargo test{ws_flag}"], 0.85, ev(manifest))
    if _has_build_target(ctx, members):
        b.set("build_commands", [f"cargo build{ws_flag}"], 0.7, ev(manifest))

    # rustfmt and clippy ship with every toolchain; a config makes their use certain, otherwise they are the
    # standard checks of a Rust project and are proposed with lower confidence.
    fmt_cfg = nearest_file(ctx, root.dir, ["rustfmt.toml", ".rustfmt.toml"])
    clippy_cfg = nearest_file(ctx, root.dir, ["clippy.toml", ".clippy.toml"])
    lints_key = _clippy_lints(members)
    fmt_ev = ev(fmt_cfg) if fmt_cfg else ev(manifest)
    clippy_ev = ev(clippy_cfg) if clippy_cfg else ev(lints_key[0], key=lints_key[1]) if lints_key else ev(manifest)
    configured_fmt, configured_clippy = bool(fmt_cfg), bool(clippy_cfg or lints_key)
    why = "standard check shipped with the Rust toolchain"
    b.add("lint_tools", ["rustfmt"], 0.9 if configured_fmt else 0.5, fmt_ev, why=None if configured_fmt else why)
    b.add(
        "lint_tools", ["clippy"], 0.9 if configured_clippy else 0.5, clippy_ev, why=None if configured_clippy else why
    )
    b.add("lint_commands", ["cargo fmt --all -- --check"], 0.8, fmt_ev)
    # Warnings fail the job only where the project makes them errors itself: otherwise a new clippy release's
    # lints would turn a project red that its maintainers keep green.
    denied = _denies_warnings(ctx, root, members)
    deny_flag = " -- -D warnings" if denied else ""
    b.add("lint_commands", [f"cargo clippy{ws_flag} --all-targets{deny_flag}"], 0.8, denied or clippy_ev)
    # cargo-deny (advisories, licenses, banned crates) is configured once for the repository.
    deny = nearest_file(ctx, root.dir, ["deny.toml", ".deny.toml"])
    if deny:
        b.add("lint_tools", ["other"], 0.8, ev(deny), why="cargo-deny")
        b.add("lint_commands", ["cargo deny check"], 0.8, ev(deny))

    if _has_binary(ctx, members):
        _platforms(b, ctx, members)
    for c in members:
        deps = _deps(c.data)
        frameworks_from_deps(b, FRAMEWORKS, deps, c.manifest)
        # Example crates of a workspace are compiled, not run against servers: their clients say nothing
        # about what the tests need.
        if c is root or not _is_example(c.dir):
            services_from_deps(b, "rust", deps, c.manifest, confidence=0.5)
            for service, crate_name in _feature_services(c.data):
                b.add("services", [service], 0.5, ev(c.manifest, key=f"{crate_name}.features"))
    return b.build()


_TEST_ATTR = re.compile(r"#\[(?:cfg\(test\)|test\b|tokio::test|rstest|test_case|quickcheck)")
_MAX_SOURCES_SCANNED = 200


def _has_tests(ctx: Context, members: list[_Crate]) -> bool:
    """Whether the crates hold tests: a `tests/` directory, or a test attribute in their Rust sources (the first
    few hundred files: a crate with tests shows them long before that)."""
    scanned = 0
    for crate in members:
        prefix = "" if crate.dir == "." else crate.dir + "/"
        for path in ctx.sizes:
            if not path.startswith(prefix) or not path.endswith(".rs"):
                continue
            if path[len(prefix) :].startswith(("tests/", "benches/")):
                return True
            if scanned >= _MAX_SOURCES_SCANNED:
                return True  # too large to read through: assume it tests, as most crates do
            scanned += 1
            if _TEST_ATTR.search(ctx.text(path) or ""):
                return True
    return False


_PLATFORM_CFG = re.compile(r"cfg\((?:[^)]*\b)?(windows|target_os\s*=\s*\"(?:windows|macos)\")")


def _platforms(b: StackBuilder, ctx: Context, members: list[_Crate]) -> None:
    """A program with Windows- or macOS-only code (`#[cfg(windows)]`, `cfg(target_os = "macos")`) is tested
    there by its maintainers: the test job gets those runners beside Linux."""
    found: dict[str, str] = {}
    scanned = 0
    for crate in members:
        prefix = "" if crate.dir == "." else crate.dir + "/"
        for path in ctx.sizes:
            if scanned >= _MAX_SOURCES_SCANNED or len(found) == 2:
                break
            if not path.startswith(prefix) or not path.endswith(".rs") or not is_project_path(path):
                continue
            scanned += 1
            for m in _PLATFORM_CFG.finditer(ctx.text(path) or ""):
                found.setdefault("macos" if "macos" in m.group(1) else "windows", path)
    if not found:
        return
    oses: list[OS] = ["linux"]
    if "windows" in found:
        oses += ["macos", "windows"]  # Windows code sits beside Unix code that macOS runs differently
    elif "macos" in found:
        oses.append("macos")
    b.set("operating_systems", oses, 0.6, *(ev(p) for p in found.values()), why="platform-specific code")


_DENY_WARNINGS_ATTR = re.compile(r"#!\[deny\([^)]*\bwarnings\b")
_DENY_WARNINGS_FLAG = re.compile(r"-D\s*\"?\s*,?\s*\"?warnings|-Dwarnings")


def _denies_warnings(ctx: Context, root: _Crate, members: list[_Crate]) -> Evidence | None:
    """Where the project turns warnings into errors: `#![deny(warnings)]` at a crate root, a `warnings = "deny"`
    lint level, or `-D warnings` in the Cargo configuration's rustflags."""
    for crate in members:
        for name in ("src/lib.rs", "src/main.rs"):
            path = Context.join(crate.dir, name)
            text = ctx.text(path) if ctx.exists(path) else None
            if text and (m := _DENY_WARNINGS_ATTR.search(text)):
                return ev(path, line=line_of(text, m.start()), excerpt=m.group(0))
        for table, key in ((crate.data.get("lints"), "lints.rust"), (crate.workspace, "workspace.lints.rust")):
            lints = table.get("lints") if key.startswith("workspace") and isinstance(table, dict) else table
            rust = lints.get("rust") if isinstance(lints, dict) else None
            level = rust.get("warnings") if isinstance(rust, dict) else None
            level = level.get("level") if isinstance(level, dict) else level
            if level in ("deny", "forbid"):
                return ev(crate.manifest, key=f"{key}.warnings")
    config = nearest_file(ctx, root.dir, [".cargo/config.toml", ".cargo/config"])
    text = ctx.text(config) if config else None
    if config and text and (m := _DENY_WARNINGS_FLAG.search(text)):
        return ev(config, line=line_of(text, m.start()))
    return None


# Database toolkits choose their backend by Cargo feature (`sqlx = { features = ["postgres"] }`).
_TOOLKITS = frozenset({"sqlx", "diesel", "diesel-async", "sea-orm", "sea-query", "deadpool-diesel", "refinery"})
_BACKEND_FEATURES: tuple[tuple[str, Service], ...] = (("postgres", "postgres"), ("mysql", "mysql"))


def _feature_services(data: dict[str, Any]) -> list[tuple[Service, str]]:
    out: list[tuple[Service, str]] = []
    tables = [data, *(t for t in (data.get("target") or {}).values() if isinstance(t, dict))]
    ws = data.get("workspace")
    if isinstance(ws, dict):
        tables.append(ws)
    for table in tables:
        for kind in ("dependencies", "dev-dependencies"):
            deps = table.get(kind)
            if not isinstance(deps, dict):
                continue
            for name, spec in deps.items():
                if name not in _TOOLKITS or not isinstance(spec, dict):
                    continue
                features = [str(f) for f in spec.get("features") or [] if isinstance(f, str)]
                for needle, service in _BACKEND_FEATURES:
                    if any(needle in f for f in features) and (service, name) not in out:
                        out.append((service, name))
    return out


def _clippy_lints(members: list[_Crate]) -> tuple[str, str] | None:
    for c in members:
        lints = c.data.get("lints")
        if isinstance(lints, dict) and "clippy" in lints:
            return c.manifest, "lints.clippy"
        ws = c.workspace or {}
        wl = ws.get("lints")
        if isinstance(wl, dict) and "clippy" in wl:
            return c.manifest, "workspace.lints.clippy"
    return None


def _has_build_target(ctx: Context, members: list[_Crate]) -> bool:
    """Whether `cargo build` compiles anything of the stack's own: a library or binary target. A crate of only
    benchmarks or tests (a criterion harness beside the library) has none; `cargo test --benches` builds it."""
    for c in members:
        if not c.package:
            continue
        if c.data.get("lib") or c.data.get("bin"):
            return True
        if any(ctx.exists(Context.join(c.dir, f)) for f in ("src/lib.rs", "src/main.rs", "build.rs")):
            return True
        sources: list[str] = ctx.memo("rust.sources", lambda: ctx.find_matching(_RS_FILE))
        if paths_under(sources, Context.join(c.dir, "src/bin")):
            return True
        if not any(k in c.data for k in ("bench", "test", "example")):
            # Nothing declared at all and no source seen (a listing without file contents): assume a crate.
            return True
    return False


_RS_FILE = re.compile(r".+\.rs")


def _has_binary(ctx: Context, members: list[_Crate]) -> bool:
    """Whether the stack ships a program (whose builds should be reproducible): a published crate with a binary
    target. Examples, test harnesses and fuzz targets (`publish = false`) do not count."""
    return any(
        (c.data.get("bin") or ctx.exists(Context.join(c.dir, "src/main.rs")))
        and c.package.get("publish") is not False
        and not c.is_fuzz
        and not _is_example(c.dir)
        for c in members
        if c.package
    )


def _versions(ctx: Context, b: StackBuilder, root: _Crate, members: list[_Crate]) -> None:
    msrvs: list[tuple[str, str, str]] = []  # (version, manifest, key)
    ws_pkg = (root.workspace or {}).get("package")
    ws_msrv = ws_pkg.get("rust-version") if isinstance(ws_pkg, dict) else None
    if isinstance(ws_msrv, str):
        msrvs.append((ws_msrv, root.manifest, "workspace.package.rust-version"))
    for c in members:
        v = c.package.get("rust-version")
        if isinstance(v, str):
            msrvs.append((v, c.manifest, "package.rust-version"))
    # The workspace's (or root package's) MSRV is the one the workspace is built with; member MSRVs matter
    # only when the workspace declares none (each crate then promises its own).
    root_level = [m for m in msrvs if m[1] == root.manifest]
    if root_level:
        msrvs = root_level[:1]
    declared = sorted(unique(v for v, _, _ in msrvs), key=_vkey)

    toolchain = _toolchain(ctx, root.dir)
    if toolchain:
        channel, file = toolchain
        b.set("versions", [channel], 0.9, ev(file, key="toolchain.channel", excerpt=channel), why="pinned toolchain")
        if _NUMERIC.match(channel) and declared and _vkey(channel) < _vkey(declared[-1]):
            b.finding(
                "toolchain-below-msrv",
                "error",
                f"{file} pins Rust {channel}, older than the rust-version {declared[-1]} a manifest requires",
                ev(file),
                *(ev(m, key=k) for v, m, k in msrvs if v == declared[-1]),
            )
        return
    evidence = [ev(m, key=k, excerpt=v) for v, m, k in msrvs] or [ev(root.manifest)]
    if declared and _unpublished(members, ws_pkg):
        # A minimum Rust version is a promise to the users of a published crate; crates that are never published
        # (examples, internal tools) are built with the current toolchain, so their rust-version needs no job.
        b.set(
            "versions",
            ["stable", "beta"],
            0.7,
            *evidence,
            *[ev(c.manifest, key="package.publish") for c in members if c.package][:1],
            why="no crate of this workspace is published, so its rust-version is no promise to test",
        )
        return
    # Beside the MSRV, the current stable and the next (beta) release: beta catches compiler regressions six
    # weeks before they reach stable. Nightly is not a release to gate on, except for code that only nightly
    # compiles.
    b.set(
        "versions",
        [*declared, "stable", "beta"],
        # Channels beside the MSRV are the project's choice (nightly or not, beta or not): for review.
        0.65 if declared else 0.6,
        *evidence,
        why="the declared minimum supported Rust versions, the current stable release and the upcoming beta",
    )
    unstable = next((c for c in members if _has_feature(c, "unstable")), None)
    if unstable:
        b.add(
            "versions",
            ["nightly"],
            0.6,
            ev(unstable.manifest, key="features.unstable"),
            why="an `unstable` feature gates code that needs nightly-only language features",
        )
        return
    gated = _nightly_only(ctx, members)
    if gated:
        b.add("versions", ["nightly"], 0.6, gated, why="a crate root enables nightly-only language features")


# Files that can be crate roots (where `#![feature(...)]` must stand), by the directory of their package.
_CRATE_ROOT = re.compile(r"^(?:(.*)/)?(?:src/(?:lib|main)|tests/[^/]+|benches/[^/]+|examples/[^/]+)\.rs$")
_NEXTEST = re.compile(r"\bcargo\b[^\n]*?\bnextest\s+run\b")
_FEATURE_GATE = re.compile(r"^#!\[feature\(", re.M)


def _crate_roots(ctx: Context) -> dict[str, list[str]]:
    def compute() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for path in ctx.sizes:
            m = _CRATE_ROOT.match(path)
            if m:
                out.setdefault(m.group(1) or ".", []).append(path)
        return out

    roots: dict[str, list[str]] = ctx.memo("rust.crate_roots", compute)
    return roots


def _nightly_only(ctx: Context, members: list[_Crate]) -> Evidence | None:
    """A crate root (library, binary, test, bench or example) with an unconditional `#![feature(...)]`: code that
    only a nightly compiler builds, so CI runs it on nightly (benches on the unstable `test` crate, for one)."""
    roots = _crate_roots(ctx)
    for crate in members:
        for path in sorted(roots.get(crate.dir, [])):
            text = ctx.text(path) or ""
            m = _FEATURE_GATE.search(text)
            if m:
                return ev(path, line=line_of(text, m.start()), excerpt=text[m.start() :].split("\n", 1)[0])
    return None


def _unpublished(members: list[_Crate], ws_pkg: Any) -> bool:
    """Whether every crate of the stack says `publish = false` (or `publish = []`), itself or via the workspace."""
    packages = [c for c in members if c.package]

    def publish(c: _Crate) -> Any:
        value = c.package.get("publish", True)
        if isinstance(value, dict) and value.get("workspace") is True:
            return ws_pkg.get("publish", True) if isinstance(ws_pkg, dict) else True
        return value

    return bool(packages) and all(publish(c) in (False, []) for c in packages)


def _has_feature(crate: _Crate, name: str) -> bool:
    features = crate.data.get("features")
    return isinstance(features, dict) and name in features


def _toolchain(ctx: Context, directory: str) -> tuple[str, str] | None:
    """The channel pinned by the nearest `rust-toolchain.toml` / `rust-toolchain` (rustup searches upward)."""
    d = directory
    while True:
        for name in ("rust-toolchain.toml", "rust-toolchain"):
            path = Context.join(d, name)
            if not ctx.exists(path):
                continue
            text = ctx.text(path) or ""
            channel: str | None = None
            if name.endswith(".toml") or text.lstrip().startswith("["):
                data = ctx.toml(path) or {}
                tc = data.get("toolchain")
                if isinstance(tc, dict) and isinstance(tc.get("channel"), str):
                    channel = tc["channel"]
            else:
                channel = text.strip().splitlines()[0].strip() if text.strip() else None
            if channel:
                return channel, path
        if d in ("", "."):
            return None
        d = Context.dirname(d)


def _is_example(rel: str) -> bool:
    return any(part in ("example", "examples") for part in rel.split("/"))


def _vkey(v: str) -> tuple[int, ...]:
    """A comparable version: `1.23` and `1.23.0` compare equal."""
    nums = [int(p) for p in re.findall(r"\d+", v)][:3]
    return tuple(nums + [0] * (3 - len(nums)))
