"""Response cache in Redis: key = prompt version + provider:model + digest hash; TTL from settings.

Only validated answers are stored, so a hit needs no provider call and no check beyond the review's own. The
model is part of the key: a different model may answer differently, and the cost record says which one did.
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from autodevops.ai import metrics
from autodevops.ai.schemas import PROMPT_VERSION, AIReview


def cache_key(prefix: str, entry: str, digest_sha256: str) -> str:
    """The Redis key of one answer; `entry` is "provider:model"."""
    name = hashlib.sha256(f"{PROMPT_VERSION}\0{entry}\0{digest_sha256}".encode()).hexdigest()
    return f"{prefix}:cache:{name}"


class ResponseCache:
    def __init__(self, redis: Redis, *, prefix: str, ttl_s: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_s = ttl_s

    async def get(self, entries: list[str], digest_sha256: str) -> tuple[str, AIReview] | None:
        """The first cached answer for this digest among `entries` (in router order), with its entry."""
        if self.ttl_s <= 0 or not entries:
            return None
        raw = await self.redis.mget([cache_key(self.prefix, e, digest_sha256) for e in entries])
        for entry, value in zip(entries, raw, strict=True):
            if value is not None:
                try:
                    review = AIReview.model_validate_json(value)
                except ValueError:
                    continue  # written by an older schema: a miss
                metrics.CACHE.labels("hit").inc()
                return entry, review
        metrics.CACHE.labels("miss").inc()
        return None

    async def put(self, entry: str, digest_sha256: str, review: AIReview) -> None:
        if self.ttl_s > 0:
            await self.redis.set(cache_key(self.prefix, entry, digest_sha256), review.model_dump_json(), ex=self.ttl_s)
