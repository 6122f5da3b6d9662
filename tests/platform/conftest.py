"""Fixtures for the platform-core tests: two tenants, each with a repository, an analysis, a pipeline, a job,
a single sign-on connection with one linked identity, and a connected GitLab project with a merge request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from autodevops.db import Database, tenant_session
from autodevops.invitation import service as invitation_service
from autodevops.models import (
    Analysis,
    GitLabConnection,
    GitLabMergeRequest,
    Job,
    Pipeline,
    Repository,
    SSOConnection,
    SSOIdentity,
)

# A public address literal: connecting needs no DNS, and tests never contact it.
PUBLIC_GIT_URL = "https://140.82.112.3/acme/widgets.git"


@dataclass
class Seeded:
    tenant: Any  # tests/conftest.py's Tenant
    repository_id: uuid.UUID
    analysis_id: uuid.UUID
    pipeline_id: uuid.UUID
    job_id: uuid.UUID


async def seed_tenant(database: Database, tenant: Any) -> Seeded:
    """A repository with one analysis, one pipeline and one job, written as the tenant's owner (RLS on)."""
    user_id = tenant.user_id
    org_id = tenant.organization_id
    async with tenant_session(database, user_id=user_id) as session:
        repository = Repository(
            organization_id=org_id, name="widgets", source="git", clone_url=f"{PUBLIC_GIT_URL}?{org_id}"
        )
        session.add(repository)
        await session.flush()
        job = Job(organization_id=org_id, queue="analysis", name="analysis.run", payload={})
        session.add(job)
        await session.flush()
        analysis = Analysis(
            organization_id=org_id, repository_id=repository.id, status="succeeded", result={"stacks": []}
        )
        session.add(analysis)
        await session.flush()
        pipeline = Pipeline(organization_id=org_id, repository_id=repository.id, analysis_id=analysis.id, files=[])
        session.add(pipeline)
        await session.flush()
        await invitation_service.invite(session, tenant.user, org_id, f"invitee-{org_id.hex[:8]}@example.com", "member")
        session.add(
            SSOConnection(
                organization_id=org_id,
                slug=f"org-{org_id.hex[:12]}",
                issuer="https://idp.example",
                client_id="client",
                client_secret_enc="not-decrypted-here",
                allowed_domains=["example.com"],
                jit_provisioning=True,
                default_role="member",
            )
        )
        gitlab = Repository(
            organization_id=org_id, name="api", source="gitlab", clone_url=f"https://gitlab.com/acme/api.git?{org_id}"
        )
        session.add(gitlab)
        await session.flush()
        session.add(
            GitLabConnection(
                repository_id=gitlab.id,
                organization_id=org_id,
                instance_url="https://gitlab.com",
                project_id=42,
                full_path="acme/api",
                token_enc="not-decrypted-here",
            )
        )
        session.add(
            GitLabMergeRequest(
                organization_id=org_id,
                repository_id=gitlab.id,
                iid=1,
                url="https://gitlab.com/acme/api/-/merge_requests/1",
                source_branch="autodevops/ci",
                head_sha="c" * 40,
            )
        )
        session.add(
            SSOIdentity(
                organization_id=org_id,
                user_id=user_id,
                issuer="https://idp.example",
                subject=str(user_id),
                email="x@y.z",
            )
        )
        await session.flush()
    return Seeded(tenant, repository.id, analysis.id, pipeline.id, job.id)


@pytest.fixture
async def two_tenants(make_tenant: Any, database: Database) -> tuple[Seeded, Seeded]:
    """Tenants A and B, strangers to each other, each with seeded rows."""
    a = await seed_tenant(database, await make_tenant(organization="A"))
    b = await seed_tenant(database, await make_tenant(organization="B"))
    return a, b
