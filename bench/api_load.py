"""Load benchmark: the platform's authenticated `GET /api/v1/repositories` (50 rows) against a bare FastAPI
hello-world endpoint, in the same run, on loopback.

Both are served by uvicorn in a subprocess with the same production-like options (one worker, no reload,
log level warning, no access log). The platform runs with `AUTODEVOPS_ENV=production`, the real middleware
stack, rate limiting on Redis (limits raised so they never trigger, but still counted), bearer-token
authentication and row-level security, against a fresh database seeded through the API.

A third server, `api_floor.py`, does the same I/O as the platform's endpoint (rate limits in Redis, token
authentication and the page under row-level security in one transaction) with no framework at all: the
throughput no implementation of this request can beat on the machine, measured in the same run.

The load generator is a small keep-alive HTTP/1.1 client on asyncio (uvloop when installed): each of
`--connections` connections sends one request at a time for `--duration` seconds. Rounds alternate between
the two servers to even out noise on a shared machine. It prints requests/s, latency percentiles and the
server process's CPU time per request for both, and the ratio of the two throughputs (target: >= 50%).

    .venv/bin/python bench/api_load.py [--duration 10] [--connections 16] [--rounds 2]

Needs PostgreSQL and Redis: `--postgres` (an owner-role URL of the server, default `AUTODEVOPS_BENCH_POSTGRES`
or postgresql://postgres@127.0.0.1:5432/postgres) and `--redis-url` (default `AUTODEVOPS_REDIS_URL` or
redis://127.0.0.1:6379/0). It creates a database and role of its own and Redis keys under a prefix of its own
(`--key-prefix`), and removes exactly those afterwards: nothing else on either server is touched.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import redis
from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ADMIN_DSN = os.environ.get("AUTODEVOPS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("AUTODEVOPS_REDIS_URL", "redis://127.0.0.1:6379/0")
ROWS = 50
API = "GET /api/v1/repositories (auth)"
BARE = "GET /hello (bare FastAPI)"
FLOOR = "same I/O, no framework (floor)"


def hello() -> FastAPI:
    """The baseline: FastAPI with one JSON endpoint and nothing else."""
    app = FastAPI()

    @app.get("/hello")
    async def hello_world() -> dict[str, str]:
        return {"message": "hello world"}

    return app


# ---- load generator ---------------------------------------------------------------------------------------
@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server process used while measured
    postgres_cpu: float = 0.0  # CPU seconds PostgreSQL used while measured
    redis_cpu: float = 0.0  # and Redis

    def ms_per_request(self, cpu: float) -> float:
        return cpu / len(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def cpu_ms_per_request(self) -> float:
        return self.ms_per_request(self.server_cpu)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else float("nan")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if length is not None:
        return status, await reader.readexactly(length)
    if not chunked:
        raise RuntimeError("response without Content-Length or chunked encoding")
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, bytes(body)
        body += chunk[:-2]


async def _connection(port: int, request: bytes, deadline: float, result: Result, record: bool) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            status, _ = await _read_response(reader)
            if record:
                result.latencies.append(time.perf_counter() - started)
                if status != 200:
                    result.errors += 1
    finally:
        writer.close()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def services_cpu_seconds() -> dict[tuple[str, int], float]:
    """CPU time of every PostgreSQL and Redis process on the machine, by (name, pid): backends come and go."""
    out: dict[tuple[str, int], float] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                name = (proc / "comm").read_text().strip()
                if name in ("postgres", "redis-server"):
                    out[(name, int(proc.name))] = process_cpu_seconds(int(proc.name))
            except OSError:
                continue
    return out


async def run_load(
    name: str, port: int, path: str, headers: dict[str, str], duration: float, connections: int, pid: int
) -> Result:
    """Send keep-alive requests on `connections` connections for `duration` seconds (after a short warm-up)."""
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    result = Result(name)
    warm_up = time.perf_counter() + min(2.0, duration / 4)
    await asyncio.gather(*(_connection(port, request, warm_up, result, False) for _ in range(connections)))
    cpu_before, services_before = process_cpu_seconds(pid), services_cpu_seconds()
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(_connection(port, request, deadline, result, True) for _ in range(connections)))
    result.elapsed = time.perf_counter() - started
    result.server_cpu = process_cpu_seconds(pid) - cpu_before
    services_after = services_cpu_seconds()
    for (name, pid_), cpu in services_after.items():
        used = cpu - services_before.get((name, pid_), 0.0)
        if name == "postgres":
            result.postgres_cpu += used
        else:
            result.redis_cpu += used
    return result


# ---- servers and fixtures ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(port: int, process: subprocess.Popen[bytes], path: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not become healthy")


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, health: str) -> Iterator[int]:
    """Run a server until the block ends; yields its pid (one uvicorn worker: the app runs in that process)."""
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        wait_healthy(port, process, health)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


async def _admin(admin_dsn: str, *statements: str) -> None:
    connection = await asyncpg.connect(admin_dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def platform_env(
    database: str,
    role: str,
    password: str,
    key_prefix: str,
    connections: int = 16,
    *,
    admin_dsn: str = ADMIN_DSN,
    redis_url: str = REDIS_URL,
) -> dict[str, str]:
    server = urlsplit(admin_dsn)
    host = f"{server.hostname or '127.0.0.1'}:{server.port or 5432}"
    owner = server.username or "postgres"
    if server.password:
        owner += f":{server.password}"
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    env = {name: value for name, value in os.environ.items() if not name.startswith("AUTODEVOPS_")}
    env.update(
        {
            "AUTODEVOPS_ENV": "production",
            "AUTODEVOPS_SECRET_KEY": secrets.token_urlsafe(48),
            "AUTODEVOPS_DATABASE_URL": f"postgresql+asyncpg://{role}:{password}@{host}/{database}",
            "AUTODEVOPS_DATABASE_ADMIN_URL": f"postgresql+asyncpg://{owner}@{host}/{database}",
            # Production keeps the schema's owner apart from the app (migrate creates this role too).
            "AUTODEVOPS_DATABASE_MAINTENANCE_URL": f"postgresql+asyncpg://{role}_maintenance:{secrets.token_hex(16)}@{host}/{database}",
            "AUTODEVOPS_PUBLIC_URL": "https://autodevops.bench.invalid",
            "AUTODEVOPS_REDIS_URL": redis_url,
            "AUTODEVOPS_TOKEN_ENCRYPTION_KEY": f"bench:{key}",
            "AUTODEVOPS_LOG_LEVEL": "WARNING",
            # A connection per concurrent request: overflow connections would be opened and closed per request.
            "AUTODEVOPS_DATABASE_POOL_SIZE": str(max(10, connections)),
            # Counted on every request, never reached: the benchmark measures the cost, not the refusal.
            "AUTODEVOPS_RATE_LIMIT_PER_USER": "100000000/minute",
            "AUTODEVOPS_RATE_LIMIT_PER_IP": "100000000/minute",
            "AUTODEVOPS_RATE_LIMIT_KEY_PREFIX": key_prefix,
            # Its organization holds 50 repositories and takes every request of the run: on the largest plan
            # its limits are counted like any organization's, and never reached.
            "AUTODEVOPS_DEFAULT_PLAN": "enterprise",
        }
    )
    return env


def cli(env: dict[str, str], *args: str) -> str:
    completed = subprocess.run([str(BIN / "autodevops"), *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"autodevops {' '.join(args)} failed:\n{completed.stderr}")
    return completed.stdout.strip()


def seed(port: int, token: str) -> None:
    """One organization with 50 repositories, created through the API like a client would."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10) as client:
        response = client.post("/api/v1/organizations", json={"name": "bench"})
        response.raise_for_status()
        organization_id = response.json()["id"]
        for index in range(ROWS):
            # A literal public address: connecting validates the host without needing DNS.
            url = f"https://140.82.121.{index + 1}/bench/repository-{index}.git"
            response = client.post("/api/v1/repositories", json={"organization_id": organization_id, "url": url})
            if response.status_code != 201:
                raise RuntimeError(f"seeding failed: {response.status_code} {response.text}")
        listed = client.get("/api/v1/repositories").json()
        if len(listed["items"]) != ROWS:
            raise RuntimeError(f"expected {ROWS} repositories, the API lists {len(listed['items'])}")


