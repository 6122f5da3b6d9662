"""A fake GitHub speaking the real wire protocol, run on loopback by the tests.

It implements what the platform calls: the OAuth web flow (authorize + access_token, verifying the PKCE
verifier against the S256 challenge for real), the REST endpoints for users, App installations (App JWTs are
verified with the App's public key), repositories, git trees/blobs/commits/refs, contents and pulls, plus a
webhook sender that signs deliveries the way GitHub does. Git objects are hashed the way git hashes them.
Rate limits can be injected per path to exercise 403/429 handling.
"""

from __future__ import annotations

import base64
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
from urllib.parse import urlencode

import httpx
import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from autodevops.github.signature import sign

APP_ID = "4242"
CLIENT_ID = "Iv1.fakeclientid"
CLIENT_SECRET = "fake-client-secret"


def _git_hash(kind: str, body: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(body)}\0".encode() + body, usedforsecurity=False).hexdigest()


@dataclass
class FakeUser:
    id: int
    login: str
    name: str
    email: str
    # What `GET /user/emails` lists: `{"email", "primary", "verified"}`; None answers 403 (no permission).
    emails: list[dict[str, Any]] | None = field(default_factory=list)


@dataclass
class FakeRepo:
    id: int
    owner: str
    name: str
    default_branch: str
    installation_id: int
    private: bool = True
    visibility: str | None = None  # "internal" on GitHub Enterprise; otherwise follows `private`
    refs: dict[str, str] = field(default_factory=dict)  # "heads/main" -> commit sha
    pulls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class RateLimitRule:
    path_prefix: str
    status: int  # 403 (primary, x-ratelimit-remaining: 0) or 429 (secondary, retry-after)
    reset_in: int
    times: int
    limited: bool = True  # False: a plain 403 (permissions), no rate-limit headers


