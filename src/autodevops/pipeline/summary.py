"""A summary of a generated pipeline for people: its jobs, where each runs, and the matrix it expands to.

Read from the generated files themselves (GitHub Actions workflows and `.gitlab-ci.yml`), so the summary
always matches what would be committed. A file that is not valid YAML is left out of the summary; the
validation section already reports it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

# Top-level keys of .gitlab-ci.yml that configure the pipeline rather than name a job.
_GITLAB_KEYWORDS = frozenset(
    {
        "after_script",
        "before_script",
        "cache",
        "default",
        "image",
        "include",
        "pages",
        "services",
        "stages",
        "variables",
        "workflow",
    }
)


@dataclass(frozen=True, slots=True)
class MatrixAxis:
    name: str
    values: list[str]


@dataclass(frozen=True, slots=True)
class JobSummary:
    file: str
    id: str
    name: str
    runs_on: str  # the runner (GitHub) or the stage (GitLab)
    steps: int  # steps (GitHub) or script lines (GitLab)
    axes: list[MatrixAxis] = field(default_factory=list)
    combinations: int = 1  # how many runs the matrix expands to


_MATRIX_EXPRESSION = re.compile(r"\$\{\{\s*matrix\.([\w.-]+)\s*\}\}")


def _readable(text: str) -> str:
    """A job's name or runner with its matrix expressions named by their axis: `${{ matrix.os }}` → `os`."""
    return _MATRIX_EXPRESSION.sub(lambda match: match.group(1), text)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def _github_matrix(matrix: Any) -> tuple[list[MatrixAxis], int]:
    if not isinstance(matrix, dict):
        return ([MatrixAxis("matrix", [_text(matrix)])] if matrix else []), 1
    axes = [
        MatrixAxis(str(key), [_text(v) for v in values] if isinstance(values, list) else [_text(values)])
        for key, values in matrix.items()
        if key not in ("include", "exclude")
    ]
    combinations = math.prod(len(axis.values) for axis in axes) if axes else 0
    excluded = matrix.get("exclude")
    included = matrix.get("include")
    combinations -= len(excluded) if isinstance(excluded, list) else 0
    if isinstance(included, list):
        # An include that matches no existing combination adds one (counted when there are no axes to match).
        combinations += len(included) if not axes else 0
    return axes, max(combinations, 1)


def _github(path: str, document: Any) -> list[JobSummary]:
    jobs = document.get("jobs") if isinstance(document, dict) else None
    result: list[JobSummary] = []
    for job_id, job in (jobs or {}).items():
        if not isinstance(job, dict):
            continue
        strategy = job.get("strategy")
        axes, combinations = _github_matrix(strategy.get("matrix")) if isinstance(strategy, dict) else ([], 1)
        steps = job.get("steps")
        result.append(
            JobSummary(
                file=path,
                id=str(job_id),
                name=_readable(str(job.get("name") or job_id)),
                runs_on=_readable(_text(job.get("runs-on"))) or ("reusable workflow" if job.get("uses") else "—"),
                steps=len(steps) if isinstance(steps, list) else 0,
                axes=axes,
                combinations=combinations,
            )
        )
    return result


def _gitlab_matrix(parallel: Any) -> tuple[list[MatrixAxis], int]:
    entries = parallel.get("matrix") if isinstance(parallel, dict) else None
    if not isinstance(entries, list):
        return [], int(parallel) if isinstance(parallel, int) else 1
    axes: dict[str, list[str]] = {}
    combinations = 0
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        sizes = []
        for key, values in entry.items():
            listed = [_text(v) for v in values] if isinstance(values, list) else [_text(values)]
            axes.setdefault(str(key), [])
            axes[str(key)].extend(v for v in listed if v not in axes[str(key)])
            sizes.append(len(listed))
        combinations += math.prod(sizes) if sizes else 0
    return [MatrixAxis(k, v) for k, v in axes.items()], max(combinations, 1)


def _gitlab(path: str, document: Any) -> list[JobSummary]:
    result: list[JobSummary] = []
    for job_id, job in (document or {}).items() if isinstance(document, dict) else ():
        name = str(job_id)
        if name in _GITLAB_KEYWORDS or name.startswith(".") or not isinstance(job, dict):
            continue
        axes, combinations = _gitlab_matrix(job.get("parallel"))
        script = job.get("script")
        result.append(
            JobSummary(
                file=path,
                id=name,
                name=name,
                runs_on=f"stage {job.get('stage') or 'test'}",
                steps=len(script) if isinstance(script, list) else (1 if script else 0),
                axes=axes,
                combinations=combinations,
            )
        )
    return result


def summarize(files: list[dict[str, Any]]) -> list[JobSummary]:
    """The jobs of the generated CI files, in file order; other files (dependabot.yml...) are not CI jobs."""
    yaml = YAML(typ="safe", pure=True)
    jobs: list[JobSummary] = []
    for item in files:
        path = str(item.get("path", ""))
        is_github = path.startswith(".github/workflows/") and path.endswith((".yml", ".yaml"))
        if not is_github and path != ".gitlab-ci.yml":
            continue
        try:
            document = yaml.load(str(item.get("content", "")))
        except YAMLError:
            continue
        jobs.extend(_github(path, document) if is_github else _gitlab(path, document))
    return jobs
