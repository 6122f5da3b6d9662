"""What the model must answer: a pydantic schema sent as structured output to every provider.

The schema is deliberately flat (strings and lists of strings only) so that each provider's structured-output
dialect (Gemini's response schema, OpenAI's strict JSON schema, Anthropic's tool input schema) accepts it.
Bump `PROMPT_VERSION` whenever the prompt or this schema changes: it is part of the cache key.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PROMPT_VERSION = "review-v1"

# Fields of a stack the model may propose a value for; `review` knows how to check each of them.
CorrectableField = Literal["package_manager", "test_tool", "test_commands", "lint_tools", "versions", "build_commands"]
CORRECTABLE_FIELDS: tuple[str, ...] = CorrectableField.__args__  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Risk(_Strict):
    severity: Literal["low", "medium", "high"]
    message: str = Field(max_length=400)


class Correction(_Strict):
    """A proposed value for one field of one stack. A scalar field (package_manager, test_tool) takes one item."""

    stack: str = Field(max_length=300, description="The stack's path, exactly as in the digest.")
    field: CorrectableField
    value: list[str] = Field(max_length=20)
    justification: str = Field(max_length=500, description="Why, citing the digest's files or excerpts.")


class AIReview(_Strict):
    """The model's answer about one analysis."""

    summary: str = Field(max_length=1500, description="Two to four sentences for the repository's maintainers.")
    risks: list[Risk] = Field(default_factory=list, max_length=10)
    recommendations: list[str] = Field(default_factory=list, max_length=10)
    corrections: list[Correction] = Field(default_factory=list, max_length=20)


def json_schema() -> dict[str, Any]:
    """The answer's JSON schema, inlined (no `$ref`) and without length keywords some providers refuse."""
    schema = AIReview.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {
                k: inline(v)
                for k, v in node.items()
                if k not in ("maxLength", "maxItems", "title", "default", "description")
            }
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    result: dict[str, Any] = inline(schema)
    # Strict structured output (OpenAI) wants every property required; defaults are applied on validation.
    _require_all(result)
    return result


def _require_all(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node["required"] = list(node["properties"])
            node["additionalProperties"] = False
        for value in node.values():
            _require_all(value)
    elif isinstance(node, list):
        for value in node:
            _require_all(value)


SYSTEM_PROMPT = """\
You review the output of a deterministic repository analyzer that generates CI/CD pipelines.
You receive a JSON digest: the detected stacks (fields and their confidence), findings, notable files, and
short excerpts of manifests and configuration files. You never see the whole repository.
Answer with JSON only, matching the schema:
- summary: two to four sentences on how the project is built and tested.
- risks: what could make the generated pipeline fail or be unsafe.
- recommendations: concrete improvements for the project's CI.
- corrections: ONLY for fields listed under a stack's "uncertain", and only when the digest proves a better
  value (a lockfile, a configuration file, a dependency, a script). Give the stack path exactly as in the
  digest, the field, the full new value as a list (one item for package_manager and test_tool), and a
  justification that cites the file. Propose nothing you cannot cite. Commands must be single commands
  using tools the repository has, with no shell operators.
"""

REPAIR_PROMPT = (
    "Your previous answer was not valid JSON for the required schema ({error}). "
    "Answer again with the corrected JSON object only."
)
