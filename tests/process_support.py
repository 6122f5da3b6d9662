"""Looking for processes a test started indirectly (git under a job's child process), by command line."""

from __future__ import annotations

import time

import psutil


def processes_mentioning(text: str) -> list[psutil.Process]:
    """Live (not zombie) processes whose command line contains `text`."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if any(text in part for part in process.info["cmdline"] or ()):
            found.append(process)
    return found


def wait_until_gone(text: str, *, within: float = 10.0) -> None:
    """Fail unless every process mentioning `text` is gone within `within` seconds (SIGKILL is asynchronous)."""
    deadline = time.monotonic() + within
    while (left := processes_mentioning(text)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"still running: {[p.info['cmdline'] for p in left]}"
