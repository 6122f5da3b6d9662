"""Shared pieces of the API's request and response shapes."""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def _reject_unstorable(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and a lone surrogate cannot be encoded as UTF-8: both would fail in
    # the database (a 500) instead of at the edge (a 422). Other control characters have no place in names.
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs" or (category == "Cc" and char not in "\t\n"):
            raise ValueError("control characters and unpaired surrogates are not allowed")
    return value


class Input(BaseModel):
    """Base of every request body: unknown fields are an error, and no string may hold control characters."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _clean_strings(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _reject_unstorable(value)
        return value
