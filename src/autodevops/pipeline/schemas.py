"""API shapes of generated pipelines."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from autodevops.analysis.schemas import AnalysisRead


class PipelineRead(BaseModel):
    """A pipeline in a list: which files it has and whether they passed validation, without their contents."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    repository_id: uuid.UUID
    analysis_id: uuid.UUID | None = Field(description="The analysis it was generated from (null once deleted).")
    created_at: datetime
    paths: list[str] = Field(description="The generated files' paths in the repository.")
    valid: bool | None = Field(description="Every validator passed; null when the pipeline was not validated.")


class PipelineFile(BaseModel):
    path: str
    content: str


class ValidationProblem(BaseModel):
    model_config = ConfigDict(extra="allow")

    tool: str = Field(description="actionlint, shellcheck, zizmor or schema.")
    file: str
    line: int | None = None
    rule: str | None = None
    message: str


class Validation(BaseModel):
    """What the validators said about the files (actionlint with ShellCheck, zizmor, SchemaStore schemas)."""

    model_config = ConfigDict(extra="allow")

    valid: bool
    problems: list[ValidationProblem] = Field(default_factory=list)
    unavailable: list[str] = Field(default_factory=list, description="Validators not installed where it ran.")
    findings: list[dict[str, Any]] = Field(default_factory=list, description="The generator's own notes.")


class ExistingCIFile(BaseModel):
    provider: str
    path: str


class FileComparison(BaseModel):
    path: str
    status: Literal["new", "same", "changed", "exists", "other"] = Field(
        description="new: the repository has no such file; same; changed (see `diff`); for a git-URL "
        "repository, from its analysis: exists (the repository has the file; no diff), other (a CI file of the "
        "repository that the pipeline does not generate)."
    )
    diff: str = Field(
        description="A unified diff from the repository's file to the generated one; empty unless changed."
    )


class CIComparisonRead(BaseModel):
    files: list[FileComparison]
    problem: str | None = Field(
        description="Why there is no line-by-line comparison (a git-URL repository, GitHub unreachable)."
    )


class PipelineDetail(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    repository_id: uuid.UUID
    created_at: datetime
    files: list[PipelineFile]
    validation: Validation | None
    analysis: AnalysisRead | None = Field(
        description="The analysis it was generated from; its full result is at `/api/v1/analyses/{id}`."
    )
    existing_ci: list[ExistingCIFile] = Field(
        description="The CI files the repository had when it was analyzed (from the analysis)."
    )
    comparison: CIComparisonRead | None = Field(
        description="Each generated file against the repository's default branch; only with `?compare=true`."
    )
