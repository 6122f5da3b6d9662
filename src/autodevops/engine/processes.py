"""Stopping a subprocess together with everything it started.

Killing one process, or one process group, is not enough: `git clone` runs transport helpers
(`git-remote-https`, `index-pack`) and a job's child process runs git in a session of its own, so a kill that
misses them leaves them running under PID 1 and the clone growing on disk.
"""

from __future__ import annotations

import contextlib
import os
import signal

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
