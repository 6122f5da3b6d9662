"""GitHub routes: installations and repositories of the signed-in user, connecting a repository, the
pipeline pull request (under `/api/v1`, authenticated), and the webhook receiver (signed by GitHub)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request, Response, status

from autodevops.auth.dependencies import CurrentUser
from autodevops.db import DBSession
from autodevops.errors import AppError, PayloadTooLarge, RateLimited, Unauthorized
from autodevops.github import queries, service, signature
from autodevops.github.dependencies import AppSettings, GitHub, Jobs, TokenKeyring
from autodevops.github.schemas import (
    DriftFindingRead,
    GitHubRepositoryConnect,
    GitHubRepositoryRead,
    InstallationRead,
    PullRequestRead,
    WebhookAccepted,
)
from autodevops.models import utcnow
from autodevops.ratelimit import limit_webhooks_by_ip
from autodevops.repository.schemas import RepositoryRead

router = APIRouter(tags=["github"])
webhook_router = APIRouter(tags=["github"])

_DELIVERY = re.compile(r"^[A-Za-z0-9-]{1,100}$")
_EVENT = re.compile(r"^[a-z_]{1,100}$")


@router.get("/github/installations", response_model=list[InstallationRead])
async def list_installations(
    user: CurrentUser, session: DBSession, github: GitHub, keyring: TokenKeyring
) -> list[InstallationRead]:
    installations = await service.list_installations(session, keyring, github, user)
    return [InstallationRead.model_validate(i.model_dump()) for i in installations]


@router.get("/github/installations/{installation_id}/repositories", response_model=list[GitHubRepositoryRead])
async def list_installation_repositories(
    installation_id: int, user: CurrentUser, session: DBSession, github: GitHub, keyring: TokenKeyring
) -> list[GitHubRepositoryRead]:
    repos = await service.list_installation_repositories(session, keyring, github, user, installation_id)
    return [GitHubRepositoryRead.model_validate(r.model_dump()) for r in repos]


@router.post("/github/repositories", response_model=RepositoryRead, status_code=status.HTTP_201_CREATED)
async def connect_repository(
    body: GitHubRepositoryConnect,
    user: CurrentUser,
    session: DBSession,
    github: GitHub,
    keyring: TokenKeyring,
    settings: AppSettings,
) -> RepositoryRead:
    repository = await service.connect_repository(
        session,
        keyring,
        github,
        user,
        organization_id=body.organization_id,
        installation_id=body.installation_id,
        full_name=body.full_name,
        settings=settings,
    )
    return RepositoryRead.model_validate(repository)


@router.post("/repositories/{repository_id}/pull-request", response_model=PullRequestRead)
async def open_pull_request(
    repository_id: uuid.UUID, user: CurrentUser, session: DBSession, github: GitHub
) -> PullRequestRead:
    return PullRequestRead.model_validate(await service.open_pull_request(session, github, user, repository_id))


@router.get("/repositories/{repository_id}/pull-requests", response_model=list[PullRequestRead])
async def list_pull_requests(repository_id: uuid.UUID, user: CurrentUser, session: DBSession) -> list[PullRequestRead]:
    return [PullRequestRead.model_validate(p) for p in await service.list_pull_requests(session, user, repository_id)]


@router.get("/repositories/{repository_id}/drift", response_model=list[DriftFindingRead])
async def list_drift(repository_id: uuid.UUID, user: CurrentUser, session: DBSession) -> list[DriftFindingRead]:
    """CI drift found after pushes: where the repository's CI differs from the recommended pipeline."""
    return [DriftFindingRead.model_validate(f) for f in await service.list_drift(session, user, repository_id)]


# Bodies are kept in memory up to this size while their signature is computed, on disk beyond it.
_SPOOL_BYTES = 1024 * 1024
# Deeper JSON than any GitHub event is refused before anything walks it.
MAX_JSON_DEPTH = 64


