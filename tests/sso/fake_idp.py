"""A local OpenID Connect provider speaking the real wire protocol, run on loopback by the tests.

It serves discovery, a JWK set, an authorization endpoint (which signs in `person`, or shows a sign-in form
to browsers that ask for HTML) and a token endpoint that authenticates the client (Basic or post), checks
the redirect URI and the PKCE verifier against the S256 challenge, accepts each code once, and returns an ID
token signed for real (RS256 or ES256 with keys generated here, by joserfc). Knobs let a test tamper with
the ID token's claims, sign it with `none` or HS256, rotate keys, and publish or withhold them. Every
request is recorded.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "autodevops-test-client"
CLIENT_SECRET = "idp-client-secret-for-tests"


@dataclass
class Person:
    sub: str
    email: str
    email_verified: bool | None = True
    name: str = "Ada Lovelace"


@dataclass
class Code:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    person: Person


def _unpadded(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class FakeIdP:
    """State of the provider. `issuer` is set when the server starts (`start()`)."""

    path: str = "/realms/acme"
    person: Person = field(default_factory=lambda: Person("user-1", "ada@example.com"))
    algorithm: str = "RS256"  # RS256 | ES256 | HS256 (keyed by the client secret) | none
    claim_overrides: dict[str, Any] = field(default_factory=dict)
    omit_claims: set[str] = field(default_factory=set)
    discovery_overrides: dict[str, Any] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    issuer: str = ""
    base_url: str = ""

    def __post_init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.published: list[str] = []
        self.signing: dict[str, str] = {}  # algorithm -> kid
        self.codes: dict[str, Code] = {}
        self.lock = threading.Lock()
        self.add_key("RS256")
        self.add_key("ES256")

    # ---- keys ---------------------------------------------------------------------------------------------
    def add_key(self, algorithm: str = "RS256", *, publish: bool = True, sign: bool = True) -> str:
        """A new key (new kid); by default published and used from now on to sign `algorithm` tokens."""
        kid = f"{algorithm.lower()}-{secrets.token_hex(4)}"
        key = RSAKey.generate_key(2048) if algorithm.startswith("RS") else ECKey.generate_key("P-256")
        self.keys[kid] = key
        if publish:
            self.published.append(kid)
        if sign:
            self.signing[algorithm] = kid
        return kid

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid in self.published:
            public = self.keys[kid].as_dict(private=False)
            public.update({"kid": kid, "use": "sig", "alg": "RS256" if kid.startswith("rs") else "ES256"})
            keys.append(public)
        return {"keys": keys}

    # ---- the ID token -------------------------------------------------------------------------------------
    def id_token(self, code: Code, access_token: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": code.person.sub,
            "aud": code.client_id,
            "exp": now + 300,
            "iat": now,
            "auth_time": now,
            "nonce": code.nonce,
            "email": code.person.email,
            "name": code.person.name,
        }
        if code.person.email_verified is not None:
            claims["email_verified"] = code.person.email_verified
        claims.update(self.claim_overrides)
        for name in self.omit_claims:
            claims.pop(name, None)
        if self.algorithm == "none":
            header = _unpadded(b'{"alg":"none","typ":"JWT"}')
            import json

            return f"{header}.{_unpadded(json.dumps(claims).encode())}."
        if self.algorithm == "HS256":
            key = OctKey.import_key(CLIENT_SECRET.encode())
            return jwt.encode({"alg": "HS256", "kid": self.signing["RS256"]}, claims, key, algorithms=["HS256"])
        kid = self.signing[self.algorithm]
        return jwt.encode({"alg": self.algorithm, "kid": kid, "typ": "JWT"}, claims, self.keys[kid])

    # ---- HTTP ---------------------------------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/protocol/openid-connect/auth",
            "token_endpoint": f"{self.issuer}/protocol/openid-connect/token",
            "jwks_uri": f"{self.issuer}/protocol/openid-connect/certs",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256", "HS256", "none"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile"],
        }
        document.update(self.discovery_overrides)
        return document

    async def _authorize(self, request: Request) -> Response:
        query = request.query_params
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return JSONResponse({"error": "unauthorized_client"}, status_code=400)
        if "openid" not in (query.get("scope") or "").split() or query.get("code_challenge_method") != "S256":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            # A browser: the provider's own sign-in page (the form posts back here with the same query).
            return HTMLResponse(
                "<!doctype html><title>Acme identity</title><h1>Acme identity provider</h1>"
                f'<form method="post" action="?{html.escape(str(query))}">'
                f"<p>Signing in as {html.escape(self.person.email)}</p>"
                '<button type="submit">Sign in to Acme</button></form>'
            )
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = Code(
                CLIENT_ID, query["redirect_uri"], query["code_challenge"], query.get("nonce", ""), self.person
            )
        target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        return RedirectResponse(target, status_code=302)

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        authorization = request.headers.get("authorization", "")
        if authorization.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if client_id != CLIENT_ID or client_secret != CLIENT_SECRET:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        with self.lock:
            code = self.codes.pop(str(form.get("code")), None)  # single use
        if form.get("grant_type") != "authorization_code" or code is None:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if form.get("redirect_uri") != code.redirect_uri:
            return JSONResponse({"error": "invalid_grant", "error_description": "redirect_uri"}, status_code=400)
        verifier = str(form.get("code_verifier") or "")
        if _unpadded(hashlib.sha256(verifier.encode()).digest()) != code.challenge:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
        access_token = secrets.token_urlsafe(24)
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": self.id_token(code, access_token),
            }
        )

    def app(self) -> Starlette:
        async def record(request: Request) -> None:
            self.requests.append(request.url.path.removeprefix(self.path))

        async def discovery(request: Request) -> Response:
            await record(request)
            return JSONResponse(self.discovery())

        async def certs(request: Request) -> Response:
            await record(request)
            return JSONResponse(self.jwks())

        async def authorize(request: Request) -> Response:
            await record(request)
            return await self._authorize(request)

        async def token(request: Request) -> Response:
            await record(request)
            return await self._token(request)

        return Starlette(
            routes=[
                Route(f"{self.path}/.well-known/openid-configuration", discovery),
                Route(f"{self.path}/protocol/openid-connect/certs", certs),
                Route(f"{self.path}/protocol/openid-connect/auth", authorize, methods=["GET", "POST"]),
                Route(f"{self.path}/protocol/openid-connect/token", token, methods=["POST"]),
            ]
        )

    def count(self, suffix: str) -> int:
        return sum(1 for path in self.requests if path.endswith(suffix))


class IdPServer:
    """Runs a `FakeIdP` with uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, idp: FakeIdP) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        port = self.sock.getsockname()[1]
        idp.base_url = f"http://127.0.0.1:{port}"
        idp.issuer = idp.base_url + idp.path
        config = uvicorn.Config(idp.app(), log_level="warning", lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the fake identity provider did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
