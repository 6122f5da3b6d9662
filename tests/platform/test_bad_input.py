"""Bad input gets a clear 4xx with the JSON error shape, never a 5xx and never a silent success."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from autodevops.errors import ValidationFailed
from autodevops.repository.git_url import is_public_address, validate_git_url


def assert_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == error
    assert body["detail"]
    return body


async def test_malformed_json_is_422(api_client: httpx.AsyncClient, make_tenant: Any) -> None:
    tenant = await make_tenant()
    response = await api_client.post(
        "/api/v1/organizations",
        content=b'{"name": "Acme",',
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/organizations", {"name": 42}, "name"),
        ("/api/v1/organizations", {"name": ""}, "name"),
        ("/api/v1/organizations", {"name": "a" * 101}, "name"),
        # The documented maxLength counts the text as sent: padding does not slip past it before trimming.
        ("/api/v1/organizations", {"name": " " + "a" * 100}, "name"),
        ("/api/v1/tokens", {"name": " \U0009fa85" + "*" * 99}, "name"),
        ("/api/v1/organizations", {"name": "tab\there"}, "name"),
        ("/api/v1/organizations", {"name": "Acme", "owner_id": "x"}, "owner_id"),
        ("/api/v1/tokens", {"name": "ci", "expires_in_days": "soon"}, "expires_in_days"),
        ("/api/v1/tokens", {"name": "ci", "expires_in_days": 0}, "expires_in_days"),
        # JSON true is not the number 1 (lax parsing would have made a token expiring in a day)
        ("/api/v1/tokens", {"name": "ci", "expires_in_days": True}, "expires_in_days"),
        (
            "/api/v1/repositories",
            {"organization_id": "not-a-uuid", "url": "https://140.82.112.3/a/b"},
            "organization_id",
        ),
        ("/api/v1/repositories", {"organization_id": "{org}", "url": ["https://140.82.112.3/a/b"]}, "url"),
        (
            "/api/v1/repositories",
            {"organization_id": "{org}", "url": "https://140.82.112.3/a/b", "token": "x"},
            "token",
        ),
        (
            "/api/v1/repositories",
            {"organization_id": "{org}", "url": "https://140.82.112.3/a/b", "default_branch": "a..b"},
            "default_branch",
        ),
        # A branch that git would read as an option (`--upload-pack=...`, `-x`).
        (
            "/api/v1/repositories",
            {"organization_id": "{org}", "url": "https://140.82.112.3/a/b", "default_branch": "--upload-pack=id"},
            "default_branch",
        ),
        (
            "/api/v1/repositories",
            {"organization_id": "{org}", "url": "https://140.82.112.3/a/b", "default_branch": "-x"},
            "default_branch",
        ),
    ],
)
async def test_wrong_types_and_unknown_fields_are_422(
    api_client: httpx.AsyncClient, make_tenant: Any, path: str, body: dict[str, Any], field: str
) -> None:
    tenant = await make_tenant()
    body = {k: (str(tenant.organization_id) if v == "{org}" else v) for k, v in body.items()}
    response = await api_client.post(path, json=body, headers=tenant.headers)
    detail = assert_error(response, 422, "validation_error")["detail"]
    assert any(field in map(str, item["loc"]) for item in detail), detail


async def test_a_trimmed_name_within_the_limit_is_stored_trimmed(
    api_client: httpx.AsyncClient, make_tenant: Any
) -> None:
    tenant = await make_tenant()
    response = await api_client.post("/api/v1/tokens", json={"name": "  deploy  "}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "deploy"


async def test_invitation_input_is_validated(api_client: httpx.AsyncClient, make_tenant: Any) -> None:
    tenant = await make_tenant()
    url = f"/api/v1/organizations/{tenant.organization_id}/invitations"
    for body in ({"role": "member"}, {"email": "not-an-address"}, {"email": "a@example.com", "role": "superuser"}):
        assert_error(await api_client.post(url, json=body, headers=tenant.headers), 422, "validation_error")


@pytest.mark.parametrize(
    ("params", "field"), [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"offset": -1}, "offset")]
)
async def test_pagination_bounds(
    api_client: httpx.AsyncClient, make_tenant: Any, params: dict[str, int], field: str
) -> None:
    tenant = await make_tenant()
    response = await api_client.get("/api/v1/repositories", params=params, headers=tenant.headers)
    assert_error(response, 422, "validation_error")


async def test_bad_path_id_is_422(api_client: httpx.AsyncClient, make_tenant: Any) -> None:
    tenant = await make_tenant()
    assert_error(await api_client.get("/api/v1/repositories/123", headers=tenant.headers), 422, "validation_error")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwdw=="},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer adt_" + "A" * 43},
    ],
    ids=["none", "empty", "basic", "junk", "unknown"],
)
async def test_missing_or_bad_credentials_are_401(api_client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await api_client.get("/api/v1/organizations", headers=headers)
    assert_error(response, 401, "unauthorized")


# ---- repository URLs (server-side request forgery) ------------------------------------------------------------

SSRF_URLS = {
    "http": ("http://140.82.112.3/a/b.git", "https"),
    "credentials": ("https://user:pw@140.82.112.3/a/b.git", "credentials"),
    "token-only": ("https://ghp_secret@140.82.112.3/a/b.git", "credentials"),
    "loopback-v4": ("https://127.0.0.1/x", "public"),
    "loopback-v6": ("https://[::1]/x", "public"),
    "metadata": ("https://169.254.169.254/", "public"),
    "private-10": ("https://10.0.0.1/x", "public"),
    "private-192": ("https://192.168.1.10/x", "public"),
    "cgnat": ("https://100.64.0.1/x", "public"),
    "unspecified": ("https://0.0.0.0/x", "public"),
    "mapped-v6": ("https://[::ffff:127.0.0.1]/x", "public"),
    "unique-local-v6": ("https://[fd00::1]/x", "public"),
    "localhost-name": ("https://localhost/x", "public"),
    "decimal-v4": ("https://2130706433/x", "public"),
    "hex-v4": ("https://0x7f000001/x", "public"),
    "octal-v4": ("https://0177.0.0.1/x", "public"),
    "short-v4": ("https://127.1/x", "public"),
    "file": ("file:///etc/passwd", "https"),
    "ssh": ("ssh://git@140.82.112.3/a/b.git", "https"),
    "scp-like": ("git@github.com:a/b.git", "https"),
    "no-path": ("https://140.82.112.3", "path"),
    "query": ("https://140.82.112.3/a/b?x=1", "query"),
    "bad-port": ("https://140.82.112.3:99999/a/b", "invalid"),
    "whitespace": ("https://140.82.112.3/a b", "whitespace"),
}


@pytest.mark.parametrize(("url", "reason"), SSRF_URLS.values(), ids=SSRF_URLS.keys())
async def test_unsafe_repository_urls_are_rejected(
    api_client: httpx.AsyncClient, make_tenant: Any, url: str, reason: str
) -> None:
    tenant = await make_tenant()
    response = await api_client.post(
        "/api/v1/repositories",
        json={"organization_id": str(tenant.organization_id), "url": url},
        headers=tenant.headers,
    )
    body = assert_error(response, 422, "validation_error")
    assert reason in body["detail"]
    assert "ghp_secret" not in body["detail"]  # credentials are not echoed
    assert ":pw@" not in body["detail"]
    listing = await api_client.get("/api/v1/repositories", headers=tenant.headers)
    assert listing.json()["items"] == []


async def test_public_https_url_is_accepted_and_normalized(api_client: httpx.AsyncClient, make_tenant: Any) -> None:
    tenant = await make_tenant()
    response = await api_client.post(
        "/api/v1/repositories",
        json={"organization_id": str(tenant.organization_id), "url": "HTTPS://140.82.112.3/Acme/Widgets.git/"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["clone_url"] == "https://140.82.112.3/Acme/Widgets.git"
    assert response.json()["name"] == "Widgets"
    again = await api_client.post(
        "/api/v1/repositories",
        json={"organization_id": str(tenant.organization_id), "url": "https://140.82.112.3/Acme/Widgets.git"},
        headers=tenant.headers,
    )
    assert_error(again, 409, "conflict")


async def test_insecure_setting_allows_http_and_listed_private_servers_only(
    make_api_client: Any, make_tenant: Any
) -> None:
    client = await make_api_client(allow_insecure_git_urls=True, git_private_servers=["127.0.0.1:8080"])
    tenant = await make_tenant()

    async def connect(url: str) -> httpx.Response:
        return await client.post(
            "/api/v1/repositories",
            json={"organization_id": str(tenant.organization_id), "url": url},
            headers=tenant.headers,
        )

    assert (await connect("http://127.0.0.1:8080/a/b.git")).status_code == 201
    # Allowing http:// does not open loopback: only the listed address and port are.
    for url in ("https://localhost/x/y", "http://127.0.0.1:8081/a/b.git", "http://169.254.169.254:8080/a/b"):
        response = await connect(url)
        assert_error(response, 422, "validation_error")
        assert "is not a public address" in response.text
    # Credentials stay refused even then.
    assert_error(await connect("http://u:p@127.0.0.1:8080/a/b"), 422, "validation_error")


async def test_every_resolved_address_must_be_public() -> None:
    # `localhost` resolves (through /etc/hosts, no network) to loopback addresses only.
    with pytest.raises(ValidationFailed, match="not a public address"):
        await validate_git_url("https://localhost/a/b")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("140.82.112.3", True),
        ("2606:4700::1111", True),
        ("127.0.0.2", False),
        ("::ffff:10.0.0.1", False),
        ("fe80::1", False),
        ("224.0.0.1", False),
        ("198.18.0.1", False),
        ("240.0.0.1", False),
        # Private IPv4 addresses tunnelled in IPv6 forms that Python's `is_global` calls global.
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", False),  # 6to4 of 169.254.169.254
        ("2001:0:7f00:1::", False),  # Teredo
        ("::7f00:1", False),  # IPv4-compatible ::127.0.0.1
        ("::ffff:0:a00:1", False),  # IPv4-translated ::ffff:0:10.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("64:ff9b:1::8c52:7003", False),  # local-use NAT64: whatever the network's translator reaches
        ("fec0::1", False),  # site-local
        ("192.88.99.1", False),  # 6to4 relay anycast
        ("64:ff9b::8c52:7003", True),  # NAT64 of a public address: how IPv6-only networks reach GitHub
    ],
)
def test_public_address_classification(address: str, public: bool) -> None:
    import ipaddress

    assert is_public_address(ipaddress.ip_address(address)) is public
