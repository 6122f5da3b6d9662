"""The one place that talks to GitHub, built on githubkit.

Every GitHub call of the platform goes through `GitHubClient`. Its API base URL comes from settings, so
github.com, GitHub Enterprise Server (`https://HOST/api/v3`) and the test suite's fake server all work the
same way. Authentication:

- as the **App** (a short-lived RS256 JWT signed with the App's private key), only to mint installation tokens;
- as an **installation** (tokens minted on demand by githubkit and held in this process's memory until they
  expire; never written to the database), for repository contents, branches and pull requests;
- as a **user** (the OAuth token from sign-in), to list the installations and repositories the user can see.

GitHub's rate limits are honoured: a limit that resets within `github_rate_limit_max_wait` seconds is waited
out, a longer one raises `GitHubRateLimited` with the number of seconds until the reset. Failures surface as
`GitHubError` with a message naming the call, never the token.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode

import certifi
from githubkit import AppAuthStrategy, AppInstallationAuthStrategy, GitHub, TokenAuthStrategy, UnauthAuthStrategy
from githubkit.cache import MemCacheStrategy
from githubkit.exception import GitHubException, RateLimitExceeded, RequestError, RequestFailed
from githubkit.typing import RetryOption
from pydantic import BaseModel, ConfigDict

from autodevops.config import Settings
from autodevops.engine.source import SourceError
from autodevops.errors import AppError

PR_BRANCH = "autodevops/ci"
USER_AGENT = "autodevops"
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_PAGE = 100


class GitHubError(AppError):
    """GitHub refused or failed a call. A 502 at the edge: the problem is upstream."""

    status_code = 502
    error = "github_error"

    def __init__(self, message: str, *, upstream_status: int | None = None) -> None:
        super().__init__(message)
        self.upstream_status = upstream_status


class GitHubNotFound(GitHubError):
    status_code = 404
    error = "not_found"


class GitHubNotConfigured(AppError):
    status_code = 503
    error = "github_not_configured"


class GitHubRateLimited(GitHubError, SourceError):
    """GitHub's rate limit is exhausted for longer than we are willing to wait. Also a `SourceError`, so the
    analyzer stops with this message instead of analyzing a partial repository."""

    status_code = 503
    error = "github_rate_limited"

    def __init__(self, message: str, *, retry_after: float, upstream_status: int | None = None) -> None:
        super().__init__(message, upstream_status=upstream_status)
        self.retry_after = retry_after


class OAuthToken(BaseModel):
    """What GitHub's token endpoint returns. Refresh fields are present for expiring user tokens."""

    model_config = ConfigDict(extra="ignore")

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    scope: str = ""
    expires_in: int | None = None
    refresh_token: str | None = None
    refresh_token_expires_in: int | None = None

    def __repr__(self) -> str:  # keep tokens out of logs and tracebacks
        return f"OAuthToken(token_type={self.token_type!r}, expires_in={self.expires_in!r})"


class GitHubUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    login: str
    name: str | None = None
    email: str | None = None
    avatar_url: str | None = None


class Installation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    account_login: str
    account_type: str
    repository_selection: str = "selected"


