"""/health, /ready and /metrics."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable

from fastapi import APIRouter
from fastapi.testclient import TestClient

from autodevops.config import Settings
from autodevops.web import create_app
from platform_support import admin_url

# Readiness only needs a server that answers SELECT 1; the maintenance database always exists.
REACHABLE_DATABASE = admin_url("postgres")


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_health_answers_without_dependencies(make_settings: Callable[..., Settings]) -> None:
    port = closed_port()
    settings = make_settings(
        redis_url=f"redis://127.0.0.1:{port}/0",
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres",
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_database_and_redis_answer(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(database_url=REACHABLE_DATABASE))) as client:
        response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"redis": "ok", "database": "ok"}}


def test_not_ready_names_redis_when_it_is_down(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(redis_url=f"redis://127.0.0.1:{closed_port()}/0", database_url=REACHABLE_DATABASE)
    with TestClient(create_app(settings)) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {"error": "service_unavailable", "detail": {"redis": "unavailable", "database": "ok"}}


def test_not_ready_names_the_database_when_it_is_down(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/postgres")
    with TestClient(create_app(settings)) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["detail"] == {"redis": "ok", "database": "unavailable"}


def test_ready_times_out_on_a_server_that_never_answers(make_settings: Callable[..., Settings]) -> None:
    # A listening socket that never replies: the PING must give up after the readiness timeout.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        settings = make_settings(
            redis_url=f"redis://127.0.0.1:{port}/0", database_url=REACHABLE_DATABASE, ready_timeout_s=0.3
        )
        with TestClient(create_app(settings)) as client:
            response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["detail"]["redis"] == "timeout"


def test_ready_tries_redis_once_per_probe(make_settings: Callable[..., Settings]) -> None:
    # A server that drops every connection: the request-path client would reconnect five times (using up the
    # probe's time, so a refused Redis read as "timeout"); a probe tries once and says "unavailable".
    accepted = 0
    with socket.socket() as dropping:
        dropping.bind(("127.0.0.1", 0))
        dropping.listen(8)
        dropping.settimeout(0.05)
        port = dropping.getsockname()[1]
        stop = threading.Event()

        def drop_connections() -> None:
            nonlocal accepted
            while not stop.is_set():
                try:
                    connection, _ = dropping.accept()
                except TimeoutError:
                    continue
                accepted += 1
                connection.close()

        dropper = threading.Thread(target=drop_connections)
        dropper.start()
        try:
            settings = make_settings(redis_url=f"redis://127.0.0.1:{port}/0", database_url=REACHABLE_DATABASE)
            with TestClient(create_app(settings)) as client:
                response = client.get("/ready")
        finally:
            stop.set()
            dropper.join()
    assert response.status_code == 503
    assert response.json()["detail"]["redis"] == "unavailable"
    assert accepted == 1


def test_metrics_are_labelled_by_route_template(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings())
    router = APIRouter(prefix="/test/v9")

    @router.get("/things/{thing_id}")
    async def get_thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    app.include_router(router)
    with TestClient(app) as client:
        for thing_id in (101, 202, 303):
            assert client.get(f"/test/v9/things/{thing_id}").status_code == 200
        client.get("/test/v9/things/not-a-number")
        client.get("/test/random/8812")
        exposition = client.get("/metrics")
    assert exposition.headers["content-type"].startswith("text/plain")
    text = exposition.text
    ok = re.search(
        r'autodevops_http_requests_total\{method="GET",route="/test/v9/things/\{thing_id\}",status="200"\} (\S+)', text
    )
    assert ok is not None
    assert float(ok.group(1)) >= 3
    assert 'route="/test/v9/things/{thing_id}",status="422"' in text
    assert (
        'autodevops_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/test/v9/things/{thing_id}"}'
        in text
    )
    # Raw paths never become labels (a timestamp may well contain the digits, so look for the path itself).
    assert "/random/8812" not in text
    assert "/things/101" not in text
    assert 'route="<unmatched>",status="404"' in text


def test_metrics_report_the_database_pool(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(database_url=REACHABLE_DATABASE, database_pool_size=7))) as client:
        client.get("/ready")
        text = client.get("/metrics").text
    assert "autodevops_db_pool_size 7.0" in text
    assert "autodevops_db_pool_checked_out 0.0" in text


def test_metrics_can_require_a_bearer_token(make_settings: Callable[..., Settings]) -> None:
    # The assessment: /metrics (routes, pool, queues) answered anyone who reached the port.
    app = create_app(make_settings(metrics_token="m" * 8 + "-scrape-2026"))
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token-0000"}).status_code == 401
        scraped = client.get("/metrics", headers={"Authorization": "Bearer mmmmmmmm-scrape-2026"})
        assert scraped.status_code == 200
        assert "http_requests_total" in scraped.text or "autodevops" in scraped.text
