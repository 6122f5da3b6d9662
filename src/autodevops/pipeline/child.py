"""`python -m autodevops.pipeline.child < analysis.json`: generate the pipeline files and validate them.

Run by the `pipeline.generate` job in a child process (see `autodevops.jobs.child`). Prints
`{"files": [{"path", "content"}], "validation": {"valid", "problems", "findings", "unavailable"}}`. A
validator that is not installed is reported under `unavailable`, not as a failure of the job.
"""

from __future__ import annotations

import functools
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autodevops.engine.generate import generate
from autodevops.engine.model import Analysis
from autodevops.engine.validate import (
    Problem,
    ValidatorUnavailable,
    actionlint,
    schema_problems,
    shellcheck,
    zizmor,
)
from autodevops.jobs.child import emit_result, report_stage

_SCHEMAS = {".gitlab-ci.yml": "gitlab-ci", ".github/dependabot.yml": "dependabot"}


def validate(files: dict[str, str]) -> dict[str, Any]:
    """Run every validator that applies and is installed; say which ones were not."""
    problems: list[Problem] = []
    unavailable: list[str] = []
    with tempfile.TemporaryDirectory(prefix="autodevops-pipeline-") as tmp:
        root = Path(tmp)
        for path, content in files.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        workflows = [root / p for p in files if p.startswith(".github/workflows/")]
        audited = workflows + [root / p for p in files if p == ".github/dependabot.yml"]
        checks: list[tuple[str, Callable[[], list[Problem]]]] = []
        if workflows:
            checks.append(("actionlint", lambda: actionlint(workflows)))
            checks.append(("shellcheck", lambda: shellcheck(workflows)))
        if audited:
            checks.append(("zizmor", lambda: zizmor(audited)))
        for path, content in files.items():
            schema = _SCHEMAS.get(path) or ("github-workflows" if path.startswith(".github/workflows/") else None)
            if schema:
                checks.append(("schema", functools.partial(schema_problems, content, schema, path)))
        for name, check in checks:
            try:
                problems += check()
            except ValidatorUnavailable as exc:
                if name not in unavailable:
                    unavailable.append(name)
                sys.stderr.write(f"{exc}\n")
    return {
        "valid": not problems,
        "problems": [
            {"tool": p.tool, "file": p.file, "line": p.line, "rule": p.rule, "message": p.message} for p in problems
        ],
        "unavailable": unavailable,
    }


def main() -> int:
    analysis = Analysis.model_validate(json.loads(sys.stdin.read()))
    report_stage("generating", 30)
    generated = generate(analysis, "all")
    report_stage("validating", 70)
    validation = validate(generated.files)
    validation["findings"] = [f.model_dump(mode="json") for f in generated.findings]
    emit_result({"files": [{"path": p, "content": c} for p, c in generated.files.items()], "validation": validation})
    return 0


if __name__ == "__main__":
    sys.exit(main())
