"""Correlation ids, security headers, body size limit, CORS and the error shapes of the HTTP edge."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from autodevops.config import Settings
from autodevops.errors import Conflict
from autodevops.web import create_app


class Widget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    count: int
    password: str


def add_test_routes(app: FastAPI, received: list[int]) -> None:
    @app.post("/test/upload")
    async def upload(request: Request) -> dict[str, int]:
        body = await request.body()
        received.append(len(body))
        return {"size": len(body)}

    @app.post("/test/widgets")
    async def create_widget(widget: Widget) -> dict[str, str]:
        return {"name": widget.name}

    @app.get("/test/conflict")
    async def conflict() -> None:
        raise Conflict("Name already taken.")

    @app.get("/test/crash")
    async def crash() -> None:
        raise RuntimeError("connection to postgresql://app:hunter2@db failed")


@pytest.fixture
def received() -> list[int]:
    return []


@pytest.fixture
def client(make_settings: Callable[..., Settings], received: list[int]) -> Iterator[TestClient]:
    app = create_app(make_settings(max_body_bytes=1024, cors_origins=["https://app.example.com"]))
    add_test_routes(app, received)
    with TestClient(app) as test_client:
        yield test_client


# ---- correlation id ---------------------------------------------------------------------------------------
def test_well_formed_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "req-2024.abc_1:9"})
    assert response.headers["X-Request-ID"] == "req-2024.abc_1:9"


def test_missing_request_id_is_generated_and_unique(client: TestClient) -> None:
    first = client.get("/health").headers["X-Request-ID"]
    second = client.get("/health").headers["X-Request-ID"]
    assert len(first) == 32
    assert first != second


@pytest.mark.parametrize(
    "malformed",
    ["has space", "a" * 129, "line\tbreak", "<script>", "-leading-dash", "semi;colon", ""],
)
def test_malformed_request_id_is_replaced(client: TestClient, malformed: str) -> None:
    echoed = client.get("/health", headers={"X-Request-ID": malformed}).headers["X-Request-ID"]
    assert echoed != malformed
    assert len(echoed) == 32


# ---- security headers ---------------------------------------------------------------------------------------
def test_security_headers_on_every_response(client: TestClient) -> None:
    for response in (client.get("/health"), client.get("/no-such-page"), client.get("/test/crash")):
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self';" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_hsts_only_over_https(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings())
    with TestClient(app, base_url="http://testserver") as plain:
        assert "Strict-Transport-Security" not in plain.get("/health").headers
        # A forwarded scheme from a proxy that is not trusted changes nothing.
        spoofed = plain.get("/health", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in spoofed.headers
    with TestClient(app, base_url="https://testserver") as tls:
        assert tls.get("/health").headers["Strict-Transport-Security"].startswith("max-age=63072000")


def test_hsts_behind_a_trusted_proxy(make_settings: Callable[..., Settings]) -> None:
    # TestClient connects from the host "testclient"; trust it as the TLS-terminating proxy.
    app = create_app(make_settings(trusted_proxies=["testclient"]))
    with TestClient(app, base_url="http://testserver") as client:
        assert "Strict-Transport-Security" in client.get("/health", headers={"X-Forwarded-Proto": "https"}).headers
        assert "Strict-Transport-Security" not in client.get("/health").headers


def test_docs_page_has_no_inline_script(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.text
    assert "<script>" not in html
    assert html.count("<script src=") == 2
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    init = client.get("/docs/init.js")
    assert init.headers["content-type"].startswith("text/javascript")
    assert "/openapi.json" in init.text


# ---- body size limit ---------------------------------------------------------------------------------------
def test_body_within_limit_is_accepted(client: TestClient) -> None:
    response = client.post("/test/upload", content=b"x" * 1024)
    assert response.status_code == 200
    assert response.json() == {"size": 1024}


def test_declared_oversized_body_is_refused_before_the_app_runs(client: TestClient, received: list[int]) -> None:
    response = client.post("/test/upload", content=b"x" * 1025)
    assert response.status_code == 413
    assert response.json() == {"error": "payload_too_large", "detail": "limit is 1024 bytes"}
    assert "X-Request-ID" in response.headers
    assert received == []


def test_streamed_oversized_body_without_content_length_is_refused(client: TestClient, received: list[int]) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"y" * 400

    response = client.post("/test/upload", content=chunks())
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert received == []


def test_github_webhooks_have_their_own_body_limit(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(max_body_bytes=1024, github_webhook_max_bytes=4096, github_webhook_secret="s3cret")
    with TestClient(create_app(settings)) as client:
        within = client.post("/api/v1/github/webhooks", content=b"{" + b" " * 2000 + b"}")
        beyond = client.post("/api/v1/github/webhooks", content=b"x" * 4097)
    assert within.status_code != 413  # larger than the API limit, within the webhook one: reaches the app
    assert beyond.status_code == 413
    assert beyond.json()["detail"] == "limit is 4096 bytes"


def test_malformed_content_length_is_a_400(client: TestClient) -> None:
    response = client.post("/test/upload", content=b"abc", headers={"Content-Length": "lots"})
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


# ---- error shapes ---------------------------------------------------------------------------------------------
def test_unknown_route_is_a_404_in_the_error_shape(client: TestClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "Not Found"}


def test_wrong_method_is_a_405_in_the_error_shape(client: TestClient) -> None:
    response = client.delete("/health")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_app_error_renders_its_status_and_shape(client: TestClient) -> None:
    response = client.get("/test/conflict")
    assert response.status_code == 409
    assert response.json() == {"error": "conflict", "detail": "Name already taken."}


def test_validation_error_is_a_422_that_does_not_echo_input(client: TestClient) -> None:
    response = client.post("/test/widgets", json={"name": "w", "count": "many", "password": "hunter2", "colour": "red"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    locations = {tuple(error["loc"]) for error in body["detail"]}
    assert ("body", "count") in locations
    assert ("body", "colour") in locations  # unknown fields are refused, not ignored
    assert "hunter2" not in response.text
    assert "many" not in response.text


def test_malformed_json_is_a_422(client: TestClient) -> None:
    response = client.post("/test/widgets", content=b'{"name": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


def test_unhandled_exception_is_a_500_that_leaks_nothing(client: TestClient) -> None:
    response = client.get("/test/crash", headers={"X-Request-ID": "crash-1"})
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "detail": "Internal server error."}
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert response.headers["X-Request-ID"] == "crash-1"


# ---- CORS ----------------------------------------------------------------------------------------------------
def test_cors_allows_only_listed_origins(client: TestClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "Authorization"}
    allowed = client.options("/test/widgets", headers={"Origin": "https://app.example.com", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    refused = client.options("/test/widgets", headers={"Origin": "https://evil.example.net", **preflight})
    assert refused.status_code == 400
    assert "Access-Control-Allow-Origin" not in refused.headers
    simple = client.get("/health", headers={"Origin": "https://evil.example.net"})
    assert "Access-Control-Allow-Origin" not in simple.headers
