"""Server-side request forgery through git: what a worker's clone and ls-remote may connect to.

Every test runs git for real against a local git server (`tests/git_server.py`). The platform allows that
server the way an operator allows an internal one, by its exact address and port, so these tests also show
that this allowance opens nothing else: other loopback ports, redirects and other transports stay refused.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest

from autodevops.engine.clone import GitClone
from autodevops.engine.git import GitNetwork
from autodevops.engine.source import SourceError
from autodevops.errors import ValidationFailed
from autodevops.repository.git_url import (
    GitURLPolicy,
    IPAddress,
    network_guard,
    parse_private_server,
    validate_git_url,
)
from autodevops.repository.tasks import ls_remote_head
from git_server import GitHTTPServer, make_repository
from process_support import wait_until_gone


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitHTTPServer]:
    root = tmp_path / "srv"
    root.mkdir()
    make_repository(root, "app", {"pyproject.toml": "[project]\nname = 'app'\n"})
    with GitHTTPServer(root) as running:
        yield running


def policy_for(server: GitHTTPServer) -> GitURLPolicy:
    """What the test settings allow: http://, and this server's address and port (nothing else)."""
    return GitURLPolicy(allow_insecure=True, private_servers=(parse_private_server(f"127.0.0.1:{server.port}"),))


class ScriptedDNS:
    """A resolver whose answers a test scripts, one per lookup (the last one repeats)."""

    def __init__(self, *answers: str) -> None:
        self.answers = [ipaddress.ip_address(a) for a in answers]
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.lookups.append(host)
        return [self.answers[min(len(self.lookups), len(self.answers)) - 1]]


def test_the_allowed_server_can_be_cloned(server: GitHTTPServer) -> None:
    with GitClone(f"{server.base}/smart/app.git", guard=network_guard(policy_for(server))) as clone:
        assert [f.path for f in clone.files()] == ["pyproject.toml"]


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:6379/latest/meta-data/", "http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:1/"],
)
def test_a_redirect_is_not_followed_and_its_target_never_shown(server: GitHTTPServer, target: str) -> None:
    # The assessment: a connected URL answering 301 to an internal address made the worker's git fetch it,
    # echoed the internal URL in the job's error, and told open ports (:5432, :6379) from closed ones.
    server.redirect_to(target)
    url = f"{server.base}/redirect/app.git"
    with pytest.raises(SourceError) as caught, GitClone(url, guard=network_guard(policy_for(server))):
        pass
    assert caught.value.permanent
    # The same answer whatever the target: no port scanner, no internal URL.
    assert str(caught.value) == (
        f"{url}: git clone failed: the server answered with a redirect (HTTP 301), which is not followed; "
        "connect the repository by its final URL"
    )
    assert all(request.startswith("GET /redirect/") for request in server.requests)


def test_another_loopback_port_stays_refused(server: GitHTTPServer, silent_port: int) -> None:
    url = f"http://127.0.0.1:{silent_port}/o/r.git"
    with pytest.raises(SourceError) as caught, GitClone(url, guard=network_guard(policy_for(server))):
        pass
    assert caught.value.permanent
    assert "is not a public address" in str(caught.value)


def test_git_is_pinned_to_the_address_the_check_approved(server: GitHTTPServer) -> None:
    # `rebind.test` exists only in this resolver: git clones it because the checked address is pinned into
    # the command (http.curloptResolve), not because it resolved the name again itself.
    dns = ScriptedDNS("127.0.0.1")
    url = f"http://rebind.test:{server.port}/smart/app.git"
    with GitClone(url, guard=network_guard(policy_for(server), resolver=dns)) as clone:
        assert [f.path for f in clone.files()] == ["pyproject.toml"]
    assert dns.lookups == ["rebind.test"]


async def test_dns_rebinding_between_connect_and_clone_is_refused(server: GitHTTPServer) -> None:
    # A public address when the repository is connected, the metadata service when the worker clones it.
    dns = ScriptedDNS("140.82.112.3", "169.254.169.254")
    url = f"http://rebind.test:{server.port}/smart/app.git"
    connected = await validate_git_url(url, policy=policy_for(server), resolver=dns)
    assert connected.url == url
    with pytest.raises(SourceError) as caught, GitClone(url, guard=network_guard(policy_for(server), resolver=dns)):
        pass
    assert caught.value.permanent
    assert str(caught.value) == f"{url}: invalid repository URL: host 'rebind.test' is not a public address"
    assert server.requests == []  # git never ran


def test_every_git_command_is_checked_again(server: GitHTTPServer) -> None:
    # The shallow clone is refused by a dumb server and retried as a full clone: two network commands,
    # two checks; the second lookup answers a private address, so the retry never connects.
    dns = ScriptedDNS("127.0.0.1", "10.0.0.7")
    url = f"http://rebind.test:{server.port}/dumb/app.git"
    with (
        pytest.raises(SourceError, match="not a public address"),
        GitClone(url, guard=network_guard(policy_for(server), resolver=dns)),
    ):
        pass
    assert dns.lookups == ["rebind.test", "rebind.test"]
    assert not any("/objects/" in request for request in server.requests)


@pytest.mark.parametrize("url", ["file:///etc", "ssh://git@127.0.0.1/x", "git://127.0.0.1/x", "ext::sh -c id"])
def test_only_http_transports_pass_the_check(server: GitHTTPServer, url: str) -> None:
    with pytest.raises(SourceError) as caught:
        network_guard(policy_for(server))(url)
    assert caught.value.permanent


def test_git_itself_refuses_other_transports(tmp_path: Path) -> None:
    # Defence in depth: even a command that were handed such a URL cannot use it (protocol.allow=never).
    bare = make_repository(tmp_path, "local", {"a": "1"})
    with (
        pytest.raises(SourceError, match="transport 'file' not allowed") as caught,
        GitClone(bare.as_uri(), guard=lambda _url: GitNetwork(protocols=("https",))),
    ):
        pass
    assert caught.value.permanent


async def test_http_needs_the_insecure_setting(server: GitHTTPServer) -> None:
    strict = GitURLPolicy(private_servers=policy_for(server).private_servers)
    with pytest.raises(ValidationFailed, match=r"only https:// URLs are accepted"):
        await validate_git_url(f"{server.base}/smart/app.git", policy=strict)
    with pytest.raises(SourceError, match=r"only https:// URLs are accepted"):
        network_guard(strict)(f"{server.base}/smart/app.git")


async def test_ls_remote_is_checked_pinned_and_refuses_redirects(server: GitHTTPServer) -> None:
    guard = network_guard(policy_for(server), resolver=ScriptedDNS("127.0.0.1"))
    head = await ls_remote_head(f"http://rebind.test:{server.port}/smart/app.git", guard=guard, limit_s=30)
    assert head.default_branch == "main"
    server.redirect_to("http://127.0.0.1:6379/")
    with pytest.raises(SourceError, match=r"redirect \(HTTP 301\)") as caught:
        await ls_remote_head(f"{server.base}/redirect/app.git", guard=guard, limit_s=30)
    assert caught.value.permanent


async def test_ls_remote_has_a_timeout_and_leaves_no_process(silent_port: int) -> None:
    url = f"http://127.0.0.1:{silent_port}/o/r.git"
    policy = GitURLPolicy(allow_insecure=True, private_servers=(parse_private_server(f"127.0.0.1:{silent_port}"),))
    with pytest.raises(SourceError, match="git ls-remote timed out after 1s") as caught:
        await ls_remote_head(url, guard=network_guard(policy), limit_s=1)
    assert not caught.value.permanent
    wait_until_gone(url)
