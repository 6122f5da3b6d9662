"""Streaming responses (server-sent events) pass through the middleware stack unbuffered."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
import uvicorn
from fastapi.responses import StreamingResponse

from autodevops.config import Settings
from autodevops.web import create_app


@pytest.fixture
def stream_url(make_settings: Callable[..., Settings]) -> Iterator[str]:
    app = create_app(make_settings())
    released = asyncio.Event()

    @app.get("/test/events")
    async def events() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"data: first\n\n"
            # The rest only comes once the client has proven it received the first event.
            await asyncio.wait_for(released.wait(), timeout=10)
            yield b"data: second\n\n"

        return StreamingResponse(body(), media_type="text/event-stream")

    @app.post("/test/release")
    async def release() -> dict[str, bool]:
        released.set()
        return {"released": True}

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_events_arrive_before_the_stream_ends(stream_url: str) -> None:
    with httpx.Client(base_url=stream_url, timeout=5) as client:
        with client.stream("GET", "/test/events", headers={"X-Request-ID": "stream-1"}) as response:
            assert response.status_code == 200
            assert response.headers["X-Request-ID"] == "stream-1"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            chunks = response.iter_bytes()
            # Buffering anywhere in the stack would block here until the 5 s read timeout.
            assert next(chunks) == b"data: first\n\n"
            assert client.post("/test/release").status_code == 200
            assert b"".join(chunks) == b"data: second\n\n"
        # The server records the request once its last send returns, which can be just after the client has
        # read the end of the body: look again for a moment before concluding it was not recorded.
        deadline = time.monotonic() + 5
        while 'route="/test/events",status="200"' not in (metrics := client.get("/metrics").text):
            assert time.monotonic() < deadline, metrics
            time.sleep(0.05)
