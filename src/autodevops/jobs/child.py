"""Run engine work in a child process that the job's timeout can actually stop.

The engine is synchronous and CPU-bound (and `git clone` is a subprocess of its own). In a thread it could
neither be cancelled at the job's timeout nor kept from starving the worker's event loop, which must keep
renewing job locks. So tasks run it as `python -m <module>` in its own process group: stdout carries one JSON
document (the result), stderr lines `stage <name> <percent>` report progress, and cancelling the awaiting
coroutine (timeout, shutdown) kills the child with everything it started (git runs in a session of its own,
so killing the child's process group alone would leave it running). A child that exits with `EXIT_PERMANENT`
says that trying again cannot help.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from autodevops.engine.processes import die_with_parent, kill_process_tree, tracked

MAX_OUTPUT = 64 * 1024 * 1024
STAGE_PREFIX = "stage "
EXIT_PERMANENT = 3  # the child's exit status for "failed, and would fail again" (not found, too large...)

StageCallback = Callable[[str, int | None], Awaitable[None]]


class ChildFailed(Exception):
    """The child exited with an error; the message is its last stderr line.

    `permanent` (the child exited with `EXIT_PERMANENT`) tells the job runner not to retry.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def report_stage(stage: str, percent: int | None = None) -> None:
    """Called in the child: tell the parent job which stage it is in."""
    sys.stderr.write(f"{STAGE_PREFIX}{stage}{'' if percent is None else f' {percent}'}\n")
    sys.stderr.flush()


async def run_child(
    module: str, args: list[str], *, stdin: bytes | None = None, on_stage: StageCallback | None = None
) -> Any:
    """Run `python -m module args...`, return its stdout parsed as JSON; raise `ChildFailed` on a non-zero exit."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        preexec_fn=die_with_parent(),  # a worker killed with SIGKILL takes its child along
        limit=MAX_OUTPUT,
    )
    with tracked(proc.pid):  # the job's hard deadline kills it even if this coroutine stops answering
        return await _supervise(proc, module, stdin, on_stage)


async def _supervise(
    proc: asyncio.subprocess.Process, module: str, stdin: bytes | None, on_stage: StageCallback | None
) -> Any:
    errors: list[str] = []

    async def read_stderr() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line.startswith(STAGE_PREFIX):
                parts = line[len(STAGE_PREFIX) :].split()
                if parts and on_stage is not None:
                    percent = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                    await on_stage(parts[0], percent)
            elif line:
                errors.append(line)
                del errors[:-200]  # enough for a traceback

    try:
        stderr_task = asyncio.create_task(read_stderr())
        stdout, _ = await asyncio.gather(_communicate(proc, stdin), stderr_task)
        code = await proc.wait()
    except BaseException:
        _kill_group(proc)
        with contextlib.suppress(Exception):
            await asyncio.shield(proc.wait())
        raise
    if code != 0:
        raise ChildFailed(failure_message(errors, module, code), permanent=code == EXIT_PERMANENT)
    try:
        return json.loads(stdout)
    except ValueError as exc:
        raise ChildFailed(f"{module} printed no JSON result: {exc}") from None


async def _communicate(proc: asyncio.subprocess.Process, stdin: bytes | None) -> bytes:
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        await proc.stdin.drain()
        proc.stdin.close()
    assert proc.stdout is not None
    return await proc.stdout.read()


def one_line(message: str) -> str:
    """A message on one line (the parent keeps a child's last stderr line as the job's error)."""
    return " ".join(message.split())


def failure_message(lines: list[str], module: str, code: int) -> str:
    """What went wrong, from a failed child's last stderr lines.

    A child reports a handled failure as one line. A crash ends with a traceback whose exception message may
    span lines (httpx ends its own with "For further information visit ..."): the message is then the whole
    exception, from the line that names it.
    """
    if not lines:
        return f"{module} exited with status {code}"
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    if not starts:
        return lines[-1]
    tail = lines[starts[-1] + 1 :]
    # Frames are indented; the exception's own lines are not.
    exception = [line for line in tail if not line.startswith(" ")]
    return one_line(" ".join(exception)) if exception else lines[-1]


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        kill_process_tree(proc.pid)


def emit_result(result: Any) -> None:
    """Called in the child: write the result document to stdout."""
    sys.stdout.write(json.dumps(result, separators=(",", ":"), default=str))
    sys.stdout.flush()
