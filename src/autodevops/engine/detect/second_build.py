"""A second build system at the root of a C/C++ or JVM project: Bazel (`MODULE.bazel`) beside CMake, Maven or
Gradle, and Meson beside CMake.

Only a build that is maintained as a build counts: a Bazel module (a `WORKSPACE` alone is the pre-Bzlmod setup
that Bazel 8 no longer reads by default, and a lone `BUILD.bazel` only lets Bazel users consume the sources), and
a Meson build that defines tests (a `meson.build` that only declares the library for Meson consumers is tested by
nobody).

Projects that ship build files for several systems keep each one working, and CI builds and tests the project
once per system: the second system is a stack of its own at the same path. Neither Bazel nor Meson is a package
manager of the vocabulary (`none`), and their test runners are `other`. The C/C++ standard is chosen by each build
system's own files, so the second stack states none; a JVM project's JDK is the machine's, shared by both builds.
"""

from __future__ import annotations

import re

from autodevops.engine.detect.base import Context
from autodevops.engine.detect.builder import StackBuilder, ev, is_under
from autodevops.engine.model import Stack

BAZEL_ROOTS = ("MODULE.bazel",)


def alongside(ctx: Context, main: Stack, *, meson: bool, shares_toolchain: bool) -> Stack | None:
    """The stack of the Bazel (or, when `meson`, Meson) build in the directory of `main`, if there is one."""
    directory = main.path
    bazel = next((p for n in BAZEL_ROOTS if ctx.exists(p := Context.join(directory, n))), None)
    meson_file = Context.join(directory, "meson.build") if meson else None
    if meson_file and not (ctx.exists(meson_file) and _meson_tests(ctx, directory)):
        meson_file = None
    if bazel is None and meson_file is None:
        return None
    first = meson_file or bazel
    assert first is not None
    b = StackBuilder(ctx, directory, main.language, ev(first), 0.7)
    build: list[str] = []
    test: list[str] = []
    manifests: list[str] = []
    if meson_file:
        manifests.append(meson_file)
        build += ["meson setup build-meson", "meson compile -C build-meson"]
        test.append("meson test -C build-meson --print-errorlogs")
    if bazel:
        manifests.append(bazel)
        build.append("bazel build //...")
        test.append("bazel test //... --test_output=errors")
    evidence = [ev(m) for m in manifests]
    b.set("package_manager", "none", 0.7, *evidence, why="Bazel and Meson have no package manager in the vocabulary")
    b.add("manifests", manifests, 0.9, *evidence)
    b.set("build_commands", build, 0.7, *evidence)
    b.set("test_tool", "other", 0.6, *evidence, why="bazel test / meson test")
    b.set("test_commands", test, 0.6, *evidence)
    if shares_toolchain and main.versions:
        prov = main.provenance.get("versions")
        b.set(
            "versions",
            list(main.versions),
            min(prov.confidence, 0.6) if prov else 0.5,
            *(prov.evidence if prov else []),
            why="the JDK both builds run on",
        )
    return b.build()


_MESON_TEST = re.compile(r"^\s*test\s*\(", re.M)


def _meson_tests(ctx: Context, directory: str) -> bool:
    """Whether the Meson build under `directory` defines any test."""
    return any(_MESON_TEST.search(ctx.text(p) or "") for p in ctx.find("meson.build") if is_under(p, directory))
