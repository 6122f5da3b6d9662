"""`python -m autodevops.github.analysis_child --installation ID --repo OWNER/NAME [--ref REF]`.

The `analysis.run` job's child process for repositories connected through the GitHub App: it reads the
repository with `GitHubSource` (trees + contents APIs, no clone, only the files the analyzer opens) instead of
cloning, so private repositories work without ever handing a token to git. Same protocol as
`autodevops.analysis.child`: the result JSON on stdout, stages on stderr, exit 2 when the repository cannot be
read (the message names the reason, e.g. a rate limit and when it resets).
"""

from __future__ import annotations

import argparse
import sys

import httpx

from autodevops.ai.digest import child_digest
from autodevops.config import get_settings
from autodevops.engine.analyze import analyze
from autodevops.engine.source import SourceError
from autodevops.errors import AppError
from autodevops.github.client import GitHubClient
from autodevops.github.source import GitHubSource
from autodevops.jobs.child import EXIT_PERMANENT, emit_result, one_line, report_stage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autodevops.github.analysis_child")
    parser.add_argument("--installation", type=int, required=True)
    parser.add_argument("--repo", required=True, help="owner/name")
    parser.add_argument("--ref")
    args = parser.parse_args(argv)
    owner, _, name = args.repo.partition("/")
    report_stage("listing", 10)
    try:
        source = GitHubSource(GitHubClient(get_settings()), args.installation, owner, name, ref=args.ref)
        commit = source.commit_sha
        source.files()
        report_stage("analyzing", 50)
        result = analyze(source)
    except httpx.HTTPStatusError as exc:
        # A 4xx other than a timeout or a rate limit answers the same on every attempt.
        status = exc.response.status_code
        request = exc.request
        sys.stderr.write(
            f"GitHub answered {status} {exc.response.reason_phrase} to {request.method} {request.url.path}\n"
        )
        return EXIT_PERMANENT if 400 <= status < 500 and status not in (408, 429) else 2
    except (SourceError, AppError, ValueError) as exc:
        sys.stderr.write(f"{one_line(str(exc))}\n")
        permanent = isinstance(exc, ValueError) or (isinstance(exc, SourceError) and exc.permanent)
        return EXIT_PERMANENT if permanent else 2
    report_stage("storing", 90)
    ai_digest = child_digest(result, source)
    emit_result({"analysis": result.model_dump(mode="json"), "commit_sha": commit, "ai_digest": ai_digest})
    return 0


if __name__ == "__main__":
    sys.exit(main())