@contextlib.asynccontextmanager
async def _unverified_slot(request: Request) -> AsyncIterator[None]:
    """One of the process's slots for receiving a body whose signature is not known yet; 429 when none is free.

    Bounds the unsigned work anyone can make the API do at once (memory, disk, HMAC time), whatever the number
    of IPs they send from.
    """
    slots: asyncio.Semaphore = request.app.state.webhook_slots
    if slots.locked():
        raise RateLimited(
            "Too many webhook deliveries are being received; retry later.", retry_after=1, headers={"Retry-After": "1"}
        )
    async with slots:
        yield


async def _read_signed_body(request: Request, limit: int, verifier: signature.Verifier) -> bytes:
    """The body, read while its HMAC is computed; `Unauthorized` when the signature does not match.

    Nothing is parsed before the signature is known, and an unsigned body never sits in memory past
    `_SPOOL_BYTES`.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"webhook payload over {limit} bytes")
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"webhook payload over {limit} bytes")
            verifier.update(chunk)
            spool.write(chunk)
        if not verifier.valid():
            raise Unauthorized("missing or invalid X-Hub-Signature-256")
        spool.seek(0)
        return spool.read()


def _json_depth(value: Any) -> int:
    """How deeply `value` nests (iteratively: no recursion on attacker-shaped data)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return deepest


def parse_payload(body: bytes) -> dict[str, Any]:
    """The webhook's JSON object; `AppError` 400 for anything else (invalid, not an object, too deep)."""
    try:
        payload = json.loads(body)
    except RecursionError:
        raise AppError(f"webhook body nests deeper than {MAX_JSON_DEPTH} levels", 400) from None
    except (ValueError, UnicodeDecodeError):
        raise AppError("webhook body is not JSON", 400) from None
    if not isinstance(payload, dict):
        raise AppError("webhook body is not a JSON object", 400)
    if _json_depth(payload) > MAX_JSON_DEPTH:
        raise AppError(f"webhook body nests deeper than {MAX_JSON_DEPTH} levels", 400)
    return payload


@webhook_router.post(
    "/api/v1/github/webhooks",
    response_model=WebhookAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"model": WebhookAccepted, "description": "ping answered"}},
    dependencies=[Depends(limit_webhooks_by_ip)],
)
async def receive_webhook(
    request: Request, response: Response, session: DBSession, settings: AppSettings, jobs: Jobs
) -> WebhookAccepted:
    """Verify while receiving, deduplicate, queue, answer. The work itself happens in jobs."""
    secrets = signature.active_secrets(settings)
    if not secrets:
        raise AppError("webhooks are not configured (AUTODEVOPS_GITHUB_WEBHOOK_SECRET)", 503)
    header = request.headers.get("x-hub-signature-256")
    if not signature.well_formed(header):
        raise Unauthorized("missing or invalid X-Hub-Signature-256")
    delivery = request.headers.get("x-github-delivery", "")
    event = request.headers.get("x-github-event", "")
    if not _DELIVERY.match(delivery) or not _EVENT.match(event):
        raise AppError("missing or malformed X-GitHub-Delivery / X-GitHub-Event", 400)
    async with _unverified_slot(request):
        body = await _read_signed_body(request, settings.github_webhook_max_bytes, signature.Verifier(secrets, header))
    payload = parse_payload(body)
    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    recorded = await queries.record_delivery(
        session,
        delivery,
        event,
        action and action[:100],
        utcnow(),
        body_sha256=hashlib.sha256(body).hexdigest(),
        replay_window=timedelta(seconds=settings.github_webhook_replay_window_s),
    )
    if not recorded:
        return WebhookAccepted(delivery=delivery, outcome="duplicate")
    if event == "ping":
        outcome = "pong"
        response.status_code = status.HTTP_200_OK
    else:
        outcome = await service.dispatch_webhook(session, jobs, event, payload)
    await queries.set_delivery_outcome(session, delivery, outcome)
    return WebhookAccepted(delivery=delivery, outcome=outcome)
