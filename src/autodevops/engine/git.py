"""Running git against a remote: no prompts, bounded in time and disk, killed with all its helpers.

Every git command that may touch the network goes through `run_git` (the engine's clones) or `run_git_async`
(the platform's `ls-remote`). A `GitNetwork` says how the command may use the network; the platform builds one
right before each command (`autodevops.repository.git_url.pin_git_url`): the host pinned to the addresses it
just checked, no redirects, only the http(s) transports. Without one (the command line, a user's own
machine) git's defaults apply. Failures become a `SourceError` that shows git's `fatal:` line and says
whether trying again can help (`permanent`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from autodevops.engine.processes import die_with_parent, kill_process_tree, tracked
from autodevops.engine.source import SourceError

# No prompt can ever block a worker; LFS files are not downloaded.
GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "true",
    "SSH_ASKPASS": "true",
    "GCM_INTERACTIVE": "never",
    "GIT_LFS_SKIP_SMUDGE": "1",
    "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=20",
}
# Always: stalled transfers fail on their own, no file-system monitor, no hint chatter.
_BASE_CONFIG = (
    "http.lowSpeedLimit=1000",
    "http.lowSpeedTime=30",
    "core.fsmonitor=false",
    "advice.detachedHead=false",
)
POLL_S = 0.2  # how often a running command's time and disk use are looked at


@dataclass(frozen=True, slots=True)
class GitNetwork:
    """How one git command may use the network (see the module docstring).

    `protocols` are the only transports allowed (`protocol.allow=never` for the rest); `resolve` entries are
    `HOST:PORT:ADDRESS[,ADDRESS]` pins (`http.curloptResolve`). Redirects are never followed. The user's and
    the system's git configuration are ignored, so no `url.*.insteadOf` or credential helper applies.
    """

    protocols: tuple[str, ...] = ("https",)
    resolve: tuple[str, ...] = ()


# A local command in a clone: it must never reach the network (e.g. to fetch a missing object).
OFFLINE = GitNetwork(protocols=())


def git_command(args: list[str], network: GitNetwork | None) -> tuple[list[str], dict[str, str]]:
    """The full command line and environment of `git args...` under `network`."""
    config = list(_BASE_CONFIG)
    env = {**os.environ, **GIT_ENV}
    if network is not None:
        config += ["protocol.allow=never", "http.followRedirects=false", "credential.helper="]
        config += [f"protocol.{name}.allow=always" for name in network.protocols]
        config += [f"http.curloptResolve={entry}" for entry in network.resolve]
        env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    command = ["git"]
    for item in config:
        command += ["-c", item]
    return [*command, *args], env


# Failures no retry can fix. Matched on git's own (English) messages, lower-cased.
_PERMANENT = (
    "not found",
    "does not appear to be a git repository",
    "not a git repository",
    "authentication failed",
    "could not read username",
    "could not read password",
    "terminal prompts disabled",
    "returned error: 401",
    "returned error: 403",
    "returned error: 404",
    "returned error: 410",
    "not allowed",
    "unable to find remote helper",
    "unsupported",
    "couldn't find remote ref",
)
_REDIRECT = re.compile(r"returned error: (30[1278])")
_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"]*", re.IGNORECASE)


def failure(action: str, url: str, stderr: bytes, returncode: int) -> SourceError:
    """A `SourceError` for a failed git command: git's `fatal:` line, other URLs removed, and permanence."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    fatal = next((line for line in lines if line.startswith("fatal:")), None)
    error = next((line for line in lines if line.startswith("error:")), None)
    detail = fatal or error or (lines[-1] if lines else f"exit status {returncode}")
    # Only the URL the user gave may be echoed; any other (a redirect target, a proxy) is an internal detail.
    detail = _URL.sub(lambda m: m.group(0) if m.group(0).startswith(url) else "(another URL)", detail)
    lowered = detail.lower()
    redirect = _REDIRECT.search(lowered)
    if redirect:
        return SourceError(
            f"{url}: git {action} failed: the server answered with a redirect (HTTP {redirect.group(1)}), which "
            "is not followed; connect the repository by its final URL",
            permanent=True,
        )
    return SourceError(f"{url}: git {action} failed: {detail}", permanent=any(p in lowered for p in _PERMANENT))


def disk_usage(path: Path) -> int:
    """Bytes of the regular files under `path` (no links followed)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


@dataclass(frozen=True, slots=True)
class DiskLimit:
    """Kill the command when the files under `path` exceed `max_bytes`; `message` says so to the user."""

    path: Path
    max_bytes: int
    message: str


def run_git(
    args: list[str],
    *,
    url: str,
    action: str,
    timeout: float,
    network: GitNetwork | None,
    cwd: str | None = None,
    disk: DiskLimit | None = None,
    deadline: float | None = None,
) -> bytes:
    """Run git, return its stdout. `SourceError` on failure, after `timeout` seconds, or past `disk`.

    `deadline` (a `time.monotonic()` instant) ends it sooner: several commands sharing one `timeout`.

    Git runs in a session of its own; on any way out but success, it is killed with every helper it started.
    """
    command, env = git_command(args, network)
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
    except FileNotFoundError:
        raise SourceError("git is not installed", permanent=True) from None
    deadline = min(deadline or float("inf"), time.monotonic() + timeout)
    try:
        while True:
            try:
                out, err = proc.communicate(timeout=POLL_S)
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() >= deadline:
                    raise SourceError(f"{url}: git {action} timed out after {timeout:g}s") from None
                _check_disk(disk, url)
        _check_disk(disk, url)  # a fast transfer can end between two looks
    except BaseException:
        _stop(proc)
        raise
    if proc.returncode != 0:
        raise failure(action, url, err, proc.returncode)
    return out


def _check_disk(disk: DiskLimit | None, url: str) -> None:
    if disk is not None and disk_usage(disk.path) > disk.max_bytes:
        raise SourceError(f"{url}: {disk.message}", permanent=True) from None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    kill_process_tree(proc.pid)
    try:
        proc.communicate(timeout=10)  # reap it and close the pipes
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def run_git_async(args: list[str], *, url: str, action: str, limit_s: float, network: GitNetwork | None) -> bytes:
    """`run_git` for the event loop (no disk limit): cancelling the awaiting task kills git's whole tree."""
    command, env = git_command(args, network)
    proc = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        start_new_session=True,
        preexec_fn=die_with_parent(),
    )
    try:
        with tracked(proc.pid):
            async with asyncio.timeout(limit_s):
                out, err = await proc.communicate()
    except BaseException as error:
        kill_process_tree(proc.pid)
        with contextlib.suppress(Exception):
            await asyncio.shield(proc.wait())
        if isinstance(error, TimeoutError):
            raise SourceError(f"{url}: git {action} timed out after {limit_s:g}s") from None
        raise
    if proc.returncode != 0:
        raise failure(action, url, err, proc.returncode or 1)
    return out
