"""What does analyzing a project over GitLab's API cost: calls, bytes and time, against a local fake GitLab?

Usage:
    .venv/bin/python bench/gitlab_source.py [--files 20000] [--runs 1]

It seeds the test suite's fake GitLab (tests/gitlab/fake_gitlab.py, served by uvicorn on loopback, speaking
GitLab's REST v4 pagination) with the same synthetic monorepo as `bench/github_source.py`, runs the engine's
`analyze()` over `GitLabSource` and prints: API calls by kind (tree pages, size queries, file reads, other),
bytes received from GitLab (JSON and file content, as the client counted them) against the repository's
total, and wall time. A benchmark that prints numbers, not a test.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.github_source import synthetic_repo
from tests.gitlab.fake_gitlab import FakeGitLab

from autodevops.config import Settings
from autodevops.engine.analyze import analyze
from autodevops.gitlab.client import GitLabClient
from autodevops.gitlab.source import GitLabSource


def _kind(path: str) -> str:
    if path.endswith("/repository/tree"):
        return "tree pages"
    if path == "/api/graphql":
        return "size queries"
    if "/repository/files/" in path:
        return "file reads"
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()

    fake = FakeGitLab()
    server = fake.start()
    try:
        owner = fake.add_user("alice")
        files = synthetic_repo(args.files)
        project = fake.add_project("acme/mono", members={owner: 30}, files=dict(files))
        token = fake.user_token(owner)
        settings = Settings(
            env="test",
            gitlab_url=fake.base_url,
            allow_insecure_git_urls=True,  # the fake speaks http on loopback, listed as a private server
            git_private_servers=[fake.base_url.removeprefix("http://")],
        )
        best = float("inf")
        calls: Counter[str] = Counter()
        received = content = 0
        stacks: list[str] = []
        for _ in range(args.runs):
            fake.requests.clear()
            client = GitLabClient(settings)
            with GitLabSource(client, token, project.id, "acme/mono") as source:
                started = time.perf_counter()
                result = analyze(source)
                best = min(best, time.perf_counter() - started)
                content = sum(len(data) for _, data in source._content.values())
            calls = Counter(_kind(p) for _, p in fake.requests)
            received = client.bytes_received
            stacks = [f"{s.path}:{s.language}" for s in result.stacks]
        total = sum(len(v) for v in files.values())
        print(f"repository: {len(files)} files, {total / 1e6:.1f} MB")
        print(f"stacks: {', '.join(stacks)}")
        print(f"API calls per analysis: {sum(calls.values())} ({dict(calls)})")
        print(f"bytes received from GitLab: {received / 1e6:.2f} MB (file content {content / 1e3:.1f} kB)")
        print(f"wall time, best of {args.runs}: {best:.2f} s (loopback fake; GitLab adds ~50-200 ms per call)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
