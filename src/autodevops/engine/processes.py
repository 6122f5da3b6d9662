"""Stopping a subprocess together with everything it started.

Killing one process, or one process group, is not enough: `git clone` runs transport helpers
(`git-remote-https`, `index-pack`) and a job's child process runs git in a session of its own, so a kill that
misses them leaves them running under PID 1 and the clone growing on disk.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import psutil

_GONE = (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError, PermissionError)


def kill_process_tree(pid: int) -> None:
    """SIGKILL `pid`, all its descendants and every process of the process groups they lead.

    The tree is frozen (SIGSTOP) before it is killed, so no process can start another in between; process
    groups catch the helpers whose parent already died (they are no longer anyone's descendants). The
    caller still reaps `pid` if it is its child.
    """
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except _GONE:
        return
    for process in tree:
        with contextlib.suppress(*_GONE):
            process.suspend()
    with contextlib.suppress(*_GONE):
        tree += [p for p in root.children(recursive=True) if p not in tree]  # forked before the freeze landed
    own_group = os.getpgrp()
    for process in tree:
        with contextlib.suppress(*_GONE):
            if os.getpgid(process.pid) == process.pid and process.pid != own_group:
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(*_GONE):
            process.kill()


# The subprocesses started on behalf of the current unit of work (a job attempt). Whoever runs the work sets
# a set here (`collect_processes`); everything that starts a subprocess for it records the pid while it runs
# (`tracked`). A hard deadline then kills them even when the code that started them no longer answers to
# cancellation. Tasks created inside inherit the same set.
_TRACKED: ContextVar[set[int] | None] = ContextVar("autodevops_tracked_processes", default=None)


def collect_processes(pids: set[int]) -> None:
    """Record in `pids`, from now on in this context, the subprocesses started through `tracked`."""
    _TRACKED.set(pids)


@contextlib.contextmanager
def tracked(pid: int) -> Iterator[None]:
    """Make `pid` known to whoever collects this context's processes, while the block runs."""
    pids = _TRACKED.get()
    if pids is not None:
        pids.add(pid)
    try:
        yield
    finally:
        if pids is not None:
            pids.discard(pid)


def kill_collected(pids: set[int]) -> int:
    """Kill every collected process with its whole tree. Returns how many were still there to kill."""
    alive = [pid for pid in list(pids) if psutil.pid_exists(pid)]
    for pid in alive:
        kill_process_tree(pid)
    return len(alive)


_PR_SET_PDEATHSIG = 1
_LIBC: Any = None


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that has the kernel SIGKILL the child when the process that started it dies.

    A worker killed with SIGKILL runs no cleanup, so without this its analysis child (and git under it) would
    go on under PID 1. Linux only (`PR_SET_PDEATHSIG`); elsewhere None (no `preexec_fn`).
    """
    global _LIBC
    if not sys.platform.startswith("linux"):
        return None
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)  # loaded before fork: nothing to load in the child
    libc = _LIBC
    parent = os.getpid()

    def arm() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return arm
