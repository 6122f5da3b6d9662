"""Where the analyzer reads a repository from.

The engine only ever sees a `RepoSource`: a list of files with their sizes, and a way to read one of them.
`LocalDir` walks a directory (never following symlinks, so loops and links out of the root are harmless);
`GitClone` (in `clone.py`) makes a shallow clone into a temporary directory and reads it like a `LocalDir`.
A GitHub API source lives with the GitHub integration and implements the same protocol.
"""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Protocol, runtime_checkable

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

# Why entries were left out of `files()`; the keys of `LocalDir.skipped_reasons`.
SKIP_SYMLINK = "symlink"
SKIP_SPECIAL = "special-file"
SKIP_TOO_DEEP = "too-deep"
SKIP_UNREADABLE = "unreadable"
SKIP_TOO_MANY = "too-many-files"

_BY_NAME = attrgetter("name")
_BY_PATH = attrgetter("path")
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


class SourceError(Exception):
    """The source cannot be read at all (missing directory, unreachable URL). Callers exit with status 2.

    `permanent` is true when trying again cannot help (not found, authentication required, a transport or
    address that is not allowed, a size limit, an empty repository): a job fails at once instead of retrying.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str  # repo-relative, POSIX separators, no leading "./"
    size: int
    executable: bool = False  # the owner's execute bit (git's 100755): `scripts/test` runs as itself


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


_BRANCH = re.compile(r"[A-Za-z0-9._/-]{1,200}")


def git_default_branch(root: Path) -> str | None:
    """The default branch of the git checkout at `root`: what `origin/HEAD` points at (the remote's default, as
    a clone records it), else the branch checked out. None when `root` is not a checkout or the name is odd.

    Only small files inside `.git` are read (`.git` may be a file naming the real git directory, in a worktree
    or a submodule); git itself is never run."""

    def read(path: Path) -> str | None:
        try:
            if path.is_symlink() or not path.is_file() or path.stat().st_size > 4096:
                return None
            return path.read_text("utf-8", "replace").strip()
        except OSError:
            return None

    dot_git = root / ".git"
    git_dir: Path | None = dot_git if dot_git.is_dir() and not dot_git.is_symlink() else None
    if git_dir is None and (pointer := read(dot_git)) and pointer.startswith("gitdir:"):
        git_dir = (root / pointer.removeprefix("gitdir:").strip()).resolve()
    if git_dir is None:
        return None
    common = read(git_dir / "commondir")  # a worktree keeps the remote's refs in the main git directory
    refs_dir = (git_dir / common).resolve() if common else git_dir
    for path, prefix in (
        (refs_dir / "refs/remotes/origin/HEAD", "ref: refs/remotes/origin/"),
        (git_dir / "HEAD", "ref: refs/heads/"),
    ):
        value = read(path)
        if value and value.startswith(prefix):
            branch = value.removeprefix(prefix)
            return branch if _BRANCH.fullmatch(branch) and ".." not in branch else None
    return None


class LocalDir:
    """A directory on disk.

    `files()` lists regular files only, sorted by path. Symlinks, FIFOs, sockets and devices are never listed
    nor followed; directories
    deeper than `max_depth` and entries past `max_files` are left out. Every such entry is counted in
    `skipped_reasons` so the analysis can say what it did not see.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        name: str | None = None,
        max_depth: int = MAX_DEPTH,
        max_files: int = MAX_FILES,
    ) -> None:
        self.root = Path(root)
        if not self.root.exists():
            raise SourceError(f"{self.root}: no such file or directory")
        if not self.root.is_dir():
            raise SourceError(f"{self.root}: not a directory")
        self._name = name or str(root)
        self.max_depth = max_depth
        self.max_files = max_files
        self._files: list[FileEntry] | None = None
        self.skipped_reasons: Counter[str] = Counter()

    @property
    def name(self) -> str:
        return self._name

    @property
    def skipped(self) -> int:
        """How many entries were left out of `files()` (symlinks, special files, too deep, unreadable)."""
        return sum(self.skipped_reasons.values())

    @property
    def default_branch(self) -> str | None:
        """The branch pipelines trigger on, from the directory's git metadata when it is a checkout."""
        return git_default_branch(self.root)

    def files(self) -> list[FileEntry]:
        if self._files is None:
            self._files = self._walk()
        return self._files

    def _walk(self) -> list[FileEntry]:
        # An explicit stack instead of os.walk or recursion: one scandir per directory, the file type from
        # the directory entry itself (no stat for directories, symlinks or special files), one lstat per
        # regular file for its size, and depth bounded without touching Python's recursion limit.
        out: list[FileEntry] = []
        append = out.append
        skipped = self.skipped_reasons
        max_depth, max_files = self.max_depth, self.max_files
        stack: list[tuple[str, str, int]] = [(str(self.root), "", 0)]
        while stack:
            abs_dir, rel_dir, depth = stack.pop()
            try:
                with os.scandir(abs_dir) as it:
                    entries = list(it)
            except OSError as exc:
                if depth == 0:
                    raise SourceError(f"{self.root}: cannot be read: {exc.strerror or exc}") from None
                skipped[SKIP_UNREADABLE] += 1
                continue
            if len(out) + len(entries) > max_files:
                entries.sort(key=_BY_NAME)  # within a directory, the files past the limit do not depend on disk order
            for entry in entries:
                try:
                    if entry.is_file(follow_symlinks=False):
                        if len(out) >= max_files:
                            skipped[SKIP_TOO_MANY] += 1
                            continue
                        st = entry.stat(follow_symlinks=False)
                        append(FileEntry(rel_dir + entry.name, st.st_size, bool(st.st_mode & stat.S_IXUSR)))
                    elif entry.is_dir(follow_symlinks=False):
                        if entry.name in SKIPPED_DIRS:
                            continue
                        if depth + 1 > max_depth:
                            skipped[SKIP_TOO_DEEP] += 1
                            continue
                        stack.append((entry.path, f"{rel_dir}{entry.name}/", depth + 1))
                    elif entry.is_symlink():
                        skipped[SKIP_SYMLINK] += 1
                    else:
                        skipped[SKIP_SPECIAL] += 1
                except OSError:
                    # Vanished or unreadable between listing and stat: leave it out, say so.
                    skipped[SKIP_UNREADABLE] += 1
        # One sort at the end is cheaper than one per directory, and plain path order is easy to rely on.
        out.sort(key=_BY_PATH)
        return out

    def read_bytes(self, path: str, limit: int) -> bytes:
        """Read at most `limit` bytes of the regular file `path`.

        The path is walked one component at a time with `O_NOFOLLOW`, so neither `..`, an absolute path,
        nor a symlink anywhere on the way (even one swapped in after listing) can read outside the root;
        `O_NONBLOCK` and the regular-file check keep a FIFO from blocking the analysis.
        """
        parts = _split(path)
        dir_fd = os.open(self.root, os.O_RDONLY | _O_DIRECTORY)
        try:
            for part in parts[:-1]:
                next_fd = os.open(part, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW, dir_fd=dir_fd)
                os.close(dir_fd)
                dir_fd = next_fd
            fd = os.open(parts[-1], os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK, dir_fd=dir_fd)
        finally:
            os.close(dir_fd)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ValueError(f"not a regular file: {path!r}")
            return fh.read(limit)


def _split(path: str) -> list[str]:
    """Repo-relative path → components; refuses anything that could name a file outside the repository."""
    if not path or "\x00" in path or path.startswith("/") or "\\" in path:
        raise ValueError(f"path escapes the repository: {path!r}")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ValueError(f"path escapes the repository: {path!r}")
    return parts


def is_git_url(value: str) -> bool:
    """True for the URL forms `git clone` accepts that we allow; a local path is not a URL."""
    if value.startswith(("https://", "http://", "ssh://", "git://", "file://")):
        return True
    # scp-like syntax: git@github.com:owner/repo.git
    head, sep, _ = value.partition(":")
    return bool(sep) and "@" in head and "/" not in head
