"""`GitLabSource`: the engine's `RepoSource` over GitLab's repository API, without a clone.

The engine is synchronous and runs in a worker's child process; the GitLab client is async. The source owns a
private event loop and one open client (one connection pool) for its whole life, and runs each call on it.

Costs, for a tree of N files (pinned to the commit resolved first, so a push during an analysis cannot mix
two versions):

* one call to resolve the ref (plus one to read the default branch when no ref is given);
* N/100 calls listing the recursive tree (GitLab's largest page, keyset pagination);
* N/100 GraphQL queries for the files' sizes, which GitLab's tree listing does not carry and the analyzer
  needs (language shares by bytes, the manifest size limit checked before reading);
* one call per file the analyzer actually opens (at most the manifest limit plus one byte is read).

Same limits as `GitHubSource`: dependency and VCS directories are not listed, symlinks and submodules are not
files, entries deeper than `MAX_DEPTH` are skipped and counted, at most `MAX_FILES` files.
`python bench/gitlab_source.py` prints the calls and bytes for a large tree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from autodevops.engine.source import MAX_DEPTH, MAX_FILES, SKIPPED_DIRS, FileEntry, SourceError
from autodevops.gitlab.client import PER_PAGE, GitLabClient, GitLabError, GitLabNotFound, check_full_path

_SYMLINK_MODE = "120000"
_EXECUTABLE_MODE = "100755"
T = TypeVar("T")


class GitLabSource:
    """One GitLab project read with one token. Close it (or use `with`) to release its connections."""

    def __init__(
        self, client: GitLabClient, token: str, project_id: int, full_path: str, *, ref: str | None = None
    ) -> None:
        self.client = client
        self.token = token
        self.project_id = project_id
        self.full_path = check_full_path(full_path)
        self.ref = ref
        self._loop = asyncio.new_event_loop()
        self._run(client.__aenter__())
        self._commit: str | None = None
        self._files: dict[str, FileEntry] | None = None
        self._content: dict[str, tuple[int, bytes]] = {}  # path -> (limit read with, bytes)
        self.skipped = 0
        self.reads = 0  # files fetched (each at most once)

    def _run(self, call: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(call)

    def close(self) -> None:
        if not self._loop.is_closed():
            self._run(self.client.__aexit__(None, None, None))
            self._loop.close()

    def __enter__(self) -> GitLabSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def name(self) -> str:
        return self.full_path

    @property
    def commit_sha(self) -> str:
        """The commit every listing and read of this source is pinned to."""
        if self._commit is None:
            try:
                if self.ref is None:
                    project = self._run(self.client.get_project(self.token, self.project_id))
                    if project.default_branch is None:
                        raise SourceError(f"{self.name} is empty: it has no default branch", permanent=True)
                    self.ref = project.default_branch
                self._commit = self._run(self.client.resolve_commit(self.token, self.project_id, self.ref))
            except GitLabError as exc:
                raise _source_error(exc) from None
        return self._commit

    def files(self) -> list[FileEntry]:
        if self._files is None:
            commit = self.commit_sha
            try:
                entries = self._run(self._list(commit))
            except GitLabError as exc:
                raise _source_error(exc) from None
            self._files = {e.path: e for e in entries}
        return list(self._files.values())

    def read_bytes(self, path: str, limit: int) -> bytes:
        if path not in {e.path for e in self.files()}:
            # Only listed regular files are read: this refuses `..` games and symlinks by construction.
            raise ValueError(f"not a file of {self.name}: {path!r}")
        cached = self._content.get(path)
        # A read stops one byte past its limit: what was cut short is read again when a larger limit asks.
        if cached is None or (len(cached[1]) > cached[0] and limit > cached[0]):
            try:
                data = self._run(self.client.read_file(self.token, self.project_id, path, self.commit_sha, limit=limit))
            except GitLabError as exc:
                raise _source_error(exc) from None
            self.reads += 1
            cached = self._content[path] = (limit, data)
        return cached[1][:limit]

    async def _list(self, commit: str) -> list[FileEntry]:
        kept: dict[str, bool] = {}  # path -> executable
        async for page in self.client.tree_pages(self.token, self.project_id, commit):
            for entry in page:
                if not isinstance(entry, dict) or entry.get("type") != "blob" or not isinstance(entry.get("path"), str):
                    continue  # trees are implied by paths; "commit" entries are submodules, not our files
                path = str(entry["path"])
                parts = path.split("/")
                if entry.get("mode") == _SYMLINK_MODE or len(parts) > MAX_DEPTH:
                    self.skipped += 1
                    continue
                if any(part in SKIPPED_DIRS for part in parts[:-1]):
                    continue
                kept[path] = entry.get("mode") == _EXECUTABLE_MODE
            if len(kept) > MAX_FILES:
                break
        paths = list(kept)
        if len(paths) > MAX_FILES:
            self.skipped += len(paths) - MAX_FILES
            paths = paths[:MAX_FILES]
        sizes: dict[str, int] = {}
        for start in range(0, len(paths), PER_PAGE):
            batch = paths[start : start + PER_PAGE]
            sizes.update(await self.client.blob_sizes(self.token, self.full_path, commit, batch))
        return [FileEntry(path, sizes.get(path, 0), kept[path]) for path in paths]


def _source_error(exc: GitLabError) -> SourceError:
    # A rate limit is already a SourceError and keeps its retry_after for the job system.
    if isinstance(exc, SourceError):
        return exc
    return SourceError(exc.message, permanent=isinstance(exc, GitLabNotFound) or exc.upstream_status in (401, 403))
