"""The repository's own entry points: the scripts, Makefile targets, justfile recipes and invoke tasks that say
how it wants to be set up, tested, checked and built.

`scripts/test` and `scripts/check` (encode's layout), `script/bootstrap` and `script/cibuild` ("scripts to rule
them all"), `make test` and `make lint`, `just test`, `invoke linters`. They are what the maintainers run, and
they know what a conventional invocation gets wrong: the type checker's targets (`mypy httpx tests`), the test
directory that keeps documentation examples out of collection, the files the linter skips. A detector that finds
one for its stack runs it rather than inventing a command; it still reads the body to tell what the entry point
runs (the test runner, the linters), and whether it checks or rewrites files.
"""

from __future__ import annotations

import ast
import posixpath
import re
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from autodevops.engine.detect.base import Context
from autodevops.engine.detect.builder import make_rule
from autodevops.engine.model import Evidence

SCRIPT_DIRS = ("scripts", "script")
SCRIPT_SUFFIXES = ("", ".sh", ".bash")
# Interpreters a script's shebang may name, and the command that runs them on a CI runner.
_INTERPRETERS = {"sh": "sh", "bash": "bash", "dash": "sh", "zsh": "zsh", "python": "python", "python3": "python"}
_SHEBANG = re.compile(r"#!\s*(\S+)(?:[ \t]+([^\n]*))?")
_MAKE_CALL = re.compile(r"\$[({]MAKE[)}]\s+(?:-\S+\s+)*([\w.-]+)|\bmake\s+(?:-\S+\s+)*([\w.-]+)")
_SCRIPT_CALL = re.compile(r"(?:^|[\s;&|(])(?:\./)?((?:scripts?)/[\w.-]+)")
JUSTFILES = ("justfile", "Justfile", ".justfile")  # the names `just` looks for
# A recipe's first line: `name params: dependencies` (never an assignment `name := value`), `@` for a quiet one.
_JUST_CALL = re.compile(r"(?:^|[\s;&|(])just\s+(?:-\S+\s+)*([A-Za-z_][\w-]*)", re.M)
_JUST_RECIPE = re.compile(r"^@?([A-Za-z_][\w-]*)((?:[ \t]+[^:\n]*?)?)[ \t]*:(?!=)([^\n]*)$", re.M)


@dataclass(frozen=True)
class EntryPoint:
    """One way the project runs a task: the command CI runs (from the stack's directory) and what it executes."""

    name: str  # the script's or target's name: test, check, lint...
    command: str  # `scripts/test`, `sh -e scripts/check`, `make lint`
    body: str  # the script, or the rule's recipe with the recipes it calls; comments removed
    evidence: Evidence


def find(ctx: Context, root: str, names: Iterable[str]) -> list[EntryPoint]:
    """The entry points named `names` in `root`, scripts first (they are what a Makefile would call), in the
    order of `names`."""
    names = list(names)
    found: list[EntryPoint] = []
    for name in names:
        script = _script(ctx, root, name)
        if script is not None:
            found.append(script)
    for name in names:
        target = _make_target(ctx, root, name)
        if target is not None:
            found.append(target)
    for name in names:
        recipe = _just_recipe(ctx, root, name)
        if recipe is not None:
            found.append(recipe)
    for name in names:
        task = _invoke_task(ctx, root, name)
        if task is not None:
            found.append(task)
    return [point for point in found if not needs_developer_env(point.body)]


# A developer's virtualenv that another target made (`make build311` creates venv/, `make test` activates it): in
# a job, which installs into the runner's interpreter, `. venv/bin/activate` fails before anything runs.
_LOCAL_VENV = re.compile(
    r"(?:^|[\s;&|(])(?:\.|source)\s+\.?/?(?:\.?venv|env|\.env)/bin/activate\b|(?:^|[\s;&|(])\.?/?\.?venv/bin/\w", re.M
)
_MAKES_VENV = re.compile(r"-m\s+venv\b|\bvirtualenv\b|\buv\s+venv\b")


def needs_developer_env(body: str) -> bool:
    """Whether the entry point runs inside a local virtualenv it does not create itself."""
    return _LOCAL_VENV.search(body) is not None and _MAKES_VENV.search(body) is None


