"""Shared pieces of the API's request and response shapes."""

from __future__ import annotations

import typing
import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

# What `_reject_unstorable` accepts, as JSON Schema patterns (ECMA-262), so that the OpenAPI document says what
# the validator enforces: no control character but tab and newline (a lone surrogate, which JSON can carry but
# UTF-8 cannot, is refused too; patterns cannot name it portably). A field that strips
# whitespace first may carry any whitespace at its ends. A field with a pattern of its own excludes them itself
# (`CONTROL` is the class to leave out).
CONTROL = "\\x00-\\x1f\\x7f-\\x9f"
_CLEAN = "[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]"
_EDGE = "[^\\s\\x00-\\x1f\\x7f-\\x9f]"  # the first and last character left after trimming
STORABLE_PATTERN = f"^{_CLEAN}*$"


def stripped_pattern(min_length: int) -> str:
    """What a trimmed field accepts: any whitespace at the ends, and at least `min_length` characters between
    its first and last non-space ones."""
    if min_length >= 2:
        return f"^\\s*{_EDGE}{_CLEAN}{{{min_length - 2},}}{_EDGE}\\s*$"
    optional = "?" if min_length == 0 else ""
    return f"^\\s*(?:{_EDGE}(?:{_CLEAN}*{_EDGE})?){optional}\\s*$"


def _reject_unstorable(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and a lone surrogate cannot be encoded as UTF-8: both would fail in
    # the database (a 500) instead of at the edge (a 422). Other control characters have no place in names.
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs" or (category == "Cc" and char not in "\t\n"):
            raise ValueError("control characters and unpaired surrogates are not allowed")
    return value


def _trimming(field: FieldInfo) -> StringConstraints | None:
    """The `StringConstraints(strip_whitespace=True)` of a field, in its metadata or inside its type (an
    optional or aliased `Annotated[str, ...]`), else None."""

    def search(annotation: Any) -> StringConstraints | None:
        for arg in typing.get_args(annotation):
            if isinstance(arg, StringConstraints) and arg.strip_whitespace:
                return arg
            if arg is not annotation and (found := search(arg)) is not None:
                return found
        return None

    own = (c for c in field.metadata if isinstance(c, StringConstraints) and c.strip_whitespace)
    return next(own, None) or search(field.annotation)


def _string_schemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The plain string schemas of a property (itself, or the branches of an optional one)."""
    if schema.get("type") == "string" and "format" not in schema and "enum" not in schema:
        return [schema]
    return [branch for option in schema.get("anyOf", []) for branch in _string_schemas(option)]


def _document_storable_strings(schema: dict[str, Any], model: type[BaseModel]) -> None:
    properties = schema.get("properties", {})
    for name, field in model.model_fields.items():
        stripped = _trimming(field) is not None
        for string in _string_schemas(properties.get(field.alias or name, {})):
            string.setdefault("pattern", stripped_pattern(string.get("minLength", 0)) if stripped else STORABLE_PATTERN)


def _admits_bool(annotation: Any) -> bool:
    """Whether a field's type takes booleans (`bool`, `bool | None`, `Any`...)."""
    if annotation is bool or annotation is Any:
        return True
    return any(_admits_bool(arg) for arg in typing.get_args(annotation))


class Input(BaseModel):
    """Base of every request body: unknown fields are an error, and no string may hold control characters
    (the OpenAPI document says so too, as a pattern on every string field)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_document_storable_strings)

    @field_validator("*", mode="before")
    @classmethod
    def _limit_untrimmed_length(cls, value: Any, info: ValidationInfo) -> Any:
        # A trimmed field checks its maximum after trimming, while the OpenAPI document's `maxLength` (JSON
        # Schema) counts the characters as sent: the text as sent must fit too, or a value padded with spaces
        # past the documented limit would be accepted.
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, str) and field is not None:
            trimming = _trimming(field)
            limit = trimming.max_length if trimming is not None else None
            if limit is not None and len(value) > limit:
                raise PydanticCustomError(
                    "string_too_long", "String should have at most {max_length} characters", {"max_length": limit}
                )
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # JSON `true` is not a number: pydantic's lax mode would read it as 1 (`"expires_in_days": true` made a
        # token expiring in a day), where the OpenAPI document says integer.
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, bool) and field is not None and not _admits_bool(field.annotation):
            raise PydanticCustomError("bool_not_allowed", "Input should be a number, not a boolean")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _clean_strings(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _reject_unstorable(value)
        return value
