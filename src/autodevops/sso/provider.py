"""The one edge to organizations' OpenID Connect providers: discovery, key sets, the code exchange, and the
validation of ID tokens. Authlib speaks OAuth (authorization URL, token request, client authentication,
`CodeIDToken` claim rules); joserfc, on which Authlib is built, verifies JWS signatures and reads JWK sets.

* **Every request is checked where it is sent.** The transport validates each URL with the platform's SSRF
  rules for git URLs (`repository.git_url.validate_public_url` under the deployment's `GitURLPolicy`: https,
  no credentials, every address public or a listed private server) right before the request, then connects
  to the address that check approved (TLS still verifies the host name), so DNS cannot send the request
  elsewhere in between. No redirects are followed, proxies from the environment are
  ignored, and a response larger than `MAX_RESPONSE_BYTES` is cut off.
* **Discovery** (`{issuer}/.well-known/openid-configuration`) must name the configured issuer exactly, and its
  endpoints must pass the same scheme rule. It is cached per process (`sso_metadata_ttl_s`).
* **Key sets** are cached per process for the same time. A token whose `kid` the cached set lacks refetches
  the set once (the provider rotated its keys), at most every `sso_jwks_min_refresh_s` per provider, so a
  stream of tokens with made-up key ids cannot turn into a stream of requests to the provider.
* **ID tokens** must be signed with an asymmetric algorithm the provider advertises and `ALLOWED_ALGORITHMS`
  lists (never `none` or an HMAC keyed by the client secret), and carry this issuer, this client as audience
  (and as `azp` when present), the sign-in's nonce, an `exp` in the future and an `iat` neither in the future
  nor older than a sign-in can take.

Why an in-process cache and not Redis: both documents are public and small, the parsed key set is an object
that would have to be re-parsed from Redis on every use anyway, and a cache that lives and dies with the
process cannot be poisoned from outside it. The price is one discovery and one key-set request per process
and provider per TTL, which providers are built to serve.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, InvalidKeyIdError, JoseError, MissingClaimError
from joserfc.jwk import KeySet

from autodevops.config import Settings
from autodevops.errors import AppError, ValidationFailed
from autodevops.repository.git_url import GitURLPolicy, validate_public_url

# Asymmetric signatures only: `none` and HS* (whose key would be the client secret) are refused outright.
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
SCOPES = "openid email profile"
MAX_RESPONSE_BYTES = 512 * 1024
CACHE_ENTRIES = 256
LEEWAY_S = 60  # clock skew tolerated on exp, iat and nbf
MAX_ID_TOKEN_AGE_S = 900  # a sign-in lasts at most ten minutes (its state expires): older tokens are not its own
_AUTH_METHODS = ("client_secret_basic", "client_secret_post")

T = TypeVar("T")


class ProviderError(AppError):
    """The identity provider could not be used: unreachable, misconfigured, or it refused the sign-in."""

    status_code = 502
    error = "identity_provider_error"


class TokenRejected(AppError):
    """The provider's ID token failed validation: the sign-in is refused."""

    status_code = 400
    error = "sign_in_failed"


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]  # what the provider signs ID tokens with, within ALLOWED_ALGORITHMS
    token_auth_method: str  # how this client authenticates at the token endpoint


