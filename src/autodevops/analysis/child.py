"""`python -m autodevops.analysis.child URL --workdir DIR [--ref REF] [--timeout S]`: clone and analyze.

Run by the `analysis.run` job in a child process (see `autodevops.jobs.child`), inside a clone directory the
job owns and removes (`--workdir`): prints `{"analysis": ..., "commit_sha": ...}` on stdout, progress stages
on stderr, and when the repository cannot be read exits with the reason on stderr and status 2, or
`EXIT_PERMANENT` when trying again cannot help. The URL is checked again and pinned before every git command
(`AUTODEVOPS_*` settings: which URLs are allowed, the clone's size limits).
"""

from __future__ import annotations

import argparse
import sys

from autodevops.ai.digest import child_digest
from autodevops.config import get_settings
from autodevops.engine.analyze import analyze
from autodevops.engine.clone import CloneLimits, GitClone
from autodevops.engine.source import SourceError
from autodevops.jobs.child import EXIT_PERMANENT, emit_result, one_line, report_stage
from autodevops.repository.git_url import GitURLPolicy, network_guard


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autodevops.analysis.child")
    parser.add_argument("url")
    parser.add_argument("--workdir", required=True, help="an empty directory the caller removes afterwards")
    parser.add_argument("--ref")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    settings = get_settings()
    limits = CloneLimits(settings.git_max_transfer_bytes, settings.git_max_checkout_bytes, settings.git_max_files)
    report_stage("cloning", 10)
    try:
        with GitClone(
            args.url,
            ref=args.ref,
            timeout=args.timeout,
            limits=limits,
            guard=network_guard(GitURLPolicy.from_settings(settings)),
            workdir=args.workdir,
        ) as clone:
            report_stage("analyzing", 50)
            result = analyze(clone)
            ai_digest = child_digest(result, clone)  # while the files are still on disk
            commit = clone.commit
    except SourceError as exc:
        sys.stderr.write(f"{one_line(str(exc))}\n")
        return EXIT_PERMANENT if exc.permanent else 2
    report_stage("storing", 90)
    emit_result({"analysis": result.model_dump(mode="json"), "commit_sha": commit, "ai_digest": ai_digest})
    return 0


if __name__ == "__main__":
    sys.exit(main())
