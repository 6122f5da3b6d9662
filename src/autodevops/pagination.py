"""Offset pagination shared by every list endpoint: `?limit=&offset=`, bounded, with a `next_offset` cursor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Response
from pydantic import BaseModel, ConfigDict

T = TypeVar("T")

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
# Deep offsets scan and discard every skipped row; past this, narrow the query with filters instead.
MAX_OFFSET = 10_000


class PageParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    limit: int = DEFAULT_LIMIT
    offset: int = 0


# `async` on purpose: FastAPI runs a plain `def` dependency in a worker thread, a thread hop on every list request.
async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Pagination = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    """One page of a list. `next_offset` is null on the last page."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


def to_page(rows: Sequence[Any], params: PageParams, read: Callable[[Any], T]) -> Page[T]:
    """A `Page` from rows fetched with `limit + 1` (the extra row only tells whether there is a next page)."""
    more = len(rows) > params.limit
    return Page(
        items=[read(row) for row in rows[: params.limit]],
        limit=params.limit,
        offset=params.offset,
        next_offset=params.offset + params.limit if more else None,
    )


@lru_cache(maxsize=64)
def _page_model(item: type[BaseModel]) -> type[Page[Any]]:
    # Parametrising a generic model is a lookup in pydantic's cache; per list type it is done once here.
    return Page[item]  # type: ignore[valid-type]


def page_response(rows: Sequence[Any], params: PageParams, item: type[BaseModel]) -> Response:
    """The JSON response of `to_page(rows, params, item.model_validate)`, built in one pass.

    `rows` are dicts of the item's fields, or objects read by attribute (ORM objects, result rows). The
    page is validated and serialised by pydantic in one call each, and the route returns a ready `Response`,
    so FastAPI does not validate and serialise the page a second time; declare the page type with the
    route's `response_model` for the OpenAPI schema.
    """
    more = len(rows) > params.limit
    page = _page_model(item).model_validate(
        {
            "items": rows[: params.limit],
            "limit": params.limit,
            "offset": params.offset,
            "next_offset": params.offset + params.limit if more else None,
        },
        from_attributes=True,
    )
    return Response(page.model_dump_json(), media_type="application/json")