class GitHubRepository(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    full_name: str
    name: str
    owner_login: str
    private: bool
    # "public", "private" or "internal" (GitHub Enterprise); derived from `private` when GitHub omits it.
    visibility: str
    default_branch: str
    html_url: str | None = None


class TreeEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    path: str
    mode: str
    type: str
    sha: str
    size: int | None = None


class PullRequestResult(BaseModel):
    number: int
    html_url: str
    state: str
    head_branch: str
    head_sha: str
    created: bool  # False: an existing pull request was updated
    committed: bool  # False: the branch already had exactly these files on top of the base


def check_repo_name(owner: str, repo: str) -> None:
    """Refuse owner/repository names GitHub would not accept (they become URL path segments)."""
    if not _OWNER.match(owner) or not _REPO.match(repo) or repo in (".", ".."):
        raise AppError(f"not a GitHub repository name: {owner!r}/{repo!r}", 422)


def _retry_decision(max_wait: float) -> Any:
    """Wait out a rate limit that resets soon (at most twice), retry a 5xx once; fail fast otherwise."""

    def decide(exc: GitHubException, count: int) -> RetryOption:
        if isinstance(exc, RateLimitExceeded):
            wait = exc.retry_after.total_seconds()
            if count < 2 and wait <= max_wait:
                # githubkit treats a zero delay as "unknown" and sleeps a minute; a reset already passed
                # only needs a moment.
                return RetryOption(True, max(exc.retry_after, timedelta(milliseconds=200)))
            return RetryOption(False)
        if isinstance(exc, RequestFailed) and exc.response.status_code >= 500 and count < 1:
            return RetryOption(True, timedelta(seconds=1))
        return RetryOption(False)

    return decide


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """Turn githubkit's exceptions into the platform's, naming the call but never a credential."""
    try:
        yield
    except GitHubException as exc:
        raise _translate(exc, what) from None


def _translate(exc: GitHubException, what: str) -> GitHubError:
    if isinstance(exc, RateLimitExceeded):
        seconds = max(0.0, exc.retry_after.total_seconds())
        return GitHubRateLimited(
            f"GitHub rate limit exceeded while trying to {what}; it resets in {seconds:.0f}s",
            retry_after=seconds,
            upstream_status=exc.response.status_code,
        )
    if isinstance(exc, RequestFailed):
        status = exc.response.status_code
        if status == 404:
            return GitHubNotFound(f"GitHub: not found while trying to {what}", upstream_status=404)
        message = _error_message(exc)
        return GitHubError(
            f"GitHub answered {status} while trying to {what}{': ' + message if message else ''}",
            upstream_status=status,
        )
    if isinstance(exc, RequestError):
        # githubkit wraps failures of its own auth requests (minting an installation token) one level deep.
        if isinstance(exc.exc, GitHubException):
            return _translate(exc.exc, what)
        return GitHubError(f"GitHub is unreachable while trying to {what} ({type(exc.exc).__name__})")
    return GitHubError(f"GitHub call failed while trying to {what} ({type(exc).__name__})")


def _error_message(exc: RequestFailed) -> str:
    try:
        data = exc.response.json()
    except ValueError:
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    return str(message)[:200] if message else ""


class GitHubClient:
    """GitHub for one process. Cheap to build; holds in-memory installation tokens until they expire."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.api_url = settings.github_api_url.rstrip("/")
        self.web_url = settings.github_web_url.rstrip("/")
        # One cache per client: installation tokens live in this process only, never in shared storage.
        self._cache = MemCacheStrategy()
        # githubkit opens an HTTP client per call; sharing one TLS context spares re-reading the CA bundle
        # each time (the dominant cost of a call). SSL_CERT_FILE names a private CA (GitHub Enterprise Server).
        self._tls = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or certifi.where())

    # ---- githubkit instances ----------------------------------------------------------------------

    def _kit(self, auth: Any) -> GitHub[Any]:
        return GitHub(
            auth,
            base_url=self.api_url,
            user_agent=USER_AGENT,
            timeout=30.0,
            http_cache=False,  # correctness over cleverness: refs and trees must be read fresh
            cache_strategy=self._cache,
            auto_retry=_retry_decision(self.settings.github_rate_limit_max_wait),
            ssl_verify=self._tls,
            trust_env=True,  # HTTPS_PROXY / NO_PROXY apply, as operators expect behind an egress proxy
        )

    def _app_auth(self) -> AppAuthStrategy:
        s = self.settings
        if not s.github_app_id or s.github_app_private_key is None:
            raise GitHubNotConfigured("the GitHub App is not configured (AUTODEVOPS_GITHUB_APP_ID/_PRIVATE_KEY)")
        return AppAuthStrategy(
            app_id=s.github_app_id,
            private_key=s.github_app_private_key.get_secret_value(),
            client_id=s.github_client_id,
            client_secret=s.github_client_secret.get_secret_value() if s.github_client_secret else None,
        )

    def as_installation(self, installation_id: int) -> GitHub[Any]:
        """githubkit authenticated as one installation; tokens are minted from the App's key on demand."""
        app = self._app_auth()
        return self._kit(
            AppInstallationAuthStrategy(
                app_id=app.app_id,
                private_key=app.private_key,
                installation_id=installation_id,
                client_id=app.client_id,
                client_secret=app.client_secret,
            )
        )

    def as_user(self, token: str) -> GitHub[Any]:
        return self._kit(TokenAuthStrategy(token))

    # ---- OAuth web flow (sign-in) -----------------------------------------------------------------

    @property
    def oauth_configured(self) -> bool:
        return bool(self.settings.github_client_id and self.settings.github_client_secret)

    def _oauth_credentials(self) -> tuple[str, str]:
        s = self.settings
        if not s.github_client_id or s.github_client_secret is None:
            raise GitHubNotConfigured("GitHub sign-in is not configured (AUTODEVOPS_GITHUB_CLIENT_ID/_SECRET)")
        return s.github_client_id, s.github_client_secret.get_secret_value()

    def authorize_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        """Where to send the browser to sign in: PKCE S256 challenge and the single-use state."""
        client_id, _ = self._oauth_credentials()
        query = urlencode(
            {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
                "allow_signup": "true",
            }
        )
        return f"{self.web_url}/login/oauth/authorize?{query}"

    async def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> OAuthToken:
        """Trade the callback's code (plus the PKCE verifier) for the user's token."""
        client_id, client_secret = self._oauth_credentials()
        return await self._token_request(
            {
                "client_id": client_id,
                "client_secret": client_secret,
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
            "complete GitHub sign-in",
        )

    async def refresh_user_token(self, refresh_token: str) -> OAuthToken:
        """A new user token from a refresh token (GitHub Apps with expiring user tokens)."""
        client_id, client_secret = self._oauth_credentials()
        return await self._token_request(
            {
                "client_id": client_id,
                "client_secret": client_secret,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
            "refresh a GitHub user token",
        )

    async def _token_request(self, form: dict[str, str], what: str) -> OAuthToken:
        gh = self._kit(UnauthAuthStrategy())
        with _translated(what):
            resp = await gh.arequest(
                "POST",
                f"{self.web_url}/login/oauth/access_token",
                data=form,
                headers={"Accept": "application/json"},
            )
        data = _json(resp)
        # GitHub reports a refused code with 200 and an `error` field.
        if not isinstance(data, dict) or "access_token" not in data:
            error = data.get("error", "invalid response") if isinstance(data, dict) else "invalid response"
            raise GitHubError(f"GitHub refused to {what}: {str(error)[:100]}", upstream_status=resp.status_code)
        return OAuthToken.model_validate(data)

    async def set_app_webhook_secret(self, secret: str) -> None:
        """Make the GitHub App sign its webhook deliveries with `secret` (authenticated as the App)."""
        gh = self._kit(self._app_auth())
        with _translated("update the GitHub App's webhook secret"):
            await gh.rest.apps.async_update_webhook_config_for_app(data={"secret": secret})

    # ---- as the signed-in user --------------------------------------------------------------------

    async def get_user(self, token: str) -> GitHubUser:
        """The account the token belongs to."""
        with _translated("read the signed-in GitHub user"):
            gh = self.as_user(token)  # githubkit's namespaces hold a weak reference: keep the client alive
            resp = await gh.rest.users.async_get_authenticated()
        return GitHubUser.model_validate(_json(resp))

    async def get_verified_primary_email(self, token: str) -> str | None:
        """The user's primary email address if GitHub has verified it; None when there is none, or when the
        App may not read email addresses (its "Email addresses" permission, or an OAuth app's `user:email`)."""
        gh = self.as_user(token)  # namespaces hold the client weakly: keep it alive
        try:
            with _translated("read the signed-in GitHub user's email addresses"):
                resp = await gh.rest.users.async_list_emails_for_authenticated_user(per_page=100)
        except GitHubError as error:
            if error.upstream_status in (403, 404):
                return None
            raise
        for item in _json(resp):
            email = item.get("email") if isinstance(item, dict) else None
            if isinstance(email, str) and item.get("primary") is True and item.get("verified") is True:
                return email
        return None

    async def list_user_installations(self, token: str) -> list[Installation]:
        """The App's installations the user can access."""
        gh = self.as_user(token)  # namespaces hold the client weakly: keep it alive while paging
        items = await _all_pages(
            "list the user's GitHub App installations",
            "installations",
            lambda page: gh.rest.apps.async_list_installations_for_authenticated_user(per_page=_PAGE, page=page),
        )
        return [_installation(item) for item in items]

    async def list_user_installation_repositories(self, token: str, installation_id: int) -> list[GitHubRepository]:
        """The repositories of one installation that the user can access."""
        gh = self.as_user(token)  # namespaces hold the client weakly: keep it alive while paging
        items = await _all_pages(
            "list the repositories of a GitHub App installation",
            "repositories",
            lambda page: gh.rest.apps.async_list_installation_repos_for_authenticated_user(
                installation_id, per_page=_PAGE, page=page
            ),
        )
        return [_repository(item) for item in items]

    # ---- as an installation -----------------------------------------------------------------------

    async def list_installation_repositories(self, installation_id: int) -> list[GitHubRepository]:
        """Every repository the installation was granted (for `installation*` webhook syncs)."""
        gh = self.as_installation(installation_id)  # kept alive while paging (see above)
        items = await _all_pages(
            "list an installation's repositories",
            "repositories",
            lambda page: gh.rest.apps.async_list_repos_accessible_to_installation(per_page=_PAGE, page=page),
        )
        return [_repository(item) for item in items]

    async def get_repository(self, installation_id: int, owner: str, repo: str) -> GitHubRepository:
        check_repo_name(owner, repo)
        with _translated(f"read repository {owner}/{repo}"):
            gh = self.as_installation(installation_id)
            resp = await gh.rest.repos.async_get(owner, repo)
        return _repository(_json(resp))

    async def get_branch_head(self, installation_id: int, owner: str, repo: str, branch: str) -> str:
        """The commit SHA `branch` of `owner/repo` points at now."""
        check_repo_name(owner, repo)
        with _translated(f"resolve {branch!r} in {owner}/{repo}"):
            gh = self.as_installation(installation_id)
            resp = await gh.rest.repos.async_get_commit(owner, repo, branch, per_page=1)
        return str(_json(resp)["sha"])

    # Synchronous reads for `GitHubSource`: the engine is synchronous and runs in a worker thread.

    def resolve_commit(self, installation_id: int, owner: str, repo: str, ref: str | None) -> tuple[str, str]:
        """(ref name, commit sha) for `ref`, or for the default branch when `ref` is None."""
        check_repo_name(owner, repo)
        gh = self.as_installation(installation_id)
        if ref is None:
            with _translated(f"read repository {owner}/{repo}"):
                ref = str(_json(gh.rest.repos.get(owner, repo))["default_branch"])
        with _translated(f"resolve {ref!r} in {owner}/{repo}"):
            sha = _json(gh.rest.repos.get_commit(owner, repo, ref, per_page=1))["sha"]
        return ref, str(sha)

    def get_tree(
        self, installation_id: int, owner: str, repo: str, tree_sha: str, *, recursive: bool
    ) -> tuple[list[TreeEntry], bool]:
        """The entries of a tree and whether GitHub truncated the listing."""
        with _translated(f"list files of {owner}/{repo}"):
            gh = self.as_installation(installation_id)
            git = gh.rest.git
            if recursive:
                resp = git.get_tree(owner, repo, tree_sha, recursive="1")
            else:
                resp = git.get_tree(owner, repo, tree_sha)
        data = _json(resp)
        return [TreeEntry.model_validate(e) for e in data.get("tree", [])], bool(data.get("truncated"))

    def read_file(self, installation_id: int, owner: str, repo: str, path: str, ref: str) -> bytes:
        """The raw bytes of one file at `ref` (contents API, raw media type: files up to 100 MB)."""
        url = f"/repos/{owner}/{repo}/contents/{quote(path, safe='/')}"
        with _translated(f"read {path!r} from {owner}/{repo}"):
            resp = self.as_installation(installation_id).request(
                "GET",
                url,
                params={"ref": ref},
                headers={"Accept": "application/vnd.github.raw+json", "X-GitHub-Api-Version": "2022-11-28"},
            )
        return resp.content

    # ---- pull requests ----------------------------------------------------------------------------

    async def open_or_update_pull_request(
        self,
        installation_id: int,
        owner: str,
        repo: str,
        *,
        base: str,
        files: dict[str, str],
        title: str,
        body: str,
        commit_message: str,
    ) -> PullRequestResult:
        """Commit `files` on top of `base` to branch `autodevops/ci` and open its pull request, or update
        the one already open. Re-running with the same files makes no new commit."""
        check_repo_name(owner, repo)
        gh = self.as_installation(installation_id)
        git = gh.rest.git
        with _translated(f"read branch {base!r} of {owner}/{repo}"):
            base_sha = str(_json(await git.async_get_ref(owner, repo, f"heads/{base}"))["object"]["sha"])
            base_tree = str(_json(await git.async_get_commit(owner, repo, base_sha))["tree"]["sha"])
        entries: list[dict[str, Any]] = []
        with _translated(f"write the pipeline files to {owner}/{repo}"):
            for path, content in sorted(files.items()):
                blob = await git.async_create_blob(owner, repo, data={"content": content, "encoding": "utf-8"})
                entries.append({"path": path, "mode": "100644", "type": "blob", "sha": _json(blob)["sha"]})
            tree_body: Any = {"base_tree": base_tree, "tree": entries}
            tree_sha = str(_json(await git.async_create_tree(owner, repo, data=tree_body))["sha"])

        head_sha: str | None = None
        try:
            with _translated(f"read branch {PR_BRANCH!r} of {owner}/{repo}"):
                head_sha = str(_json(await git.async_get_ref(owner, repo, f"heads/{PR_BRANCH}"))["object"]["sha"])
        except GitHubNotFound:
            head_sha = None

        committed = True
        with _translated(f"push branch {PR_BRANCH!r} to {owner}/{repo}"):
            if head_sha is not None:
                head = _json(await git.async_get_commit(owner, repo, head_sha))
                parents = [p["sha"] for p in head.get("parents", [])]
                if head["tree"]["sha"] == tree_sha and parents == [base_sha]:
                    committed = False
            if committed:
                commit = await git.async_create_commit(
                    owner, repo, data={"message": commit_message, "tree": tree_sha, "parents": [base_sha]}
                )
                new_sha = str(_json(commit)["sha"])
                if head_sha is None:
                    await git.async_create_ref(owner, repo, data={"ref": f"refs/heads/{PR_BRANCH}", "sha": new_sha})
                else:
                    # The branch is ours: it is rebuilt on the current base each time, so a force update is right.
                    await git.async_update_ref(owner, repo, f"heads/{PR_BRANCH}", data={"sha": new_sha, "force": True})
                head_sha = new_sha
        assert head_sha is not None  # set by the existing branch or by the commit just pushed

        pulls = gh.rest.pulls
        with _translated(f"open the pull request on {owner}/{repo}"):
            existing = _json(
                await pulls.async_list(owner, repo, state="open", head=f"{owner}:{PR_BRANCH}", per_page=10)
            )
            if existing:
                number = int(existing[0]["number"])
                pr = _json(await pulls.async_update(owner, repo, number, data={"title": title, "body": body}))
                created = False
            else:
                pr = _json(
                    await pulls.async_create(
                        owner, repo, data={"title": title, "head": PR_BRANCH, "base": base, "body": body}
                    )
                )
                created = True
        return PullRequestResult(
            number=int(pr["number"]),
            html_url=str(pr.get("html_url") or ""),
            state=str(pr.get("state") or "open"),
            head_branch=PR_BRANCH,
            head_sha=head_sha,
            created=created,
            committed=committed,
        )


async def _all_pages(what: str, key: str, fetch: Callable[[int], Awaitable[Any]]) -> list[dict[str, Any]]:
    """The `key` items of every page `fetch(page)` returns, from page 1 until a page holds fewer than `_PAGE`."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        with _translated(what):
            resp = await fetch(page)
        batch = _json(resp).get(key, [])
        items += batch
        if len(batch) < _PAGE:
            return items
        page += 1


def _json(resp: Any) -> Any:
    """A response's JSON as plain data. githubkit types responses as TypedDicts of the full schema; we read a
    few fields and validate them with our own small models, so the fake server and GHES need not send more."""
    return resp.json()


def _installation(item: dict[str, Any]) -> Installation:
    account = item.get("account") or {}
    return Installation(
        id=item["id"],
        account_login=account.get("login", ""),
        account_type=account.get("type", "User"),
        repository_selection=item.get("repository_selection", "selected"),
    )


def _repository(item: dict[str, Any]) -> GitHubRepository:
    private = bool(item.get("private", False))
    visibility = item.get("visibility")
    if visibility not in ("public", "private", "internal"):
        visibility = "private" if private else "public"
    return GitHubRepository(
        id=item["id"],
        full_name=item["full_name"],
        name=item["name"],
        owner_login=(item.get("owner") or {}).get("login", item["full_name"].split("/")[0]),
        private=private,
        visibility=visibility,
        default_branch=item.get("default_branch") or "main",
        html_url=item.get("html_url"),
    )