def _script(ctx: Context, root: str, name: str) -> EntryPoint | None:
    for directory in SCRIPT_DIRS:
        for suffix in SCRIPT_SUFFIXES:
            path = Context.join(root, f"{directory}/{name}{suffix}")
            if not ctx.exists(path):
                continue
            text = ctx.text(path)
            if text is None:
                continue
            command = _script_command(ctx, root, path, text)
            if command is None:
                continue
            body = strip_comments(text) + "".join(
                "\n" + strip_comments(ctx.text(called) or "") for called in _called_scripts(ctx, root, text, path)
            )
            return EntryPoint(name, command, body, Evidence(file=path))
    return None


def _script_command(ctx: Context, root: str, path: str, text: str) -> str | None:
    """How a CI step runs the script: as itself when it is executable, else through the interpreter its shebang
    names (with the shebang's flags: `#!/bin/sh -e` stops at the first failure, and must go on doing so)."""
    rel = posixpath.relpath(path, root) if root not in ("", ".") else path
    m = _SHEBANG.match(text)
    if path in ctx.executables:
        return rel if "/" in rel else f"./{rel}"
    if m is None:
        return f"sh {rel}" if path.endswith(".sh") else None
    program, args = posixpath.basename(m.group(1)), (m.group(2) or "").split()
    if program == "env" and args:
        program, args = args[0], args[1:]
    interpreter = _INTERPRETERS.get(program)
    if interpreter is None:
        return None
    return " ".join([interpreter, *args, rel])


def _called_scripts(ctx: Context, root: str, text: str, path: str) -> list[str]:
    """Sibling scripts this one runs (`./scripts/sync-version`), one level deep."""
    out: list[str] = []
    for m in _SCRIPT_CALL.finditer(strip_comments(text)):
        called = Context.join(root, m.group(1))
        if called != path and ctx.exists(called) and called not in out:
            out.append(called)
    return out


def _follow(start: str, step: Callable[[str], tuple[str, list[str]] | None]) -> list[str]:
    """The bodies of `start` and of what it runs (`step` gives a name's body and the names it calls), breadth
    first, each once, at most 12: what `make`, `just` or `invoke` would execute."""
    bodies: list[str] = []
    seen: set[str] = set()
    pending = [start]
    while pending and len(seen) < 12:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        found = step(name)
        if found is not None:
            bodies.append(found[0])
            pending += found[1]
    return bodies


def _make_target(ctx: Context, root: str, target: str) -> EntryPoint | None:
    rule = make_rule(ctx, root, target)
    if rule is None or (not rule.recipe.strip() and not rule.prerequisites):
        return None

    def step(name: str) -> tuple[str, list[str]] | None:
        called = rule if name == target else make_rule(ctx, root, name)
        return None if called is None else (called.recipe, [*called.prerequisites, *_make_calls(called.recipe)])

    body = "\n".join(strip_comments(r) for r in _follow(target, step))
    return EntryPoint(target, f"make {target}", body, Evidence(file=rule.makefile, key=target, line=rule.line))


def _just_recipe(ctx: Context, root: str, name: str) -> EntryPoint | None:
    """`just NAME`, when the justfile has a recipe NAME that runs without arguments, with the bodies of the
    recipes it depends on (what `just` runs first)."""
    paths = [Context.join(root, n) for n in JUSTFILES]
    parsed = ((path, _just_recipes(ctx.text(path) or "")) for path in paths if ctx.exists(path))
    found = next(((path, recipes) for path, recipes in parsed if name in recipes), None)
    if found is None:
        return None
    justfile, recipes = found
    line, params, _, _ = recipes[name]
    # A parameter without a default (`version`, `+files`) makes the bare recipe fail: "got 0 arguments".
    if any("=" not in p and not p.startswith("*") for p in params):
        return None

    def step(current: str) -> tuple[str, list[str]] | None:
        # Its dependencies, and the recipes its body runs itself (`just typing-mypy`).
        recipe = recipes.get(current)
        return None if recipe is None else (recipe[3], [*recipe[2], *_JUST_CALL.findall(recipe[3])])

    body = "\n".join(strip_comments(b) for b in _follow(name, step))
    return EntryPoint(name, f"just {name}", body, Evidence(file=justfile, key=name, line=line))


def _just_recipes(text: str) -> dict[str, tuple[int, list[str], list[str], str]]:
    """Each recipe of a justfile: its line, parameters, the recipes it depends on, and its indented body."""
    recipes: dict[str, tuple[int, list[str], list[str], str]] = {}
    lines = text.splitlines()
    for m in _JUST_RECIPE.finditer(text):
        start = text.count("\n", 0, m.start())
        body = []
        for following in lines[start + 1 :]:
            if following.strip() and not following[:1].isspace():
                break
            body.append(following.strip())
        # Dependencies are bare names or `(name args)`; `&&` starts the ones run after the recipe.
        unquoted = re.sub(r"(['\"]).*?\1", "", m.group(3)).split("#", 1)[0]
        deps = re.findall(r"\(?\s*([A-Za-z_][\w-]*)", unquoted)
        try:
            params = shlex.split(m.group(2))
        except ValueError:
            params = m.group(2).split()
        recipes.setdefault(m.group(1), (start + 1, [p.lstrip("$") for p in params], deps, "\n".join(body).strip()))
    return recipes


