"""Service containers mapped to servers already running on this machine.

A job's `services:` start containers on a runner. Here each image is matched to the server that speaks its
protocol on its standard port on 127.0.0.1; a server that does not answer blocks the job (service). What the
container's environment would have created (the `POSTGRES_DB` database and `POSTGRES_USER` role, the
`MYSQL_DATABASE` database and `MYSQL_USER` account) is created when missing, never changed when present, so the
connection URLs the workflow passes to its tests work.
"""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from autodevops.engine.verify.expressions import to_string
from autodevops.engine.verify.toolchains import Blocked

# Image name (the last path component, without tag) -> the port its server listens on.
KNOWN_IMAGES: dict[str, int] = {
    "postgres": 5432,
    "postgis": 5432,
    "timescaledb": 5432,
    "redis": 6379,
    "redis-stack": 6379,
    "valkey": 6379,
    "mysql": 3306,
    "mariadb": 3306,
    "mongo": 27017,
    "mongodb": 27017,
    "rabbitmq": 5672,
    "nats": 4222,
    "memcached": 11211,
    "eclipse-mosquitto": 1883,
    "mosquitto": 1883,
    "elasticsearch": 9200,
    "opensearch": 9200,
    "minio": 9000,
    "localstack": 4566,
}
_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")


@dataclass(frozen=True)
class Service:
    id: str
    image: str
    kind: str  # the image's base name
    port: int  # where the local server listens
    env: Mapping[str, str]

    def context(self) -> dict[str, Any]:
        """`job.services.<id>`: the ports mapping the workflow can read."""
        container_port = KNOWN_IMAGES.get(self.kind, self.port)
        return {"id": self.id, "network": "host", "ports": {str(container_port): str(self.port)}}


def image_kind(image: str) -> str:
    base = image.split("@")[0].rsplit("/", 1)[-1]
    return base.split(":")[0].lower()


def _mapped_ports(raw_ports: Any) -> list[tuple[int | None, int]]:
    """(host port or None, container port) from `ports:` entries such as `5432:5432` or `6379/tcp`."""
    out: list[tuple[int | None, int]] = []
    for entry in raw_ports or []:
        text = to_string(entry).split("/")[0]
        parts = text.split(":")
        try:
            container = int(parts[-1])
            host = int(parts[-2]) if len(parts) >= 2 and parts[-2] else None
        except ValueError:
            continue
        out.append((host, container))
    return out


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def resolve_services(raw: Mapping[str, Any], ports: Mapping[str, int] | None = None) -> list[Service]:
    """Match every service to a local server; raises Blocked("service" or "docker") with the reason.

    `ports` overrides where the local server of an image kind listens (`--service postgres=5433`).
    """
    services: list[Service] = []
    for service_id, spec in raw.items():
        if isinstance(spec, str):
            spec = {"image": spec}
        if not isinstance(spec, dict) or not spec.get("image"):
            raise Blocked("service", f"service {service_id} has no image")
        image = to_string(spec["image"])
        kind = image_kind(image)
        port = (ports or {}).get(kind) or KNOWN_IMAGES.get(kind)
        if port is None:
            raise Blocked("docker", f"service {service_id} ({image}) has no local equivalent; it needs Docker")
        for host, container in _mapped_ports(spec.get("ports")):
            if container == KNOWN_IMAGES.get(kind) and host is not None and host != port:
                raise Blocked(
                    "service", f"service {service_id} maps host port {host}; the local {kind} listens on {port}"
                )
        if not port_open(port):
            raise Blocked("service", f"service {service_id} ({image}): nothing answers on 127.0.0.1:{port}")
        env = {str(k): to_string(v) for k, v in (spec.get("env") or {}).items()}
        services.append(Service(str(service_id), image, kind, port, env))
    return services


def _run(argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return subprocess.CompletedProcess(argv, 1, "", str(exc))


def emulate_env(service: Service) -> list[str]:
    """Create what the image's environment would have created; returns notes for the log.

    Raises Blocked("service") when the local server refuses (then the workflow's URLs could not work).
    """
    if service.kind in ("postgres", "postgis", "timescaledb"):
        return _postgres(service)
    if service.kind in ("mysql", "mariadb"):
        return _mysql(service)
    return []


def _checked_name(service: Service, value: str, what: str) -> str:
    if not _SAFE_NAME.match(value):
        raise Blocked("service", f"service {service.id}: {what} {value!r} is not a name verify will create")
    return value


def _postgres(service: Service) -> list[str]:
    user = _checked_name(service, service.env.get("POSTGRES_USER") or "postgres", "POSTGRES_USER")
    database = _checked_name(service, service.env.get("POSTGRES_DB") or user, "POSTGRES_DB")
    password = service.env.get("POSTGRES_PASSWORD", "")
    psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(service.port), "-U", "postgres"]
    # Values travel as psql variables, quoted by psql itself: :'name' is a literal, :"name" an identifier.
    variables = ["-v", f"role_name={user}", "-v", f"db_name={database}", "-v", f"role_password={password}"]
    script = (
        "SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role_name') AS create_role \\gset\n"
        "\\if :create_role\nCREATE ROLE :\"role_name\" LOGIN SUPERUSER PASSWORD :'role_password';\n\\endif\n"
        "SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db_name') AS create_db \\gset\n"
        '\\if :create_db\nCREATE DATABASE :"db_name" OWNER :"role_name";\n\\endif\n'
    )
    done = _run([*psql, *variables, "-d", "postgres"], stdin=script)
    if done.returncode != 0:
        raise Blocked("service", f"local PostgreSQL refused to prepare {database!r}: {done.stderr.strip()[-200:]}")
    return [f"PostgreSQL on 127.0.0.1:{service.port}: role {user}, database {database}"]


def _mysql(service: Service) -> list[str]:
    notes = []
    database = service.env.get("MYSQL_DATABASE") or service.env.get("MARIADB_DATABASE") or ""
    user = service.env.get("MYSQL_USER") or service.env.get("MARIADB_USER") or ""
    password = service.env.get("MYSQL_PASSWORD") or service.env.get("MARIADB_PASSWORD") or ""
    statements = []
    if database:
        statements.append(f"CREATE DATABASE IF NOT EXISTS `{_checked_name(service, database, 'MYSQL_DATABASE')}`;")
    if user and user != "root":
        name = _checked_name(service, user, "MYSQL_USER")
        quoted = password.replace("\\", "\\\\").replace("'", "\\'")
        for host in ("%", "localhost"):
            statements.append(f"CREATE USER IF NOT EXISTS '{name}'@'{host}' IDENTIFIED BY '{quoted}';")
            if database:
                statements.append(f"GRANT ALL ON `{database}`.* TO '{name}'@'{host}';")
    if statements:
        done = _run(["mysql", "-h", "127.0.0.1", "-P", str(service.port), "-u", "root"], stdin="\n".join(statements))
        if done.returncode != 0:
            raise Blocked("service", f"local MySQL refused to prepare the service: {done.stderr.strip()[-200:]}")
        notes.append(f"MySQL on 127.0.0.1:{service.port}: database {database or '-'}, user {user or '-'}")
    root_password = service.env.get("MYSQL_ROOT_PASSWORD") or service.env.get("MARIADB_ROOT_PASSWORD")
    if root_password:
        notes.append("note: the local MySQL root account keeps its own password (MYSQL_ROOT_PASSWORD is not applied)")
    return notes
