"""GitHub routes: installations and repositories of the signed-in user, connecting a repository, the
pipeline pull request (under `/api/v1`, authenticated), and the webhook receiver (signed by GitHub)."""

from __future__ import annotations

import json
import re
import uuid

from fastapi import APIRouter, Request, Response, status

from autodevops.auth.dependencies import CurrentUser
from autodevops.db import DBSession
from autodevops.errors import AppError, PayloadTooLarge, Unauthorized
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
    body: GitHubRepositoryConnect, user: CurrentUser, session: DBSession, github: GitHub, keyring: TokenKeyring
) -> RepositoryRead:
    repository = await service.connect_repository(
        session,
        keyring,
        github,
        user,
        organization_id=body.organization_id,
        installation_id=body.installation_id,
        full_name=body.full_name,
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


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"webhook payload over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"webhook payload over {limit} bytes")
    return bytes(body)


@webhook_router.post(
    "/api/v1/github/webhooks",
    response_model=WebhookAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"model": WebhookAccepted, "description": "ping answered"}},
)
async def receive_webhook(
    request: Request, response: Response, session: DBSession, settings: AppSettings, jobs: Jobs
) -> WebhookAccepted:
    """Verify, deduplicate, queue, answer. The work itself happens in jobs."""
    body = await _read_body(request, settings.github_webhook_max_bytes)
    secrets = signature.active_secrets(settings)
    if not secrets:
        raise AppError("webhooks are not configured (AUTODEVOPS_GITHUB_WEBHOOK_SECRET)", 503)
    if not signature.verify(secrets, body, request.headers.get("x-hub-signature-256")):
        raise Unauthorized("missing or invalid X-Hub-Signature-256")
    delivery = request.headers.get("x-github-delivery", "")
    event = request.headers.get("x-github-event", "")
    if not _DELIVERY.match(delivery) or not _EVENT.match(event):
        raise AppError("missing or malformed X-GitHub-Delivery / X-GitHub-Event", 400)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise AppError("webhook body is not JSON", 400) from None
    if not isinstance(payload, dict):
        raise AppError("webhook body is not a JSON object", 400)
    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    if not await queries.record_delivery(session, delivery, event, action and action[:100], utcnow()):
        return WebhookAccepted(delivery=delivery, outcome="duplicate")
    if event == "ping":
        outcome = "pong"
        response.status_code = status.HTTP_200_OK
    else:
        outcome = await service.dispatch_webhook(session, jobs, event, payload)
    await queries.set_delivery_outcome(session, delivery, outcome)
    return WebhookAccepted(delivery=delivery, outcome=outcome)
