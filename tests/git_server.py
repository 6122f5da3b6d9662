"""A real git server for tests: smart HTTP through `git http-backend`, dumb HTTP, and redirects.

`GitHTTPServer(root)` serves every repository under `root` on 127.0.0.1 at a port of its own:

* `/smart/NAME.git/...` — the smart protocol, by running `git http-backend` as a CGI program per request;
* `/dumb/NAME.git/...` — the repository's files as they are (the dumb protocol; run `git update-server-info`);
* `/redirect/...` — `301` to `redirect_to` (a test sets it: another loopback port, a metadata address...).

Test modules import it by this module's unique name (`from git_server import GitHTTPServer`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import unquote, urlsplit

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` (author and committer set), return its stripped stdout."""
    done = subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    )
    return done.stdout.strip()


def make_repository(root: Path, name: str, files: dict[str, str | bytes], *, branch: str = "main") -> Path:
    """A bare repository `root/name.git` whose one commit holds `files`; returns its path."""
    work = root / f"{name}.work"
    work.mkdir(parents=True)
    git(work, "init", "-q", "-b", branch)
    for rel, content in files.items():
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "init")
    bare = root / f"{name}.git"
    git(root, "clone", "-q", "--bare", str(work), str(bare))
    git(bare, "update-server-info")  # for the dumb protocol
    shutil.rmtree(work)
    return bare


def make_empty_repository(root: Path, name: str) -> Path:
    """A bare repository with no commit at all."""
    bare = root / f"{name}.git"
    git(root, "init", "-q", "--bare", str(bare))
    git(bare, "update-server-info")
    return bare


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the tests assert on what the client saw

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _route(self) -> None:
        self.server.requests.append(f"{self.command} {self.path}")
        path = urlsplit(self.path).path
        if path.startswith("/redirect/"):
            self.send_response(301)
            self.send_header("Location", self.server.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path.startswith("/smart/"):
            self._cgi(path.removeprefix("/smart"))
        elif path.startswith("/dumb/"):
            self._static(path.removeprefix("/dumb/"))
        else:
            self.send_error(404)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _cgi(self, path_info: str) -> None:
        body = self._body() if self.command == "POST" else b""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": unquote(path_info),
            "QUERY_STRING": urlsplit(self.path).query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["HTTP_GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status = 200
        headers: list[tuple[str, str]] = []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _static(self, rel: str) -> None:
        target = (self.server.root / unquote(rel)).resolve()
        if self.server.root.resolve() not in target.parents or not target.is_file():
            self.send_error(404)
            return
        data = target.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    root: Path
    redirect_to: str
    requests: list[str]


class GitHTTPServer:
    """The server, running in a thread while the context is open."""

    def __init__(self, root: Path) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.root = root
        self._server.redirect_to = "http://127.0.0.1:1/"
        self._server.requests = []
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def root(self) -> Path:
        return self._server.root

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[str]:
        """Every request line served, in order."""
        return self._server.requests

    @property
    def env(self) -> dict[str, str]:
        """The settings (as environment) that let the platform clone from this server, and only this one."""
        return {
            "AUTODEVOPS_ALLOW_INSECURE_GIT_URLS": "true",
            "AUTODEVOPS_GIT_PRIVATE_SERVERS": f"127.0.0.1:{self.port}",
        }

    def redirect_to(self, location: str) -> None:
        self._server.redirect_to = location

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
