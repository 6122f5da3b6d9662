"""Constants and types the verify tests share."""

from __future__ import annotations

import sys
from collections.abc import Callable

from autodevops.engine.verify.report import Report

# The interpreter running the tests stands for "the installed Python X.Y": no dependence on pyenv or uv.
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"

RunWorkflow = Callable[..., Report]
