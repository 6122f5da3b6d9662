"""Where the analyzer reads a repository from.

The engine only ever sees a `RepoSource`: a list of files with their sizes, and a way to read one of them.
`LocalDir` walks a directory (never following symlinks, so loops and links out of the root are harmless);
`GitClone` makes a shallow, blob-filtered clone into a temporary directory and reads it like a `LocalDir`.
A GitHub API source lives with the GitHub integration and implements the same protocol.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

# Directories that are never part of the project's own source: VCS metadata and dependency caches. Walking
# them would cost time on large checkouts and could only mislead detection (a vendored package.json is not
# the project's).
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".gradle",
        ".idea",
        ".terraform",
    }
)
MAX_DEPTH = 32  # deeper trees are pathological; their content is skipped and counted
MAX_FILES = 1_000_000


class SourceError(Exception):
    """The source cannot be read at all (missing directory, unreachable URL). Callers exit with status 2."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str  # repo-relative, POSIX separators, no leading "./"
    size: int


@runtime_checkable
class RepoSource(Protocol):
    """A repository the analyzer can read: what files it has, how big, and their contents on demand."""

    @property
    def name(self) -> str:
        """How to refer to the source in output: the directory or URL as given."""
        ...

    def files(self) -> list[FileEntry]:
        """Every regular file, with its size. Symlinks are not files here."""
        ...

    def read_bytes(self, path: str, limit: int) -> bytes:
        """The first `limit` bytes of `path` (the caller checks the size first to flag truncation)."""
        ...


class LocalDir:
    """A directory on disk."""

    def __init__(self, root: str | os.PathLike[str], *, name: str | None = None) -> None:
        self.root = Path(root)
        if not self.root.exists():
            raise SourceError(f"{self.root}: no such file or directory")
        if not self.root.is_dir():
            raise SourceError(f"{self.root}: not a directory")
        self._name = name or str(root)
        self._files: list[FileEntry] | None = None
        self.skipped = 0

    @property
    def name(self) -> str:
        return self._name

    def files(self) -> list[FileEntry]:
        if self._files is None:
            self._files = list(self._walk())
        return self._files

    def _walk(self) -> Iterator[FileEntry]:
        # An explicit stack instead of os.walk: one scandir per directory, sizes from the same DirEntry, and
        # depth is bounded without recursion.
        stack: list[tuple[str, str, int]] = [(str(self.root), "", 0)]
        count = 0
        while stack:
            abs_dir, rel_dir, depth = stack.pop()
            try:
                with os.scandir(abs_dir) as it:
                    entries = list(it)
            except OSError:
                self.skipped += 1
                continue
            for entry in entries:
                rel = f"{rel_dir}{entry.name}"
                try:
                    if entry.is_symlink():
                        self.skipped += 1
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name in SKIPPED_DIRS:
                            continue
                        if depth + 1 >= MAX_DEPTH:
                            self.skipped += 1
                            continue
                        stack.append((entry.path, rel + "/", depth + 1))
                        continue
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    self.skipped += 1
                    continue
                if not stat.S_ISREG(st.st_mode):
                    self.skipped += 1
                    continue
                count += 1
                if count > MAX_FILES:
                    self.skipped += 1
                    return
                yield FileEntry(rel, st.st_size)

    def read_bytes(self, path: str, limit: int) -> bytes:
        full = self._resolve(path)
        # O_NOFOLLOW: the file was a regular file when listed; if it was swapped for a symlink since, refuse it.
        fd = os.open(full, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as fh:
            return fh.read(limit)

    def _resolve(self, path: str) -> Path:
        parts = Path(path).parts
        if Path(path).is_absolute() or ".." in parts:
            raise ValueError(f"path escapes the repository: {path!r}")
        return self.root.joinpath(*parts)


class GitClone:
    """A shallow, blob-filtered clone of a git URL into a temporary directory, removed on close.

    Use as a context manager. Only `https://`, `http://`, `ssh://`, `git@host:` and `file://` URLs are accepted;
    the clone never prompts for credentials and never runs hooks from the remote.
    """

    def __init__(self, url: str, *, ref: str | None = None, timeout: float = 300.0) -> None:
        if not is_git_url(url):
            raise SourceError(f"{url}: not a git URL")
        self.url = url
        self.ref = ref
        self.timeout = timeout
        self._tmp: str | None = None
        self._dir: LocalDir | None = None

    def __enter__(self) -> Self:
        self._tmp = tempfile.mkdtemp(prefix="autodevops-clone-")
        target = os.path.join(self._tmp, "repo")
        cmd = ["git", "clone", "--depth=1", "--filter=blob:none", "--no-tags", "--single-branch", "--quiet"]
        if self.ref:
            cmd += ["--branch", self.ref]
        cmd += ["--", self.url, target]
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "GIT_LFS_SKIP_SMUDGE": "1"}
        try:
            subprocess.run(
                cmd, check=True, capture_output=True, timeout=self.timeout, env=env, stdin=subprocess.DEVNULL
            )
        except subprocess.CalledProcessError as exc:
            self.close()
            detail = exc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SourceError(f"{self.url}: git clone failed: {detail[-1] if detail else exc}") from None
        except subprocess.TimeoutExpired:
            self.close()
            raise SourceError(f"{self.url}: git clone timed out after {self.timeout:.0f}s") from None
        except FileNotFoundError:
            self.close()
            raise SourceError("git is not installed") from None
        self._dir = LocalDir(target, name=self.url)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    @property
    def name(self) -> str:
        return self.url

    def _local(self) -> LocalDir:
        if self._dir is None:
            raise RuntimeError("GitClone must be entered (`with GitClone(url) as src:`) before use")
        return self._dir

    def files(self) -> list[FileEntry]:
        return self._local().files()

    def read_bytes(self, path: str, limit: int) -> bytes:
        return self._local().read_bytes(path, limit)


def is_git_url(value: str) -> bool:
    """True for the URL forms `git clone` accepts that we allow; a local path is not a URL."""
    if value.startswith(("https://", "http://", "ssh://", "git://", "file://")):
        return True
    # scp-like syntax: git@github.com:owner/repo.git
    head, sep, _ = value.partition(":")
    return bool(sep) and "@" in head and "/" not in head
