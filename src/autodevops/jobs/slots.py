"""Concurrent jobs per organization: at most its plan's `concurrent_jobs` run at once, across every worker.

A worker that takes a job first takes one of the organization's slots, in the queue Redis:

- `{prefix}:org:{id}:running` — a sorted set of the running jobs, scored by the time their lease ends. A live
  worker renews its leases (every third of `jobs_lock_duration_ms`, the lease's length); a dead worker's slots
  come free when their lease ends, as its jobs' locks do.
- `{prefix}:org:{id}:parked` — the jobs that found every slot taken, scored by their queue priority.

Taking a slot or parking the job is one Lua script, so two workers never both take the last slot. A parked job
is not failed and uses no attempt: the worker moves it back to bullmq's `delayed` set (`Delivery.defer`) for
`PARK_S`. When a slot is given back, the script hands back the organization's first parked job and the
worker promotes it out of `delayed` (bullmq's `promote`), so it starts as soon as there is room rather than
after `PARK_S`; the delay only bounds the wait when that hand-over is missed (a worker died in between).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Literal

import redis.asyncio as aioredis

from autodevops.jobs.broker import LIVE_STATES, Broker
from autodevops.logging import get_logger

log = get_logger(__name__)

# How long a parked job stays in `delayed` at most (scaled by `jobs_time_scale`), when no slot hand-over
# promotes it earlier.
PARK_S = 60.0
# A parked job may still be on its way into `delayed` when its slot is handed over: promote tries again.
PROMOTE_RETRIES = 5
PROMOTE_RETRY_S = 0.05

# KEYS: running, parked. ARGV: member, now (ms), lease end (ms), limit, park score, parked list's lifetime (ms).
# Returns 1 when the job holds a slot (taken now, or already its own: a repeated delivery); when it is parked,
# -1 if it was not parked yet and 0 if it was (its delay ended before a slot was handed to it).
TAKE_OR_PARK = """
local running, parked = KEYS[1], KEYS[2]
local member, now, lease_end, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('zremrangebyscore', running, '-inf', now)
if redis.call('zscore', running, member) or redis.call('zcard', running) < limit then
    redis.call('zadd', running, lease_end, member)
    redis.call('zrem', parked, member)
    redis.call('pexpireat', running, lease_end)
    return 1
end
local added = redis.call('zadd', parked, ARGV[5], member)
-- A parked job looks again at least every park delay, which keeps the list alive; one that was removed
-- meanwhile (purged, its organization deleted) no longer does, and an idle organization's list goes away.
redis.call('pexpire', parked, ARGV[6])
return -added
"""

# The most parked jobs one freed slot looks at for one still waiting in `delayed` (others finished meanwhile).
HAND_OVER_TRIES = 10

# KEYS: running. ARGV: lease end (ms), members... Extends the leases of jobs still holding their slot.
RENEW = """
for i = 2, #ARGV do
    redis.call('zadd', KEYS[1], 'XX', ARGV[1], ARGV[i])
end
redis.call('pexpireat', KEYS[1], ARGV[1])
return 0
"""


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _member(queue: str, job_id: str) -> str:
    return f"{queue}|{job_id}"


class OrganizationSlots:
    """The per-organization slots of one worker process (see the module docstring)."""

    def __init__(self, client: aioredis.Redis, broker: Broker, *, prefix: str, lease_ms: int, park_s: float) -> None:
        self.client = client
        self.broker = broker
        self.prefix = prefix
        self.lease_ms = lease_ms
        self.park_s = park_s
        self._take = client.register_script(TAKE_OR_PARK)
        self._renew = client.register_script(RENEW)
        # The slots this process holds: organization -> members.
        self.held: dict[uuid.UUID, set[str]] = {}

    def _keys(self, organization_id: uuid.UUID) -> list[str]:
        base = f"{self.prefix}:org:{organization_id}"
        return [f"{base}:running", f"{base}:parked"]

    async def take(
        self, organization_id: uuid.UUID, queue: str, job_id: str, *, limit: int, priority: int
    ) -> Literal["taken", "parked", "still parked"]:
        """A slot for the job, or the job is parked (defer it; it is promoted when one frees)."""
        member = _member(queue, job_id)
        now_ms = int(time.time() * 1000)
        taken = await self._take(
            keys=self._keys(organization_id),
            args=[member, now_ms, now_ms + self.lease_ms, limit, priority, round(self.park_s * 3000) + self.lease_ms],
        )
        if taken == 1:
            self.held.setdefault(organization_id, set()).add(member)
            return "taken"
        return "parked" if taken == -1 else "still parked"

    async def give_back(self, organization_id: uuid.UUID, queue: str, job_id: str) -> None:
        """Free the job's slot (if held) and promote the organization's first parked job."""
        member = _member(queue, job_id)
        members = self.held.get(organization_id)
        if members is None or member not in members:
            return
        members.discard(member)
        if not members:
            del self.held[organization_id]
        running, parked = self._keys(organization_id)
        await self.client.zrem(running, member)
        for _ in range(HAND_OVER_TRIES):
            popped = await self.client.zpopmin(parked)
            if not popped:
                return
            if await self._promote(_text(popped[0][0])):
                return

    async def _promote(self, member: str) -> bool:
        """Wake a parked job; False when it no longer waits (finished or removed meanwhile)."""
        queue, _, job_id = member.partition("|")
        for _ in range(PROMOTE_RETRIES):
            if await self.broker.promote(queue, job_id):
                return True
            state = await self.broker.state(queue, job_id)
            if state != "active":
                # Runnable already (its delay ended), or finished or removed: nothing left to wake.
                return state in LIVE_STATES
            await asyncio.sleep(PROMOTE_RETRY_S)  # still on its way from `active` into `delayed`
        log.info("parked job not promoted; it starts when its delay ends", job_id=job_id, queue=queue)
        return True

    async def renew(self) -> None:
        """Extend the leases of every slot this process holds (a live worker's slots never expire)."""
        lease_end = int(time.time() * 1000) + self.lease_ms
        for organization_id, members in list(self.held.items()):
            if members:
                await self._renew(keys=self._keys(organization_id)[:1], args=[lease_end, *sorted(members)])
