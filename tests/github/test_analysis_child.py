"""The analysis child for GitHub App repositories: analyzes over the API, without a clone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .fake_github import APP_ID, FakeGitHub

FILES = {
    "package.json": json.dumps({"name": "web", "scripts": {"test": "vitest run"}, "devDependencies": {"vitest": "2"}}),
    "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
    "src/index.ts": "export const answer = 42;\n",
}


def run_child(fake: FakeGitHub, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AUTODEVOPS_ENV": "test",
        "AUTODEVOPS_GITHUB_API_URL": fake.base_url,
        "AUTODEVOPS_GITHUB_APP_ID": APP_ID,
        "AUTODEVOPS_GITHUB_APP_PRIVATE_KEY": fake.app_private_key,
    }
    return subprocess.run(
        [sys.executable, "-m", "autodevops.github.analysis_child", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_child_analyzes_a_repository_through_the_api(fake_github: FakeGitHub) -> None:
    iid = fake_github.add_installation("octo", users=[fake_github.add_user("octo")])
    repo = fake_github.add_repo(iid, "octo", "web", FILES)
    done = run_child(fake_github, "--installation", str(iid), "--repo", "octo/web")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["commit_sha"] == repo.refs["heads/main"]
    [stack] = result["analysis"]["stacks"]
    assert stack["language"] in ("javascript", "typescript", "node")
    assert stack["package_manager"] == "pnpm"
    assert fake_github.count("GET", "/repos/octo/web/git/trees/") == 1
    # Only what the analyzer opened was fetched (the TypeScript source was not).
    assert fake_github.count("GET", "/repos/octo/web/contents/src/index.ts") == 0


def test_child_reports_a_rate_limit_clearly(fake_github: FakeGitHub) -> None:
    iid = fake_github.add_installation("octo", users=[fake_github.add_user("octo")])
    fake_github.add_repo(iid, "octo", "web", FILES)
    fake_github.rate_limit("/repos/octo/web/git/trees/", status=403, reset_in=3600)
    done = run_child(fake_github, "--installation", str(iid), "--repo", "octo/web")
    assert done.returncode == 2
    assert "rate limit exceeded" in done.stderr
    assert "resets in" in done.stderr
