"""Bounds on the size of an analysis result.

A small repository can name a huge number of things (100,000 identical Dockerfiles fit in 168 KB), and a result
that lists them all is megabytes in the database, the API and every page that shows it. `bound_lists` keeps the
first `MAX_LIST_ITEMS` entries of every list in the result, at any depth, and says what it left out: one
`result-truncated` finding per list, with the number of entries omitted.
"""

from __future__ import annotations

from pydantic import BaseModel

from autodevops.engine.model import Analysis, Finding

MAX_LIST_ITEMS = 200
TRUNCATED = "result-truncated"


def bound_lists(analysis: Analysis, limit: int = MAX_LIST_ITEMS) -> None:
    """Cut every list of `analysis` to `limit` entries (in place) and add a finding per list that was cut."""
    omitted: dict[str, int] = {}
    _bound(analysis, "", limit, omitted)
    for path, count in omitted.items():
        analysis.findings.append(
            Finding(
                code=TRUNCATED,
                severity="info",
                message=f"{path}: {count} more entries than the {limit} a result keeps were left out",
            )
        )
    if len(analysis.findings) > limit:  # the findings just added count too
        extra = len(analysis.findings) - limit + 1
        del analysis.findings[limit - 1 :]
        analysis.findings.append(
            Finding(
                code=TRUNCATED,
                severity="info",
                message=f"findings: {extra} more entries than the {limit} a result keeps were left out",
            )
        )


def _bound(node: BaseModel, path: str, limit: int, omitted: dict[str, int]) -> None:
    for name in type(node).model_fields:
        value = getattr(node, name)
        where = f"{path}.{name}" if path else name
        if isinstance(value, list):
            if len(value) > limit:
                omitted[where] = omitted.get(where, 0) + len(value) - limit
                del value[limit:]
            for item in value:
                if isinstance(item, BaseModel):
                    _bound(item, f"{where}[]", limit, omitted)
        elif isinstance(value, BaseModel):
            _bound(value, where, limit, omitted)
