"""`OPTIONS` and 405 answers name exactly the methods the OpenAPI document declares for the path.

The assessment (schemathesis ST204/ST205): a path served by separate GET and POST routes answered a wrong
method with `Allow: POST` only, and `OPTIONS` with 405.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from autodevops.web import create_app
from platform_support import platform_settings

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(platform_settings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


def _declared() -> dict[str, set[str]]:
    schema = create_app(platform_settings()).openapi()
    zero = "00000000-0000-4000-8000-000000000000"
    paths: dict[str, set[str]] = {}
    for template, item in schema["paths"].items():
        concrete = template
        for name in [part[1:-1] for part in template.split("/") if part.startswith("{")]:
            concrete = concrete.replace("{" + name + "}", zero)
        paths[concrete] = {method.upper() for method in item if method in HTTP_METHODS}
    return paths


DECLARED = _declared()


def _allow(response: httpx.Response) -> set[str]:
    return {method.strip() for method in response.headers["allow"].split(",")} - {"HEAD", "OPTIONS"}


@pytest.mark.parametrize("path", sorted(DECLARED))
async def test_options_lists_the_declared_methods(client: httpx.AsyncClient, path: str) -> None:
    response = await client.options(path)
    assert response.status_code == 204
    assert _allow(response) == DECLARED[path]
    assert "OPTIONS" in response.headers["allow"]


async def test_an_undeclared_method_is_a_405_naming_every_declared_one(client: httpx.AsyncClient) -> None:
    path = "/api/v1/tokens"  # GET (list) and POST (create) are two routes
    assert DECLARED[path] == {"GET", "POST"}
    response = await client.patch(path)
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert _allow(response) == {"GET", "POST"}


async def test_an_unknown_path_is_still_a_404(client: httpx.AsyncClient) -> None:
    assert (await client.options("/api/v1/no-such-thing")).status_code == 404
