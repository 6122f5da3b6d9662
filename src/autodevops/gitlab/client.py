"""The one place that talks to GitLab (gitlab.com or a self-managed instance): REST v4, plus one GraphQL query.

Why not python-gitlab, the reference client: it is synchronous (built on `requests`), so every call would
block the API's event loop or need a thread, and its session cannot be given a transport that checks and
pins each request's address. This module speaks the few REST endpoints the platform needs with httpx2 (already
the HTTP client of the single sign-on layer), through the same `CheckedTransport`:

* **Every request is checked where it is sent.** `AUTODEVOPS_GITLAB_URL` (default https://gitlab.com) is held
  to the git URL policy right before each request (https, no credentials, every address public or listed in
  `AUTODEVOPS_GIT_PRIVATE_SERVERS`) and the connection goes to the address that check approved, so a DNS
  answer that changed cannot send a token elsewhere. No redirects, no proxies from the environment, answers
  bounded in size. Pagination follows GitLab's `Link: rel="next"` only while it stays on the instance.
* **Authentication** is one bearer token per call: a user's OAuth token, or a project or group access token
  given by the user (GitLab accepts both as `Authorization: Bearer`). Tokens never appear in errors.
* **Rate limits.** A 429 whose `Retry-After` (or `RateLimit-Reset`) is within `gitlab_rate_limit_max_wait`
  seconds is waited out, at most twice; a longer one raises `GitLabRateLimited` with the seconds until reset.
  A 5xx on a read is retried once. Writes are never retried (GitLab may have applied them).
* **Errors** are `GitLabError`s naming the call and GitLab's own message: 401 is a token to replace
  (`GitLabTokenInvalid`), 403 a missing role or scope or a protected branch (`GitLabPermissionDenied`), 404 is
  `GitLabNotFound`.

`calls` and `bytes_received` count what a client instance used (the GitLab source reports them).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx2
from pydantic import BaseModel, ConfigDict

from autodevops.config import Settings
from autodevops.engine.source import SourceError
from autodevops.errors import AppError, ValidationFailed
from autodevops.repository.git_url import GitURLPolicy
from autodevops.sso.provider import CheckedTransport

MR_BRANCH = "autodevops/ci"
CI_FILE = ".gitlab-ci.yml"
USER_AGENT = "autodevops"
PER_PAGE = 100  # GitLab's largest page
SCOPES = "read_user read_api api"  # api: commits and merge requests on the user's behalf
# JSON pages and manifests stay far below this; a larger answer is cut off rather than buffered.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
_MAX_PAGES = 20_000  # 2,000,000 tree entries: past MAX_FILES anyway
_MAX_RETRIES = 2
# What a token may hold: it travels in an HTTP header, so printable ASCII and no spaces.
TOKEN_CHARACTERS = re.compile(r"[\x21-\x7e]{1,255}")
# GitLab's path rules: namespaces and projects of letters, digits, '_', '-', '.', '/'-separated.
_FULL_PATH = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,254}(/[A-Za-z0-9_.][A-Za-z0-9_.-]{0,254}){1,20}$")
_BRANCH = re.compile(r"^(?!/)(?!.*//)(?!.*\.\.)(?!.*@\{)[^\x00-\x20~^:?*\[\\\x7f]{1,255}(?<![/.])$")


class GitLabError(AppError):
    """GitLab refused or failed a call. A 502 at the edge: the problem is upstream."""

    status_code = 502
    error = "gitlab_error"

    def __init__(self, message: str, *, upstream_status: int | None = None, upstream_message: str = "") -> None:
        super().__init__(message)
        self.upstream_status = upstream_status
        self.upstream_message = upstream_message  # GitLab's own words, when it gave any


class GitLabNotFound(GitLabError):
    status_code = 404
    error = "not_found"


class GitLabTokenInvalid(GitLabError):
    """GitLab does not accept the token (expired, revoked, or never valid): the user must give a new one."""

    status_code = 409
    error = "gitlab_token_invalid"


class GitLabPermissionDenied(GitLabError):
    """The token is valid but lacks a role or scope for this call, or the branch is protected."""

    status_code = 403
    error = "gitlab_permission_denied"


class GitLabNotConfigured(AppError):
    status_code = 503
    error = "gitlab_not_configured"


class GitLabRateLimited(GitLabError, SourceError):
    """GitLab's rate limit holds for longer than we wait. Also a `SourceError`, so an analysis stops with
    this message rather than analyzing part of a repository."""

    status_code = 503
    error = "gitlab_rate_limited"

    def __init__(self, message: str, *, retry_after: float, upstream_status: int | None = None) -> None:
        GitLabError.__init__(self, message, upstream_status=upstream_status)
        self.permanent = False
        self.retry_after = retry_after


class OAuthToken(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    scope: str = ""
    expires_in: int | None = None
    refresh_token: str | None = None

    def __repr__(self) -> str:  # keep tokens out of logs and tracebacks
        return f"OAuthToken(token_type={self.token_type!r}, expires_in={self.expires_in!r})"


class GitLabUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    username: str
    name: str | None = None
    email: str | None = None


class GitLabProject(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    path_with_namespace: str
    name: str
    visibility: str  # public, internal or private
    default_branch: str | None = None  # None for an empty project
    web_url: str | None = None
    http_url_to_repo: str | None = None


class ProjectPage(BaseModel):
    projects: list[GitLabProject]
    next_page: int | None


class TreeEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    path: str
    type: str  # blob, tree, or commit (a submodule)
    mode: str


class MergeRequestResult(BaseModel):
    iid: int
    web_url: str
    state: str
    source_branch: str
    head_sha: str
    created: bool  # False: an open merge request was updated
    committed: bool  # False: the branch already held exactly this file on top of the target


def check_full_path(full_path: str) -> str:
    """A GitLab project path (`group/subgroup/project`), or `ValidationFailed`."""
    if not _FULL_PATH.match(full_path) or any(part in (".", "..") for part in full_path.split("/")):
        raise ValidationFailed(f"not a GitLab project path: {full_path[:300]!r}")
    return full_path


def check_branch(branch: str) -> str:
    """A branch name git would accept (it becomes a URL path segment and a commit target)."""
    if not _BRANCH.match(branch) or branch.endswith(".lock"):
        raise ValidationFailed(f"not a branch name: {branch[:300]!r}")
    return branch


def check_project_id(project_id: int) -> int:
    if isinstance(project_id, bool) or not isinstance(project_id, int) or not 0 < project_id < 2**63:
        raise ValidationFailed(f"not a GitLab project id: {project_id!r}")
    return project_id


def _seconds_until_reset(response: httpx2.Response) -> float | None:
    """How long GitLab asks us to wait: `Retry-After` (seconds), else `RateLimit-Reset` (epoch seconds)."""
    retry_after = response.headers.get("retry-after", "")
    if retry_after.isdigit():
        return float(retry_after)
    reset = response.headers.get("ratelimit-reset", "")
    if reset.isdigit():
        return max(0.0, float(reset) - time.time())
    return None


def _message(response: httpx2.Response) -> str:
    """GitLab's own explanation: `message` (a string or field errors), `error_description` or `error`."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    value = data.get("message") or data.get("error_description") or data.get("error")
    if isinstance(value, dict):
        value = "; ".join(f"{k} {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in value.items())
    elif isinstance(value, list):
        value = "; ".join(map(str, value))
    return str(value)[:300] if value else ""


def _failure(response: httpx2.Response, what: str) -> GitLabError:
    error = _failure_of(response, what)
    error.upstream_message = _message(response)
    return error


def _failure_of(response: httpx2.Response, what: str) -> GitLabError:
    status = response.status_code
    message = _message(response)
    said = f": {message}" if message else ""
    if status == 401:
        return GitLabTokenInvalid(
            f"GitLab did not accept the token while trying to {what} (expired, revoked or mistyped); "
            "give a new token or sign in with GitLab again",
            upstream_status=status,
        )
    if status == 403:
        return GitLabPermissionDenied(
            f"GitLab refused to {what}{said}. The token needs the api scope and a role that allows it "
            "(Developer to push a branch and open a merge request, Maintainer to manage webhooks)",
            upstream_status=status,
        )
    if status == 404:
        return GitLabNotFound(f"GitLab: not found while trying to {what}{said}", upstream_status=status)
    return GitLabError(f"GitLab answered {status} while trying to {what}{said}", upstream_status=status)


class GitLabClient:
    """GitLab for one process or one piece of work. Open it (`async with`) to reuse one connection pool for
    many calls; unopened, each call uses a pool of its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base_url = settings.gitlab_url.rstrip("/")
        self.api_url = f"{self.base_url}/api/v4"
        self.policy = GitURLPolicy.from_settings(settings)
        self._max_wait = settings.gitlab_rate_limit_max_wait
        self._timeout = settings.gitlab_http_timeout_s
        self._http: httpx2.AsyncClient | None = None
        self.calls = 0
        self.bytes_received = 0

    # ---- HTTP ---------------------------------------------------------------------------------------------
    def _new_http(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(
            transport=CheckedTransport(self.policy, max_bytes=MAX_RESPONSE_BYTES, who="GitLab", error=GitLabError),
            trust_env=False,
            follow_redirects=False,
            timeout=self._timeout,
            headers={"User-Agent": USER_AGENT},
        )

    async def __aenter__(self) -> GitLabClient:
        self._http = self._new_http()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx2.AsyncClient]:
        if self._http is not None:
            yield self._http
            return
        async with self._new_http() as http:
            yield http

    async def _send(
        self,
        method: str,
        url: str,
        what: str,
        *,
        token: str | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201),
        limit: int | None = None,
    ) -> httpx2.Response:
        """One call, with GitLab's rate limits waited out and reads retried once on a 5xx. `limit` reads at most
        that many bytes of the body plus one (the caller learns the file is larger)."""
        if url.startswith("/"):
            url = self.api_url + url
        elif not url.startswith(self.base_url + "/"):
            raise GitLabError(f"refusing to send a GitLab token outside {self.base_url}")
        headers = {"Accept": "application/json"}
        if token is not None:
            if not TOKEN_CHARACTERS.fullmatch(token):
                raise ValidationFailed("a GitLab token is printable ASCII without spaces (as GitLab shows it)")
            headers["Authorization"] = f"Bearer {token}"
        rate_limited = server_errors = 0
        async with self._client() as http:
            while True:
                request = http.build_request(method, url, params=params, json=json, data=data, headers=headers)
                try:
                    response = await http.send(request, stream=True)
                except httpx2.HTTPError as error:
                    failure = type(error).__name__
                    raise GitLabError(f"GitLab is unreachable while trying to {what} ({failure})") from None
                try:
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if limit is not None and len(body) > limit:
                            break
                finally:
                    await response.aclose()
                self.calls += 1
                self.bytes_received += len(body)
                response = httpx2.Response(response.status_code, headers=response.headers, content=bytes(body))
                if response.status_code in ok:
                    return response
                if response.status_code == 429:
                    wait = _seconds_until_reset(response)
                    if wait is not None and wait <= self._max_wait and rate_limited < _MAX_RETRIES:
                        rate_limited += 1
                        await asyncio.sleep(max(wait, 0.2))
                        continue
                    seconds = wait if wait is not None else 60.0
                    raise GitLabRateLimited(
                        f"GitLab rate limit exceeded while trying to {what}; it resets in {seconds:.0f}s",
                        retry_after=seconds,
                        upstream_status=429,
                    )
                if response.status_code >= 500 and method == "GET" and server_errors < 1:
                    server_errors += 1
                    await asyncio.sleep(1.0)
                    continue
                raise _failure(response, what)

    async def _json(self, method: str, url: str, what: str, **kwargs: Any) -> Any:
        response = await self._send(method, url, what, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise GitLabError(f"GitLab's answer is not JSON while trying to {what}") from None

    def _next_url(self, response: httpx2.Response) -> str | None:
        """The next page GitLab links to, when it is on this instance (anything else is not followed)."""
        url = response.links.get("next", {}).get("url")
        if not url:
            return None
        if not url.startswith(self.api_url + "/") or urlsplit(url).netloc != urlsplit(self.api_url).netloc:
            raise GitLabError("GitLab linked the next page to another server; not followed")
        return str(url)

    async def pages(
        self, path: str, what: str, *, token: str, params: dict[str, Any]
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every page of a listing, following `Link: rel="next"` (offset and keyset pagination alike)."""
        url: str | None = self.api_url + path
        query: dict[str, Any] | None = {**params, "per_page": PER_PAGE}
        for _ in range(_MAX_PAGES):
            if url is None:
                return
            response = await self._send("GET", url, what, token=token, params=query)
            try:
                batch = response.json()
            except ValueError:
                raise GitLabError(f"GitLab's answer is not JSON while trying to {what}") from None
            if not isinstance(batch, list):
                raise GitLabError(f"GitLab's answer is not a list while trying to {what}")
            yield batch
            url, query = self._next_url(response), None  # the next link carries the whole query
        raise GitLabError(f"GitLab's listing has more than {_MAX_PAGES} pages while trying to {what}")

    # ---- OAuth (Sign in with GitLab) -----------------------------------------------------------------------
    @property
    def oauth_configured(self) -> bool:
        return bool(self.settings.gitlab_client_id and self.settings.gitlab_client_secret)

    def _oauth_credentials(self) -> tuple[str, str]:
        s = self.settings
        if not s.gitlab_client_id or s.gitlab_client_secret is None:
            raise GitLabNotConfigured("GitLab sign-in is not configured (AUTODEVOPS_GITLAB_CLIENT_ID/_SECRET)")
        return s.gitlab_client_id, s.gitlab_client_secret.get_secret_value()

    def authorize_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        """Where to send the browser: authorization code flow with PKCE (S256) and the single-use state."""
        client_id, _ = self._oauth_credentials()
        query = urlencode(
            {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": SCOPES,
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{self.base_url}/oauth/authorize?{query}"

    async def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> OAuthToken:
        client_id, client_secret = self._oauth_credentials()
        form = {
            "client_id": client_id,
            "client_secret": client_secret,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        return await self._token_request(form, "complete GitLab sign-in")

    async def refresh_token(self, refresh_token: str, *, redirect_uri: str) -> OAuthToken:
        client_id, client_secret = self._oauth_credentials()
        form = {
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
            "grant_type": "refresh_token",
            "redirect_uri": redirect_uri,
        }
        return await self._token_request(form, "refresh a GitLab token")

    async def _token_request(self, form: dict[str, str], what: str) -> OAuthToken:
        data = await self._json("POST", f"{self.base_url}/oauth/token", what, data=form)
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
            raise GitLabError(f"GitLab refused to {what}: no access token in its answer")
        return OAuthToken.model_validate(data)

    # ---- users and projects --------------------------------------------------------------------------------
    async def get_user(self, token: str) -> GitLabUser:
        return GitLabUser.model_validate(await self._json("GET", "/user", "read the GitLab user", token=token))

    async def list_projects(self, token: str, *, search: str | None = None, page: int = 1) -> ProjectPage:
        """One page of the projects the token can see as a member, most recently active first."""
        params: dict[str, Any] = {
            "membership": "true",
            "order_by": "last_activity_at",
            "per_page": PER_PAGE,
            "page": page,
        }
        if search:
            params["search"] = search
        response = await self._send("GET", "/projects", "list your GitLab projects", token=token, params=params)
        items = response.json()
        if not isinstance(items, list):
            raise GitLabError("GitLab's project list is not a list")
        following = response.headers.get("x-next-page", "")
        return ProjectPage(
            projects=[GitLabProject.model_validate(_project_fields(i)) for i in items],
            next_page=int(following) if following.isdigit() else None,
        )

    async def get_project(self, token: str, project: int | str) -> GitLabProject:
        """A project by id or by `group/project` path."""
        ref = str(check_project_id(project)) if isinstance(project, int) else quote(check_full_path(project), safe="")
        data = await self._json("GET", f"/projects/{ref}", "read the GitLab project", token=token)
        return GitLabProject.model_validate(_project_fields(data))

    async def branch_head(self, token: str, project_id: int, branch: str) -> str:
        """The commit `branch` points at now."""
        path = f"/projects/{check_project_id(project_id)}/repository/branches/{quote(check_branch(branch), safe='')}"
        data = await self._json("GET", path, f"read branch {branch!r}", token=token)
        return str(data["commit"]["id"])

    async def resolve_commit(self, token: str, project_id: int, ref: str) -> str:
        """The full SHA of `ref` (a branch, tag or SHA)."""
        path = f"/projects/{check_project_id(project_id)}/repository/commits/{quote(ref, safe='')}"
        data = await self._json("GET", path, f"resolve {ref[:100]!r}", token=token)
        return str(data["id"])

    # ---- repository contents -------------------------------------------------------------------------------
    def tree_pages(self, token: str, project_id: int, commit: str) -> AsyncIterator[list[dict[str, Any]]]:
        """The whole tree at `commit`, recursively, with keyset pagination (stable under load)."""
        return self.pages(
            f"/projects/{check_project_id(project_id)}/repository/tree",
            "list the repository's files",
            token=token,
            params={"ref": commit, "recursive": "true", "pagination": "keyset"},
        )

    async def blob_sizes(self, token: str, full_path: str, commit: str, paths: list[str]) -> dict[str, int]:
        """Sizes of up to `PER_PAGE` files at `commit`, in one GraphQL query (the REST tree has no sizes)."""
        if len(paths) > PER_PAGE:
            raise ValueError("at most one page of paths per query")
        data = await self._json(
            "POST",
            f"{self.base_url}/api/graphql",
            "read file sizes",
            token=token,
            json={"query": _BLOB_SIZES, "variables": {"fullPath": full_path, "ref": commit, "paths": paths}},
        )
        if not isinstance(data, dict) or data.get("errors"):
            errors = data.get("errors") if isinstance(data, dict) else None
            first = errors[0] if isinstance(errors, list) and errors else None
            first = first.get("message") if isinstance(first, dict) else ""
            raise GitLabError(f"GitLab could not read file sizes: {str(first)[:200] or 'unexpected answer'}")
        project = (data.get("data") or {}).get("project")
        if project is None:
            raise GitLabNotFound("GitLab: project not found while reading file sizes")
        nodes = ((project.get("repository") or {}).get("blobs") or {}).get("nodes") or []
        return {str(n["path"]): int(n["size"]) for n in nodes if isinstance(n, dict) and "path" in n and "size" in n}

    async def read_file(self, token: str, project_id: int, path: str, ref: str, *, limit: int) -> bytes:
        """The raw bytes of one file at `ref`, at most `limit` + 1 of them (more means: larger than `limit`)."""
        url = f"/projects/{check_project_id(project_id)}/repository/files/{quote(path, safe='')}/raw"
        response = await self._send("GET", url, f"read {path[:200]!r}", token=token, params={"ref": ref}, limit=limit)
        return response.content

    async def file_exists(self, token: str, project_id: int, path: str, ref: str) -> bool:
        url = f"/projects/{check_project_id(project_id)}/repository/files/{quote(path, safe='')}"
        try:
            await self._send("HEAD", url, f"look for {path!r}", token=token, params={"ref": ref})
        except GitLabNotFound:
            return False
        return True


_BLOB_SIZES = (
    "query($fullPath: ID!, $ref: String!, $paths: [String!]!) { project(fullPath: $fullPath) "
    "{ repository { blobs(ref: $ref, paths: $paths) { nodes { path size } } } } }"
)


def _project_fields(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise GitLabError("GitLab's project is not an object")
    # A project object without visibility (a restricted API view) is taken as private, the cautious reading.
    return {**item, "visibility": item.get("visibility") or "private"}


class GitLabWrites:
    """Writes to one project with one token: the project hook, and the merge request of `.gitlab-ci.yml`."""

    def __init__(self, client: GitLabClient, token: str, project_id: int) -> None:
        self.client = client
        self.token = token
        self.project_id = check_project_id(project_id)
        self.base = f"/projects/{self.project_id}"

    # ---- project hook -------------------------------------------------------------------------------------
    def _hook_body(self, url: str, secret: str) -> dict[str, Any]:
        return {
            "url": url,
            "token": secret,
            "push_events": True,
            "merge_requests_events": True,
            "enable_ssl_verification": url.startswith("https://"),
        }

    async def create_hook(self, url: str, secret: str) -> int:
        """Register the project hook that delivers push and merge request events to `url`, signed by `secret`."""
        data = await self.client._json(
            "POST", f"{self.base}/hooks", "register the webhook", token=self.token, json=self._hook_body(url, secret)
        )
        return int(data["id"])

    async def update_hook(self, hook_id: int, url: str, secret: str) -> None:
        await self.client._json(
            "PUT",
            f"{self.base}/hooks/{int(hook_id)}",
            "update the webhook's secret",
            token=self.token,
            json=self._hook_body(url, secret),
        )

    async def delete_hook(self, hook_id: int) -> None:
        """Remove the project hook. A hook already gone (deleted by hand on GitLab) is what was wanted."""
        await self.client._send(
            "DELETE",
            f"{self.base}/hooks/{int(hook_id)}",
            "remove the webhook",
            token=self.token,
            ok=(200, 204, 404),
        )

    # ---- merge request --------------------------------------------------------------------------------------
    async def _commit(self, ref: str) -> dict[str, Any]:
        data = await self.client._json(
            "GET", f"{self.base}/repository/commits/{quote(ref, safe='')}", f"read {ref[:100]!r}", token=self.token
        )
        if not isinstance(data, dict):
            raise GitLabError("GitLab's commit is not an object")
        return data

    async def _head(self, branch: str) -> str | None:
        try:
            return await self.client.branch_head(self.token, self.project_id, branch)
        except GitLabNotFound:
            return None

    async def open_or_update_merge_request(
        self, *, target: str, content: str, title: str, description: str, commit_message: str
    ) -> MergeRequestResult:
        """Commit `.gitlab-ci.yml` (and nothing else) on top of `target` to branch `autodevops/ci` and open its
        merge request, or update the one already open. Re-running with the same content makes no new commit."""
        check_branch(target)
        target_sha = await self._head(target)
        if target_sha is None:
            raise GitLabNotFound(f"GitLab: the target branch {target!r} does not exist; sync the repository")
        head = await self._head(MR_BRANCH)
        committed = True
        if head is not None:
            commit = await self._commit(head)
            if commit.get("parent_ids") == [target_sha]:
                try:
                    current = await self.client.read_file(
                        self.token, self.project_id, CI_FILE, head, limit=len(content.encode()) + 1
                    )
                except GitLabNotFound:
                    current = None
                committed = current != content.encode()
        if committed:
            exists = await self.client.file_exists(self.token, self.project_id, CI_FILE, target_sha)
            body = {
                "branch": MR_BRANCH,
                "start_branch": target,
                "force": True,  # the branch is ours: rebuilt on the current target each time
                "commit_message": commit_message,
                "actions": [{"action": "update" if exists else "create", "file_path": CI_FILE, "content": content}],
            }
            try:
                data = await self.client._json(
                    "POST", f"{self.base}/repository/commits", f"push branch {MR_BRANCH!r}", token=self.token, json=body
                )
            except GitLabPermissionDenied as error:
                raise GitLabPermissionDenied(
                    f"GitLab refused to push branch {MR_BRANCH!r} ({_reason(error)}). The token needs the api scope "
                    f"and at least the Developer role; if {MR_BRANCH!r} is a protected branch, allow Developers to "
                    "push to it or unprotect it",
                    upstream_status=error.upstream_status,
                ) from None
            head = str(data["id"])
        assert head is not None  # the existing branch, or the commit just pushed

        listing = await self.client._json(
            "GET",
            f"{self.base}/merge_requests",
            "find the open merge request",
            token=self.token,
            params={"state": "opened", "source_branch": MR_BRANCH, "target_branch": target},
        )
        fields = {"title": title, "description": description}
        if isinstance(listing, list) and listing:
            iid = int(listing[0]["iid"])
            url = f"{self.base}/merge_requests/{iid}"
            mr = await self.client._json("PUT", url, "update the merge request", token=self.token, json=fields)
            created = False
        else:
            body = {**fields, "source_branch": MR_BRANCH, "target_branch": target, "remove_source_branch": True}
            what = "open the merge request"
            mr = await self.client._json("POST", f"{self.base}/merge_requests", what, token=self.token, json=body)
            created = True
        return MergeRequestResult(
            iid=int(mr["iid"]),
            web_url=str(mr.get("web_url") or ""),
            state=str(mr.get("state") or "opened"),
            source_branch=MR_BRANCH,
            head_sha=head,
            created=created,
            committed=committed,
        )


def _reason(error: GitLabError) -> str:
    return error.upstream_message or f"HTTP {error.upstream_status}"
