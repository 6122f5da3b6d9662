"""Which GitHub-hosted Linux runner image can provide a toolchain version, from `runners.toml`.

The generator asks this before it puts a version in a matrix: `actions/setup-python` on `ubuntu-latest` has no
Python 3.7, so a 3.7 cell runs on `ubuntu-22.04`, and a 3.6 cell cannot run anywhere and is left out.
"""

from __future__ import annotations

import functools
import re
import tomllib
from importlib import resources
from typing import Any

DEFAULT = "ubuntu-latest"


@functools.cache
def _table() -> dict[str, Any]:
    return tomllib.loads(resources.files(__package__).joinpath("runners.toml").read_text("utf-8"))


def _line(version: str) -> tuple[int, ...] | None:
    m = re.match(r"(\d+)\.(\d+)", version)
    return (int(m.group(1)), int(m.group(2))) if m else None


def linux_runner(toolchain: str, version: str) -> str | None:
    """The runner image for `version` of `toolchain`: `ubuntu-latest` when it provides it (or when the table
    says nothing about the toolchain), an older image when only that one does, None when none does."""
    images = _table().get(toolchain)
    line = _line(version)
    if not isinstance(images, list) or line is None or version.startswith("pypy"):
        return DEFAULT
    for image in images:
        oldest = _line(str(image["oldest"]))
        if oldest is not None and line >= oldest:
            return str(image["runner"])
    return None


__all__ = ["DEFAULT", "linux_runner"]
