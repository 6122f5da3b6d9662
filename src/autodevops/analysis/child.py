"""`python -m autodevops.analysis.child URL [--ref REF] [--timeout S]`: clone and analyze, in a child process.

Run by the `analysis.run` job (see `autodevops.jobs.child`): prints `{"analysis": ..., "commit_sha": ...}` on
stdout, progress stages on stderr, and exits 2 with the reason when the repository cannot be read.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from autodevops.ai.digest import child_digest
from autodevops.engine.analyze import analyze
from autodevops.engine.source import GitClone, SourceError
from autodevops.jobs.child import emit_result, report_stage


def head_commit(path: str | None) -> str | None:
    """The commit the clone checked out, if it can be read."""
    if path is None:
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(Path(path) / "repo"), "rev-parse", "HEAD"],
            capture_output=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.decode().strip() or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autodevops.analysis.child")
    parser.add_argument("url")
    parser.add_argument("--ref")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    report_stage("cloning", 10)
    try:
        with GitClone(args.url, ref=args.ref, timeout=args.timeout) as clone:
            commit = head_commit(clone.path)
            report_stage("analyzing", 50)
            result = analyze(clone)
            ai_digest = child_digest(result, clone)  # while the files are still on disk
    except SourceError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    report_stage("storing", 90)
    emit_result({"analysis": result.model_dump(mode="json"), "commit_sha": commit, "ai_digest": ai_digest})
    return 0


if __name__ == "__main__":
    sys.exit(main())