@dataclass(frozen=True, slots=True)
class Client:
    """One organization's registration at its provider."""

    issuer: str
    client_id: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class IDClaims:
    """What a validated ID token says about the person."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


# ---- per-process cache ---------------------------------------------------------------------------------------
@dataclass
class _Entry(Generic[T]):
    value: T
    fetched_at: float


class _Cache(Generic[T]):
    """A bounded LRU of values with their fetch time, and one lock per key so concurrent misses fetch once."""

    def __init__(self, ttl_s: float, max_entries: int = CACHE_ENTRIES) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, _Entry[T]] = OrderedDict()
        self._locks: OrderedDict[str, asyncio.Lock] = OrderedDict()

    def get(self, key: str, *, fresh: bool = True) -> _Entry[T] | None:
        entry = self._entries.get(key)
        if entry is None or (fresh and time.monotonic() - entry.fetched_at >= self.ttl_s):
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: str, value: T) -> _Entry[T]:
        entry = _Entry(value, time.monotonic())
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return entry

    def lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
            while len(self._locks) > self.max_entries:
                oldest, candidate = next(iter(self._locks.items()))
                if candidate.locked():
                    break
                del self._locks[oldest]
        return lock


# ---- HTTP: every request checked, pinned and bounded ----------------------------------------------------------
class _BoundedStream(httpx2.AsyncByteStream):
    def __init__(self, stream: httpx2.AsyncByteStream, limit: int, error: type[AppError], who: str) -> None:
        self._stream = stream
        self._limit = limit
        self._error = error
        self._who = who

    async def __aiter__(self) -> AsyncIterator[bytes]:
        total = 0
        async for chunk in self._stream:
            total += len(chunk)
            if total > self._limit:
                raise self._error(f"{self._who}'s answer is larger than {self._limit} bytes")
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


class CheckedTransport(httpx2.AsyncBaseTransport):
    """Validates each request's URL right before sending it, and connects to the address it approved.

    Shared by every client of a server outside the platform's control (identity providers, GitLab): `who`
    names that server in errors, which are raised as `error`.
    """

    def __init__(
        self,
        policy: GitURLPolicy,
        *,
        max_bytes: int = MAX_RESPONSE_BYTES,
        who: str = "the identity provider",
        error: type[AppError] = ProviderError,
    ) -> None:
        self._policy = policy
        self._max_bytes = max_bytes
        self._who = who
        self._error = error
        self._inner = httpx2.AsyncHTTPTransport(retries=0, trust_env=False)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            checked = await validate_public_url(
                str(request.url), policy=self._policy, what=f"{self._who.removeprefix('the ')} URL", allow_query=True
            )
        except ValidationFailed as error:
            raise self._error(error.message) from None
        # Connect to the approved address; SNI and certificate verification keep using the host name.
        request.extensions = {**request.extensions, "sni_hostname": request.url.host}
        request.url = request.url.copy_with(host=str(checked.addresses[0]))
        response = await self._inner.handle_async_request(request)
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        return httpx2.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_BoundedStream(response.stream, self._max_bytes, self._error, self._who),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


class Providers:
    """Every organization's provider, as seen by one process. Kept on `app.state` (`dependencies.providers`)."""

    def __init__(self, settings: Settings) -> None:
        self.policy = GitURLPolicy.from_settings(settings)
        self._timeout = settings.sso_http_timeout_s
        self._min_refresh_s = settings.sso_jwks_min_refresh_s
        self._metadata: _Cache[ProviderMetadata] = _Cache(settings.sso_metadata_ttl_s)
        self._keys: _Cache[KeySet] = _Cache(settings.sso_metadata_ttl_s)

    # ---- HTTP ---------------------------------------------------------------------------------------------
    def _client_options(self) -> dict[str, Any]:
        # A fresh transport per operation: a pooled connection is never reused for another host on one address.
        return {
            "transport": CheckedTransport(self.policy),
            "trust_env": False,
            "follow_redirects": False,
            "timeout": self._timeout,
        }

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with httpx2.AsyncClient(**self._client_options()) as client:
                response = await client.get(url, headers={"Accept": "application/json"})
        except httpx2.HTTPError as error:
            failure = type(error).__name__
            raise ProviderError(f"the identity provider's {what} could not be fetched ({failure})") from None
        if response.status_code != 200:
            raise ProviderError(f"the identity provider's {what} answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise ProviderError(f"the identity provider's {what} is not JSON") from None
        if not isinstance(data, dict):
            raise ProviderError(f"the identity provider's {what} is not a JSON object")
        return data

    def _endpoint(self, document: dict[str, Any], name: str) -> str:
        value = document.get(name)
        allowed = tuple(f"{scheme}://" for scheme in self.policy.schemes)
        if not isinstance(value, str) or not value.lower().startswith(allowed) or len(value) > 2048:
            kind = "an http(s)" if self.policy.allow_insecure else "an https"
            raise ProviderError(f"the discovery document's {name} is missing or not {kind} URL")
        return value

    # ---- discovery ----------------------------------------------------------------------------------------
    async def metadata(self, issuer: str, *, refresh: bool = False) -> ProviderMetadata:
        """The provider's discovery document, checked, from the cache when fresh."""
        entry = None if refresh else self._metadata.get(issuer)
        if entry is not None:
            return entry.value
        async with self._metadata.lock(issuer):
            entry = None if refresh else self._metadata.get(issuer)
            if entry is None:
                entry = self._metadata.put(issuer, self._parse_metadata(issuer, await self._discover(issuer)))
            return entry.value

    async def _discover(self, issuer: str) -> dict[str, Any]:
        return await self._get_json(discovery_url(issuer), "discovery document")

    def _parse_metadata(self, issuer: str, document: dict[str, Any]) -> ProviderMetadata:
        if document.get("issuer") != issuer:
            # OpenID Connect Discovery 1.0 §4.3: a document for another issuer is not this provider's.
            raise ProviderError("the discovery document names another issuer; use exactly the issuer it names")
        response_types = document.get("response_types_supported")
        if isinstance(response_types, list) and "code" not in response_types:
            raise ProviderError("the provider does not support the authorization code flow")
        methods = document.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise ProviderError("the provider does not support PKCE with S256")
        advertised = document.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = tuple(alg for alg in ALLOWED_ALGORITHMS if isinstance(advertised, list) and alg in advertised)
        if not algorithms:
            raise ProviderError(f"the provider signs ID tokens only with algorithms refused here ({advertised!r})")
        auth_methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth_method = next((m for m in _AUTH_METHODS if isinstance(auth_methods, list) and m in auth_methods), None)
        if auth_method is None:
            raise ProviderError("the provider accepts no client secret at its token endpoint")
        return ProviderMetadata(
            issuer=issuer,
            authorization_endpoint=self._endpoint(document, "authorization_endpoint"),
            token_endpoint=self._endpoint(document, "token_endpoint"),
            jwks_uri=self._endpoint(document, "jwks_uri"),
            algorithms=algorithms,
            token_auth_method=auth_method,
        )

    # ---- key sets -----------------------------------------------------------------------------------------
    async def _key_set(self, metadata: ProviderMetadata, *, refresh: bool = False) -> KeySet:
        """The provider's keys, from the cache when fresh. `refresh` refetches, unless that was done less than
        `sso_jwks_min_refresh_s` ago (then the cached set stands: key ids unknown to it stay unknown)."""
        key = metadata.jwks_uri
        async with self._keys.lock(key):
            entry = self._keys.get(key, fresh=not refresh)
            if refresh and entry is not None and time.monotonic() - entry.fetched_at < self._min_refresh_s:
                return entry.value
            if entry is None or refresh:
                document = await self._get_json(metadata.jwks_uri, "key set")
                try:
                    entry = self._keys.put(key, KeySet.import_key_set(document))  # type: ignore[arg-type]
                except (JoseError, ValueError, TypeError, KeyError):
                    raise ProviderError("the identity provider's key set cannot be read") from None
            return entry.value

    # ---- the flow -----------------------------------------------------------------------------------------
    async def authorization_url(
        self,
        client: Client,
        *,
        redirect_uri: str,
        state: str,
        code_challenge: str,
        nonce: str,
        login_hint: str | None = None,
    ) -> str:
        """Where to send the browser: the provider's authorization endpoint with this sign-in's parameters."""
        metadata = await self.metadata(client.issuer)
        extra: dict[str, str] = {"login_hint": login_hint} if login_hint else {}
        oauth = AsyncOAuth2Client(client_id=client.client_id, scope=SCOPES, redirect_uri=redirect_uri)
        url, _ = oauth.create_authorization_url(
            metadata.authorization_endpoint,
            state=state,
            nonce=nonce,
            code_challenge=code_challenge,
            code_challenge_method="S256",
            **extra,
        )
        await oauth.aclose()
        return str(url)

    async def exchange_code(self, client: Client, *, code: str, code_verifier: str, redirect_uri: str) -> str:
        """Trade the authorization code (with the PKCE verifier) for tokens; returns the raw ID token."""
        metadata = await self.metadata(client.issuer)
        try:
            async with AsyncOAuth2Client(
                client_id=client.client_id,
                client_secret=client.client_secret,
                token_endpoint_auth_method=metadata.token_auth_method,
                **self._client_options(),
            ) as oauth:
                token = await oauth.fetch_token(
                    metadata.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    redirect_uri=redirect_uri,
                    code_verifier=code_verifier,
                )
        except OAuthError as error:
            raise ProviderError(f"the identity provider refused the sign-in ({error.error})") from None
        except httpx2.HTTPError as error:
            raise ProviderError(f"the identity provider's token endpoint failed ({type(error).__name__})") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise ProviderError("the identity provider returned no ID token (is the openid scope allowed?)")
        return id_token

    async def validate_id_token(self, client: Client, id_token: str, *, nonce: str, now: int | None = None) -> IDClaims:
        """The claims of a valid ID token for this client and sign-in; `TokenRejected` otherwise."""
        metadata = await self.metadata(client.issuer)
        keys = await self._key_set(metadata)
        try:
            try:
                decoded = jwt.decode(id_token, keys, algorithms=list(metadata.algorithms))
            except InvalidKeyIdError:
                keys = await self._key_set(metadata, refresh=True)  # the provider rotated its keys
                decoded = jwt.decode(id_token, keys, algorithms=list(metadata.algorithms))
        except InvalidKeyIdError:
            message = "sign-in refused: the ID token is signed with a key the provider does not publish"
            raise TokenRejected(message) from None
        except (JoseError, ValueError) as error:
            raise TokenRejected(f"sign-in refused: the ID token's signature is not valid ({_reason(error)})") from None
        current = int(time.time()) if now is None else now
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": client.issuer},
            "aud": {"essential": True, "value": client.client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
        }
        claims = CodeIDToken(decoded.claims, decoded.header, options, {"nonce": nonce, "client_id": client.client_id})
        try:
            claims.validate(now=current, leeway=LEEWAY_S)
        except ExpiredTokenError:
            raise TokenRejected("sign-in refused: the ID token has expired") from None
        except MissingClaimError as error:
            raise TokenRejected(f"sign-in refused: the ID token lacks the {error.claim!r} claim") from None
        except ClaimError as error:
            raise TokenRejected(f"sign-in refused: the ID token's {error.claim!r} claim is not valid") from None
        except JoseError as error:
            raise TokenRejected(f"sign-in refused: the ID token is not valid ({_reason(error)})") from None
        if current - int(claims["iat"]) > MAX_ID_TOKEN_AGE_S:
            raise TokenRejected("sign-in refused: the ID token was issued too long ago")
        return IDClaims(
            issuer=client.issuer,
            subject=str(claims["sub"])[:255],
            email=_string(claims.get("email")),
            email_verified=_verified(claims),
            name=_string(claims.get("name")),
        )


def _reason(error: Exception) -> str:
    description = getattr(error, "description", None) or getattr(error, "error", None) or type(error).__name__
    return str(description)[:200]


def _string(value: Any) -> str | None:
    return value.strip()[:320] if isinstance(value, str) and value.strip() else None


def _verified(claims: dict[str, Any]) -> bool:
    """Whether the provider vouches that the person controls the email address.

    `email_verified` (OpenID Connect core; some providers send the string "true"), or Microsoft Entra ID's
    `xms_edov` (the email's domain is verified by the tenant that owns it), which Entra sends instead.
    """
    return any(claims.get(name) in (True, "true") for name in ("email_verified", "xms_edov"))
