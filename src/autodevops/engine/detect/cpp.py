"""C and C++: CMake, Meson and plain Make builds.

A stack is the top-level build of a source tree: a `CMakeLists.txt` (or `meson.build`) with no build file of
the same system above it (nested ones are `add_subdirectory`/`subdir` parts of it). CMake wins over Meson and
Make in the same directory. A Makefile is a C/C++ stack only when C/C++ sources sit under it and no CMake or
Meson build covers them (Makefiles also drive Go, Python and documentation builds). Alternative builds a project
keeps under `build/` (`build/cmake/CMakeLists.txt` building `../..`) are stacks of their own.

Versions are the language standard the build compiles with (`CMAKE_CXX_STANDARD`, `cxx_std_17`, Meson `cpp_std`);
for a library that declares a minimum standard for its users (`target_compile_features(lib INTERFACE cxx_std_11)`),
every standard from that minimum through the newest.
"""

from __future__ import annotations

import re

from autodevops.engine.detect import second_build
from autodevops.engine.detect.base import Context
from autodevops.engine.detect.builder import (
    StackBuilder,
    ancestors,
    ev,
    files_under,
    has_files,
    is_project_path,
    is_under,
    line_of,
    paths_under,
    source_bytes,
)
from autodevops.engine.detect.swift import has_swift_sources
from autodevops.engine.model import Language, Stack

_EXTS = {
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".ipp": "cpp",
    ".tpp": "cpp",
}
_CMAKE_STD = re.compile(r"\b(?:set\s*\(\s*CMAKE_(CXX|C)_STANDARD\s+(\d+)|(c|cxx)_std_(\d+))", re.I)
# A usage requirement: the standard a library's users must compile with at least (INTERFACE/PUBLIC scope).
_USAGE_STD = re.compile(
    r"target_compile_features\s*\(\s*(\S+)\s+(INTERFACE|PUBLIC)\b[^)]*?\b(c|cxx)_std_(\d+)", re.I | re.S
)
# Published standards, oldest first (a two-digit year does not sort: 98 comes before 11).
STANDARDS = {"cxx": ("98", "11", "14", "17", "20", "23"), "c": ("90", "99", "11", "17", "23")}
_MESON_STD = re.compile(r"\b(cpp|c)_std\s*=\s*(?:c\+\+|gnu\+\+|c|gnu)(\d+)")
_CTEST = re.compile(
    r"^\s*(enable_testing\s*\(|add_test\s*\(|include\s*\(\s*CTest\b|gtest_discover_tests\s*\()", re.M | re.I
)
_MAKE_TARGET = re.compile(r"^(check|test|tests)\s*:", re.M)
LINT_CONFIGS = (".clang-tidy", "CPPLINT.cfg", ".cppcheck")
FORMAT_CONFIGS = (".clang-format", "_clang-format")


def detect(ctx: Context) -> list[Stack]:
    # CMake and Meson also build Swift, Fortran or documentation: a stack needs C/C++ sources below it.
    cmake = [
        p
        for p in _tops([p for p in ctx.find("CMakeLists.txt") if is_project_path(p)])
        if not _python_owned(ctx, p) and _has_sources(ctx, Context.dirname(p))
    ]
    meson = [
        p
        for p in _tops([p for p in ctx.find("meson.build") if is_project_path(p)])
        if not _covered(p, cmake) and not _python_owned(ctx, p) and _has_sources(ctx, Context.dirname(p))
    ]
    stacks = [_cmake(ctx, p) for p in cmake] + [_meson(ctx, p) for p in meson]
    stacks += [
        x for s in stacks[: len(cmake)] if (x := second_build.alongside(ctx, s, meson=True, shares_toolchain=False))
    ]
    # A C/C++ project's alternative builds kept in `build/<system>/` build the sources above them: each is a
    # build of its own (`build/cmake` beside the root Makefile), though `build/` is otherwise an output directory.
    alternates = [p for name in ("CMakeLists.txt", "meson.build") for p in ctx.find(name) if _alternate_build(ctx, p)]
    stacks += [_cmake(ctx, p, sources=".") if p.endswith(".txt") else _meson(ctx, p, sources=".") for p in alternates]
    built = cmake + meson + alternates
    autotools = [p for p in ctx.find("configure.ac") + ctx.find("configure") if is_project_path(p)]
    makefiles = [p for n in ("Makefile", "GNUmakefile", "makefile") for p in ctx.find(n) if is_project_path(p)]
    for mk in _tops(makefiles + autotools):
        d = Context.dirname(mk)
        if _covered(mk, built) or _other_ecosystem(ctx, d) or not _has_sources(ctx, d) or _links_crate(ctx, mk):
            continue
        stacks.append(_make(ctx, mk))
        built.append(mk)
    return stacks


