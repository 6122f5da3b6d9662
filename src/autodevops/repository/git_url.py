"""Validation of user-supplied URLs the platform fetches, its main server-side request forgery surface: git
URLs, and identity providers' issuer URLs and endpoints (`validate_public_url`).

A repository URL is later fetched by a worker, from inside the platform's network. So it must be `https://`,
carry no credentials, and point at a public host: the host is resolved and **every** address it resolves to
must be globally routable (no loopback, private, link-local — cloud metadata lives at 169.254.169.254 —,
shared, multicast, reserved or unspecified address, nor one of those tunnelled inside an IPv6 address:
IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo). Two settings widen this, never the credentials rule:
`AUTODEVOPS_ALLOW_INSECURE_GIT_URLS` also accepts `http://` (refused in production), and
`AUTODEVOPS_GIT_PRIVATE_SERVERS` lists the exact `ADDRESS:PORT` of internal git servers that may be private.

The check runs twice: when a repository is connected (`validate_git_url`), and right before **every** git
command that touches the network (`pin_git_url`), because DNS can change in between (rebinding). The second
check also pins the addresses it approved into that git command (`http.curloptResolve`), forbids redirects
and every transport but http(s), so git can only ever connect where the check just looked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from autodevops.engine.clone import NetworkGuard
from autodevops.engine.git import GitNetwork
from autodevops.engine.source import SourceError
from autodevops.errors import ValidationFailed

if TYPE_CHECKING:
    from autodevops.config import Settings

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT_S = 5.0
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> every address the host resolves to. Production resolves with the system resolver; the seam
# lets a test play a DNS server whose answer changes between two lookups (rebinding).
Resolver = Callable[[str, int], list[IPAddress]]

# IPv6 ranges that carry (or route to) an IPv4 address, or are not meant for the public internet, although
# Python's `ipaddress` calls some of them global. Every one is refused outright...
_REFUSED_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "::/96",  # IPv4-compatible (deprecated): ::127.0.0.1
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT): ::ffff:0:127.0.0.1
        "64:ff9b:1::/48",  # NAT64 for local use: any network's own translator
        "2001::/32",  # Teredo: an IPv4 server and client are encoded in it
        "2002::/16",  # 6to4: 2002:7f00:0001:: routes to 127.0.0.1
        "fec0::/10",  # site-local (deprecated, still private in practice)
    )
)
# ...but the well-known NAT64 prefix is how an IPv6-only network reaches public IPv4 hosts, so its embedded
# address decides, as for IPv4-mapped addresses.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_REFUSED_V4 = (ipaddress.IPv4Network("192.88.99.0/24"),)  # the 6to4 relay anycast range


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


@dataclass(frozen=True, slots=True)
class GitURLPolicy:
    """What the deployment allows (from settings): `http://`, and the internal servers that may be private."""

    allow_insecure: bool = False
    private_servers: tuple[tuple[IPNetwork, int], ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> GitURLPolicy:
        servers = tuple(parse_private_server(entry) for entry in settings.git_private_servers)
        return cls(settings.allow_insecure_git_urls, servers)

    @property
    def schemes(self) -> tuple[str, ...]:
        """The URL schemes (and so git transports) allowed."""
        return ("https", "http") if self.allow_insecure else ("https",)

    def allows_private(self, address: IPAddress, port: int) -> bool:
        return any(address in network and port == allowed for network, allowed in self.private_servers)


def parse_private_server(entry: str) -> tuple[IPNetwork, int]:
    """`ADDRESS:PORT`, `CIDR:PORT` or `[IPv6]:PORT` -> (network, port). `ValueError` with the reason."""
    host, sep, port = entry.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{entry!r}: expected ADDRESS:PORT, e.g. 10.0.0.5:3000 or [fd00::5]:443")
    try:
        network = ipaddress.ip_network(host.removeprefix("[").removesuffix("]"), strict=False)
    except ValueError as error:
        raise ValueError(f"{entry!r}: {error}") from None
    return network, int(port)


def _reject(reason: str, what: str = "repository URL") -> ValidationFailed:
    return ValidationFailed(f"invalid {what}: {reason}")


def is_public_address(address: IPAddress) -> bool:
    """Whether `address` is globally routable, looking inside the IPv6 forms that wrap an IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public_address(address.ipv4_mapped)
        if address in _NAT64:
            return is_public_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if any(address in network for network in _REFUSED_V6):
            return False
    elif any(address in network for network in _REFUSED_V4):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, by the system resolver. `OSError` when it does not resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # sockaddr[0] is the address; an IPv6 scope ("fe80::1%eth0") is cut off before parsing.
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos))


@dataclass(frozen=True, slots=True)
class _Parsed:
    url: GitURL
    scheme: str
    port: int
    path: str
    query: str
    literal: IPAddress | None
    valid_path: bool
    what: str


