"""Reading a GitHub Actions workflow: jobs, steps, `needs` order, triggers and matrix expansion.

The workflow is read as YAML 1.2, as GitHub reads it: `on` is a key, not `true`, and `yes` is a string (while
`3.10` is still the number 3.1, the trap every Actions user meets once). Only what a Linux runner executes is
modelled; keys that only matter on github.com (permissions, concurrency) are kept out.
"""

from __future__ import annotations

import fnmatch
import io
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from autodevops.engine.verify.expressions import Scope, Value, evaluate_value, loose_equals, to_string


class WorkflowError(ValueError):
    """A workflow that cannot be run as written (bad YAML, a `needs` cycle, a malformed matrix)."""


@dataclass(frozen=True)
class Step:
    index: int  # 0-based position in the job
    raw: Mapping[str, Any]

    @property
    def id(self) -> str | None:
        value = self.raw.get("id")
        return str(value) if value is not None else None

    @property
    def uses(self) -> str | None:
        value = self.raw.get("uses")
        return str(value).strip() if value is not None else None

    @property
    def run(self) -> str | None:
        value = self.raw.get("run")
        return None if value is None else to_string(value)

    @property
    def display_name(self) -> str:
        """The name the runner shows: `name:`, else `Run <first line>` or `Run <action>`."""
        if self.raw.get("name") is not None:
            return to_string(self.raw["name"])
        if self.run is not None:
            first = next((line for line in self.run.splitlines() if line.strip()), "")
            return f"Run {first.strip()}"
        return f"Run {self.uses}"


@dataclass(frozen=True)
class Job:
    id: str
    raw: Mapping[str, Any]
    steps: tuple[Step, ...]
    needs: tuple[str, ...]

    @property
    def name_template(self) -> str | None:
        value = self.raw.get("name")
        return None if value is None else to_string(value)


@dataclass(frozen=True)
class Workflow:
    path: str  # repo-relative, e.g. .github/workflows/ci.yml
    name: str
    triggers: Mapping[str, Any]  # event name -> its filter mapping (empty when the event has no filter)
    env: Mapping[str, Any]
    defaults: Mapping[str, Any]
    jobs: tuple[Job, ...]  # in an order that satisfies `needs`

    def job(self, job_id: str) -> Job:
        for job in self.jobs:
            if job.id == job_id:
                return job
        raise KeyError(job_id)


def load_yaml(text: str) -> Any:
    """YAML 1.2 (safe) as GitHub reads workflows."""
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)
    return yaml.load(io.StringIO(text))


def parse_workflow(path: str, text: str) -> Workflow:
    """Parse one workflow file. Raises WorkflowError with what is wrong and where."""
    try:
        data = load_yaml(text)
    except YAMLError as exc:
        raise WorkflowError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise WorkflowError(f"{path}: a workflow is a mapping with `on:` and `jobs:`")
    raw_jobs = data.get("jobs")
    if not isinstance(raw_jobs, dict) or not raw_jobs:
        raise WorkflowError(f"{path}: no `jobs:`")
    jobs: dict[str, Job] = {}
    for job_id, raw in raw_jobs.items():
        if not isinstance(raw, dict):
            raise WorkflowError(f"{path}: job {job_id!r} is not a mapping")
        raw_steps = raw.get("steps") or []
        if not isinstance(raw_steps, list) or not all(isinstance(s, dict) for s in raw_steps):
            raise WorkflowError(f"{path}: job {job_id!r}: `steps:` must be a list of mappings")
        for i, s in enumerate(raw_steps):
            if ("run" in s) == ("uses" in s):
                raise WorkflowError(f"{path}: job {job_id!r} step {i + 1}: needs exactly one of `run:` or `uses:`")
        needs = raw.get("needs") or []
        needs_list = [needs] if isinstance(needs, str) else list(needs)
        jobs[str(job_id)] = Job(
            id=str(job_id),
            raw=raw,
            steps=tuple(Step(i, s) for i, s in enumerate(raw_steps)),
            needs=tuple(str(n) for n in needs_list),
        )
    for job in jobs.values():
        for need in job.needs:
            if need not in jobs:
                raise WorkflowError(f"{path}: job {job.id!r} needs {need!r}, which is not a job in this workflow")
    return Workflow(
        path=path,
        name=to_string(data.get("name")) or path,
        triggers=_triggers(data.get("on")),
        env=data.get("env") or {},
        defaults=data.get("defaults") or {},
        jobs=tuple(_ordered(jobs, path)),
    )


def _triggers(on: Any) -> dict[str, Any]:
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        return {str(e): {} for e in on}
    if isinstance(on, dict):
        return {str(k): (v if isinstance(v, dict) else {}) for k, v in on.items()}
    return {}


def _ordered(jobs: dict[str, Job], path: str) -> list[Job]:
    """Jobs in dependency order (stable: file order among jobs that are ready together)."""
    done: list[Job] = []
    placed: set[str] = set()
    pending = list(jobs.values())
    while pending:
        ready = [j for j in pending if all(n in placed for n in j.needs)]
        if not ready:
            cycle = ", ".join(j.id for j in pending)
            raise WorkflowError(f"{path}: `needs` forms a cycle among jobs {cycle}")
        for job in ready:
            done.append(job)
            placed.add(job.id)
        pending = [j for j in pending if j.id not in placed]
    return done