# Python build backends that drive CMake or Meson: the native build is then part of the Python package's build
# (and its tests are the Python tests), not a C/C++ project of its own.
_NATIVE_BACKENDS = ("scikit_build", "mesonpy", "py_build_cmake", "cmeel", "maturin")


_ALTERNATE_BUILD = re.compile(r"build/[\w.-]+/(?:CMakeLists\.txt|meson\.build)")


def _alternate_build(ctx: Context, path: str) -> bool:
    """`build/cmake/CMakeLists.txt` that builds the sources two levels up (`${CMAKE_CURRENT_SOURCE_DIR}/../..`),
    in a repository with C/C++ sources."""
    if not _ALTERNATE_BUILD.fullmatch(path) or "../.." not in (ctx.text(path) or ""):
        return False
    return _has_sources(ctx, ".")


def _python_owned(ctx: Context, build_file: str) -> bool:
    pyproject = Context.join(Context.dirname(build_file), "pyproject.toml")
    if not ctx.exists(pyproject):
        return False
    data = ctx.toml(pyproject) or {}
    system = data.get("build-system")
    backend = system.get("build-backend") if isinstance(system, dict) else None
    return isinstance(backend, str) and backend.startswith(_NATIVE_BACKENDS)


def _tops(paths: list[str]) -> list[str]:
    """The build files with no build file of the same kind in an ancestor directory."""
    dirs = {Context.dirname(p) for p in paths}
    out: dict[str, str] = {}
    for p in sorted(paths):
        d = Context.dirname(p)
        if d not in out and not any(a in dirs for a in ancestors(d)):
            out[d] = p
    return list(out.values())


def _covered(path: str, roots: list[str]) -> bool:
    return any(is_under(Context.dirname(path), Context.dirname(r)) for r in roots)


# A Makefile beside another ecosystem's manifest is that project's task runner, not a C build.
_OTHER_MANIFESTS = (
    "pyproject.toml",
    "setup.py",
    "package.json",
    "go.mod",
    "Cargo.toml",
    "Gemfile",
    "composer.json",
    "mix.exs",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "Package.swift",
)


def _other_ecosystem(ctx: Context, directory: str) -> bool:
    manifests = files_under(ctx, directory, _OTHER_MANIFESTS)
    # A Package.swift without Swift sources packages the C library for SwiftPM users: the Makefile still builds it.
    return any(not m.endswith("Package.swift") or has_swift_sources(ctx, directory) for m in manifests)


_CARGO_OUTPUT = re.compile(r"(?:\.\./)+target/(?:debug|release)\b")


def _links_crate(ctx: Context, makefile: str) -> bool:
    """Whether a Makefile builds C programs against the library an enclosing Cargo project compiles
    (`-L../../target/debug -lhyper`): examples of a crate's C API, built after `cargo build` in the Rust
    project's job, which cannot build on their own."""
    if not any(ctx.exists(Context.join(a, "Cargo.toml")) for a in ancestors(Context.dirname(makefile))):
        return False
    return bool(_CARGO_OUTPUT.search(ctx.text(makefile) or ""))


def _has_sources(ctx: Context, directory: str) -> bool:
    return has_files(ctx, _EXTS, directory)


def _language(ctx: Context, directory: str, text: str) -> Language:
    totals = source_bytes(ctx, _EXTS, directory)
    # `.h` headers serve both languages: they count for C only when no C++ source says otherwise.
    headers = source_bytes(ctx, {".h": "c"}, directory).get("c", 0)
    if totals.get("cpp", 0) > 0:
        return "cpp" if totals["cpp"] >= totals.get("c", 0) - headers else "c"
    if totals:
        return "c"
    # No sources indexed: the build file's project languages decide.
    return "c" if re.search(r"project\s*\([^)]*\bLANGUAGES\s+C\s*\)", text, re.I) else "cpp"


def _lint(ctx: Context, b: StackBuilder, directory: str) -> None:
    for cfg in files_under(ctx, directory, LINT_CONFIGS):
        b.add("lint_tools", ["other"], 0.6, ev(cfg))
    style = files_under(ctx, directory, FORMAT_CONFIGS)
    if style:
        # Editors and IDEs apply a .clang-format on save (CLion, VS Code, Visual Studio), so it says how code is
        # formatted, not that CI checks it: a check over every file would fail on the first push wherever formatting
        # was never enforced. Offered, not run.
        b.finding(
            "formatter-not-enforced",
            "info",
            f"{style[0]} configures clang-format; a check such as `clang-format --dry-run --Werror` over the "
            "sources is not added, since nothing shows that the project enforces it",
            ev(style[0]),
        )


