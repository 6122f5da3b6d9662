"""Who reaches an organization that requires single sign-on, and the error that says how to get in.

The same rule is applied twice: by `app_organization_ids()` in PostgreSQL (every row-level security policy,
so every data path) and by `organization.service.get_membership` (the one place the services decide access).
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

from autodevops.db import TenantContext
from autodevops.errors import Forbidden

SIGN_IN_PATH = "/auth/sso"


class SSORequired(Forbidden):
    """The user is a member, but this organization accepts only sessions from its identity provider."""

    error = "sso_required"

    def __init__(self, organization_name: str, slug: str) -> None:
        self.slug = slug
        self.sign_in_path = sign_in_page(slug)
        super().__init__(
            f"{organization_name} requires single sign-on: sign in through its identity provider at {self.sign_in_path}"
        )


def sign_in_page(slug: str, next_path: str | None = None) -> str:
    """The sign-in page, preset to one organization."""
    path = f"{SIGN_IN_PATH}?organization={quote(slug)}"
    return f"{path}&next={quote(next_path, safe='/')}" if next_path else path


def reaches(organization_id: uuid.UUID, context: TenantContext, *, enforced: bool, allow_personal_tokens: bool) -> bool:
    """Whether a member authenticated as `context` says may use the organization."""
    if not enforced:
        return True
    if context.sso_organization_id == organization_id:
        return True
    return context.via_token and allow_personal_tokens
