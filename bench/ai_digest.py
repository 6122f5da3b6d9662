"""How big is the AI's input, what would 1,000 analyses cost, and does a second pass hit the cache?

Usage:
    .venv/bin/python bench/ai_digest.py [--corpus ../shared/corpus] [--output-tokens 400]

For every entry of the corpus (laid out with the engine's bench helper, analyzed on its fetch date) it builds
the digest the model would receive and prints the distribution of its size in tokens (the layer's own
estimate, ~3 characters per token, deliberately generous) plus the fixed part of every request (system prompt
and answer schema). From those it projects the cost per 1,000 analyses at the configured Gemini Flash prices:
with a typical answer (`--output-tokens`, an assumption: a few sentences, risks and recommendations) and with
the answer at its maximum (`ai_max_output_tokens`, the worst case).

Then it sends every digest twice through the router to the fake Gemini server of the test suite (uvicorn on
loopback, Redis DB 12 under a throw-away prefix) and prints the provider calls of each pass and the second
pass's cache hit rate. A benchmark that prints numbers, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis.asyncio import Redis
from tests.ai.fake_server import FakeAI, ServerThread

from autodevops.ai.digest import Digest, build_digest, estimate_tokens
from autodevops.ai.router import Router
from autodevops.ai.schemas import SYSTEM_PROMPT, json_schema
from autodevops.config import Settings
from autodevops.engine import bench
from autodevops.engine.analyze import analyze
from autodevops.engine.source import LocalDir

REDIS_URL = "redis://127.0.0.1:6379/12"
MODEL = "gemini:gemini-2.5-flash"


def digests(corpus: Path, max_tokens: int) -> list[tuple[str, Digest]]:
    out: list[tuple[str, Digest]] = []
    for entry in bench.entries(corpus):
        meta_path = entry / "source.json"
        meta = json.loads(meta_path.read_text("utf-8")) if meta_path.exists() else {}
        today = dt.date.fromisoformat(meta["fetched"]) if meta.get("fetched") else dt.date.today()
        with tempfile.TemporaryDirectory(prefix="autodevops-ai-bench-") as tmp:
            root = Path(tmp) / "repo"
            root.mkdir()
            bench.layout(entry, root)
            source = LocalDir(root, name=entry.name)
            analysis = analyze(source, today=today)
            out.append((entry.name, build_digest(analysis, source, max_tokens=max_tokens)))
    return out


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return float(ordered[index])


async def cache_passes(settings: Settings, items: list[tuple[str, Digest]]) -> tuple[int, int, int]:
    fake = FakeAI()
    server = ServerThread(fake)
    server.start()
    settings.ai_gemini_base_url = fake.url
    redis = Redis.from_url(REDIS_URL)
    try:
        router = Router(settings, redis=redis)
        for _, digest in items:
            await router.review(digest)
        first = len(fake.calls)
        hits = 0
        for _, digest in items:
            hits += (await router.review(digest)).cached
        second = len(fake.calls) - first
    finally:
        keys = [k async for k in redis.scan_iter(match=f"{settings.ai_key_prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        server.stop()
    return first, second, hits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    parser.add_argument("--output-tokens", type=int, default=400)
    args = parser.parse_args()
    settings = Settings(
        env="test",
        redis_url=REDIS_URL,
        ai_key_prefix=f"bench-ai-{uuid.uuid4().hex[:8]}",
        ai_models=[MODEL],
        gemini_api_key="bench",
        ai_requests_per_minute={"gemini": 100_000},
    )
    items = digests(args.corpus, settings.ai_digest_max_tokens)
    sizes = [d.tokens for _, d in items]
    fixed = estimate_tokens(SYSTEM_PROMPT) + estimate_tokens(json.dumps(json_schema(), separators=(",", ":")))
    print(f"corpus: {len(items)} repositories; digest budget {settings.ai_digest_max_tokens} tokens")
    over = sum(s > settings.ai_digest_max_tokens for s in sizes)
    print(
        f"digest tokens: min {min(sizes)}  median {statistics.median(sizes):.0f}  "
        f"p90 {percentile(sizes, 0.9):.0f}  max {max(sizes)}  (over budget: {over})"
    )
    largest = max(items, key=lambda item: item[1].tokens)
    print(f"largest digest: {largest[0]} ({largest[1].tokens} tokens, {len(largest[1].data['stacks'])} stacks)")
    print(f"fixed part of every request (system prompt + answer schema): {fixed} tokens")
    mean_input = statistics.mean(sizes) + fixed
    price = settings.ai_prices[MODEL]
    print(
        f"prices ({MODEL}, as of {settings.ai_prices_as_of}): "
        f"${price.input_per_mtok}/M input, ${price.output_per_mtok}/M output"
    )
    for label, output in (("typical answer", args.output_tokens), ("maximum answer", settings.ai_max_output_tokens)):
        per = (mean_input * price.input_per_mtok + output * price.output_per_mtok) / 1_000_000
        print(
            f"projected cost per 1,000 analyses, {label} ({output} output tokens, {mean_input:.0f} input): "
            f"${per * 1000:.2f}"
        )
    first, second, hits = asyncio.run(cache_passes(settings, items))
    print(
        f"provider calls: first pass {first}, second pass {second}; second-pass cache hit rate {hits / len(items):.0%}"
    )


if __name__ == "__main__":
    main()
