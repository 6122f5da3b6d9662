"""A small repository written into a temporary directory, and one detector run over it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from autodevops.engine.detect.base import Context
from autodevops.engine.model import Stack
from autodevops.engine.source import LocalDir

TODAY = dt.date(2026, 11, 26)


def run_detector(
    detect: Callable[[Context], list[Stack]], root: Path, files: dict[str, str], today: dt.date = TODAY
) -> tuple[list[Stack], Context]:
    """Write `files` (path → text) under `root`, then run `detect` on it as of `today`."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    ctx = Context(LocalDir(root), today)
    return detect(ctx), ctx