def generate_app_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class FakeGitHub:
    """State plus the ASGI app. All state is in memory; one instance per test module or test."""

    def __init__(self, app_private_key: str | None = None) -> None:
        self.app_private_key = app_private_key or generate_app_key()
        private = serialization.load_pem_private_key(self.app_private_key.encode(), password=None)
        self.app_public_key = private.public_key()
        self.users: dict[int, FakeUser] = {}
        self.user_tokens: dict[str, int] = {}
        self.refresh_tokens: dict[str, int] = {}
        self.installation_tokens: dict[str, int] = {}
        self.installations: dict[int, dict[str, Any]] = {}  # id -> {"account": ..., "users": set[int]}
        self.repos: dict[str, FakeRepo] = {}
        self.objects: dict[str, tuple[str, Any]] = {}  # sha -> ("blob", bytes) | ("tree", entries) | ("commit", {...})
        self.codes: dict[str, dict[str, Any]] = {}
        self.authorize_as: int | None = None  # the user who "clicks Authorize"
        self.issue_refresh_tokens = False
        self.hook_secret: str | None = None  # what the App signs webhook deliveries with
        self.truncate_recursive_trees = False  # answer recursive listings like GitHub does past its limits
        self.rate_limits: list[RateLimitRule] = []
        self.requests: list[tuple[str, str]] = []
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        self.base_url = ""
        self.app = self._build_app()

    # ---- seeding --------------------------------------------------------------------------------

    def add_user(self, login: str) -> FakeUser:
        user = FakeUser(next(self._ids), login, login.title(), f"{login}@example.com")
        self.users[user.id] = user
        return user

    def add_installation(self, account: str, *, users: list[FakeUser], account_type: str = "User") -> int:
        iid = next(self._ids)
        self.installations[iid] = {
            "account": {"login": account, "id": next(self._ids), "type": account_type},
            "users": {u.id for u in users},
        }
        return iid

    def add_repo(
        self, installation_id: int, owner: str, name: str, files: dict[str, bytes | str], *, branch: str = "main"
    ) -> FakeRepo:
        repo = FakeRepo(next(self._ids), owner, name, branch, installation_id)
        self.repos[repo.full_name] = repo
        tree = self._tree_from_flat({p: (("100644", _b(c))) for p, c in files.items()})
        repo.refs[f"heads/{branch}"] = self._commit(tree, [], "initial commit")
        return repo

    def push(self, full_name: str, branch: str, files: dict[str, bytes | str]) -> str:
        """A commit on `branch` that sets (or with None content, deletes) the given files."""
        repo = self.repos[full_name]
        parent = repo.refs[f"heads/{branch}"]
        flat = self._flatten(self.objects[parent][1]["tree"])
        for path, content in files.items():
            flat[path] = ("100644", self._blob(_b(content)))
        sha = self._commit(self._tree_from_shas(flat), [parent], "push")
        repo.refs[f"heads/{branch}"] = sha
        return sha

    def files_at(self, full_name: str, ref: str) -> dict[str, bytes]:
        """Every file at a ref ("heads/x") of a repository, for assertions."""
        commit = self.repos[full_name].refs[ref]
        flat = self._flatten(self.objects[commit][1]["tree"])
        return {p: self.objects[sha][1] for p, (_, sha) in flat.items()}

    def rate_limit(self, path_prefix: str, *, status: int = 403, reset_in: int = 3600, times: int = 1) -> None:
        self.rate_limits.append(RateLimitRule(path_prefix, status, reset_in, times))

    def forbid(self, path_prefix: str) -> None:
        """Answer 403 like a missing App permission does: no rate-limit headers."""
        self.rate_limits.append(RateLimitRule(path_prefix, 403, 0, 1_000_000, limited=False))

    def count(self, method: str, prefix: str) -> int:
        return sum(1 for m, p in self.requests if m == method and p.startswith(prefix))

    # ---- git objects ----------------------------------------------------------------------------

    def _blob(self, data: bytes) -> str:
        sha = _git_hash("blob", data)
        self.objects[sha] = ("blob", data)
        return sha

    def _tree(self, entries: dict[str, tuple[str, str, str]]) -> str:
        # entries: name -> (mode, type, sha); hashed like git: "MODE NAME\0" + 20 raw bytes, sorted by name
        body = b"".join(
            f"{entries[n][0] if entries[n][1] != 'tree' else '40000'} {n}\0".encode() + bytes.fromhex(entries[n][2])
            for n in sorted(entries)
        )
        sha = _git_hash("tree", body)
        self.objects[sha] = ("tree", entries)
        return sha

    def _commit(self, tree: str, parents: list[str], message: str) -> str:
        body = f"tree {tree}\n" + "".join(f"parent {p}\n" for p in parents) + f"\n{message}\n"
        sha = _git_hash("commit", body.encode())
        self.objects[sha] = ("commit", {"tree": tree, "parents": parents, "message": message})
        return sha

    def _tree_from_flat(self, files: dict[str, tuple[str, bytes]]) -> str:
        return self._tree_from_shas({p: (mode, self._blob(data)) for p, (mode, data) in files.items()})

    def _tree_from_shas(self, flat: dict[str, tuple[str, str]]) -> str:
        nested: dict[str, Any] = {}
        for path, (mode, sha) in flat.items():
            node = nested
            *dirs, leaf = path.split("/")
            for d in dirs:
                node = node.setdefault(d, {})
            node[leaf] = (mode, sha)

        def build(node: dict[str, Any]) -> str:
            entries: dict[str, tuple[str, str, str]] = {}
            for name, value in node.items():
                if isinstance(value, dict):
                    entries[name] = ("040000", "tree", build(value))
                else:
                    entries[name] = (value[0], "blob", value[1])
            return self._tree(entries)

        return build(nested)

    def _flatten(self, tree_sha: str, prefix: str = "") -> dict[str, tuple[str, str]]:
        out: dict[str, tuple[str, str]] = {}
        for name, (mode, kind, sha) in self.objects[tree_sha][1].items():
            if kind == "tree":
                out.update(self._flatten(sha, f"{prefix}{name}/"))
            else:
                out[prefix + name] = (mode, sha)
        return out

    # ---- HTTP helpers ---------------------------------------------------------------------------

    def _repo_json(self, repo: FakeRepo) -> dict[str, Any]:
        return {
            "id": repo.id,
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": {"login": repo.owner, "type": "User"},
            "private": repo.private,
            "visibility": repo.visibility or ("private" if repo.private else "public"),
            "default_branch": repo.default_branch,
            "html_url": f"{self.base_url}/{repo.full_name}",
        }

    def _token(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() in ("bearer", "token") else ""

    def _user(self, request: Request) -> FakeUser | None:
        uid = self.user_tokens.get(self._token(request))
        return self.users.get(uid) if uid is not None else None

    def _repo_for(self, request: Request, owner: str, name: str) -> FakeRepo | None:
        repo = self.repos.get(f"{owner}/{name}")
        token = self._token(request)
        if repo is None:
            return None
        if self.installation_tokens.get(token) == repo.installation_id:
            return repo
        user = self._user(request)
        if user is not None and user.id in self.installations[repo.installation_id]["users"]:
            return repo
        return None

    # ---- the ASGI app ---------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI()
        not_found = JSONResponse({"message": "Not Found"}, status_code=404)
        bad_creds = JSONResponse({"message": "Bad credentials"}, status_code=401)

        @app.middleware("http")
        async def record_and_limit(request: Request, call_next: Any) -> Response:
            self.requests.append((request.method, request.url.path))
            for rule in self.rate_limits:
                if rule.times > 0 and request.url.path.startswith(rule.path_prefix):
                    rule.times -= 1
                    if not rule.limited:
                        message = "Resource not accessible by integration"
                        return JSONResponse({"message": message}, status_code=403)
                    reset = int(time.time()) + rule.reset_in
                    headers = {
                        "x-ratelimit-limit": "5000",
                        "x-ratelimit-remaining": "0",
                        "x-ratelimit-reset": str(reset),
                    }
                    if rule.status == 429:
                        headers = {"retry-after": str(rule.reset_in)}
                    message = "API rate limit exceeded" if rule.status == 403 else "secondary rate limit"
                    return JSONResponse({"message": message}, status_code=rule.status, headers=headers)
            response: Response = await call_next(request)
            response.headers["x-ratelimit-limit"] = "5000"
            response.headers["x-ratelimit-remaining"] = "4999"
            response.headers["x-ratelimit-reset"] = str(int(time.time()) + 3600)
            return response

        # -- OAuth web flow --
        @app.get("/login/oauth/authorize")
        async def authorize(request: Request) -> Response:
            q = request.query_params
            if q.get("client_id") != CLIENT_ID or self.authorize_as is None:
                return JSONResponse({"message": "unknown client"}, status_code=404)
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                return JSONResponse({"message": "PKCE S256 required by this fake"}, status_code=400)
            code = secrets.token_hex(10)
            self.codes[code] = {
                "user": self.authorize_as,
                "redirect_uri": q.get("redirect_uri"),
                "challenge": q["code_challenge"],
                "expires": time.time() + 600,
            }
            params = urlencode({"code": code, "state": q.get("state", "")})
            return RedirectResponse(f"{q.get('redirect_uri')}?{params}", status_code=302)

        @app.post("/login/oauth/access_token")
        async def access_token(request: Request) -> Response:
            if request.headers.get("content-type", "").startswith("application/json"):
                form: dict[str, Any] = await request.json()
            else:
                form = dict(await request.form())
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return JSONResponse({"error": "incorrect_client_credentials"})
            if form.get("grant_type") == "refresh_token":
                uid = self.refresh_tokens.pop(str(form.get("refresh_token")), None)
                if uid is None:
                    return JSONResponse({"error": "bad_refresh_token"})
                return JSONResponse(self._issue_user_token(uid))
            grant = self.codes.pop(str(form.get("code")), None)  # single use, like GitHub
            if grant is None or grant["expires"] < time.time():
                return JSONResponse({"error": "bad_verification_code"})
            if form.get("redirect_uri") and form.get("redirect_uri") != grant["redirect_uri"]:
                return JSONResponse({"error": "redirect_uri_mismatch"})
            verifier = str(form.get("code_verifier") or "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != grant["challenge"]:
                return JSONResponse({"error": "bad_verification_code", "error_description": "PKCE verification failed"})
            return JSONResponse(self._issue_user_token(grant["user"]))

        # -- users and installations --
        @app.get("/user")
        async def get_user(request: Request) -> Response:
            user = self._user(request)
            if user is None:
                return bad_creds
            return JSONResponse(
                {"id": user.id, "login": user.login, "name": user.name, "email": user.email, "type": "User"}
            )

        @app.get("/user/emails")
        async def user_emails(request: Request) -> Response:
            user = self._user(request)
            if user is None:
                return bad_creds
            if user.emails is None:
                return JSONResponse({"message": "Resource not accessible by integration"}, status_code=403)
            return JSONResponse([{**item, "visibility": None} for item in user.emails])

        @app.get("/user/installations")
        async def user_installations(request: Request) -> Response:
            user = self._user(request)
            if user is None:
                return bad_creds
            items = [
                {"id": iid, "account": inst["account"], "repository_selection": "selected", "app_id": int(APP_ID)}
                for iid, inst in sorted(self.installations.items())
                if user.id in inst["users"]
            ]
            return JSONResponse({"total_count": len(items), "installations": _page(request, items)})

        @app.get("/user/installations/{iid}/repositories")
        async def user_installation_repos(request: Request, iid: int) -> Response:
            user = self._user(request)
            if user is None:
                return bad_creds
            if iid not in self.installations or user.id not in self.installations[iid]["users"]:
                return not_found
            items = [self._repo_json(r) for r in self.repos.values() if r.installation_id == iid]
            return JSONResponse({"total_count": len(items), "repositories": _page(request, items)})

        @app.post("/app/installations/{iid}/access_tokens")
        async def installation_token(request: Request, iid: int) -> Response:
            try:
                claims = jwt.decode(self._token(request), self.app_public_key, algorithms=["RS256"])  # type: ignore[arg-type]
            except jwt.PyJWTError:
                return JSONResponse({"message": "A JSON web token could not be decoded"}, status_code=401)
            if str(claims.get("iss")) != APP_ID or iid not in self.installations:
                return not_found
            token = "ghs_" + secrets.token_hex(16)
            self.installation_tokens[token] = iid
            expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
            return JSONResponse({"token": token, "expires_at": expires, "permissions": {}}, status_code=201)

        @app.patch("/app/hook/config")
        async def update_hook_config(request: Request) -> Response:
            try:
                claims = jwt.decode(self._token(request), self.app_public_key, algorithms=["RS256"])  # type: ignore[arg-type]
            except jwt.PyJWTError:
                return JSONResponse({"message": "A JSON web token could not be decoded"}, status_code=401)
            if str(claims.get("iss")) != APP_ID:
                return not_found
            body = await request.json()
            if "secret" in body:
                self.hook_secret = body["secret"]
            return JSONResponse({"content_type": "json", "insecure_ssl": "0", "url": "https://example.invalid"})

        @app.get("/installation/repositories")
        async def installation_repos(request: Request) -> Response:
            iid = self.installation_tokens.get(self._token(request))
            if iid is None:
                return bad_creds
            items = [self._repo_json(r) for r in self.repos.values() if r.installation_id == iid]
            return JSONResponse({"total_count": len(items), "repositories": _page(request, items)})

        # -- repositories and git data --
        @app.get("/repos/{owner}/{name}")
        async def get_repo(request: Request, owner: str, name: str) -> Response:
            repo = self._repo_for(request, owner, name)
            return JSONResponse(self._repo_json(repo)) if repo else not_found

        @app.get("/repos/{owner}/{name}/commits/{ref:path}")
        async def get_commit_by_ref(request: Request, owner: str, name: str, ref: str) -> Response:
            repo = self._repo_for(request, owner, name)
            if repo is None:
                return not_found
            sha = repo.refs.get(f"heads/{ref}") or (ref if ref in self.objects else None)
            if sha is None or self.objects[sha][0] != "commit":
                return JSONResponse({"message": "No commit found for SHA: " + ref}, status_code=422)
            return JSONResponse({"sha": sha, "commit": {"tree": {"sha": self.objects[sha][1]["tree"]}}})

        @app.get("/repos/{owner}/{name}/git/trees/{sha}")
        async def get_tree(request: Request, owner: str, name: str, sha: str) -> Response:
            repo = self._repo_for(request, owner, name)
            if repo is None or sha not in self.objects:
                return not_found
            kind, obj = self.objects[sha]
            tree_sha = obj["tree"] if kind == "commit" else sha
            recursive = request.query_params.get("recursive") not in (None, "", "0", "false")
            entries = self._tree_entries(tree_sha, "", recursive)
            truncated = recursive and self.truncate_recursive_trees
            if truncated:
                entries = entries[:1]
            return JSONResponse({"sha": tree_sha, "tree": entries, "truncated": truncated})

        @app.get("/repos/{owner}/{name}/contents/{path:path}")
        async def get_contents(request: Request, owner: str, name: str, path: str) -> Response:
            repo = self._repo_for(request, owner, name)
            if repo is None:
                return not_found
            ref = request.query_params.get("ref") or f"heads/{repo.default_branch}"
            commit = repo.refs.get(ref) or repo.refs.get(f"heads/{ref}") or ref
            if commit not in self.objects:
                return not_found
            flat = self._flatten(self.objects[commit][1]["tree"])
            if path not in flat:
                return not_found
            data: bytes = self.objects[flat[path][1]][1]
            if "raw" in request.headers.get("accept", ""):
                return Response(data, media_type="application/vnd.github.raw")
            return JSONResponse(
                {"type": "file", "path": path, "encoding": "base64", "content": base64.b64encode(data).decode()}
            )

        @app.get("/repos/{owner}/{name}/git/ref/{ref:path}")
        async def get_ref(request: Request, owner: str, name: str, ref: str) -> Response:
            repo = self._repo_for(request, owner, name)
            if repo is None or ref not in repo.refs:
                return not_found
            return JSONResponse({"ref": f"refs/{ref}", "object": {"sha": repo.refs[ref], "type": "commit"}})

        @app.get("/repos/{owner}/{name}/git/commits/{sha}")
        async def get_git_commit(request: Request, owner: str, name: str, sha: str) -> Response:
            repo = self._repo_for(request, owner, name)
            if repo is None or sha not in self.objects or self.objects[sha][0] != "commit":
                return not_found
            obj = self.objects[sha][1]
            return JSONResponse(
                {
                    "sha": sha,
                    "message": obj["message"],
                    "tree": {"sha": obj["tree"]},
                    "parents": [{"sha": p} for p in obj["parents"]],
                }
            )

        @app.post("/repos/{owner}/{name}/git/blobs")
        async def create_blob(request: Request, owner: str, name: str) -> Response:
            repo = self._repo_for(request, owner, name)
            if repo is None:
                return not_found
            body = await request.json()
            utf8 = body.get("encoding", "utf-8") == "utf-8"
            raw = body["content"].encode() if utf8 else base64.b64decode(body["content"])
            return JSONResponse({"sha": self._blob(raw)}, status_code=201)

        @app.post("/repos/{owner}/{name}/git/trees")
        async def create_tree(request: Request, owner: str, name: str) -> Response:
            repo = self._repo_for(request, owner, name)
            if repo is None:
                return not_found
            body = await request.json()
            flat = self._flatten(body["base_tree"]) if body.get("base_tree") else {}
            for entry in body["tree"]:
                if entry.get("sha") is None:
                    flat.pop(entry["path"], None)
                else:
                    flat[entry["path"]] = (entry["mode"], entry["sha"])
            return JSONResponse({"sha": self._tree_from_shas(flat)}, status_code=201)

        @app.post("/repos/{owner}/{name}/git/commits")
        async def create_commit(request: Request, owner: str, name: str) -> Response:
            repo = self._repo_for(request, owner, name)
            if repo is None:
                return not_found
            body = await request.json()
            sha = self._commit(body["tree"], list(body.get("parents", [])), body["message"])
            return JSONResponse({"sha": sha, "tree": {"sha": body["tree"]}}, status_code=201)

        @app.post("/repos/{owner}/{name}/git/refs")
        async def create_ref(request: Request, owner: str, name: str) -> Response:
            repo = self._repo_for(request, owner, name)
            if repo is None:
                return not_found
            body = await request.json()
            ref = body["ref"].removeprefix("refs/")
            if ref in repo.refs:
                return JSONResponse({"message": "Reference already exists"}, status_code=422)
            repo.refs[ref] = body["sha"]
            return JSONResponse({"ref": body["ref"], "object": {"sha": body["sha"]}}, status_code=201)

        @app.patch("/repos/{owner}/{name}/git/refs/{ref:path}")
        async def update_ref(request: Request, owner: str, name: str, ref: str) -> Response:
            repo = self._repo_for(request, owner, name)
            if repo is None or ref not in repo.refs:
                return not_found
            body = await request.json()
            if not body.get("force") and repo.refs[ref] not in self.objects[body["sha"]][1]["parents"]:
                return JSONResponse({"message": "Update is not a fast forward"}, status_code=422)
            repo.refs[ref] = body["sha"]
            return JSONResponse({"ref": f"refs/{ref}", "object": {"sha": body["sha"]}})

        # -- pull requests --
        @app.get("/repos/{owner}/{name}/pulls")
        async def list_pulls(request: Request, owner: str, name: str) -> Response:
            repo = self._repo_for(request, owner, name)
            if repo is None:
                return not_found
            q = request.query_params
            state = q.get("state", "open")
            head = q.get("head")
            items = [
                p
                for p in repo.pulls
                if (state == "all" or p["state"] == state) and (head is None or f"{owner}:{p['head']['ref']}" == head)
            ]
            return JSONResponse(items)

        @app.post("/repos/{owner}/{name}/pulls")
        async def create_pull(request: Request, owner: str, name: str) -> Response:
            repo = self._repo_for(request, owner, name)
            if repo is None:
                return not_found
            body = await request.json()
            if f"heads/{body['head']}" not in repo.refs:
                return JSONResponse({"message": "Validation Failed"}, status_code=422)
            number = len(repo.pulls) + 1
            pr = {
                "number": number,
                "id": next(self._ids),
                "state": "open",
                "title": body["title"],
                "body": body.get("body"),
                "html_url": f"{self.base_url}/{repo.full_name}/pull/{number}",
                "head": {"ref": body["head"], "sha": repo.refs[f"heads/{body['head']}"]},
                "base": {"ref": body["base"]},
                "merged": False,
            }
            repo.pulls.append(pr)
            return JSONResponse(pr, status_code=201)

        @app.patch("/repos/{owner}/{name}/pulls/{number}")
        async def update_pull(request: Request, owner: str, name: str, number: int) -> Response:
            repo = self._repo_for(request, owner, name)
            if repo is None or not 0 < number <= len(repo.pulls):
                return not_found
            body = await request.json()
            pr = repo.pulls[number - 1]
            pr.update({k: v for k, v in body.items() if k in ("title", "body", "state")})
            pr["head"]["sha"] = repo.refs[f"heads/{pr['head']['ref']}"]
            return JSONResponse(pr)

        return app

    def _issue_user_token(self, uid: int) -> dict[str, Any]:
        token = "ghu_" + secrets.token_hex(16)
        self.user_tokens[token] = uid
        out: dict[str, Any] = {"access_token": token, "token_type": "bearer", "scope": ""}
        if self.issue_refresh_tokens:
            refresh = "ghr_" + secrets.token_hex(16)
            self.refresh_tokens[refresh] = uid
            out.update(expires_in=28800, refresh_token=refresh, refresh_token_expires_in=15897600)
        return out

    def _tree_entries(self, tree_sha: str, prefix: str, recursive: bool) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name, (mode, kind, sha) in sorted(self.objects[tree_sha][1].items()):
            entry: dict[str, Any] = {"path": prefix + name, "mode": mode, "type": kind, "sha": sha}
            if kind == "blob":
                entry["size"] = len(self.objects[sha][1])
            out.append(entry)
            if kind == "tree" and recursive:
                out += self._tree_entries(sha, f"{prefix}{name}/", True)
        return out

    # ---- webhooks -------------------------------------------------------------------------------

    def webhook(
        self,
        url: str,
        event: str,
        payload: dict[str, Any],
        *,
        secret: str,
        delivery: str | None = None,
        dry_run: bool = False,
    ) -> Any:
        """Deliver a webhook the way GitHub does: JSON body, event + delivery headers, HMAC-SHA256 signature.

        With `dry_run` the signed delivery is returned (`.body`, `.headers`) instead of sent, for apps served
        in-process rather than on a socket.
        """
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/fake",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "1",
            "X-Hub-Signature-256": sign(secret, body),
        }
        if dry_run:
            return SignedDelivery(body, headers)
        return httpx.post(url, content=body, headers=headers, timeout=10)

    # ---- running --------------------------------------------------------------------------------

    def start(self) -> FakeGitHubServer:
        return FakeGitHubServer(self)


@dataclass(frozen=True)
class SignedDelivery:
    body: bytes
    headers: dict[str, str]


class FakeGitHubServer:
    """Runs a `FakeGitHub` with uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        port = self.sock.getsockname()[1]
        fake.base_url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(fake.app, log_level="warning", lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("fake GitHub did not start")
            time.sleep(0.01)

    @property
    def url(self) -> str:
        return self.fake.base_url

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def _b(content: bytes | str) -> bytes:
    return content.encode() if isinstance(content, str) else content


def _page(request: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    per_page = int(request.query_params.get("per_page", 30))
    page = int(request.query_params.get("page", 1))
    return items[(page - 1) * per_page : page * per_page]
