"""`GitClone` against a real git server: size limits, dumb HTTP, empty repositories, git's own messages,
killing git with all its helpers, and the sweep of clone directories left by dead processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from autodevops.engine.clone import CloneDir, CloneLimits, GitClone, sweep_stale_clone_dirs
from autodevops.engine.source import SourceError
from git_server import GitHTTPServer, make_empty_repository, make_repository
from process_support import processes_mentioning, wait_until_gone


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitHTTPServer]:
    root = tmp_path / "srv"
    root.mkdir()
    with GitHTTPServer(root) as running:
        yield running


def test_a_clone_bomb_is_refused_before_anything_is_checked_out(server: GitHTTPServer) -> None:
    # The assessment's bomb, scaled down: eight paths share one blob of zeros, so the transfer is tiny and
    # the checkout is eight times the blob. The tree says so before a single file is written.
    blob = b"\0" * (2 * 1024 * 1024)
    make_repository(server.root, "bomb", {f"copy{i}.bin": blob for i in range(8)})
    clone = GitClone(f"{server.base}/smart/bomb.git", limits=CloneLimits(max_checkout_bytes=4 * 1024 * 1024))
    with pytest.raises(SourceError) as caught, clone:
        pass
    assert caught.value.permanent
    assert "files add up to 16.0 MiB, more than the 4.0 MiB an analysis checks out" in str(caught.value)
    assert clone.path is None  # removed


def test_too_many_files_is_a_permanent_error(server: GitHTTPServer) -> None:
    make_repository(server.root, "many", {f"f{i}.txt": str(i) for i in range(120)})
    with pytest.raises(SourceError, match="has 120 files, more than the 100") as caught:
        GitClone(f"{server.base}/smart/many.git", limits=CloneLimits(max_files=100)).__enter__()
    assert caught.value.permanent


def test_a_transfer_past_its_limit_is_stopped(server: GitHTTPServer) -> None:
    make_repository(server.root, "big", {"random.bin": os.urandom(3 * 1024 * 1024)})  # incompressible
    with pytest.raises(SourceError, match=r"larger than the 1\.0 MiB a clone may transfer") as caught:
        GitClone(f"{server.base}/smart/big.git", limits=CloneLimits(max_transfer_bytes=1024 * 1024)).__enter__()
    assert caught.value.permanent


def test_within_the_limits_the_clone_is_checked_out(server: GitHTTPServer) -> None:
    make_repository(server.root, "app", {"package.json": "{}", "src/a.js": "1"})
    with GitClone(f"{server.base}/smart/app.git", limits=CloneLimits(max_files=2)) as clone:
        assert [f.path for f in clone.files()] == ["package.json", "src/a.js"]
        assert clone.commit is not None
        assert len(clone.commit) == 40


def test_a_dumb_http_server_gets_a_full_clone(server: GitHTTPServer) -> None:
    make_repository(server.root, "dumb", {"go.mod": "module x\n"})
    with GitClone(f"{server.base}/dumb/dumb.git") as clone:
        assert [f.path for f in clone.files()] == ["go.mod"]
    # The shallow attempt was refused, then the objects were fetched one by one.
    assert any("/objects/" in request for request in server.requests)


def test_an_empty_repository_is_reported_as_such(server: GitHTTPServer) -> None:
    make_empty_repository(server.root, "empty")
    with pytest.raises(SourceError) as caught, GitClone(f"{server.base}/smart/empty.git"):
        pass
    assert str(caught.value) == f"{server.base}/smart/empty.git: the repository is empty (it has no commit yet)"
    assert caught.value.permanent


def test_a_missing_repository_shows_gits_fatal_line_and_is_permanent(server: GitHTTPServer) -> None:
    url = f"{server.base}/smart/nope.git"
    with pytest.raises(SourceError) as caught, GitClone(url):
        pass
    assert str(caught.value) == f"{url}: git clone failed: fatal: repository '{url}/' not found"
    assert caught.value.permanent


def test_a_refused_connection_is_worth_retrying() -> None:
    with pytest.raises(SourceError, match="Couldn't connect to server") as caught, GitClone("http://127.0.0.1:1/o/r"):
        pass
    assert not caught.value.permanent


def test_a_missing_branch_is_permanent(server: GitHTTPServer) -> None:
    make_repository(server.root, "app", {"a": "1"})
    with pytest.raises(SourceError, match="Remote branch nope not found") as caught:
        GitClone(f"{server.base}/smart/app.git", ref="nope").__enter__()
    assert caught.value.permanent


def test_a_timeout_kills_git_and_its_helpers_and_removes_the_clone(silent_port: int) -> None:
    url = f"http://127.0.0.1:{silent_port}/o/r.git"
    clone = GitClone(url, timeout=1.0)
    with pytest.raises(SourceError, match="timed out after 1s") as caught, clone:
        pass
    assert not caught.value.permanent
    wait_until_gone(url)
    assert clone.path is None


# ---- clone directories -----------------------------------------------------------------------------------


def test_the_sweep_removes_only_directories_whose_owner_died(tmp_path: Path) -> None:
    alive = CloneDir(str(tmp_path))
    # A process that made a clone directory and was killed before it could remove it.
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from autodevops.engine.clone import CloneDir
                d = CloneDir({str(tmp_path)!r})
                open(d.path + "/big", "wb").write(b"x" * 1000)
                print(d.path, flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    dead = owner.stdout.readline().strip()
    assert sweep_stale_clone_dirs(str(tmp_path)) == []  # its owner still runs
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    unrelated = tmp_path / "something-else"
    unrelated.mkdir()
    assert sweep_stale_clone_dirs(str(tmp_path)) == [dead]
    assert not Path(dead).exists()
    assert Path(alive.path).is_dir()
    assert unrelated.is_dir()
    alive.close()
    assert not Path(alive.path).exists()


def test_a_clone_directory_without_a_lock_is_swept_once_old(tmp_path: Path) -> None:
    stale = tmp_path / "autodevops-clone-old"
    stale.mkdir()
    assert sweep_stale_clone_dirs(str(tmp_path)) == []
    os.utime(stale, (0, 0))
    assert sweep_stale_clone_dirs(str(tmp_path)) == [str(stale)]


def test_processes_helper_sees_this_test(silent_port: int) -> None:
    # The assertion helper above must be able to see a live git, or its "gone" would prove nothing.
    url = f"http://127.0.0.1:{silent_port}/seen.git"
    proc = subprocess.Popen(["git", "ls-remote", url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert processes_mentioning(url)
    finally:
        proc.kill()
        proc.wait()
