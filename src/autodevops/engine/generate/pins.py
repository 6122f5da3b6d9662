"""The action pins table: which commit SHA every generated `uses:` points at.

Generated workflows never reference a movable tag: each action is `owner/repo@<40-hex SHA>` with the release
in a trailing comment, read from `pins.toml` inside the package. `update_pins` refreshes that table from the
GitHub REST API (latest release → its tag → the commit the tag points to); it is the only part of the generator
that touches the network, and it is only ever run on request (`autodevops pins update`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the client is passed in: generating workflows never loads an HTTP stack
    import httpx

PINS_FILE = "pins.toml"
_SHA = re.compile(r"[0-9a-f]{40}")
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")

_HEADER = """\
# Every action a generated workflow uses, pinned to the full commit SHA of a release.
#
# A tag can be moved; a commit SHA cannot, so workflows reference `owner/repo@SHA  # vX.Y.Z`. Refresh the table
# with `autodevops pins update` (it asks the GitHub API for each repository's latest release and the commit
# its tag points to); review the diff like any dependency bump.
#
# Keys are what goes before the `@` in `uses:`; `repo` is the repository the tag lives in (differs for actions
# in a subdirectory such as gradle/actions/setup-gradle).
"""


class PinError(Exception):
    """The pins table is malformed, or the GitHub API gave an answer that cannot be trusted."""


@dataclass(frozen=True, slots=True)
class Pin:
    """One action: `uses` name, the repository holding its tags, the release and its commit."""

    action: str
    repo: str
    version: str
    sha: str

    def uses(self) -> str:
        """The `uses:` value: the action at its pinned commit."""
        return f"{self.action}@{self.sha}"


def default_path() -> Path:
    """The pins table shipped inside the package (what `pins update` rewrites)."""
    return Path(str(resources.files("autodevops.engine.generate").joinpath(PINS_FILE)))


def parse_pins(text: str) -> dict[str, Pin]:
    """Parse and validate a pins table; a malformed entry is an error, never a silently unpinned action."""
    data = tomllib.loads(text)
    pins: dict[str, Pin] = {}
    for action, entry in data.get("actions", {}).items():
        repo, version, sha = entry.get("repo"), entry.get("version"), entry.get("sha")
        if not (isinstance(repo, str) and _REPO.fullmatch(repo)):
            raise PinError(f"{action}: `repo` must be owner/name")
        if not (isinstance(sha, str) and _SHA.fullmatch(sha)):
            raise PinError(f"{action}: `sha` must be a full 40-character commit SHA")
        if not (isinstance(version, str) and version and "\n" not in version):
            raise PinError(f"{action}: `version` must be a tag name")
        pins[action] = Pin(action=action, repo=repo, version=version, sha=sha)
    return pins


def load_pins(path: Path | None = None) -> dict[str, Pin]:
    """Read the pins table (the packaged one unless `path` is given)."""
    return parse_pins((path or default_path()).read_text(encoding="utf-8"))


def render_pins(pins: dict[str, Pin]) -> str:
    """Serialize a pins table, sorted so an update only ever shows the entries that moved."""
    out = [_HEADER]
    for action in sorted(pins, key=str.lower):
        pin = pins[action]
        out.append(f'\n[actions."{action}"]\nrepo = "{pin.repo}"\nversion = "{pin.version}"\nsha = "{pin.sha}"\n')
    return "".join(out)


def _get_json(client: httpx.Client, url: str) -> dict[str, object]:
    response = client.get(url)
    if response.status_code != 200:
        raise PinError(f"GET {url}: HTTP {response.status_code}")
    body = response.json()
    if not isinstance(body, dict):
        raise PinError(f"GET {url}: expected a JSON object")
    return body


def resolve_latest(client: httpx.Client, repo: str) -> tuple[str, str]:
    """The latest release of `repo` and the commit SHA its tag points to (annotated tags are peeled)."""
    release = _get_json(client, f"/repos/{repo}/releases/latest")
    tag = release.get("tag_name")
    if not isinstance(tag, str) or not tag or "/" in tag or "\n" in tag:
        raise PinError(f"{repo}: latest release has no usable tag_name")
    ref = _get_json(client, f"/repos/{repo}/git/ref/tags/{tag}")
    obj = ref.get("object")
    # An annotated tag points to a tag object, which points to the commit; follow at most a few levels.
    for _ in range(5):
        if not isinstance(obj, dict):
            raise PinError(f"{repo}: tag {tag} has no object")
        sha, kind = obj.get("sha"), obj.get("type")
        if not (isinstance(sha, str) and _SHA.fullmatch(sha)):
            raise PinError(f"{repo}: tag {tag} points to an invalid SHA")
        if kind == "commit":
            return tag, sha
        if kind != "tag":
            raise PinError(f"{repo}: tag {tag} points to a {kind}, not a commit")
        obj = _get_json(client, f"/repos/{repo}/git/tags/{sha}").get("object")
    raise PinError(f"{repo}: tag {tag} nests too deeply")


def update_pins(
    pins: dict[str, Pin], client: httpx.Client, only: set[str] | None = None
) -> tuple[dict[str, Pin], list[tuple[Pin, Pin]]]:
    """Ask the API for every repository's latest release; return the new table and the (old, new) changes.

    `client` carries the base URL (api.github.com, a GitHub Enterprise Server, or a test fake) and any token.
    Repositories shared by several actions are asked once.
    """
    latest: dict[str, tuple[str, str]] = {}
    updated: dict[str, Pin] = {}
    changes: list[tuple[Pin, Pin]] = []
    for action in sorted(pins, key=str.lower):
        pin = pins[action]
        if only is not None and action not in only:
            updated[action] = pin
            continue
        if pin.repo not in latest:
            latest[pin.repo] = resolve_latest(client, pin.repo)
        version, sha = latest[pin.repo]
        new = Pin(action=action, repo=pin.repo, version=version, sha=sha)
        updated[action] = new
        if new != pin:
            changes.append((pin, new))
    return updated, changes
