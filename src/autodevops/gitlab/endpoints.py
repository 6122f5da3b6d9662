"""GitLab routes: the projects a token can see, connecting one, webhook secret rotation, the pipeline merge
request (under `/api/v1`, authenticated), and the webhook receiver (authenticated by the connection's secret)."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from autodevops.auth.dependencies import CurrentUser
from autodevops.crypto import CryptoError
from autodevops.db import DBSession, bind_tenant
from autodevops.errors import AppError, PayloadTooLarge, Unauthorized
from autodevops.github.dependencies import AppSettings, Jobs, TokenKeyring
from autodevops.github.endpoints import parse_payload
from autodevops.gitlab import secrets as sealed
from autodevops.gitlab import service, webhooks
from autodevops.gitlab.client import GitLabClient
from autodevops.gitlab.schemas import (
    GitLabConnectionRead,
    GitLabProjectConnect,
    GitLabProjectPage,
    GitLabProjectRead,
    GitLabProjectSearch,
    GitLabWebhookAccepted,
    MergeRequestRead,
)
from autodevops.models import GitLabConnection, GitLabWebhookDelivery, utcnow
from autodevops.ratelimit import limit_webhooks_by_ip
from autodevops.repository.schemas import RepositoryRead

router = APIRouter(tags=["gitlab"])
webhook_router = APIRouter(tags=["gitlab"])

WEBHOOK_PREFIX = "/api/v1/gitlab/webhooks/"
_DELIVERY = re.compile(r"^[A-Za-z0-9-]{1,100}$")
_MAX_SECRET = 255


def get_gitlab_client(request: Request) -> GitLabClient:
    """The app's GitLab client (its instance URL comes from the app's settings)."""
    client: GitLabClient | None = getattr(request.app.state, "gitlab_client", None)
    if client is None:
        client = GitLabClient(request.app.state.settings)
        request.app.state.gitlab_client = client
    return client


GitLab = Annotated[GitLabClient, Depends(get_gitlab_client)]


def _connection_read(connection: GitLabConnection, problem: str | None = None) -> GitLabConnectionRead:
    return GitLabConnectionRead(
        repository_id=connection.repository_id,
        project_id=connection.project_id,
        full_path=connection.full_path,
        instance_url=connection.instance_url,
        webhook_registered=connection.webhook_id is not None,
        webhook_problem=problem,
        previous_webhook_secret_until=connection.previous_webhook_secret_until,
    )


@router.post("/gitlab/projects/search", response_model=GitLabProjectPage)
async def search_projects(body: GitLabProjectSearch, user: CurrentUser, gitlab: GitLab) -> GitLabProjectPage:
    """One page (100) of the projects the token's user is a member of, filtered by `search`."""
    page = await service.list_projects(gitlab, body.token.get_secret_value(), search=body.search, page=body.page)
    return GitLabProjectPage(
        items=[GitLabProjectRead.model_validate(p.model_dump()) for p in page.projects], next_page=page.next_page
    )


@router.post("/gitlab/repositories", response_model=RepositoryRead, status_code=status.HTTP_201_CREATED)
async def connect_project(
    body: GitLabProjectConnect,
    user: CurrentUser,
    session: DBSession,
    gitlab: GitLab,
    keyring: TokenKeyring,
    settings: AppSettings,
) -> RepositoryRead:
    repository, _, _ = await service.connect_project(
        session,
        keyring,
        gitlab,
        user,
        organization_id=body.organization_id,
        project=body.project,
        token=body.token.get_secret_value(),
        settings=settings,
    )
    return RepositoryRead.model_validate(repository)


@router.get("/repositories/{repository_id}/gitlab", response_model=GitLabConnectionRead)
async def read_connection(repository_id: uuid.UUID, user: CurrentUser, session: DBSession) -> GitLabConnectionRead:
    return _connection_read(await service.get_connection(session, user, repository_id))


@router.post("/repositories/{repository_id}/gitlab/webhook-secret", response_model=GitLabConnectionRead)
async def rotate_webhook_secret(
    repository_id: uuid.UUID, user: CurrentUser, session: DBSession, gitlab: GitLab, keyring: TokenKeyring
) -> GitLabConnectionRead:
    """A new webhook secret (registering the hook when it has none); the previous one keeps working for
    `AUTODEVOPS_GITLAB_WEBHOOK_SECRET_GRACE_S`."""
    return _connection_read(await service.rotate_webhook_secret(session, keyring, gitlab, user, repository_id))


