"""`GitClone`: a repository at a git URL, cloned into a temporary directory and read like a `LocalDir`.

The clone is shallow and bounded: the transfer (bytes on disk while git receives), the checkout (the sum of
the file sizes the commit holds, read from the tree before anything is written) and the number of files each
have a limit, so a small repository whose files all point at one huge blob cannot fill the disk. A server
that refuses shallow clones (the dumb HTTP protocol) gets a full clone instead. A repository without any
commit is reported as empty. The clone directory is removed on close, whatever happened; a process that dies
before it can close leaves a directory that `sweep_stale_clone_dirs` recognizes (its lock is free) and removes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from autodevops.engine.git import OFFLINE, DiskLimit, GitNetwork, run_git
from autodevops.engine.source import FileEntry, LocalDir, SourceError, is_git_url

CLONE_DIR_PREFIX = "autodevops-clone-"
_LOCK_NAME = ".owner.lock"
_SHALLOW_REFUSED = "does not support shallow"

# Called right before every git command that uses the network, with the URL: checks it again and says how
# the command may connect (the platform pins the address it approved). `SourceError` refuses the command.
NetworkGuard = Callable[[str], GitNetwork]


@dataclass(frozen=True, slots=True)
class CloneLimits:
    """How big a clone may get. Past any limit the clone stops with a permanent `SourceError`."""

    max_transfer_bytes: int = 1024**3
    max_checkout_bytes: int = 2 * 1024**3
    max_files: int = 250_000


class CloneDir:
    """A temporary directory for one clone, locked (`flock`) by the process that made it while it is open.

    The kernel drops the lock when that process dies however it dies, which is how a sweep tells the
    directory of a dead worker from one in use. The lock is not inherited by subprocesses.
    """

    def __init__(self, base: str | None = None) -> None:
        self.path = tempfile.mkdtemp(prefix=CLONE_DIR_PREFIX, dir=base)
        self._fd: int | None = os.open(os.path.join(self.path, _LOCK_NAME), os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def close(self) -> None:
        """Remove the directory and drop the lock. Safe to call more than once."""
        if self._fd is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def sweep_stale_clone_dirs(base: str | None = None, *, unlocked_after_s: float = 600.0) -> list[str]:
    """Remove the clone directories under `base` (the temporary directory) whose owner process is gone.

    A directory whose lock can be taken has no owner any more. One without a lock file is from a process that
    died between creating it and locking it, and is removed once it is `unlocked_after_s` old.
    """
    removed: list[str] = []
    with os.scandir(base or tempfile.gettempdir()) as entries:
        candidates = [e for e in entries if e.name.startswith(CLONE_DIR_PREFIX) and e.is_dir(follow_symlinks=False)]
    for entry in candidates:
        try:
            fd = os.open(os.path.join(entry.path, _LOCK_NAME), os.O_RDWR | os.O_NOFOLLOW)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                if time.time() - entry.stat(follow_symlinks=False).st_mtime > unlocked_after_s:
                    shutil.rmtree(entry.path, ignore_errors=True)
                    removed.append(entry.path)
            continue
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # in use
        finally:
            os.close(fd)
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed


class GitClone:
    """A shallow clone of a git URL into a temporary directory, removed on close.

    Use as a context manager. Only `https://`, `http://`, `ssh://`, `git://`, `git@host:` and `file://` URLs
    are accepted (`guard` narrows that down). The clone never prompts (no terminal, no askpass, ssh in batch
    mode), runs no hooks, skips LFS downloads, gives up when the transfer stalls, and every git command is
    killed with all its helpers when the overall `timeout` runs out. `workdir` is a directory the caller owns
    (a `CloneDir` of a parent process); without it the clone makes its own.
    """

    def __init__(
        self,
        url: str,
        *,
        ref: str | None = None,
        timeout: float = 300.0,
        limits: CloneLimits | None = None,
        guard: NetworkGuard | None = None,
        workdir: str | None = None,
    ) -> None:
        if not is_git_url(url):
            raise SourceError(f"{url}: not a git URL", permanent=True)
        self.url = url
        self.ref = ref
        self.timeout = timeout
        self.limits = limits or CloneLimits()
        self.guard = guard
        self.workdir = workdir
        self.commit: str | None = None  # the commit checked out, once entered
        self._own: CloneDir | None = None
        self._target: str | None = None
        self._dir: LocalDir | None = None

    def __enter__(self) -> Self:
        base = self.workdir
        if base is None:
            self._own = CloneDir()
            base = self._own.path
        self._target = os.path.join(base, "repo")
        try:
            self._clone(self._target)
        except BaseException:
            self.close()
            raise
        self._dir = LocalDir(self._target, name=self.url)
        return self

    def _network(self) -> GitNetwork | None:
        return self.guard(self.url) if self.guard is not None else None

    def _clone(self, target: str) -> None:
        deadline = time.monotonic() + self.timeout
        options = ["--no-checkout", "--no-tags", "--single-branch", "--quiet", "--template="]
        if self.ref:
            options += ["--branch", self.ref]
        limit = self.limits.max_transfer_bytes
        disk = DiskLimit(Path(target), limit, f"the repository is larger than the {_size(limit)} a clone may transfer")
        try:
            self._git(["clone", "--depth=1", *options, "--", self.url, target], deadline, self._network(), disk)
        except SourceError as error:
            if _SHALLOW_REFUSED not in str(error):
                raise
            shutil.rmtree(target, ignore_errors=True)  # the server only speaks the dumb protocol: clone it all
            self._git(["clone", *options, "--", self.url, target], deadline, self._network(), disk)
        try:
            self.commit = self._git(["rev-parse", "--verify", "HEAD^{commit}"], deadline, OFFLINE, cwd=target).decode()
        except SourceError:
            raise SourceError(f"{self.url}: the repository is empty (it has no commit yet)", permanent=True) from None
        self.commit = self.commit.strip()
        self._check_tree(target, deadline)
        self._git(["checkout", "--quiet", "--force", "HEAD"], deadline, OFFLINE, cwd=target)

    def _check_tree(self, target: str, deadline: float) -> None:
        """Refuse a checkout past the file-count or byte limit, from the tree alone (nothing written yet)."""
        listing = self._git(["ls-tree", "-r", "-l", "-z", "--full-tree", "HEAD"], deadline, OFFLINE, cwd=target)
        files = 0
        size = 0
        for record in listing.split(b"\0"):
            meta = record.partition(b"\t")[0].split()
            if len(meta) == 4 and meta[1] == b"blob":
                files += 1
                size += int(meta[3])
        if files > self.limits.max_files:
            raise SourceError(
                f"{self.url}: the repository has {files} files, more than the {self.limits.max_files} "
                "an analysis reads",
                permanent=True,
            )
        if size > self.limits.max_checkout_bytes:
            raise SourceError(
                f"{self.url}: the repository's files add up to {_size(size)}, more than the "
                f"{_size(self.limits.max_checkout_bytes)} an analysis checks out",
                permanent=True,
            )

    def _git(
        self,
        args: list[str],
        deadline: float,
        network: GitNetwork | None,
        disk: DiskLimit | None = None,
        *,
        cwd: str | None = None,
    ) -> bytes:
        if time.monotonic() >= deadline:
            raise SourceError(f"{self.url}: git clone timed out after {self.timeout:g}s")
        return run_git(
            args,
            url=self.url,
            action="clone",
            timeout=self.timeout,
            deadline=deadline,
            network=network,
            cwd=cwd,
            disk=disk,
        )

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Remove the clone. Safe to call more than once."""
        if self._target is not None and self._own is None:
            shutil.rmtree(self._target, ignore_errors=True)
        if self._own is not None:
            self._own.close()
            self._own = None
        self._target = None
        self._dir = None

    @property
    def path(self) -> str | None:
        """Where the checkout is while the source is open (for diagnostics and tests)."""
        return self._target

    @property
    def name(self) -> str:
        return self.url

    @property
    def skipped(self) -> int:
        return self._dir.skipped if self._dir is not None else 0

    @property
    def skipped_reasons(self) -> Counter[str]:
        return self._dir.skipped_reasons if self._dir is not None else Counter()

    @property
    def default_branch(self) -> str | None:
        return self._dir.default_branch if self._dir is not None else None

    def _local(self) -> LocalDir:
        if self._dir is None:
            raise RuntimeError("GitClone must be entered (`with GitClone(url) as src:`) before use")
        return self._dir

    def files(self) -> list[FileEntry]:
        return self._local().files()

    def read_bytes(self, path: str, limit: int) -> bytes:
        return self._local().read_bytes(path, limit)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
