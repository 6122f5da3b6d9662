"""Swift: Swift Package Manager packages (`Package.swift`).

A `Package.swift` is a Swift stack only when Swift sources sit beside it: C/C++ libraries ship a manifest so
SwiftPM users can depend on them, which makes them installable, not Swift projects. The version is the
`swift-tools-version` the manifest requires.
"""

from __future__ import annotations

import re

from autodevops.engine.detect.base import Context
from autodevops.engine.detect.builder import StackBuilder, ev, files_under, files_with, is_project_path
from autodevops.engine.model import Stack

_TOOLS = re.compile(r"^//\s*swift-tools-version\s*:\s*(\d+\.\d+(?:\.\d+)?)", re.I)
LINT_CONFIGS = {".swiftlint.yml": "swiftlint --strict", ".swift-format": "swift format lint --recursive --strict ."}


def detect(ctx: Context) -> list[Stack]:
    stacks = []
    for manifest in ctx.find("Package.swift"):
        d = Context.dirname(manifest)
        if not is_project_path(manifest) or not has_swift_sources(ctx, d):
            continue
        stacks.append(_stack(ctx, d, manifest))
    return stacks


def has_swift_sources(ctx: Context, directory: str) -> bool:
    """Whether Swift sources other than the package manifests (`Package.swift`, `Package@swift-6.0.swift`) lie
    under `directory`."""
    return any(not e.path.rsplit("/", 1)[-1].startswith("Package") for e in files_with(ctx, [".swift"], directory))


def _stack(ctx: Context, directory: str, manifest: str) -> Stack:
    b = StackBuilder(ctx, directory, "swift", ev(manifest), 0.95)
    b.set("package_manager", "swiftpm", 0.95, ev(manifest))
    b.add("manifests", [manifest], 0.95, ev(manifest))
    resolved = Context.join(directory, "Package.resolved")
    if ctx.exists(resolved):
        b.add("lockfiles", [resolved], 0.95, ev(resolved))
    text = ctx.text(manifest) or ""
    m = _TOOLS.match(text.lstrip("\ufeff"))
    if m:
        b.set(
            "versions",
            [m.group(1)],
            0.7,
            ev(manifest, key="swift-tools-version", line=1, excerpt=m.group(0)),
            why="the minimum Swift toolchain the manifest requires",
        )
    b.set("build_commands", ["swift build"], 0.8, ev(manifest))
    tests = files_with(ctx, [".swift"], Context.join(directory, "Tests"))
    if tests or "testTarget(" in text:
        evidence = ev(Context.join(directory, "Tests")) if tests else ev(manifest, key="testTarget")
        b.set("test_tool", "swift-test", 0.9, evidence)
        b.set("test_commands", ["swift test"], 0.85, evidence)
    for cfg in files_under(ctx, directory, list(LINT_CONFIGS)):
        b.add("lint_tools", ["other"], 0.8, ev(cfg))
        b.add("lint_commands", [LINT_CONFIGS[cfg.rsplit("/", 1)[-1]]], 0.8, ev(cfg))
    return b.build()
