"""A fake GitLab speaking the REST v4 wire format, run on loopback by the tests.

It implements what the platform calls: OAuth 2 (authorize + token, the PKCE verifier checked against the S256
challenge for real, single-use codes, refresh tokens), users, projects (membership listing with offset
pagination headers and `search`), branches, commits (read, and the multi-file commit API with `start_branch`
and `force`), the recursive repository tree (keyset pagination: `Link: rel="next"` with a `page_token`),
raw files, the GraphQL `blobs(paths:)` sizes query, merge requests, project hooks, protected branches, and a
webhook sender. Errors are GitLab's: `{"message": ...}` with its status codes. Path segments arrive
URL-encoded (`group%2Fproject`, `dir%2Ffile.txt`) and are decoded one by one, as GitLab does.

Tokens: each is a user's (sees the projects the user is a member of) or a project access token's (sees one
project). Rate limits can be injected per path prefix.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import itertools
import json
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

CLIENT_ID = "gitlab-fake-application-id"
CLIENT_SECRET = "gitlab-fake-application-secret"


@dataclass(frozen=True)
class FakeUser:
    id: int
    username: str
    name: str
    email: str


@dataclass
class FakeCommit:
    sha: str
    files: dict[str, bytes]
    parents: list[str]
    message: str
    modes: dict[str, str] = field(default_factory=dict)  # path -> mode when not 100644


@dataclass
class FakeProject:
    id: int
    path_with_namespace: str
    default_branch: str | None
    visibility: str = "private"
    members: dict[int, int] = field(default_factory=dict)  # user id -> access level (30 developer, 40 maintainer)
    branches: dict[str, str] = field(default_factory=dict)
    protected: set[str] = field(default_factory=set)
    merge_requests: list[dict[str, Any]] = field(default_factory=list)
    hooks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path_with_namespace.rsplit("/", 1)[-1]


@dataclass
class Token:
    user_id: int
    project_id: int | None = None  # a project access token sees only its project
    scopes: tuple[str, ...] = ("api",)


@dataclass
class RateLimitRule:
    path_prefix: str
    reset_in: int
    times: int


class FakeGitLab:
    def __init__(self) -> None:
        self.base_url = ""
        self.users: dict[int, FakeUser] = {}
        self.projects: dict[int, FakeProject] = {}
        self.commits: dict[str, FakeCommit] = {}
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, int] = {}
        self.authorize_as: int | None = None
        self.rate_limits: list[RateLimitRule] = []
        self.requests: list[tuple[str, str]] = []
        self.bytes_sent = 0
        self._ids = itertools.count(1001)
        self._listings: dict[str, list[dict[str, Any]]] = {}
        self.app = self._build_app()

    # ---- scenario building ---------------------------------------------------------------------------------
    def add_user(self, username: str) -> FakeUser:
        uid = next(self._ids)
        user = FakeUser(uid, username, username.title(), f"{username}@example.com")
        self.users[uid] = user
        return user

    def user_token(self, user: FakeUser, *, scopes: tuple[str, ...] = ("api",)) -> str:
        token = "glpat-" + secrets.token_urlsafe(15)
        self.tokens[token] = Token(user.id, scopes=scopes)
        return token

    def project_token(self, project: FakeProject, *, level: int = 40) -> str:
        """A project access token: a bot user with `level` on that one project."""
        bot = self.add_user(f"project_{project.id}_bot_{secrets.token_hex(3)}")
        project.members[bot.id] = level
        token = "glpat-" + secrets.token_urlsafe(15)
        self.tokens[token] = Token(bot.id, project_id=project.id)
        return token

    def add_project(
        self,
        path: str,
        *,
        members: dict[FakeUser, int] | None = None,
        default_branch: str = "main",
        visibility: str = "private",
        files: dict[str, bytes | str] | None = None,
    ) -> FakeProject:
        pid = next(self._ids)
        project = FakeProject(pid, path, default_branch, visibility)
        project.members = {u.id: level for u, level in (members or {}).items()}
        self.projects[pid] = project
        if files is not None:
            self.push(project, default_branch, files)
        return project

    def push(self, project: FakeProject, branch: str, files: dict[str, bytes | str], *, message: str = "push") -> str:
        """Commit exactly `files` (the whole tree) on top of `branch`."""
        parent = project.branches.get(branch)
        return self._commit(project, branch, {p: _b(c) for p, c in files.items()}, [parent] if parent else [], message)

    def _commit(
        self, project: FakeProject, branch: str, files: dict[str, bytes], parents: list[str], message: str
    ) -> str:
        digest = hashlib.sha1(usedforsecurity=False)
        for path in sorted(files):
            digest.update(path.encode() + b"\0" + files[path] + b"\0")
        digest.update(json.dumps(parents).encode() + message.encode() + str(time.time_ns()).encode())
        sha = digest.hexdigest()
        self.commits[sha] = FakeCommit(sha, dict(files), parents, message)
        project.branches[branch] = sha
        return sha

    def files_at(self, project: FakeProject, ref: str) -> dict[str, bytes]:
        return dict(self.commits[project.branches.get(ref, ref)].files)

    def rate_limit(self, path_prefix: str, *, reset_in: int = 3600, times: int = 1) -> None:
        self.rate_limits.append(RateLimitRule(path_prefix, reset_in, times))

    def count(self, method: str, prefix: str) -> int:
        return sum(1 for m, p in self.requests if m == method and p.startswith(prefix))

    # ---- auth ----------------------------------------------------------------------------------------------
    def _token(self, request: Request) -> Token | None:
        header = request.headers.get("authorization", "")
        value = header.removeprefix("Bearer ") if header.startswith("Bearer ") else request.headers.get("private-token")
        return self.tokens.get(value or "")

    def _visible(self, token: Token, project: FakeProject) -> bool:
        if token.project_id is not None and token.project_id != project.id:
            return False
        return token.user_id in project.members or (project.visibility == "public" and token.project_id is None)

    def _project(self, token: Token, ref: str) -> FakeProject | None:
        if ref.isdigit():
            project = self.projects.get(int(ref))
        else:
            project = next((p for p in self.projects.values() if p.path_with_namespace == ref), None)
        return project if project is not None and self._visible(token, project) else None

    def _project_json(self, project: FakeProject) -> dict[str, Any]:
        return {
            "id": project.id,
            "name": project.name,
            "path": project.name,
            "path_with_namespace": project.path_with_namespace,
            "name_with_namespace": project.path_with_namespace.replace("/", " / "),
            "visibility": project.visibility,
            "default_branch": project.default_branch if project.branches else None,
            "web_url": f"{self.base_url}/{project.path_with_namespace}",
            "http_url_to_repo": f"{self.base_url}/{project.path_with_namespace}.git",
            "last_activity_at": "2026-01-01T00:00:00.000Z",
        }

    def _resolve(self, project: FakeProject, ref: str) -> FakeCommit | None:
        sha = project.branches.get(ref, ref)
        commit = self.commits.get(sha)
        if commit is None and len(ref) >= 7:
            commit = next((c for s, c in self.commits.items() if s.startswith(ref)), None)
        return commit

    def _commit_json(self, commit: FakeCommit) -> dict[str, Any]:
        return {
            "id": commit.sha,
            "short_id": commit.sha[:8],
            "title": commit.message.splitlines()[0] if commit.message else "",
            "message": commit.message,
            "parent_ids": commit.parents,
        }

    # ---- the ASGI app ----------------------------------------------------------------------------------------
    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def record_and_limit(request: Request, call_next: Any) -> Response:
            self.requests.append((request.method, request.url.path))
            for rule in self.rate_limits:
                if rule.times > 0 and request.url.path.startswith(rule.path_prefix):
                    rule.times -= 1
                    headers = {
                        "Retry-After": str(rule.reset_in),
                        "RateLimit-Limit": "2000",
                        "RateLimit-Remaining": "0",
                        "RateLimit-Reset": str(int(time.time()) + rule.reset_in),
                    }
                    return JSONResponse({"message": "Retry later"}, status_code=429, headers=headers)
            response: Response = await call_next(request)
            self.bytes_sent += int(response.headers.get("content-length", "0"))
            return response

        @app.get("/oauth/authorize")
        async def authorize(request: Request) -> Response:
            q = request.query_params
            if q.get("client_id") != CLIENT_ID or self.authorize_as is None:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            if q.get("response_type") != "code":
                return JSONResponse({"error": "unsupported_response_type"}, status_code=400)
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                return JSONResponse({"error": "invalid_request", "error_description": "PKCE required"}, status_code=400)
            code = secrets.token_hex(16)
            self.codes[code] = {
                "user": self.authorize_as,
                "redirect_uri": q.get("redirect_uri"),
                "challenge": q["code_challenge"],
                "expires": time.time() + 600,
            }
            return RedirectResponse(f"{q.get('redirect_uri')}?{urlencode({'code': code, 'state': q.get('state', '')})}")

        @app.post("/oauth/token")
        async def token(request: Request) -> Response:
            form = dict(await request.form())
            invalid = JSONResponse({"error": "invalid_grant", "error_description": "The grant is invalid"}, 400)
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            if form.get("grant_type") == "refresh_token":
                uid = self.refresh_tokens.pop(str(form.get("refresh_token")), None)
                return invalid if uid is None else JSONResponse(self._issue(uid))
            if form.get("grant_type") != "authorization_code":
                return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
            grant = self.codes.pop(str(form.get("code")), None)  # single use
            if grant is None or grant["expires"] < time.time() or form.get("redirect_uri") != grant["redirect_uri"]:
                return invalid
            verifier = str(form.get("code_verifier") or "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != grant["challenge"]:
                return invalid
            return JSONResponse(self._issue(grant["user"]))

        @app.post("/api/graphql")
        async def graphql(request: Request) -> Response:
            tok = self._token(request)
            body = await request.json()
            variables = body.get("variables") or {}
            project = self._project(tok, str(variables.get("fullPath"))) if tok else None
            if project is None:
                return JSONResponse({"data": {"project": None}})
            paths = variables.get("paths") or []
            if len(paths) > 100:
                return JSONResponse({"errors": [{"message": "too many paths"}]})
            commit = self._resolve(project, str(variables.get("ref")))
            files = commit.files if commit else {}
            nodes = [{"path": p, "size": len(files[p])} for p in paths if p in files]
            return JSONResponse({"data": {"project": {"repository": {"blobs": {"nodes": nodes}}}}})

        @app.api_route("/api/v4/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "HEAD"])
        async def api(request: Request, rest: str) -> Response:
            raw = request.scope["raw_path"].decode().split("?")[0].removeprefix("/api/v4/")
            parts = [unquote(p) for p in raw.split("/")]
            tok = self._token(request)
            if tok is None:
                return JSONResponse({"message": "401 Unauthorized"}, status_code=401)
            return await self._route(request, tok, parts)

        return app

    def _issue(self, uid: int) -> dict[str, Any]:
        access = "gloas-" + secrets.token_urlsafe(20)
        refresh = secrets.token_urlsafe(20)
        self.tokens[access] = Token(uid)
        self.refresh_tokens[refresh] = uid
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 7200,
            "refresh_token": refresh,
            "scope": "read_user read_api api",
            "created_at": int(time.time()),
        }

    async def _route(self, request: Request, tok: Token, parts: list[str]) -> Response:
        not_found = JSONResponse({"message": "404 Project Not Found"}, status_code=404)
        method = request.method
        if parts == ["user"]:
            u = self.users[tok.user_id]
            return JSONResponse({"id": u.id, "username": u.username, "name": u.name, "email": u.email})
        if parts == ["projects"] and method == "GET":
            return self._list_projects(request, tok)
        if len(parts) < 2 or parts[0] != "projects":
            return JSONResponse({"message": "404 Not Found"}, status_code=404)
        project = self._project(tok, parts[1])
        if project is None:
            return not_found
        level = project.members.get(tok.user_id, 0)
        rest = parts[2:]
        if not rest and method == "GET":
            return JSONResponse(self._project_json(project))
        if rest[:2] == ["repository", "branches"] and len(rest) == 3:
            sha = project.branches.get(rest[2])
            if sha is None:
                return JSONResponse({"message": "404 Branch Not Found"}, status_code=404)
            head = self._commit_json(self.commits[sha])
            return JSONResponse({"name": rest[2], "protected": rest[2] in project.protected, "commit": head})
        if rest[:2] == ["repository", "commits"] and len(rest) == 3 and method == "GET":
            commit = self._resolve(project, rest[2])
            if commit is None:
                return JSONResponse({"message": "404 Commit Not Found"}, status_code=404)
            return JSONResponse(self._commit_json(commit))
        if rest == ["repository", "commits"] and method == "POST":
            return await self._create_commit(request, project, level)
        if rest == ["repository", "tree"]:
            return self._tree(request, project)
        if rest[:2] == ["repository", "files"] and len(rest) in (3, 4):
            commit = self._resolve(project, request.query_params.get("ref", ""))
            path = rest[2]
            if commit is None or path not in commit.files:
                return JSONResponse({"message": "404 File Not Found"}, status_code=404)
            data = commit.files[path]
            if len(rest) == 4 and rest[3] == "raw":
                return Response(data, media_type="text/plain", headers={"X-Gitlab-Size": str(len(data))})
            headers = {"X-Gitlab-Size": str(len(data)), "X-Gitlab-File-Path": path}
            if method == "HEAD":
                return Response(headers=headers)
            content = base64.b64encode(data).decode()
            return JSONResponse({"file_path": path, "size": len(data), "encoding": "base64", "content": content})
        if rest == ["merge_requests"]:
            return await self._merge_requests(request, project, level)
        if len(rest) == 2 and rest[0] == "merge_requests" and method == "PUT":
            mr = next((m for m in project.merge_requests if str(m["iid"]) == rest[1]), None)
            if mr is None:
                return JSONResponse({"message": "404 Not found"}, status_code=404)
            if level < 30:
                return JSONResponse({"message": "403 Forbidden"}, status_code=403)
            body = await request.json()
            mr.update({k: body[k] for k in ("title", "description") if k in body})
            return JSONResponse(mr)
        if rest[:1] == ["hooks"]:
            return await self._hooks(request, project, level, rest)
        return JSONResponse({"message": "404 Not Found"}, status_code=404)

    def _list_projects(self, request: Request, tok: Token) -> Response:
        q = request.query_params
        visible = [p for p in self.projects.values() if self._visible(tok, p)]
        if q.get("membership") == "true":
            visible = [p for p in visible if tok.user_id in p.members]
        if q.get("search"):
            visible = [p for p in visible if q["search"].lower() in p.path_with_namespace.lower()]
        visible.sort(key=lambda p: p.id, reverse=True)
        per_page = min(int(q.get("per_page", 20)), 100)
        page = int(q.get("page", 1))
        total_pages = max(1, -(-len(visible) // per_page))
        items = [self._project_json(p) for p in visible[(page - 1) * per_page : page * per_page]]
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(visible)),
            "X-Total-Pages": str(total_pages),
            "X-Next-Page": str(page + 1) if page < total_pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        if page < total_pages:
            query = urlencode({**dict(q), "page": page + 1})
            headers["Link"] = f'<{self.base_url}/api/v4/projects?{query}>; rel="next"'
        return JSONResponse(items, headers=headers)

    def _tree_listing(self, commit: FakeCommit) -> list[dict[str, Any]]:
        """Every entry of the commit's tree, directories included, in path order (cached per commit)."""
        cached = self._listings.get(commit.sha)
        if cached is not None:
            return cached
        entries: dict[str, dict[str, Any]] = {}
        for path in commit.files:
            pieces = path.split("/")
            for depth in range(1, len(pieces)):
                directory = "/".join(pieces[:depth])
                entries[directory] = {"id": "0" * 40, "name": pieces[depth - 1], "type": "tree", "path": directory}
                entries[directory]["mode"] = "040000"
            mode = commit.modes.get(path, "100644")
            entries[path] = {"id": "1" * 40, "name": pieces[-1], "type": "blob", "path": path, "mode": mode}
        listing = self._listings[commit.sha] = [entries[k] for k in sorted(entries)]
        return listing

    def _tree(self, request: Request, project: FakeProject) -> Response:
        q = request.query_params
        commit = self._resolve(project, q.get("ref", project.default_branch or ""))
        if commit is None:
            return JSONResponse({"message": "404 Tree Not Found"}, status_code=404)
        if q.get("recursive") != "true" or q.get("pagination") != "keyset":
            return JSONResponse({"message": "this fake lists recursive keyset pages only"}, status_code=400)
        ordered = self._tree_listing(commit)
        per_page = min(int(q.get("per_page", 20)), 100)
        after = q.get("page_token")
        start = 0 if after is None else bisect.bisect_right([e["path"] for e in ordered], after)
        page = ordered[start : start + per_page]
        headers = {}
        if start + per_page < len(ordered):
            query = {k: v for k, v in q.items() if k != "page_token"} | {"page_token": page[-1]["path"]}
            url = f"{self.base_url}/api/v4/projects/{project.id}/repository/tree?{urlencode(query)}"
            headers["Link"] = f'<{url}>; rel="next"'
        return JSONResponse(page, headers=headers)

    async def _create_commit(self, request: Request, project: FakeProject, level: int) -> Response:
        body = await request.json()
        branch = str(body.get("branch"))
        start = body.get("start_branch")
        if level < 30 or branch in project.protected:
            return JSONResponse({"message": "You are not allowed to push into this branch"}, status_code=403)
        if branch in project.branches and not body.get("force"):
            base_sha = project.branches[branch]
        elif start is not None:
            if start not in project.branches:
                return JSONResponse({"message": "You can only create or edit files when you are on a branch"}, 400)
            base_sha = project.branches[start]
        elif branch in project.branches:
            base_sha = project.branches[branch]
        else:
            return JSONResponse({"message": "You can only create or edit files when you are on a branch"}, 400)
        files = dict(self.commits[base_sha].files)
        for action in body.get("actions") or []:
            path = str(action.get("file_path"))
            kind = action.get("action")
            if kind == "create" and path in files:
                return JSONResponse({"message": "A file with this name already exists"}, status_code=400)
            if kind == "update" and path not in files:
                return JSONResponse({"message": "A file with this name doesn't exist"}, status_code=400)
            if kind not in ("create", "update"):
                return JSONResponse({"message": f"unsupported action {kind}"}, status_code=400)
            files[path] = str(action.get("content", "")).encode()
        sha = self._commit(project, branch, files, [base_sha], str(body.get("commit_message", "")))
        return JSONResponse(self._commit_json(self.commits[sha]), status_code=201)

    async def _merge_requests(self, request: Request, project: FakeProject, level: int) -> Response:
        if request.method == "GET":
            q = request.query_params
            found = [
                m
                for m in project.merge_requests
                if (q.get("state") in (None, "all") or m["state"] == q.get("state"))
                and (q.get("source_branch") in (None, m["source_branch"]))
                and (q.get("target_branch") in (None, m["target_branch"]))
            ]
            return JSONResponse(found)
        if level < 30:
            return JSONResponse({"message": "403 Forbidden"}, status_code=403)
        body = await request.json()
        source, target = body.get("source_branch"), body.get("target_branch")
        if source not in project.branches or target not in project.branches:
            return JSONResponse({"message": ["Source branch does not exist"]}, status_code=400)
        if any(m["state"] == "opened" and m["source_branch"] == source for m in project.merge_requests):
            return JSONResponse({"message": ["Another open merge request already exists for this source branch"]}, 409)
        iid = len(project.merge_requests) + 1
        mr = {
            "id": next(self._ids),
            "iid": iid,
            "project_id": project.id,
            "title": body.get("title"),
            "description": body.get("description"),
            "state": "opened",
            "source_branch": source,
            "target_branch": target,
            "sha": project.branches[source],
            "web_url": f"{self.base_url}/{project.path_with_namespace}/-/merge_requests/{iid}",
        }
        project.merge_requests.append(mr)
        return JSONResponse(mr, status_code=201)

    async def _hooks(self, request: Request, project: FakeProject, level: int, rest: list[str]) -> Response:
        if level < 40:
            return JSONResponse({"message": "403 Forbidden"}, status_code=403)
        if request.method == "GET" and len(rest) == 1:
            return JSONResponse([{k: v for k, v in h.items() if k != "token"} for h in project.hooks])
        if request.method == "DELETE" and len(rest) == 2:
            kept = [h for h in project.hooks if str(h["id"]) != rest[1]]
            if len(kept) == len(project.hooks):
                return JSONResponse({"message": "404 Not found"}, status_code=404)
            project.hooks[:] = kept
            return Response(status_code=204)
        body = await request.json()
        if request.method == "POST" and len(rest) == 1:
            created = {"id": next(self._ids), "project_id": project.id, **body}
            project.hooks.append(created)
            return JSONResponse({k: v for k, v in created.items() if k != "token"}, status_code=201)
        if request.method == "PUT" and len(rest) == 2:
            hook: dict[str, Any] | None = next((h for h in project.hooks if str(h["id"]) == rest[1]), None)
            if hook is None:
                return JSONResponse({"message": "404 Not found"}, status_code=404)
            hook.update(body)
            return JSONResponse({k: v for k, v in hook.items() if k != "token"})
        return JSONResponse({"message": "405 Method Not Allowed"}, status_code=405)

    # ---- webhooks ------------------------------------------------------------------------------------------
    def hook_token(self, project: FakeProject) -> str:
        return str(project.hooks[-1]["token"])

    def webhook(
        self, url: str, event: str, payload: dict[str, Any], *, token: str | None, uuid_: str | None = None
    ) -> httpx.Response:
        """Deliver an event as GitLab does: JSON body, `X-Gitlab-Event`, the hook's secret token verbatim."""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitLab/17.0.0",
            "X-Gitlab-Event": event,
            "X-Gitlab-Event-UUID": uuid_ or str(uuid.uuid4()),
            "X-Gitlab-Webhook-UUID": str(uuid.uuid4()),
            "X-Gitlab-Instance": self.base_url,
        }
        if token is not None:
            headers["X-Gitlab-Token"] = token
        return httpx.post(url, content=json.dumps(payload).encode(), headers=headers, timeout=10)

    def start(self) -> FakeGitLabServer:
        return FakeGitLabServer(self)


class FakeGitLabServer:
    """Runs a `FakeGitLab` with uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, fake: FakeGitLab) -> None:
        self.fake = fake
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        fake.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(fake.app, log_level="warning", lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("fake GitLab did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def _b(content: bytes | str) -> bytes:
    return content.encode() if isinstance(content, str) else content
