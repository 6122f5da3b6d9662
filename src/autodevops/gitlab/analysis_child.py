"""`python -m autodevops.gitlab.analysis_child --project-id ID --path GROUP/PROJECT [--ref REF]`, token on stdin.

The `analysis.run` job's child process for connected GitLab projects: it reads the project with
`GitLabSource` (repository API, no clone, only the files the analyzer opens), so private projects work without
handing a token to git. The token comes on stdin, never in the command line (other users of the machine can
read argv). Same protocol as `autodevops.analysis.child`: the result JSON on stdout, stages on stderr, exit 2
when the project cannot be read (the message names the reason, e.g. a rate limit and when it resets).
"""

from __future__ import annotations

import argparse
import sys

from autodevops.ai.digest import child_digest
from autodevops.config import get_settings
from autodevops.engine.analyze import analyze
from autodevops.engine.source import SourceError
from autodevops.errors import AppError
from autodevops.gitlab.client import GitLabClient
from autodevops.gitlab.source import GitLabSource
from autodevops.jobs.child import EXIT_PERMANENT, emit_result, report_stage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autodevops.gitlab.analysis_child")
    parser.add_argument("--project-id", type=int, required=True)
    parser.add_argument("--path", required=True, help="group/project")
    parser.add_argument("--ref")
    args = parser.parse_args(argv)
    token = sys.stdin.readline().strip()
    report_stage("listing", 10)
    try:
        with GitLabSource(GitLabClient(get_settings()), token, args.project_id, args.path, ref=args.ref) as source:
            commit = source.commit_sha
            source.files()
            report_stage("analyzing", 50)
            result = analyze(source)
            report_stage("storing", 90)
            ai_digest = child_digest(result, source)
    except (SourceError, AppError, ValueError) as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_PERMANENT if isinstance(exc, SourceError) and exc.permanent else 2
    emit_result({"analysis": result.model_dump(mode="json"), "commit_sha": commit, "ai_digest": ai_digest})
    return 0


if __name__ == "__main__":
    sys.exit(main())
