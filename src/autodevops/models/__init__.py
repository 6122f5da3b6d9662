"""Every SQLAlchemy model of the platform, in one package because relationships cross domains.

Import models from here (`from autodevops.models import Repository`); Alembic reads `Base.metadata`.
"""

from __future__ import annotations

from autodevops.models.ai import AIReviewRecord, AIUsageDaily
from autodevops.models.analysis import Analysis, Pipeline
from autodevops.models.audit import AuditEvent
from autodevops.models.base import Base, utcnow
from autodevops.models.github import (
    CIDriftFinding,
    GitHubAccount,
    GitHubInstallation,
    GitHubPullRequest,
    GitHubRepositoryLink,
    GitHubWebhookDelivery,
    UserSessionState,
)
from autodevops.models.gitlab import GitLabAccount, GitLabConnection, GitLabMergeRequest, GitLabWebhookDelivery
from autodevops.models.invitation import OrganizationInvitation
from autodevops.models.job import Job
from autodevops.models.organization import ROLES, Organization, OrganizationMember, Role
from autodevops.models.repository import Repository
from autodevops.models.sso import SSOConnection, SSOIdentity
from autodevops.models.user import APIToken, LoginLink, User

__all__ = [
    "ROLES",
    "AIReviewRecord",
    "AIUsageDaily",
    "APIToken",
    "Analysis",
    "AuditEvent",
    "Base",
    "CIDriftFinding",
    "GitHubAccount",
    "GitHubInstallation",
    "GitHubPullRequest",
    "GitHubRepositoryLink",
    "GitHubWebhookDelivery",
    "GitLabAccount",
    "GitLabConnection",
    "GitLabMergeRequest",
    "GitLabWebhookDelivery",
    "Job",
    "LoginLink",
    "Organization",
    "OrganizationInvitation",
    "OrganizationMember",
    "Pipeline",
    "Repository",
    "Role",
    "SSOConnection",
    "SSOIdentity",
    "User",
    "UserSessionState",
    "utcnow",
]