def report(results: dict[str, list[Result]]) -> None:
    print(
        f"{'endpoint':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'requests':>9}"
        f" {'CPU ms/req: server':>18} {'PostgreSQL':>10} {'Redis':>6}"
    )
    summary: dict[str, Result] = {}
    for name, rounds in results.items():
        merged = Result(name, [x for r in rounds for x in r.latencies], sum(r.errors for r in rounds))
        merged.elapsed = sum(r.elapsed for r in rounds)
        merged.server_cpu = sum(r.server_cpu for r in rounds)
        merged.postgres_cpu = sum(r.postgres_cpu for r in rounds)
        merged.redis_cpu = sum(r.redis_cpu for r in rounds)
        summary[name] = merged
        print(
            f"{name:<34} {merged.rps:>9.0f} {merged.percentile(0.50):>8.2f} {merged.percentile(0.99):>8.2f}"
            f" {merged.errors:>7} {len(merged.latencies):>9} {merged.cpu_ms_per_request:>18.2f}"
            f" {merged.ms_per_request(merged.postgres_cpu):>10.2f} {merged.ms_per_request(merged.redis_cpu):>6.2f}"
        )
        per_round = ", ".join(f"{r.rps:.0f}" for r in rounds)
        print(f"{'':<34} rounds req/s: {per_round}")
    api, bare, floor = summary[API], summary[BARE], summary[FLOOR]
    print(f"\nthroughput ratio api/bare: {api.rps / bare.rps:.1%} (target >= 50%)")
    print(f"throughput ratio floor/bare: {floor.rps / bare.rps:.1%} (the same I/O without a framework)")
    print(f"throughput ratio api/floor: {api.rps / floor.rps:.1%}")
    # On a shared machine throughput follows the CPU share each server happened to get; CPU per request
    # does not, so these ratios are the ones to compare across runs.
    print(f"server CPU per request ratio bare/api: {bare.cpu_ms_per_request / api.cpu_ms_per_request:.1%}")
    print(f"server CPU per request ratio floor/api: {floor.cpu_ms_per_request / api.cpu_ms_per_request:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of measurement per round")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per endpoint")
    parser.add_argument("--postgres", default=ADMIN_DSN, help="owner-role URL of the PostgreSQL server to use")
    parser.add_argument("--redis-url", default=REDIS_URL, help="Redis for the rate-limit counters")
    parser.add_argument("--key-prefix", default=None, help="Redis key prefix (default: one of this run's own)")
    args = parser.parse_args()

    run_id = uuid.uuid4().hex[:8]
    database, role, password = f"autodevops_bench_{run_id}", f"autodevops_bench_app_{run_id}", secrets.token_hex(16)
    key_prefix = args.key_prefix or f"bench-ratelimit-{run_id}"
    admin_dsn = args.postgres.replace("postgresql+asyncpg://", "postgresql://")
    env = platform_env(
        database, role, password, key_prefix, args.connections, admin_dsn=admin_dsn, redis_url=args.redis_url
    )
    api_port, hello_port, floor_port = free_port(), free_port(), free_port()
    uvicorn_options = ["--log-level", "warning", "--no-access-log"]

    asyncio.run(_admin(admin_dsn, f'CREATE DATABASE "{database}"'))
    try:
        cli(env, "migrate")
        cli(env, "users", "create", "bench@example.com")
        token = cli(env, "tokens", "create", "bench@example.com", "--name", "bench")
        api_command = [str(BIN / "autodevops"), "serve", "--host", "127.0.0.1", "--port", str(api_port)]
        hello_command = [
            sys.executable, "-m", "uvicorn", "--factory", "api_load:hello", "--app-dir", str(ROOT / "bench"),
            "--host", "127.0.0.1", "--port", str(hello_port), *uvicorn_options,
        ]  # fmt: skip
        floor_command = [
            sys.executable, "-m", "uvicorn", "--factory", "api_floor:app", "--app-dir", str(ROOT / "bench"),
            "--host", "127.0.0.1", "--port", str(floor_port), *uvicorn_options,
        ]  # fmt: skip
        with (
            server(api_command, env, api_port, "/health") as api_pid,
            server(hello_command, env, hello_port, "/hello") as hello_pid,
            server(floor_command, env, floor_port, "/health") as floor_pid,
        ):
            seed(api_port, token)
            auth = {"Authorization": f"Bearer {token}"}
            results: dict[str, list[Result]] = {API: [], BARE: [], FLOOR: []}

            async def measure() -> None:
                for _ in range(args.rounds):
                    for name, port, pid, path, headers in (
                        (BARE, hello_port, hello_pid, "/hello", {}),
                        (API, api_port, api_pid, "/api/v1/repositories", auth),
                        (FLOOR, floor_port, floor_pid, "/api/v1/repositories", auth),
                    ):
                        results[name].append(
                            await run_load(name, port, path, headers, args.duration, args.connections, pid)
                        )

            runner: Any
            try:
                import uvloop

                runner = uvloop.run
            except ImportError:
                runner = asyncio.run
            runner(measure())
        print(
            f"{args.connections} connections, {args.rounds} x {args.duration:.0f}s per endpoint, "
            f"{os.cpu_count()} CPUs shared by servers, PostgreSQL, Redis and the load generator\n"
        )
        report(results)
    finally:
        drop = (
            f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
            f'DROP ROLE IF EXISTS "{role}"',
            f'DROP ROLE IF EXISTS "{role}_maintenance"',
        )
        asyncio.run(_admin(admin_dsn, *drop))
        client = redis.Redis.from_url(args.redis_url)
        keys = list(client.scan_iter(f"{key_prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


if __name__ == "__main__":
    main()
