"""The working copy a job starts from, as `actions/checkout` leaves it on a runner.

The repository's files (what `git ls-files` lists when the source is a git work tree, else the directory less
VCS metadata and dependency caches), plus the pipeline files being verified, committed once in a fresh git
repository: tools that read versions from git find a commit, as after a shallow checkout. With
`fetch-depth: 0` and a source that has history, the source is cloned instead, so tags and history exist.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from autodevops.engine.source import SKIPPED_DIRS

_GIT_IDENTITY = ("-c", "user.name=AutoDevOps verify", "-c", "user.email=verify@autodevops.invalid")
_GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z",
}


class CheckoutError(Exception):
    """The working copy cannot be made (unreadable source, git failing)."""


def _git(args: list[str], cwd: Path, home: Path) -> str:
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(home), **_GIT_ENV}
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
    if done.returncode != 0:
        raise CheckoutError(f"git {' '.join(args[:2])} failed: {done.stderr.strip()[-300:]}")
    return done.stdout


def git_root(source: Path) -> Path | None:
    """The source itself when it is the top of a git work tree (a sub-directory is copied as a directory)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    top = Path(done.stdout.strip())
    return top if top.resolve() == source.resolve() else None


def has_history(source: Path) -> bool:
    if git_root(source) is None:
        return False
    done = subprocess.run(["git", "-C", str(source), "rev-parse", "-q", "--verify", "HEAD"], capture_output=True)
    return done.returncode == 0


def current_branch(source: Path) -> str | None:
    if git_root(source) is None:
        return None
    done = subprocess.run(
        ["git", "-C", str(source), "symbolic-ref", "--short", "-q", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or None if done.returncode == 0 else None


def source_files(source: Path) -> list[str]:
    """Repository-relative paths a checkout would contain (tracked files; submodules left out)."""
    if git_root(source) is not None:
        done = subprocess.run(
            ["git", "-C", str(source), "ls-files", "-z", "--stage"], capture_output=True, timeout=120, check=False
        )
        if done.returncode == 0:
            files = []
            for record in done.stdout.split(b"\0"):
                if not record:
                    continue
                meta, _, path = record.partition(b"\t")
                if meta.split(b" ")[0] != b"160000":  # a submodule: not checked out by default
                    files.append(os.fsdecode(path))
            return files
    files = []
    for root, dirs, names in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        rel_root = Path(root).relative_to(source)
        for name in names:
            files.append(str(rel_root / name) if str(rel_root) != "." else name)
        for name in list(dirs):
            if (Path(root) / name).is_symlink():
                files.append(str(rel_root / name) if str(rel_root) != "." else name)
                dirs.remove(name)
    return sorted(files)


def make_workspace(
    source: Path, dest: Path, extra: Mapping[str, str], *, branch: str, history: bool, home: Path
) -> str:
    """Create the job's working copy at `dest`; returns the commit SHA it checks out."""
    if history and has_history(source):
        _git(["clone", "--quiet", "--no-hardlinks", str(source.resolve()), str(dest)], cwd=dest.parent, home=home)
        _git(["checkout", "--quiet", "-B", branch], cwd=dest, home=home)
    else:
        dest.mkdir(parents=True)
        for rel in source_files(source):
            src = source / rel
            target = dest / rel
            if not src.exists() and not src.is_symlink():
                continue  # tracked but deleted in the work tree
            target.parent.mkdir(parents=True, exist_ok=True)
            if src.is_symlink():
                target.symlink_to(os.readlink(src))
            elif src.is_file():
                shutil.copy2(src, target)
        _git(["init", "--quiet", "-b", branch], cwd=dest, home=home)
    for rel, content in extra.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    _git(["config", "user.name", "AutoDevOps verify"], cwd=dest, home=home)
    _git(["config", "user.email", "verify@autodevops.invalid"], cwd=dest, home=home)
    _git(["add", "-A"], cwd=dest, home=home)
    status = _git(["status", "--porcelain"], cwd=dest, home=home)
    if status.strip() or not _has_commit(dest, home):
        _git([*_GIT_IDENTITY, "commit", "--quiet", "--no-verify", "--allow-empty", "-m", "CI"], cwd=dest, home=home)
    return _git(["rev-parse", "HEAD"], cwd=dest, home=home).strip()


def _has_commit(dest: Path, home: Path) -> bool:
    try:
        _git(["rev-parse", "-q", "--verify", "HEAD"], cwd=dest, home=home)
    except CheckoutError:
        return False
    return True
