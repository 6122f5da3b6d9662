"""The pins table: packaged pins are valid, and `pins update` follows the GitHub REST API's tag model."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from autodevops.cli import app
from autodevops.engine.generate.pins import PinError, default_path, load_pins, parse_pins

COMMIT_A = "a" * 40
TAG_OBJECT = "b" * 40
COMMIT_B = "c" * 40


class FakeGitHubReleases(BaseHTTPRequestHandler):
    """The three GitHub REST endpoints a pin refresh uses, for two repositories.

    actions/checkout's latest release has a lightweight tag (ref → commit); actions/setup-python's has an
    annotated tag (ref → tag object → commit), which must be peeled.
    """

    routes: ClassVar[dict[str, object]] = {
        "/repos/actions/checkout/releases/latest": {"tag_name": "v9.1.0"},
        "/repos/actions/checkout/git/ref/tags/v9.1.0": {"object": {"sha": COMMIT_A, "type": "commit"}},
        "/repos/actions/setup-python/releases/latest": {"tag_name": "v8.0.0"},
        "/repos/actions/setup-python/git/ref/tags/v8.0.0": {"object": {"sha": TAG_OBJECT, "type": "tag"}},
        f"/repos/actions/setup-python/git/tags/{TAG_OBJECT}": {"object": {"sha": COMMIT_B, "type": "commit"}},
    }
    seen_auth: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        type(self).seen_auth.append(self.headers.get("Authorization"))
        body = self.routes.get(self.path)
        payload = json.dumps(body if body is not None else {"message": "Not Found"}).encode()
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def fake_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGitHubReleases)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


SMALL_TABLE = f"""
[actions."actions/checkout"]
repo = "actions/checkout"
version = "v7.0.1"
sha = "{"1" * 40}"

[actions."actions/setup-python"]
repo = "actions/setup-python"
version = "v7.0.0"
sha = "{"2" * 40}"
"""


def test_packaged_pins_are_full_shas_with_versions() -> None:
    pins = load_pins()
    assert {"actions/checkout", "actions/setup-python", "docker/build-push-action"} <= set(pins)
    for pin in pins.values():
        assert len(pin.sha) == 40
        assert pin.version[0].isdigit() or pin.version.startswith("v")


def test_a_malformed_pin_is_rejected() -> None:
    with pytest.raises(PinError, match="full 40-character"):
        parse_pins('[actions."a/b"]\nrepo = "a/b"\nversion = "v1"\nsha = "main"\n')


def test_pins_update_follows_lightweight_and_annotated_tags(
    tmp_path: Path, fake_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = tmp_path / "pins.toml"
    table.write_text(SMALL_TABLE)
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    FakeGitHubReleases.seen_auth.clear()
    result = CliRunner().invoke(app, ["pins", "update", "--api-url", fake_api, "--file", str(table)])
    assert result.exit_code == 0, result.output
    assert "actions/checkout: v7.0.1" in result.output
    pins = load_pins(table)
    assert (pins["actions/checkout"].version, pins["actions/checkout"].sha) == ("v9.1.0", COMMIT_A)
    assert (pins["actions/setup-python"].version, pins["actions/setup-python"].sha) == ("v8.0.0", COMMIT_B)
    assert set(FakeGitHubReleases.seen_auth) == {"Bearer test-token"}
    again = CliRunner().invoke(app, ["pins", "update", "--api-url", fake_api, "--file", str(table)])
    assert "all pins are current" in again.output


def test_pins_update_fails_clearly_and_writes_nothing(tmp_path: Path, fake_api: str) -> None:
    table = tmp_path / "pins.toml"
    shutil.copyfile(default_path(), table)  # the real table names repositories the fake does not know
    before = table.read_text()
    result = CliRunner().invoke(app, ["pins", "update", "--api-url", fake_api, "--file", str(table)])
    assert result.exit_code == 2
    assert "HTTP 404" in result.output
    assert table.read_text() == before


def test_dry_run_shows_changes_without_writing(tmp_path: Path, fake_api: str) -> None:
    table = tmp_path / "pins.toml"
    table.write_text(SMALL_TABLE)
    result = CliRunner().invoke(app, ["pins", "update", "--api-url", fake_api, "--file", str(table), "--dry-run"])
    assert result.exit_code == 0
    assert "-> v9.1.0" in result.output
    assert table.read_text() == SMALL_TABLE
