"""Elixir: Mix projects.

A stack is a `mix.exs` project; the apps of an umbrella (`apps_path`, conventionally `apps/*`) are built and
tested with it. Other nested Mix projects (an installer, an integration-test app) are stacks of their own.

Versions: an `elixir` pin for asdf or mise (`.tool-versions`, `mise.toml`) wins; otherwise the `elixir:`
requirement of `mix.exs` intersected with the Elixir lines supported on the analysis date.
"""

from __future__ import annotations

import re

from autodevops.engine.detect.base import Context
from autodevops.engine.detect.builder import (
    StackBuilder,
    ancestors,
    check_pin,
    doubt_nested,
    ev,
    files_under,
    frameworks_from_deps,
    is_project_path,
    join,
    line_of,
    matrix,
    pinned,
    services_from_deps,
    tool_pin,
)
from autodevops.engine.detect.services import services_of_package
from autodevops.engine.model import Stack

_ELIXIR_REQ = re.compile(r"""\belixir:\s*"([^"]+)\"""")
_APPS_PATH = re.compile(r"""\bapps_path:\s*"([^"]+)\"""")
_DEP = re.compile(r"\{\s*:(\w+)\s*,")
_APP = re.compile(r"\bapp:\s*:(\w+)")
# Checkers outside the vocabulary a Mix project depends on to run them (`other`): the Dialyzer type checker and
# the Sobelow security linter.
OTHER_CHECKERS = ("dialyxir", "sobelow")
FRAMEWORKS = {"phoenix": "phoenix", "ecto": "ecto", "nerves": "nerves", "plug": "plug", "absinthe": "absinthe"}


def detect(ctx: Context) -> list[Stack]:
    manifests = [p for p in ctx.find("mix.exs") if is_project_path(p)]
    texts = {p: ctx.text(p) or "" for p in manifests}
    # Directories holding Mix projects one level down (`apps/web/mix.exs` → `apps`).
    grandparents = {Context.dirname(Context.dirname(q)) for q in manifests if q.count("/") >= 2}
    umbrella_dirs: dict[str, str] = {}
    for p, text in texts.items():
        d = Context.dirname(p)
        m = _APPS_PATH.search(text)
        apps = join(d, m.group(1)) if m else Context.join(d, "apps")
        # Without a readable apps_path, an apps/ directory of Mix projects next to mix.exs is the umbrella layout.
        if m or apps in grandparents:
            umbrella_dirs[apps] = p
    roots: dict[str, list[str]] = {}
    for p in sorted(manifests, key=lambda q: (q.count("/"), q)):
        d = Context.dirname(p)
        owner = next((u for a in ancestors(d) if (u := umbrella_dirs.get(a)) and u != p), None)
        roots.setdefault(owner or p, []).append(p)
    return doubt_nested([_stack(ctx, root, members, texts) for root, members in roots.items()])


def _stack(ctx: Context, manifest: str, members: list[str], texts: dict[str, str]) -> Stack:
    directory = Context.dirname(manifest)
    b = StackBuilder(ctx, directory, "elixir", ev(manifest), 0.95)
    b.set("package_manager", "mix", 0.95, ev(manifest))
    b.add("manifests", members, 0.95, ev(manifest))
    apps = [Context.dirname(m) for m in members if m != manifest]
    b.add("workspace_members", apps, 0.85, ev(manifest, key="apps_path"))
    lock = Context.join(directory, "mix.lock")
    if ctx.exists(lock):
        b.add("lockfiles", [lock], 0.95, ev(lock))
    text = texts.get(manifest, "")
    _versions(ctx, b, directory, manifest, text)

    if directory == ".":
        # The repository's own project compiles warning-free (Elixir reports unused code, undefined functions and
        # deprecations only as warnings); nested projects such as an installer or an integration-test app are
        # only tested.
        b.set(
            "build_commands",
            ["mix compile --warnings-as-errors"],
            0.6,
            ev(manifest),
            why="the project's own code compiles without warnings",
        )
    b.set("test_tool", "mix-test", 0.9, ev(manifest), why="Mix's built-in ExUnit runner")
    b.set("test_commands", ["mix test"], 0.85, ev(manifest))

    deps = [d for m in members for d in _DEP.findall(texts.get(m, ""))]
    credo = files_under(ctx, directory, [".credo.exs", "config/.credo.exs"])
    if credo or "credo" in deps:
        evidence = ev(credo[0]) if credo else ev(manifest, key="deps.credo")
        b.add("lint_tools", ["credo"], 0.85, evidence)
        b.add("lint_commands", ["mix credo --strict"], 0.8, evidence)
    checkers = [d for d in OTHER_CHECKERS if d in deps]
    if checkers:
        # Dialyzer (through dialyxir) and Sobelow are installed only to be run; how (the PLT cache, which warnings
        # fail) is the project's call: a fact without a command.
        b.add("lint_tools", ["other"], 0.6, *(ev(manifest, key=f"deps.{d}") for d in checkers), why=", ".join(checkers))
    fmt = files_under(ctx, directory, [".formatter.exs"])
    if fmt:
        b.add("lint_commands", ["mix format --check-formatted"], 0.7, ev(fmt[0]))
    app = _APP.search(text)
    for service in services_of_package("elixir", app.group(1) if app else None):
        assert app is not None
        b.add(
            "services",
            [service],
            0.7,
            ev(manifest, key="app", line=line_of(text, app.start()), excerpt=app.group(0)),
            why="the project is this service's client library: its tests talk to a real server",
        )
    for m in members:
        mdeps = _DEP.findall(texts.get(m, ""))
        services_from_deps(b, "elixir", mdeps, m, confidence=0.6)
        frameworks_from_deps(b, FRAMEWORKS, mdeps, m)
    return b.build()


def _versions(ctx: Context, b: StackBuilder, directory: str, manifest: str, text: str) -> None:
    m = _ELIXIR_REQ.search(text)
    requirement = (
        (m.group(1), ev(manifest, key="elixir", line=line_of(text, m.start()), excerpt=m.group(0))) if m else None
    )
    managed = tool_pin(ctx, directory, ("elixir",))
    if managed:
        # "1.17.3-otp-27": the Elixir version, built for an OTP release
        version, pin_ev = managed[0].split("-")[0], managed[1]
        if requirement:
            check_pin(b, "elixir", version, pin_ev, *requirement, flavor="gem")
        pinned(b, "elixir", version, pin_ev)
        return
    if requirement:
        spec, evidence = requirement
        if matrix(b, "elixir", spec, evidence, flavor="gem", label=f"elixir {spec!r}"):
            return
    matrix(b, "elixir", None, ev(manifest), label="no declared Elixir version", confidence=0.5)
