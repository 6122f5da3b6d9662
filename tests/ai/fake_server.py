"""A local server speaking the wire protocols of Gemini, OpenAI and Anthropic, scripted per test.

Each provider has a queue of behaviours; a request takes the next one (the last one repeats):
`ok` (a valid review), `malformed` (text that is not JSON), `invalid` (JSON failing the schema), `429`
(rate limited with retry info: Gemini's `RetryInfo.retryDelay`, a `Retry-After` header otherwise),
`429-daily` (Gemini per-day `QuotaFailure`, OpenAI `insufficient_quota`), `500`, and `timeout` (answers
after `slow_s`, longer than any client timeout in the tests). Every request is recorded.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DEFAULT_REVIEW: dict[str, Any] = {
    "summary": "A Python library tested with pytest.",
    "risks": [{"severity": "low", "message": "No lockfile pins the test dependencies."}],
    "recommendations": ["Cache the package manager's downloads."],
    "corrections": [],
}


@dataclass
class Call:
    provider: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FakeAI:
    """Scripted behaviours and recorded calls; `url` is the server's base URL once started."""

    url: str = ""
    scripts: dict[str, list[str]] = field(default_factory=dict)
    review: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_REVIEW))
    calls: list[Call] = field(default_factory=list)
    slow_s: float = 3.0
    retry_after_s: float = 0.05
    input_tokens: int = 1200
    output_tokens: int = 300
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, provider: str, *behaviours: str) -> None:
        with self.lock:
            self.scripts[provider] = list(behaviours)

    def reset(self) -> None:
        with self.lock:
            self.scripts.clear()
            self.calls.clear()
            self.review = dict(DEFAULT_REVIEW)

    def count(self, provider: str | None = None, path_part: str = "") -> int:
        with self.lock:
            return sum(1 for c in self.calls if (provider is None or c.provider == provider) and path_part in c.path)

    def _next(self, provider: str) -> str:
        with self.lock:
            queue = self.scripts.get(provider) or ["ok"]
            return queue.pop(0) if len(queue) > 1 else queue[0]

    async def _record(self, provider: str, request: Request) -> tuple[str, dict[str, Any]]:
        body = json.loads(await request.body() or b"{}")
        with self.lock:
            self.calls.append(Call(provider, request.url.path, body, dict(request.headers)))
        behaviour = self._next(provider)
        if behaviour == "timeout":
            await asyncio.sleep(self.slow_s)
        return behaviour, body

    def _answer_text(self, behaviour: str) -> str:
        if behaviour == "malformed":
            return '{"summary": "unterminated'
        if behaviour == "invalid":
            return json.dumps({"summary": 42, "corrections": "none"})
        return json.dumps(self.review)

    # ---- Gemini --------------------------------------------------------------------------------------
    async def gemini(self, request: Request) -> Response:
        target = request.path_params["target"]
        if request.headers.get("x-goog-api-key") is None:
            return JSONResponse({"error": {"code": 403, "status": "PERMISSION_DENIED"}}, status_code=403)
        if target.endswith(":countTokens"):
            body = json.loads(await request.body() or b"{}")
            text = json.dumps(body)
            return JSONResponse({"totalTokens": max(1, len(text) // 4)})
        behaviour, _ = await self._record("gemini", request)
        if behaviour in ("429", "429-daily"):
            quota = (
                "GenerateRequestsPerDayPerProjectPerModel" if behaviour == "429-daily" else "GenerateRequestsPerMinute"
            )
            details = [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": quota}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{self.retry_after_s}s"},
            ]
            return JSONResponse(
                {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": details}},
                status_code=429,
            )
        if behaviour == "500":
            return JSONResponse({"error": {"code": 500, "message": "boom", "status": "INTERNAL"}}, status_code=500)
        return JSONResponse(
            {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": self._answer_text(behaviour)}]},
                        "finishReason": "STOP",
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": self.input_tokens,
                    "candidatesTokenCount": self.output_tokens,
                    "totalTokenCount": self.input_tokens + self.output_tokens,
                },
                "modelVersion": target.split(":")[0],
            }
        )

    # ---- OpenAI --------------------------------------------------------------------------------------
    async def openai(self, request: Request) -> Response:
        behaviour, body = await self._record("openai", request)
        if behaviour == "429":
            return JSONResponse(
                {"error": {"message": "rate limited", "type": "requests", "code": "rate_limit_exceeded"}},
                status_code=429,
                headers={"retry-after": str(self.retry_after_s)},
            )
        if behaviour == "429-daily":
            return JSONResponse(
                {"error": {"message": "quota", "type": "insufficient_quota", "code": "insufficient_quota"}},
                status_code=429,
            )
        if behaviour == "500":
            return JSONResponse({"error": {"message": "boom", "type": "server_error"}}, status_code=500)
        return JSONResponse(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", ""),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": self._answer_text(behaviour)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": self.input_tokens,
                    "completion_tokens": self.output_tokens,
                    "total_tokens": self.input_tokens + self.output_tokens,
                },
            }
        )

    # ---- Anthropic -----------------------------------------------------------------------------------
    async def anthropic(self, request: Request) -> Response:
        behaviour, body = await self._record("anthropic", request)
        if behaviour in ("429", "429-daily"):
            return JSONResponse(
                {"type": "error", "error": {"type": "rate_limit_error", "message": "rate limited"}},
                status_code=429,
                headers={"retry-after": str(self.retry_after_s)},
            )
        if behaviour == "500":
            return JSONResponse({"type": "error", "error": {"type": "api_error", "message": "boom"}}, status_code=500)
        usage = {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}
        if behaviour in ("malformed", "invalid"):
            content: list[dict[str, Any]] = [{"type": "text", "text": self._answer_text(behaviour)}]
        else:
            content = [{"type": "tool_use", "id": "toolu_1", "name": "submit_review", "input": self.review}]
        return JSONResponse(
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": body.get("model", ""),
                "content": content,
                "stop_reason": "tool_use",
                "stop_sequence": None,
                "usage": usage,
            }
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1beta/models/{target:path}", self.gemini, methods=["POST"]),
                Route("/v1/chat/completions", self.openai, methods=["POST"]),
                Route("/v1/messages", self.anthropic, methods=["POST"]),
            ]
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """uvicorn serving `fake.app()` on loopback in a daemon thread."""

    def __init__(self, fake: FakeAI) -> None:
        port = _free_port()
        config = uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_level="error", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        fake.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake AI server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
