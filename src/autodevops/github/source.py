"""`GitHubSource`: the engine's `RepoSource` over GitHub's git trees and contents APIs, without a clone.

Listing a repository costs one call (a recursive tree; GitHub truncates trees past 100,000 entries or 7 MB, and
then the listing walks sub-trees one at a time). Reading costs one call per file the analyzer actually opens,
pinned to the commit resolved at the start so a push during an analysis cannot mix two versions.
"""

from __future__ import annotations

from autodevops.engine.source import MAX_DEPTH, MAX_FILES, SKIPPED_DIRS, FileEntry, SourceError
from autodevops.github.client import GitHubClient, GitHubError, GitHubNotFound, TreeEntry, check_repo_name

_SYMLINK_MODE = "120000"
_EXECUTABLE_MODE = "100755"


class GitHubSource:
    """A repository read through one GitHub App installation."""

    def __init__(
        self,
        client: GitHubClient,
        installation_id: int,
        owner: str,
        repo: str,
        *,
        ref: str | None = None,
    ) -> None:
        check_repo_name(owner, repo)
        self.client = client
        self.installation_id = installation_id
        self.owner = owner
        self.repo = repo
        self.ref = ref
        self._commit: str | None = None
        self._files: dict[str, FileEntry] | None = None
        self._content: dict[str, bytes] = {}
        self.skipped = 0
        self.reads = 0  # files fetched from GitHub (each at most once)

    @property
    def name(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def commit_sha(self) -> str:
        """The commit every listing and read of this source is pinned to."""
        if self._commit is None:
            try:
                self.ref, self._commit = self.client.resolve_commit(
                    self.installation_id, self.owner, self.repo, self.ref
                )
            except GitHubError as exc:
                raise _source_error(exc) from None
        return self._commit

    def files(self) -> list[FileEntry]:
        if self._files is None:
            try:
                entries = self._list()
            except GitHubError as exc:
                raise _source_error(exc) from None
            self._files = {e.path: e for e in entries}
        return list(self._files.values())

    def read_bytes(self, path: str, limit: int) -> bytes:
        listing = {e.path for e in self.files()}
        if path not in listing:
            # Only listed regular files are read: this refuses `..` games and symlinks by construction.
            raise ValueError(f"not a file of {self.name}: {path!r}")
        data = self._content.get(path)
        if data is None:
            try:
                data = self.client.read_file(self.installation_id, self.owner, self.repo, path, self.commit_sha)
            except GitHubError as exc:
                raise _source_error(exc) from None
            self.reads += 1
            self._content[path] = data
        return data[:limit]

    def _list(self) -> list[FileEntry]:
        commit = self.commit_sha
        entries, truncated = self.client.get_tree(self.installation_id, self.owner, self.repo, commit, recursive=True)
        if not truncated:
            return self._keep(entries)
        # Too large for one listing: walk the tree level by level.
        out: list[FileEntry] = []
        stack: list[tuple[str, str, int]] = [(commit, "", 0)]
        while stack:
            sha, prefix, depth = stack.pop()
            level, _ = self.client.get_tree(self.installation_id, self.owner, self.repo, sha, recursive=False)
            for entry in level:
                path = prefix + entry.path
                if entry.type == "tree":
                    if entry.path in SKIPPED_DIRS:
                        continue
                    if depth + 1 >= MAX_DEPTH:
                        self.skipped += 1
                        continue
                    stack.append((entry.sha, path + "/", depth + 1))
                else:
                    out += self._keep([entry.model_copy(update={"path": path})])
            if len(out) > MAX_FILES:
                self.skipped += len(out) - MAX_FILES
                return out[:MAX_FILES]
        return out

    def _keep(self, entries: list[TreeEntry]) -> list[FileEntry]:
        out: list[FileEntry] = []
        for entry in entries:
            if entry.type != "blob":
                continue  # trees are implied by paths; "commit" entries are submodules, not our files
            parts = entry.path.split("/")
            if entry.mode == _SYMLINK_MODE or len(parts) > MAX_DEPTH:
                self.skipped += 1
                continue
            if any(part in SKIPPED_DIRS for part in parts[:-1]):
                continue
            out.append(FileEntry(entry.path, entry.size or 0, entry.mode == _EXECUTABLE_MODE))
        return out[:MAX_FILES]


def _source_error(exc: GitHubError) -> SourceError:
    # A rate limit is already a SourceError and keeps its retry_after for the job system.
    if isinstance(exc, SourceError):
        return exc
    return SourceError(exc.message, permanent=isinstance(exc, GitHubNotFound))
