"""Structured logs: JSON lines with the correlation id, secrets redacted whatever the caller passes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from autodevops.config import Settings
from autodevops.logging import API_TOKEN_PREFIX, REDACTED, bind_request_id, configure_logging, get_logger
from autodevops.web import create_app

TOKEN = API_TOKEN_PREFIX + "Zx8Kq2mN4pL6rT0vW3yB"


@pytest.fixture
def lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    stream = io.StringIO()
    configure_logging(level="DEBUG", json=True, stream=stream)

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield read
    bind_request_id(None)
    configure_logging(level="INFO", json=True)


def test_sensitive_keys_are_redacted(lines: Callable[[], list[dict[str, Any]]]) -> None:
    get_logger("t").info(
        "login",
        password="hunter2",
        api_token=TOKEN,
        client_secret="s3cr3t-value",
        headers={"Authorization": "Bearer abcdef123456", "Cookie": "session=abc123", "Accept": "*/*"},
        raw_headers=[(b"set-cookie", b"sid=xyz"), (b"host", b"example.com")],
        user="alice",
    )
    (line,) = lines()
    assert line["password"] == REDACTED
    assert line["api_token"] == REDACTED
    assert line["client_secret"] == REDACTED
    assert line["headers"] == {"Authorization": REDACTED, "Cookie": REDACTED, "Accept": "*/*"}
    assert line["raw_headers"][0][1] == REDACTED
    assert line["raw_headers"][1][1] == "example.com"
    assert line["user"] == "alice"
    for secret in ("hunter2", TOKEN, "s3cr3t-value", "abcdef123456", "abc123", "xyz"):
        assert secret not in json.dumps(line)


def test_credentials_inside_values_are_masked(lines: Callable[[], list[dict[str, Any]]]) -> None:
    log = get_logger("t")
    log.warning(f"token {TOKEN} was used from an unknown device")
    log.warning("upstream said", response="Authorization: Bearer eyJhbGciOi.payload.sig")
    log.warning("connecting", url="postgresql+asyncpg://app:pa55word@db:5432/autodevops")
    log.warning("github", body="bad credentials for ghp_" + "a" * 36)
    text = json.dumps(lines())
    for secret in (TOKEN, "eyJhbGciOi", "pa55word", "ghp_" + "a" * 36):
        assert secret not in text
    assert "postgresql+asyncpg://app:[REDACTED]@db:5432/autodevops" in text


def test_exception_text_is_redacted(lines: Callable[[], list[dict[str, Any]]]) -> None:
    try:
        raise ValueError(f"rejected {TOKEN}")
    except ValueError:
        get_logger("t").exception("failed")
    (line,) = lines()
    assert "ValueError" in line["exception"]
    assert TOKEN not in line["exception"]


def test_standard_library_records_are_json_and_redacted(lines: Callable[[], list[dict[str, Any]]]) -> None:
    logging.getLogger("some.library").warning("retrying with Bearer abcdefgh12345")
    (line,) = lines()
    assert line["logger"] == "some.library"
    assert "abcdefgh12345" not in line["event"]


def test_request_logs_carry_the_correlation_id(
    make_settings: Callable[..., Settings], lines: Callable[[], list[dict[str, Any]]]
) -> None:
    app = create_app(make_settings(log_level="DEBUG"))

    @app.get("/test/work")
    async def work() -> dict[str, bool]:
        get_logger("t").info("doing work", token=TOKEN)
        return {"ok": True}

    # create_app configured logging to stderr; point it back at the captured stream.
    stream = io.StringIO()
    configure_logging(level="DEBUG", json=True, stream=stream)
    with TestClient(app) as client:
        client.get("/test/work?token=" + TOKEN, headers={"X-Request-ID": "corr-42", "Authorization": "Bearer " + TOKEN})
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    work_line = next(record for record in records if record["event"] == "doing work")
    access_line = next(record for record in records if record["event"] == "request")
    assert work_line["request_id"] == "corr-42"
    assert work_line["token"] == REDACTED
    assert access_line["request_id"] == "corr-42"
    assert access_line["path"] == "/test/work"
    assert access_line["route"] == "/test/work"
    assert access_line["status"] == 200
    assert TOKEN not in stream.getvalue()
