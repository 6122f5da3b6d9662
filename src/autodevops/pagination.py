"""Offset pagination shared by every list endpoint: `?limit=&offset=`, bounded, with a `next_offset` cursor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
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


def page_params(
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