def triggered_by(workflow: Workflow, event: str, ref: str) -> bool:
    """Whether `event` on `ref` (refs/heads/NAME or refs/tags/NAME) starts this workflow."""
    if event not in workflow.triggers:
        return False
    filters = workflow.triggers[event]
    if event not in ("push", "pull_request", "pull_request_target"):
        return True
    is_tag = ref.startswith("refs/tags/")
    name = ref.removeprefix("refs/tags/").removeprefix("refs/heads/")
    include_key, exclude_key = ("tags", "tags-ignore") if is_tag else ("branches", "branches-ignore")
    other_key = "branches" if is_tag else "tags"
    if event == "push" and other_key in filters and include_key not in filters:
        # `on: push: tags: [...]` alone does not run for branch pushes (and vice versa).
        return False
    if include_key in filters:
        return _matches_filters(name, filters[include_key])
    if exclude_key in filters:
        return not _matches_filters(name, filters[exclude_key])
    return True


def _matches_filters(name: str, patterns: Any) -> bool:
    """GitHub's filter patterns: later `!pattern`s exclude, `**` crosses `/`, `*` does not."""
    if isinstance(patterns, str):
        patterns = [patterns]
    result = False
    for pattern in patterns or []:
        text = to_string(pattern)
        negate = text.startswith("!")
        if negate:
            text = text[1:]
        if _glob(name, text):
            result = not negate
    return result


def _glob(name: str, pattern: str) -> bool:
    placeholder = "\0"
    translated = fnmatch.translate(pattern.replace("**", placeholder))
    # fnmatch's '*' crosses '/', which GitHub's does not; '**' does.
    translated = translated.replace(".*", "[^/]*").replace(placeholder, ".*")
    return re.fullmatch(translated, name) is not None


# ---- matrix -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One matrix combination of a job (an empty mapping for a job without a matrix)."""

    values: Mapping[str, Value] = field(default_factory=dict)

    def label(self) -> str:
        return ", ".join(to_string(v) if not isinstance(v, dict | list) else _compact(v) for v in self.values.values())


def _compact(value: Value) -> str:
    if isinstance(value, dict):
        return ", ".join(to_string(v) for v in value.values())
    return ", ".join(to_string(v) for v in value)


def expand_matrix(strategy: Any, scope: Scope) -> list[Cell]:
    """The combinations `strategy.matrix` yields: the product of its lists, minus `exclude`, plus `include`.

    `include` follows GitHub's rule: an entry is merged into every combination whose original values it does
    not overwrite (values added by an earlier include may be overwritten); an entry that fits no combination
    becomes a combination of its own.
    """
    if not strategy:
        return [Cell()]
    strategy = evaluate_value(strategy, scope) if isinstance(strategy, str) else strategy
    if not isinstance(strategy, dict):
        raise WorkflowError("`strategy:` must be a mapping")
    matrix = evaluate_value(strategy.get("matrix"), scope)
    if matrix is None:
        return [Cell()]
    if not isinstance(matrix, dict):
        raise WorkflowError("`strategy.matrix:` must be a mapping")
    include = matrix.get("include") or []
    exclude = matrix.get("exclude") or []
    if not isinstance(include, list) or not isinstance(exclude, list):
        raise WorkflowError("matrix `include:`/`exclude:` must be lists")
    axes: dict[str, list[Value]] = {}
    for key, values in matrix.items():
        if key in ("include", "exclude"):
            continue
        if not isinstance(values, list):
            raise WorkflowError(f"matrix key {key!r} must be a list, got {to_string(values)!r}")
        if not values:
            raise WorkflowError(f"matrix key {key!r} is an empty list")
        axes[str(key)] = values
    combos: list[dict[str, Value]] = (
        [dict(zip(axes, product, strict=True)) for product in itertools.product(*axes.values())] if axes else []
    )
    for rule in exclude:
        if not isinstance(rule, dict):
            raise WorkflowError("each matrix `exclude:` entry must be a mapping")
        combos = [c for c in combos if not all(k in c and _deep_equals(c[k], v) for k, v in rule.items())]
    originals = [dict(c) for c in combos]
    extra: list[dict[str, Value]] = []
    for entry in include:
        if not isinstance(entry, dict):
            raise WorkflowError("each matrix `include:` entry must be a mapping")
        added = False
        for combo, original in zip(combos, originals, strict=True):
            if all(k not in original or _deep_equals(original[k], v) for k, v in entry.items()):
                combo.update(entry)
                added = True
        if not added:
            extra.append(dict(entry))
    cells = [Cell(c) for c in [*combos, *extra]]
    if not cells:
        raise WorkflowError("the matrix has no combinations left after `exclude:`")
    return cells


def _deep_equals(a: Value, b: Value) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_deep_equals(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_deep_equals(x, y) for x, y in zip(a, b, strict=True))
    return loose_equals(a, b)


def cell_matches(cell: Cell, filters: Mapping[str, str]) -> bool:
    """Whether a cell agrees with every KEY=VALUE of `--matrix` (compared as the runner prints values). A filter
    says nothing about a job whose matrix has no such key: `--matrix python-version=3.12` still runs the lint job."""
    for key, wanted in filters.items():
        if key not in cell.values:
            continue
        value = cell.values[key]
        text = _compact(value) if isinstance(value, dict | list) else to_string(value)
        if text != wanted:
            return False
    return True