@router.post("/repositories/{repository_id}/merge-request", response_model=MergeRequestRead)
async def open_merge_request(
    repository_id: uuid.UUID, user: CurrentUser, session: DBSession, gitlab: GitLab, keyring: TokenKeyring
) -> MergeRequestRead:
    mr = await service.open_merge_request(session, keyring, gitlab, user, repository_id)
    return MergeRequestRead.model_validate(mr)


@router.get("/repositories/{repository_id}/merge-requests", response_model=list[MergeRequestRead])
async def list_merge_requests(
    repository_id: uuid.UUID, user: CurrentUser, session: DBSession
) -> list[MergeRequestRead]:
    return [MergeRequestRead.model_validate(m) for m in await service.list_merge_requests(session, user, repository_id)]


# ---- webhooks ---------------------------------------------------------------------------------------------------


def _secret_matches(presented: str, expected: str | None) -> bool:
    return expected is not None and hmac.compare_digest(presented.encode(), expected.encode())


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
    WEBHOOK_PREFIX + "{repository_id}",
    response_model=GitLabWebhookAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(limit_webhooks_by_ip)],
)
async def receive_webhook(
    repository_id: uuid.UUID,
    request: Request,
    session: DBSession,
    settings: AppSettings,
    keyring: TokenKeyring,
    jobs: Jobs,
) -> GitLabWebhookAccepted:
    """Check the connection's secret (`X-Gitlab-Token`, constant time, the previous secret during its grace
    window), then read the bounded body, deduplicate, queue, answer. The work itself happens in jobs."""
    presented = request.headers.get("x-gitlab-token", "")
    if not presented or len(presented) > _MAX_SECRET:
        raise Unauthorized("missing or invalid X-Gitlab-Token")
    delivery = request.headers.get("idempotency-key") or request.headers.get("x-gitlab-event-uuid", "")
    event = request.headers.get("x-gitlab-event", "")
    if not _DELIVERY.match(delivery) or not event or len(event) > 100:
        raise AppError("missing or malformed Idempotency-Key / X-Gitlab-Event-UUID / X-Gitlab-Event", 400)

    organization_id = await session.scalar(select(func.app_gitlab_connection_organization(repository_id)))
    connection = None
    if organization_id is not None:
        await bind_tenant(session, organization_id=organization_id)
        connection = await session.get(GitLabConnection, repository_id)
    # One answer for an unknown connection and a wrong secret: nothing tells which connections exist.
    if connection is None or not _accepted(keyring, connection, presented):
        raise Unauthorized("missing or invalid X-Gitlab-Token")

    payload = parse_payload(await _read_body(request, settings.gitlab_webhook_max_bytes))
    # Recorded per connection: ids come from the sender, so one connection's cannot shadow another's.
    key = hashlib.sha256(f"{repository_id}:{delivery}".encode()).hexdigest()
    inserted = await session.execute(
        insert(GitLabWebhookDelivery)
        .values(delivery_id=key, event=event[:100], outcome="received", received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["delivery_id"])
        .returning(GitLabWebhookDelivery.delivery_id)
    )
    if inserted.scalar_one_or_none() is None:
        return GitLabWebhookAccepted(delivery=delivery, outcome="duplicate")
    outcome = await webhooks.dispatch(session, jobs, connection, event, payload)
    row = await session.get(GitLabWebhookDelivery, key)
    if row is not None:
        row.outcome = outcome[:100]
    return GitLabWebhookAccepted(delivery=delivery, outcome=outcome)


def _accepted(keyring: TokenKeyring, connection: GitLabConnection, presented: str) -> bool:
    try:
        current = sealed.unseal(keyring, connection, "webhook_secret")
        previous = sealed.unseal(keyring, connection, "previous_webhook_secret")
    except CryptoError:
        return False
    until = connection.previous_webhook_secret_until
    in_grace = until is not None and until > utcnow()
    # Both comparisons always run: the time taken does not tell which secret matched.
    matches_current = _secret_matches(presented, current)
    matches_previous = _secret_matches(presented, previous)
    return matches_current or (in_grace and matches_previous)
