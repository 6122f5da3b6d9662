"""Run a GitHub Actions pipeline on this machine, job by job and step by step, and report what passes.

`autodevops verify` is the measuring instrument for "the pipeline we generate goes green on the first push": a
step is green only if it really ran here and exited 0. It executes the repository's own code: run it only on
repositories you trust, or inside a sandbox. The platform never calls it.

Modules: `expressions` (the `${{ }}` language), `workflow` (jobs, needs, triggers, matrices), `toolchains`
(setup actions to local toolchains), `actions` (what each `uses:` does here), `services` (service containers to
local servers), `checkout` (the job's working copy), `classify` (machine failures by log evidence), `runner`
(executing jobs and steps), `report` (results, table and JSON).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from autodevops.engine.verify.report import Report
from autodevops.engine.verify.runner import VerifyOptions, verify_workflows

WORKFLOWS_DIR = ".github/workflows/"


def generated_files(source: Path, today: dt.date | None = None) -> tuple[dict[str, str], list[str]]:
    """The files `autodevops generate` would write for GitHub Actions, computed in memory, and its warnings."""
    from autodevops.engine.analyze import analyze
    from autodevops.engine.generate import generate
    from autodevops.engine.source import LocalDir

    result = generate(analyze(LocalDir(str(source)), today), "github")
    return result.files, [f.message for f in result.findings]


def verify_repository(
    source: Path, options: VerifyOptions, workflow_files: list[Path] | None = None, today: dt.date | None = None
) -> Report:
    """Verify the generated pipeline of `source` (or the given committed workflow files) on this machine."""
    if workflow_files:
        extra: dict[str, str] = {}
        workflows: list[tuple[str, str]] = []
        for file in workflow_files:
            text = file.read_text(encoding="utf-8")
            resolved, root = file.resolve(), source.resolve()
            rel = str(resolved.relative_to(root)) if resolved.is_relative_to(root) else WORKFLOWS_DIR + file.name
            if not resolved.is_relative_to(root):
                extra[rel] = text
            workflows.append((rel, text))
    else:
        extra, _warnings = generated_files(source, today)
        workflows = [(path, text) for path, text in extra.items() if path.startswith(WORKFLOWS_DIR)]
    return verify_workflows(source, workflows, extra, options)


__all__ = ["Report", "VerifyOptions", "generated_files", "verify_repository", "verify_workflows"]
