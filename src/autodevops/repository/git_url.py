"""Validation of user-supplied URLs the platform fetches: git URLs, and identity providers' issuer URLs and
endpoints (`validate_public_url`). Its main server-side request forgery surface.

A repository URL is later fetched by a worker, from inside the platform's network. So it must be `https://`,
carry no credentials, and point at a public host: the host is resolved and **every** address it resolves to
must be globally routable (no loopback, private, link-local — cloud metadata lives at 169.254.169.254 —,
shared, multicast, reserved or unspecified address, also when written as an IPv4-mapped IPv6 address).
`AUTODEVOPS_ALLOW_INSECURE_GIT_URLS` lifts the scheme and address rules (never the credentials rule) for
development and tests; it is refused in production.

DNS can change between this check and the clone (rebinding), so the code that fetches a URL must call
`validate_git_url` again right before connecting. The identity-provider client (`sso.provider`) checks every
request's URL with `validate_public_url` and connects to the addresses that check approved.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from autodevops.errors import ValidationFailed

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT_S = 5.0
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class GitURL:
    url: str  # normalized: lower-case scheme and host, no trailing slash
    host: str
    name: str  # the repository name: the last path segment without `.git`


@dataclass(frozen=True, slots=True)
class PublicURL:
    """A URL that passed the checks, with the addresses its host resolved to at that moment (empty when the
    insecure setting skipped the address rule). A client that connects to one of `addresses` connects where
    the check looked, whatever DNS answers next."""

    url: str  # normalized: lower-case scheme and host, no trailing slash
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[IPAddress, ...]


def _reject(reason: str, what: str = "repository URL") -> ValidationFailed:
    return ValidationFailed(f"invalid {what}: {reason}")


def is_public_address(address: IPAddress) -> bool:
    """Whether `address` is globally routable (the unwrapped IPv4 address for IPv4-mapped IPv6)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


async def resolve(host: str, port: int, what: str = "repository URL") -> list[IPAddress]:
    """Every address `host` resolves to. `ValidationFailed` when it does not resolve."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as error:
        raise _reject(f"host {host!r} does not resolve", what) from error
    # sockaddr[0] is the address; an IPv6 scope ("fe80::1%eth0") is cut off before parsing.
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _check_hostname(host: str, what: str) -> None:
    labels = host.rstrip(".").split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise _reject(f"{host!r} is not a valid host name", what)


async def validate_public_url(
    raw: str, *, allow_insecure: bool = False, what: str = "URL", allow_query: bool = False
) -> PublicURL:
    """Check a URL the platform will fetch from inside its network (see the module docstring): `https://`
    (or `http://` when insecure URLs are allowed), no credentials, a valid host whose every address is public.
    `what` names the URL in the error (`ValidationFailed`, with the reason)."""
    value = raw.strip()
    if not value or len(value) > MAX_URL_LENGTH:
        raise _reject(f"must be 1 to {MAX_URL_LENGTH} characters", what)
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        raise _reject("contains whitespace or control characters", what)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as error:
        raise _reject(str(error), what) from error
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if allow_insecure else ("https",)
    if scheme not in allowed:
        raise _reject(
            "only https:// URLs are accepted" if not allow_insecure else "only http(s):// URLs are accepted", what
        )
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise _reject("credentials in the URL are not accepted", what)
    if (parts.query and not allow_query) or parts.fragment:
        raise _reject("a query string or fragment is not accepted", what)
    host = (parts.hostname or "").lower()
    if not host:
        raise _reject("no host", what)

    try:
        literal: IPAddress | None = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        literal = None
        _check_hostname(host, what)
    port = port or (443 if scheme == "https" else 80)
    addresses: list[IPAddress] = []
    if not allow_insecure:
        addresses = [literal] if literal is not None else await resolve(host, port, what)
        for address in addresses:
            if not is_public_address(address):
                raise _reject(f"host {host!r} is not a public address ({address})", what)

    path = parts.path.rstrip("/")
    url = urlunsplit((scheme, parts.netloc.lower(), path, parts.query, ""))
    return PublicURL(url=url, scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))


async def validate_git_url(raw: str, *, allow_insecure: bool = False) -> GitURL:
    """Parse and check a repository URL (see the module docstring). Raises `ValidationFailed` with the reason."""
    checked = await validate_public_url(raw, allow_insecure=allow_insecure, what="repository URL")
    segments = [segment for segment in checked.path.split("/") if segment]
    if not segments or any(segment in (".", "..") for segment in segments):
        raise _reject("the path must name a repository")
    name = segments[-1].removesuffix(".git") or segments[-1]
    return GitURL(url=checked.url, host=checked.host, name=name[:200])
