"""Ecosystem detectors. Each module exposes `detect(ctx) -> list[Stack]`; `DETECTORS` runs them in order."""

from __future__ import annotations

from autodevops.engine.detect import cpp, deno, dotnet, elixir, go, jvm, node, php, python, ruby, rust, swift
from autodevops.engine.detect.base import Context, Detector

DETECTORS: list[Detector] = [
    python.detect,
    node.detect,
    deno.detect,
    go.detect,
    rust.detect,
    jvm.detect,
    ruby.detect,
    php.detect,
    dotnet.detect,
    elixir.detect,
    cpp.detect,
    swift.detect,
]

__all__ = ["DETECTORS", "Context", "Detector"]