# ---- invoke (pyinvoke) tasks ---------------------------------------------------------------------------------

INVOKE_TASKS = "tasks.py"  # the collection `invoke` loads from the directory it runs in
_INVOKE_RUNNERS = ("run", "sudo")  # `c.run("ruff check .")`, `run(...)` imported from invoke


@dataclass(frozen=True)
class _Task:
    line: int
    runnable: bool  # every parameter after the context has a default: `invoke NAME` needs no argument
    calls: list[str]  # the tasks it runs first (`pre=`) or itself (`linters(c)`), by function name
    body: str  # its shell commands, one per line


def _invoke_task(ctx: Context, root: str, name: str) -> EntryPoint | None:
    """`invoke NAME`, when the directory's tasks.py (importing invoke) has a task of that name that runs without
    arguments, with the commands of the tasks it runs; read from the syntax tree, never executed."""
    path = Context.join(root, INVOKE_TASKS)
    text = ctx.text(path) if ctx.exists(path) else None
    if not text or "invoke" not in text:
        return None
    tasks, names = _invoke_tasks(text)
    function = names.get(name)
    if function is None or not tasks[function].runnable:
        return None

    def step(current: str) -> tuple[str, list[str]] | None:
        task = tasks.get(current)
        return None if task is None else (task.body, task.calls)

    body = "\n".join(b for b in _follow(function, step) if b)
    return EntryPoint(name, f"invoke {name}", body, Evidence(file=path, key=name, line=tasks[function].line))


