"""What does analyzing a repository over GitHub's API cost: calls, bytes and time, against a local fake GitHub?

Usage:
    .venv/bin/python bench/github_source.py [--files 5000] [--runs 3]

It seeds the test suite's fake GitHub (tests/github/fake_github.py, served by uvicorn on loopback) with a
synthetic monorepo of N files (a Node service, a Python service, a Go service, docs and assets), then runs
the engine's `analyze()` over `GitHubSource` and prints: API calls by kind, bytes of file content fetched
against the repository's total, and wall time (best of N runs, a fresh source each run). The point is the
ratio: the analyzer reads manifests and lockfiles, not the tree. A benchmark that prints numbers, not a test.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.github.fake_github import APP_ID, FakeGitHub

from autodevops.config import Settings
from autodevops.engine.analyze import analyze
from autodevops.github.client import GitHubClient
from autodevops.github.source import GitHubSource


def synthetic_repo(n: int, seed: int = 7) -> dict[str, bytes]:
    rng = random.Random(seed)
    files: dict[str, bytes] = {
        "package.json": json.dumps({"private": True, "workspaces": ["services/web"]}).encode(),
        "pnpm-lock.yaml": b"lockfileVersion: '9.0'\n",
        "services/web/package.json": json.dumps(
            {"name": "web", "scripts": {"test": "vitest run", "lint": "eslint ."}, "devDependencies": {"vitest": "2"}}
        ).encode(),
        "services/api/pyproject.toml": b'[project]\nname = "api"\nrequires-python = ">=3.11"\n'
        b"[tool.pytest.ini_options]\n[tool.ruff]\n",
        "services/api/uv.lock": b"version = 1\n",
        "services/worker/go.mod": b"module example.com/worker\n\ngo 1.22\n",
        "Dockerfile": b"FROM python:3.12-slim\n",
    }
    kinds = [
        ("services/web/src", ".ts", 600),
        ("services/api/app", ".py", 900),
        ("services/worker", ".go", 700),
        ("docs", ".md", 1500),
        ("assets", ".png", 4000),
    ]
    i = 0
    while len(files) < n:
        base, ext, size = kinds[i % len(kinds)]
        depth = "/".join(f"d{rng.randrange(8)}" for _ in range(rng.randrange(1, 4)))
        files[f"{base}/{depth}/f{i}{ext}"] = bytes(rng.randrange(32, 127) for _ in range(size))
        i += 1
    return files


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    fake = FakeGitHub()
    server = fake.start()
    try:
        owner = fake.add_user("octo")
        iid = fake.add_installation("octo", users=[owner])
        files = synthetic_repo(args.files)
        fake.add_repo(iid, "octo", "mono", files)
        settings = Settings(
            env="test",
            github_api_url=fake.base_url,
            github_app_id=APP_ID,
            github_app_private_key=SecretStr(fake.app_private_key),
        )
        client = GitHubClient(settings)
        best = float("inf")
        calls: Counter[str] = Counter()
        fetched = 0
        stacks: list[str] = []
        for _ in range(args.runs):
            fake.requests.clear()
            source = GitHubSource(client, iid, "octo", "mono")
            started = time.perf_counter()
            result = analyze(source)
            best = min(best, time.perf_counter() - started)
            calls = Counter(
                "contents"
                if "/contents/" in p
                else "trees"
                if "/git/trees/" in p
                else "token"
                if "access_tokens" in p
                else "other"
                for _, p in fake.requests
            )
            fetched = sum(len(v) for v in source._content.values())
            stacks = [f"{s.path}:{s.language}" for s in result.stacks]
        total = sum(len(v) for v in files.values())
        print(f"repository: {len(files)} files, {total / 1e6:.1f} MB")
        print(f"stacks: {', '.join(stacks)}")
        print(f"API calls per analysis: {sum(calls.values())} ({dict(calls)})")
        print(f"content fetched: {fetched / 1e3:.1f} kB of {total / 1e6:.1f} MB ({100 * fetched / total:.3f}%)")
        print(f"wall time, best of {args.runs}: {best:.2f} s (loopback fake; GitHub adds ~50-150 ms per call)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
