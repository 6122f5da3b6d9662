"""API shapes of an organization's single sign-on configuration. The client secret goes in, never out."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, SecretStr, StringConstraints

from autodevops.schemas import Input

# Paths under /auth/sso/ that are routes, not organizations.
RESERVED_SLUGS = frozenset({"callback", "start", "login", "logout"})
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_DOMAINS = 50


def normalize_slug(value: str) -> str:
    """Lower-case letters, digits and inner hyphens, 1 to 63 characters; not a route's name."""
    slug = value.strip().lower()
    if not _SLUG.match(slug):
        raise ValueError("use 1 to 63 lower-case letters, digits and hyphens (not at either end)")
    if slug in RESERVED_SLUGS:
        raise ValueError(f"{slug!r} is reserved; choose another sign-in name")
    return slug


def normalize_domain(value: str) -> str:
    """A DNS name with at least two labels, lower-cased, without a trailing dot or wildcard."""
    domain = value.strip().lower().rstrip(".")
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{value!r} is not a domain name (example.com)")
    return domain


def _split_domains(value: object) -> object:
    # The dashboard's form sends one text field: "example.com, example.org".
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,]+", value) if part]
    return value


def _unique_domains(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" for c in word)


# `normalize_slug` and `normalize_domain` as JSON Schema patterns (values are trimmed and lower-cased first).
_ALNUM = "[a-zA-Z0-9]"
_LABEL_PATTERN = f"{_ALNUM}(?:[a-zA-Z0-9-]{{0,61}}{_ALNUM})?"
SLUG_PATTERN = (
    "^\\s*(?!(?:" + "|".join(_any_case(word) for word in sorted(RESERVED_SLUGS)) + f")\\s*$){_LABEL_PATTERN}\\s*$"
)
DOMAIN_PATTERN = f"^\\s*(?:{_LABEL_PATTERN}\\.)+{_LABEL_PATTERN}\\.?\\s*$"

Slug = Annotated[
    str,
    AfterValidator(normalize_slug),
    Field(
        description="1 to 63 letters, digits and inner hyphens (lower-cased); not callback, start, login, logout.",
        json_schema_extra={"pattern": SLUG_PATTERN},
    ),
]
Domain = Annotated[
    str,
    AfterValidator(normalize_domain),
    Field(
        description="A DNS name with at least two labels (example.com), no wildcard.",
        max_length=253,
        json_schema_extra={"pattern": DOMAIN_PATTERN},
    ),
]
Domains = Annotated[
    list[Domain],
    BeforeValidator(_split_domains),
    Field(min_length=1, max_length=MAX_DOMAINS),
    AfterValidator(_unique_domains),
]
IssuerURL = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=2048)]
ClientID = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
DefaultRole = Literal["member", "admin"]


class SSOConnectionWrite(Input):
    """Create or replace the organization's OpenID Connect connection (owners only)."""

    slug: Slug = Field(description="The organization's sign-in name on the sign-in page (e.g. `acme`).")
    issuer: IssuerURL = Field(description="The provider's issuer URL, exactly as its discovery document names it.")
    client_id: ClientID
    client_secret: SecretStr | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="Required when creating; omit to keep the stored secret. Never returned.",
    )
    allowed_domains: Domains = Field(
        description="Email domains whose verified addresses may sign in (at least one; e.g. `example.com`)."
    )
    jit_provisioning: bool = Field(
        default=True, description="Create accounts and memberships at first sign-in (just-in-time)."
    )
    default_role: DefaultRole = Field(default="member", description="The role of members added at sign-in.")
    enforced: bool = Field(
        default=False,
        description="Require single sign-on: members reach the organization only from a session of its provider. "
        "Turning it on needs such a session, so you know the provider works.",
    )
    allow_personal_tokens: bool = Field(
        default=False, description="With enforcement, members' personal API tokens keep working."
    )


class SSOConnectionRead(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    slug: str
    issuer: str
    client_id: str
    client_secret_set: bool = Field(description="A secret is stored (it is never returned).")
    allowed_domains: list[str]
    jit_provisioning: bool
    default_role: DefaultRole
    enforced: bool
    allow_personal_tokens: bool
    redirect_uri: str = Field(description="Register this redirect URI with the identity provider.")
    sign_in_url: str = Field(description="Where members start signing in.")
    created_at: datetime
    updated_at: datetime


class SignInStart(Input):
    """The sign-in page's form."""

    identifier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)] = Field(
        description="A work email address or the organization's sign-in name."
    )
    next: str | None = Field(default=None, max_length=2000)
