"""Ecosystem detectors. Each module exposes `detect(ctx) -> list[Stack]`; `DETECTORS` runs them in order."""

from __future__ import annotations

from autodevops.engine.detect import deno, node, python
from autodevops.engine.detect.base import Context, Detector

DETECTORS: list[Detector] = [python.detect, node.detect, deno.detect]

__all__ = ["DETECTORS", "Context", "Detector"]
