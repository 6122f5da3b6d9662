"""Deno projects: `deno.json(c)` at a project root; workspaces are tested from the root.

Deno ships its own test runner, linter, formatter and type checker, so a Deno stack's tools are `deno test`,
`deno lint`, `deno fmt --check` and `deno check`, preferably through the project's own tasks.
"""

from __future__ import annotations

import re
from typing import Any

from autodevops.engine.detect.base import Context
from autodevops.engine.model import Evidence, Provenance, Stack

CONFIGS = ("deno.json", "deno.jsonc")
NON_PROJECT_PARTS = frozenset(
    {"tests", "test", "fixtures", "fixture", "testdata", "examples", "example", "docs", "node_modules", "benchmarks"}
)
# Directory names like `runtime-tests` or `perf-bench`: auxiliary by their last word.
_AUXILIARY = re.compile(r"(?:^|[-_])(?:tests|fixtures|examples|benchmarks|bench|demos)$", re.I)


def detect(ctx: Context) -> list[Stack]:
    """One stack per Deno project root that is not a member of a root workspace."""
    stacks: list[Stack] = []
    covered: list[str] = []
    paths = sorted((p for n in CONFIGS for p in ctx.find(n)), key=lambda p: (p.count("/"), p))
    for path in paths:
        root = Context.dirname(path)
        if root != "." and any(p in NON_PROJECT_PARTS or _AUXILIARY.search(p) for p in root.split("/")):
            continue
        if any(c == "." or root.startswith(c + "/") for c in covered):
            continue
        raw = ctx.json(path, comments=True)
        config: dict[str, Any] = raw if isinstance(raw, dict) else {}
        stacks.append(_stack(ctx, root, path, config))
        covered.append(root)
    return stacks


def _stack(ctx: Context, root: str, path: str, config: dict[str, Any]) -> Stack:
    ev = Evidence(file=path)
    stack = Stack(path=root, language="typescript", package_manager="deno", manifests=[path])
    lock = Context.join(root, "deno.lock")
    if ctx.exists(lock):
        stack.lockfiles = [lock]
    prov = stack.provenance
    prov["path"] = prov["language"] = Provenance(evidence=[ev], confidence=0.9)
    prov["package_manager"] = Provenance(evidence=[ev], confidence=0.95)
    tasks = config.get("tasks") if isinstance(config.get("tasks"), dict) else {}
    assert isinstance(tasks, dict)
    task_ev = Evidence(file=path, key="tasks")
    # Deno's built-in test runner is outside the corpus vocabulary of test tools: "other".
    stack.test_tool = "other"
    test_task = next((t for t in ("test", "test:all", "ok") if t in tasks), None)
    stack.test_commands = [f"deno task {test_task}" if test_task else "deno test -A"]
    prov["test_tool"] = prov["test_commands"] = Provenance(
        evidence=[task_ev if test_task else ev], confidence=0.8 if test_task else 0.6, justification="deno test"
    )
    stack.lint_tools = ["other"]
    stack.lint_commands = ["deno fmt --check", "deno lint"]
    check_task = next((t for t in tasks if re.match(r"check(:types)?$", t)), None)
    if check_task:
        stack.lint_commands.append(f"deno task {check_task}")
    prov["lint_tools"] = prov["lint_commands"] = Provenance(
        evidence=[ev], confidence=0.7, justification="deno lint and deno fmt (built in)"
    )
    build = [t for t in tasks if re.match(r"build", str(t))]
    if build:
        stack.build_commands = [f"deno task {build[0]}"]
        prov["build_commands"] = Provenance(evidence=[task_ev], confidence=0.7)
    if config.get("workspace"):
        members = config["workspace"]
        if isinstance(members, list):
            stack.workspace_members = [str(m).strip("./") for m in members]
    # The current major release line, in setup-deno's notation.
    stack.versions = ["v2.x"]
    prov["versions"] = Provenance(evidence=[ev], confidence=0.5, justification="current Deno 2 line (low confidence)")
    return stack