def _cmake(ctx: Context, path: str, *, sources: str | None = None) -> Stack:
    """The CMake build at `path`; `sources` is where its sources are when not below it (an alternative build)."""
    directory = Context.dirname(path)
    texts = {p: ctx.text(p) or "" for p in paths_under(ctx.find("CMakeLists.txt"), directory)}
    text = texts.get(path, "")
    b = StackBuilder(ctx, directory, _language(ctx, sources or directory, text), ev(path), 0.85)
    b.set("package_manager", "cmake", 0.9, ev(path))
    b.add("manifests", [path], 0.9, ev(path))
    b.set(
        "build_commands",
        ["cmake -S . -B build -DCMAKE_BUILD_TYPE=Release", "cmake --build build --parallel"],
        0.8,
        ev(path),
    )
    ctest = next(((p, m) for p, t in texts.items() if (m := _CTEST.search(t))), None)
    test_dirs = [p for p in texts if re.search(r"(^|/)(tests?|unittests?)/CMakeLists\.txt$", p)]
    if ctest or test_dirs:
        evidence = (
            ev(ctest[0], line=line_of(texts[ctest[0]], ctest[1].start()), excerpt=ctest[1].group(0).strip())
            if ctest
            else ev(test_dirs[0])
        )
        b.set("test_tool", "ctest", 0.85 if ctest else 0.6, evidence)
        b.set("test_commands", ["ctest --test-dir build --output-on-failure"], 0.8, evidence)
    floor = _library_floor(texts)
    if floor:
        p, t, m = floor
        lang, std = m.group(3).lower(), m.group(4)
        b.set(
            "versions",
            _standards_from(lang, std),
            0.6,
            ev(p, line=line_of(t, m.start()), excerpt=m.group(0)),
            why="the minimum standard the library promises its users, through the newest standard",
        )
    else:
        for p, t in texts.items():
            m = _CMAKE_STD.search(t)
            if m:
                std = m.group(2) or m.group(4)
                b.set(
                    "versions",
                    [std],
                    0.7,
                    ev(p, line=line_of(t, m.start()), excerpt=m.group(0)),
                    why="required language standard",
                )
                break
    _lint(ctx, b, directory)
    return b.build()


def _library_floor(texts: dict[str, str]) -> tuple[str, str, re.Match[str]] | None:
    """The minimum standard a library requires of its users: `target_compile_features(lib INTERFACE|PUBLIC
    cxx_std_11)` on a library target. Unlike `CMAKE_CXX_STANDARD` (the one standard the build compiles with),
    this is a promise that every newer standard works too, so a library's CI compiles its tests under each."""
    libraries = {m.group(1) for t in texts.values() for m in re.finditer(r"add_library\s*\(\s*(\S+)", t, re.I)}
    for p, t in texts.items():
        for m in _USAGE_STD.finditer(t):
            # INTERFACE requirements exist only on libraries; PUBLIC ones also on executables, which have no users.
            if m.group(2).upper() == "INTERFACE" or m.group(1) in libraries:
                return p, t, m
    return None


def _standards_from(lang: str, floor: str) -> list[str]:
    """The published standards of `lang` from `floor` through the newest."""
    known = STANDARDS["cxx" if lang == "cxx" else "c"]
    return list(known[known.index(floor) :]) if floor in known else [floor]


def _meson(ctx: Context, path: str, *, sources: str | None = None) -> Stack:
    directory = Context.dirname(path)
    text = ctx.text(path) or ""
    b = StackBuilder(ctx, directory, _language(ctx, sources or directory, text), ev(path), 0.85)
    b.set("package_manager", "none", 0.7, ev(path), why="Meson has no package manager in the vocabulary")
    b.add("manifests", [path], 0.9, ev(path))
    b.set("build_commands", ["meson setup build", "meson compile -C build"], 0.8, ev(path))
    b.set("test_tool", "other", 0.7, ev(path), why="meson test")
    b.set("test_commands", ["meson test -C build --print-errorlogs"], 0.8, ev(path))
    m = _MESON_STD.search(text)
    if m:
        b.set("versions", [m.group(2)], 0.7, ev(path, line=line_of(text, m.start()), excerpt=m.group(0)))
    _lint(ctx, b, directory)
    return b.build()


def _make(ctx: Context, path: str) -> Stack:
    directory = Context.dirname(path)
    text = ctx.text(path) or ""
    b = StackBuilder(ctx, directory, _language(ctx, directory, text), ev(path), 0.7)
    b.set("package_manager", "make", 0.8, ev(path))
    b.add("manifests", [path], 0.9, ev(path))
    autotools = path.endswith(("configure.ac", "configure"))
    b.set("build_commands", [*(["./configure"] if autotools else []), "make"], 0.7, ev(path))
    target = _MAKE_TARGET.search(text)
    if target or autotools:
        name = target.group(1) if target else "check"
        evidence = ev(path, line=line_of(text, target.start()), key=name) if target else ev(path)
        b.set("test_tool", "make", 0.7, evidence)
        b.set("test_commands", [f"make {name}"], 0.7, evidence)
    _lint(ctx, b, directory)
    return b.build()