def _invoke_tasks(text: str) -> tuple[dict[str, _Task], dict[str, str]]:
    """The file's tasks by function name, and the command-line names (invoke turns `_` into `-`; `name=` and
    `aliases=` in the decorator add others) mapped to the function."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}, {}
    functions = {f.name for f in tree.body if isinstance(f, ast.FunctionDef)}
    tasks: dict[str, _Task] = {}
    names: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        decorator = next((d for d in node.decorator_list if _is_task_decorator(d)), None)
        if decorator is None:
            continue
        args = node.args
        required = len(args.posonlyargs) + len(args.args) - 1 - len(args.defaults)
        required += sum(default is None for default in args.kw_defaults)
        calls: list[str] = []
        cli_names = [node.name.replace("_", "-")]
        if isinstance(decorator, ast.Call):
            calls += [a.id for a in decorator.args if isinstance(a, ast.Name)]
            for keyword in decorator.keywords:
                if keyword.arg == "pre" and isinstance(keyword.value, (ast.List, ast.Tuple)):
                    calls += [e.id for e in keyword.value.elts if isinstance(e, ast.Name)]
                elif keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    cli_names = [str(keyword.value.value)]
                elif keyword.arg == "aliases" and isinstance(keyword.value, (ast.List, ast.Tuple)):
                    cli_names += [str(e.value) for e in keyword.value.elts if isinstance(e, ast.Constant)]
        strings = _string_assignments(node)
        lines: list[str] = []
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            callee = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            if callee in _INVOKE_RUNNERS and call.args:
                command = _shell_text(call.args[0], strings)
                if command:
                    lines.append(command)
            elif isinstance(call.func, ast.Name) and call.func.id in functions and call.func.id != node.name:
                calls.append(call.func.id)
        tasks[node.name] = _Task(node.lineno, required <= 0, calls, "\n".join(lines))
        for cli_name in cli_names:
            names.setdefault(cli_name, node.name)
    return tasks, names


def _is_task_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return (isinstance(target, ast.Name) and target.id == "task") or (
        isinstance(target, ast.Attribute) and target.attr == "task"
    )


def _string_assignments(function: ast.FunctionDef) -> dict[str, ast.expr]:
    """`cmd = f"pytest {args}"` inside the task, so that `run(cmd)` reads as the command it runs."""
    out: dict[str, ast.expr] = {}
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, (ast.Constant, ast.JoinedStr))
        ):
            out.setdefault(node.targets[0].id, node.value)
    return out


def _shell_text(node: ast.expr, strings: dict[str, ast.expr]) -> str:
    """A command argument as text: literal parts kept, each interpolated value read as `{...}`."""
    if isinstance(node, ast.Name) and node.id in strings:
        node = strings[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "{...}" for v in node.values).strip()
    return ""


def _make_calls(recipe: str) -> list[str]:
    return [m.group(1) or m.group(2) for m in _MAKE_CALL.finditer(recipe)]


def strip_comments(text: str) -> str:
    """Shell or Makefile text without comment lines and trailing comments (a `#` after whitespace)."""
    lines = []
    for line in text.splitlines():
        stripped = line.lstrip().lstrip("@-+").lstrip()
        if stripped.startswith("#"):
            continue
        lines.append(re.sub(r"\s+#(?![{!]).*$", "", line))
    return "\n".join(lines)


# ---- evidence that a tool is used ----------------------------------------------------------------------------

# Where a project says how it runs its tools, besides CI: task runners, build and helper scripts, git hooks, and
# the instructions for contributors (people and coding agents alike).
_TASK_FILES = (
    *("Makefile", "GNUmakefile", "makefile", *JUSTFILES, INVOKE_TASKS),
    *("build.sh", "build.ps1", "build.cmd", "build.cake"),
)
_HOOK_DIRS = (".git-hooks", ".githooks", ".husky")
_GUIDES = ("CONTRIBUTING.md", "CONTRIBUTING.rst", "AGENTS.md", "CLAUDE.md", "docs/CONTRIBUTING.md")


def usage(ctx: Context, root: str, command: re.Pattern[str]) -> Evidence | None:
    """Where the project runs `command` outside CI (a Makefile, a script, a git hook, its contributor guide), in
    `root` or at the repository root: the evidence that a tool it configures is one it really uses."""
    for directory in dict.fromkeys([root, "."]):
        candidates = [Context.join(directory, n) for n in (*_TASK_FILES, *_GUIDES)]
        for sub in (*SCRIPT_DIRS, *_HOOK_DIRS):
            prefix = Context.join(directory, sub) + "/"
            candidates += sorted(p for p in ctx.sizes if p.startswith(prefix) and "/" not in p[len(prefix) :])
        for path in candidates:
            text = ctx.text(path) if ctx.exists(path) else None
            m = command.search(text or "")
            if m and text is not None:
                line = text.count("\n", 0, m.start()) + 1
                return Evidence(file=path, line=line, excerpt=text.splitlines()[line - 1].strip()[:120])
    return None


# ---- what an entry point's body runs ------------------------------------------------------------------------


def runs(body: str, program: str) -> bool:
    """Whether `body` invokes `program` as a command word (`mypy`, `${PREFIX}mypy`, `python -m mypy`,
    `uv run mypy`), not as an argument of another tool or part of a longer name."""
    word = re.escape(program)
    return re.search(rf"(?:^|[\s;&|(`}}/]|-m\s)(?<![-\w.]){word}(?![\w.-]|/)", body, re.M) is not None


# Invocations that rewrite files instead of checking them: an entry point made of these is a formatter for
# developers (encode's `scripts/lint`), and would pass in CI whatever the code looks like.
_FIXERS = (
    re.compile(r"(?<![\w-])ruff\s+(?:check\s+)?[^\n]*--fix\b"),
    re.compile(r"(?<![\w-])ruff\s+format\b(?![^\n]*--(?:check|diff)\b)"),
    re.compile(r"(?<![\w-])black\b(?![^\n]*--(?:check|diff)\b)[^\n]*$", re.M),
    re.compile(r"(?<![\w-])isort\b(?![^\n]*--(?:check|check-only|diff|c)\b)[^\n]*$", re.M),
    re.compile(r"(?<![\w-])prettier\b[^\n]*--write\b"),
    re.compile(r"(?<![\w-])eslint\b[^\n]*--fix\b"),
    re.compile(r"(?<![\w-])gofmt\b[^\n]*\s-w\b"),
    re.compile(r"(?<![\w-])cargo\s+fmt\b(?![^\n]*--check\b)"),
    re.compile(r"(?<![\w-])rubocop\b[^\n]*\s-[aA]\b"),
    re.compile(r"(?<![\w-])autopep8\b[^\n]*\s(?:--in-place|-i)\b"),
)


def rewrites_files(body: str) -> bool:
    """Whether the body runs a formatter or linter in a mode that rewrites files."""
    return any(p.search(body) for p in _FIXERS)


__all__ = ["EntryPoint", "find", "rewrites_files", "runs", "strip_comments", "usage"]
