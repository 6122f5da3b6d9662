"""The deployment files parse and keep their promises (no Docker engine here to run them)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]


def load_compose() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load((ROOT / "compose.yaml").read_text())
    return data


def test_compose_defines_the_platform_roles() -> None:
    services = load_compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker"}
    assert services["api"]["command"][:2] == ["autodevops", "serve"]
    assert services["worker"]["command"] == ["autodevops", "worker"]
    assert services["migrate"]["command"] == ["autodevops", "migrate"]
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # The image's health check probes HTTP; roles without a server turn it off.
    assert services["worker"]["healthcheck"]["disable"] is True
    assert services["migrate"]["healthcheck"]["disable"] is True
    assert "healthcheck" not in services["api"]


def test_compose_app_services_share_production_settings() -> None:
    services = load_compose()["services"]
    for role in ("api", "worker", "migrate"):
        environment = services[role]["environment"]
        assert environment["AUTODEVOPS_ENV"] == "production"
        # Secrets are required from the operator, never defaulted in the file.
        for name in ("AUTODEVOPS_SECRET_KEY", "AUTODEVOPS_TOKEN_ENCRYPTION_KEY"):
            assert re.fullmatch(r"\$\{" + name + r":\?[^}]+\}", environment[name])
        assert "autodevops_app:" in environment["AUTODEVOPS_DATABASE_URL"]
        assert "postgres:" in environment["AUTODEVOPS_DATABASE_ADMIN_URL"]
        # The maintenance role lists every organization's jobs: the worker and migrate have it, the API never.
        maintenance = environment.get("AUTODEVOPS_DATABASE_MAINTENANCE_URL")
        if role == "api":
            assert maintenance is None
        else:
            assert "autodevops_maintenance:${MAINTENANCE_DB_PASSWORD:?" in maintenance


def test_queue_redis_never_evicts() -> None:
    command = load_compose()["services"]["redis"]["command"]
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_dockerfile_runs_unprivileged_from_pinned_requirements() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.MULTILINE)
    assert "pip install -r requirements.txt" in dockerfile
    user_lines = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert user_lines
    assert user_lines[-1] not in ("root", "0")
    assert '"autodevops", "serve"' in dockerfile


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".env", "tests"} <= ignored