def _parse(raw: str, policy: GitURLPolicy, *, what: str = "repository URL", allow_query: bool = False) -> _Parsed:
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
    if scheme not in policy.schemes:
        raise _reject(
            "only http(s):// URLs are accepted" if policy.allow_insecure else "only https:// URLs are accepted", what
        )
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise _reject("credentials in the URL are not accepted", what)
    if (parts.query and not allow_query) or parts.fragment:
        raise _reject("a query string or fragment is not accepted", what)
    host = (parts.hostname or "").lower()
    if not host:
        raise _reject("no host", what)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
        _check_hostname(host, what)
    path = parts.path.rstrip("/")
    segments = [segment for segment in path.split("/") if segment]
    name = segments[-1].removesuffix(".git") or segments[-1] if segments else ""
    git_url = GitURL(url=urlunsplit((scheme, parts.netloc.lower(), path, "", "")), host=host, name=name[:200])
    # The path is judged after the host (`_check_path`): an internal host is named as such whatever the path.
    valid_path = bool(segments) and not any(segment in (".", "..") for segment in segments)
    port = port or (443 if scheme == "https" else 80)
    return _Parsed(git_url, scheme, port, path, parts.query, literal, valid_path, what)


def _check_path(parsed: _Parsed) -> None:
    if not parsed.valid_path:
        raise _reject("the path must name a repository")


def _check_hostname(host: str, what: str) -> None:
    labels = host.rstrip(".").split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise _reject(f"{host!r} is not a valid host name", what)


def _check_addresses(parsed: _Parsed, addresses: list[IPAddress], policy: GitURLPolicy) -> None:
    if not addresses:
        raise _reject(f"host {parsed.url.host!r} does not resolve", parsed.what)
    for address in addresses:
        if not is_public_address(address) and not policy.allows_private(address, parsed.port):
            # The address is named only when the user wrote it: a resolved internal address stays unsaid.
            shown = f" ({address})" if parsed.literal is not None else ""
            raise _reject(f"host {parsed.url.host!r} is not a public address{shown}", parsed.what)


def _resolve(parsed: _Parsed, resolver: Resolver) -> list[IPAddress]:
    if parsed.literal is not None:
        return [parsed.literal]
    try:
        return resolver(parsed.url.host, parsed.port)
    except (OSError, UnicodeError) as error:
        raise _reject(f"host {parsed.url.host!r} does not resolve", parsed.what) from error


async def _resolve_async(parsed: _Parsed, resolver: Resolver) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            return await loop.run_in_executor(None, _resolve, parsed, resolver)
    except TimeoutError as error:
        raise _reject(f"host {parsed.url.host!r} does not resolve", parsed.what) from error


async def validate_git_url(
    raw: str, *, policy: GitURLPolicy | None = None, resolver: Resolver = system_resolver
) -> GitURL:
    """Parse and check a repository URL (see the module docstring). Raises `ValidationFailed` with the reason."""
    policy = policy or GitURLPolicy()
    parsed = _parse(raw, policy)
    _check_addresses(parsed, await _resolve_async(parsed, resolver), policy)
    _check_path(parsed)
    return parsed.url


async def validate_public_url(
    raw: str,
    *,
    policy: GitURLPolicy,
    what: str = "URL",
    allow_query: bool = False,
    resolver: Resolver = system_resolver,
) -> PublicURL:
    """Check a URL the platform will fetch from inside its network (an identity provider's) by the rules of git
    URLs: the policy's schemes, no credentials, a valid host whose every address is public or one of the
    policy's private servers. `what` names the URL in the error. The addresses approved are returned so the
    caller can connect to exactly those."""
    parsed = _parse(raw, policy, what=what, allow_query=allow_query)
    addresses = await _resolve_async(parsed, resolver)
    _check_addresses(parsed, addresses, policy)
    url = urlunsplit((parsed.scheme, urlsplit(raw.strip()).netloc.lower(), parsed.path, parsed.query, ""))
    return PublicURL(url, parsed.scheme, parsed.url.host, parsed.port, parsed.path, tuple(addresses))


def pin_git_url(raw: str, policy: GitURLPolicy, *, resolver: Resolver = system_resolver) -> GitNetwork:
    """Check `raw` again, right before a git command, and return how that command may use the network.

    The returned `GitNetwork` pins the host to the addresses just approved, forbids redirects, and allows
    https (and http where insecure URLs are allowed) as the only transports. `ValidationFailed` otherwise.
    """
    parsed = _parse(raw, policy)
    addresses = _resolve(parsed, resolver)
    _check_addresses(parsed, addresses, policy)
    _check_path(parsed)
    host = parsed.url.host
    pinned = ",".join(f"[{a}]" if a.version == 6 else str(a) for a in addresses)
    return GitNetwork(
        protocols=policy.schemes,
        resolve=(f"{host.strip('[]')}:{parsed.port}:{pinned}",) if parsed.literal is None else (),
    )


def network_guard(policy: GitURLPolicy, *, resolver: Resolver = system_resolver) -> NetworkGuard:
    """`pin_git_url` as the engine's guard: a refused URL is a permanent `SourceError` (retrying cannot help)."""

    def guard(url: str) -> GitNetwork:
        try:
            return pin_git_url(url, policy, resolver=resolver)
        except ValidationFailed as error:
            raise SourceError(f"{url}: {error.message}", permanent=True) from None

    return guard
