"""Telling long requests that the server is stopping, so they end on their own terms.

uvicorn waits for open requests when it gets SIGTERM; an event stream never ends by itself, so it would keep
the process alive until its client leaves (or `AUTODEVOPS_SHUTDOWN_GRACE_S` cuts it mid-message). Under
uvicorn, `watch_for_stop` chains its own handler in front of uvicorn's for SIGTERM and SIGINT and sets an event
that streams wait on next to their reads; they then send a last message and end. Elsewhere (an in-process
test client) no handler is touched and the event is simply never set.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _is_uvicorns(handler: Any) -> bool:
    owner = getattr(handler, "__self__", None)
    return owner is not None and type(owner).__module__.startswith("uvicorn")


@contextlib.contextmanager
def watch_for_stop(stopping: asyncio.Event) -> Iterator[None]:
    """Set `stopping` when uvicorn is asked to stop, for as long as the block runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    previous: dict[int, Callable[[int, FrameType | None], Any]] = {}
    for signum in _SIGNALS:
        handler = signal.getsignal(signum)
        if not _is_uvicorns(handler):
            continue
        assert callable(handler)
        previous[signum] = handler

        def on_signal(sig: int, frame: FrameType | None, forward: Callable[..., Any] = handler) -> None:
            loop.call_soon_threadsafe(stopping.set)
            forward(sig, frame)

        signal.signal(signum, on_signal)
    try:
        yield
    finally:
        for restored, original in previous.items():
            signal.signal(restored, original)
