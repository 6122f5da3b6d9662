"""Rate limits per user and per IP, on the real Redis (moving window)."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header
from fastapi.testclient import TestClient

from autodevops.config import Settings
from autodevops.ratelimit import limit_by_ip, limit_by_user
from autodevops.web import create_app


async def user_from_header(x_test_user: Annotated[str | None, Header()] = None) -> str | None:
    """Stands in for authentication: the limiter only needs a stable id for the caller."""
    return x_test_user


def limited_app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    router = APIRouter(prefix="/test", dependencies=[Depends(limit_by_ip), Depends(limit_by_user(user_from_header))])

    @router.get("/limited")
    async def limited() -> dict[str, bool]:
        return {"ok": True}

    app.include_router(router)
    return app


@pytest.fixture
def client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    settings = make_settings(rate_limit_per_user="3/minute", rate_limit_per_ip="8/minute")
    with TestClient(limited_app(settings)) as test_client:
        yield test_client


def test_user_is_limited_and_other_users_are_not(client: TestClient) -> None:
    alice = {"X-Test-User": "alice"}
    for expected_remaining in (2, 1, 0):
        response = client.get("/test/limited", headers=alice)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == str(expected_remaining)
        assert int(response.headers["X-RateLimit-Reset"]) > time.time()

    refused = client.get("/test/limited", headers=alice)
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"

    bob = client.get("/test/limited", headers={"X-Test-User": "bob"})
    assert bob.status_code == 200
    assert bob.headers["X-RateLimit-Remaining"] == "2"


def test_anonymous_clients_are_limited_per_ip(client: TestClient) -> None:
    statuses = [client.get("/test/limited").status_code for _ in range(9)]
    assert statuses == [200] * 8 + [429]
    # The IP limit also bounds authenticated callers from that address.
    assert client.get("/test/limited", headers={"X-Test-User": "carol"}).status_code == 429


def test_forwarded_client_ip_is_believed_only_from_trusted_proxies(make_settings: Callable[..., Settings]) -> None:
    def statuses(client: TestClient) -> list[int]:
        return [
            client.get("/test/limited", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(3)
        ]

    untrusted = make_settings(rate_limit_per_ip="2/minute")
    with TestClient(limited_app(untrusted)) as client:
        # A spoofed header does not buy a fresh bucket: all three count against the real peer.
        assert statuses(client) == [200, 200, 429]
    # TestClient connects from the host "testclient"; as a trusted proxy, its forwarded addresses are used.
    trusted = make_settings(rate_limit_per_ip="2/minute", trusted_proxies=["testclient"])
    with TestClient(limited_app(trusted)) as client:
        assert statuses(client) == [200, 200, 200]


def test_limits_fail_open_when_redis_is_unreachable(make_settings: Callable[..., Settings]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    settings = make_settings(redis_url=f"redis://127.0.0.1:{closed_port}/0", rate_limit_per_ip="1/minute")
    with TestClient(limited_app(settings)) as client:
        responses = [client.get("/test/limited") for _ in range(2)]
    assert [response.status_code for response in responses] == [200, 200]
    assert "X-RateLimit-Limit" not in responses[0].headers


def test_unlimited_routes_carry_no_rate_limit_headers(client: TestClient) -> None:
    response = client.get("/health")
    assert "X-RateLimit-Limit" not in response.headers


def test_limits_can_be_switched_off(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(rate_limit_per_ip="1/minute", rate_limit_enabled=False)
    with TestClient(limited_app(settings)) as client:
        assert [client.get("/test/limited").status_code for _ in range(3)] == [200, 200, 200]


def test_bad_limit_notation_is_refused_at_start_up(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValueError, match="rate_limit_per_user"):
        make_settings(rate_limit_per_user="lots")


# ---- the real API: bearer tokens, per-user and per-IP limits ----------------------------------------------
async def test_api_user_limit_leaves_other_users_alone(make_tenant: Any, make_api_client: Any, key_prefix: str) -> None:
    alice, bob = await make_tenant(organization="Alice Co"), await make_tenant(organization="Bob Co")
    client = await make_api_client(
        rate_limit_enabled=True,
        rate_limit_per_user="3/minute",
        rate_limit_per_ip="100/minute",
        rate_limit_key_prefix=f"{key_prefix}-api-{uuid.uuid4().hex[:8]}",
    )
    for _ in range(3):
        response = await client.get("/api/v1/organizations", headers=alice.headers)
        assert response.status_code == 200
    refused = await client.get("/api/v1/organizations", headers=alice.headers)
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"

    other = await client.get("/api/v1/organizations", headers=bob.headers)
    assert other.status_code == 200
    assert other.headers["X-RateLimit-Remaining"] == "2"


async def test_api_ip_limit_counts_before_authentication(make_api_client: Any, key_prefix: str, clean_db: None) -> None:
    client = await make_api_client(
        rate_limit_enabled=True,
        rate_limit_per_ip="3/minute",
        rate_limit_key_prefix=f"{key_prefix}-api-{uuid.uuid4().hex[:8]}",
    )
    guesses = [
        (await client.get("/api/v1/organizations", headers={"Authorization": f"Bearer adt_{'x' * 43}"})).status_code
        for _ in range(4)
    ]
    assert guesses == [401, 401, 401, 429]


async def test_sign_in_is_limited_per_ip(make_api_client: Any, key_prefix: str, clean_db: None) -> None:
    client = await make_api_client(
        rate_limit_enabled=True,
        rate_limit_per_ip="2/minute",
        rate_limit_key_prefix=f"{key_prefix}-login-{uuid.uuid4().hex[:8]}",
    )
    statuses = [(await client.get("/auth/github/login")).status_code for _ in range(3)]
    assert statuses[2] == 429
    assert 429 not in statuses[:2]
