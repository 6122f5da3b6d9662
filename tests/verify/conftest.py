"""Shared pieces for verify tests: a session-wide toolchain cache and a helper that runs one workflow."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from autodevops.engine.verify import VerifyOptions, verify_workflows
from autodevops.engine.verify.report import Report
from autodevops.engine.verify.toolchains import ToolchainConfig

from .support import PYTHON_VERSION


@pytest.fixture(scope="session")
def verify_cache() -> Path:
    """Tools, clean interpreter prefixes and download caches, kept between runs in the git-ignored .tmp/."""
    path = Path(__file__).resolve().parents[2] / ".tmp" / "verify-test-cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def toolchains(verify_cache: Path) -> ToolchainConfig:
    return ToolchainConfig(cache_dir=verify_cache, python={PYTHON_VERSION: Path(sys.executable)}, discover=False)


@pytest.fixture
def run_workflow(tmp_path: Path, toolchains: ToolchainConfig) -> Callable[..., Report]:
    """Run a workflow (YAML text) against `repo` (default: an empty repository) with test-friendly options."""

    def run(workflow: str, repo: Path | None = None, **overrides: Any) -> Report:
        source = repo or tmp_path / "repo"
        source.mkdir(exist_ok=True)
        options = VerifyOptions(
            logs_dir=tmp_path / "logs", toolchains=toolchains, timeout=60, kill_grace=0.5, branch="main"
        )
        for key, value in overrides.items():
            setattr(options, key, value)
        return verify_workflows(source, [(".github/workflows/ci.yml", textwrap.dedent(workflow))], {}, options)

    return run
