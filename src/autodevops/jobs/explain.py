"""Jobs in words people use: a title naming what the job does to which repository, one set of status words,
and for a failure the likely cause and what to do (the raw error stays available, folded away)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from autodevops.models import Job

_KINDS = {"analysis.run": "Analysis", "pipeline.generate": "Pipeline generation", "repository.sync": "Sync"}
# Job state -> the word the dashboard shows. A `failed` job is waiting for its next attempt.
STATUS_WORDS = {
    "pending": "Queued",
    "active": "Running",
    "failed": "Retrying",
    "completed": "Succeeded",
    "dead_letter": "Dead letter",
}


@dataclass(frozen=True, slots=True)
class Explanation:
    cause: str
    fix: str


# (pattern in the raw error, cause, fix): the first that matches explains it.
_CAUSES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"GitHub answered 40[13]|Resource not accessible by integration", re.I),
        "GitHub refused access to the repository.",
        "Check that the GitHub App is still installed with access to this repository, then requeue the job.",
    ),
    (
        re.compile(r"rate limit", re.I),
        "The Git host's rate limit ran out.",
        "Wait until it resets (the error says when), then requeue the job.",
    ),
    (
        re.compile(r"timed out|timeout", re.I),
        "The job ran out of time.",
        "Requeue it; if it keeps timing out, the repository may be too large for the configured job timeout.",
    ),
    (
        re.compile(r"not found|404|does not exist|could not read from remote", re.I),
        "The repository or the branch could not be found.",
        "Check the repository's URL and default branch on its page (it may have been renamed or deleted).",
    ),
    (
        re.compile(r"limit|too large|too many files", re.I),
        "The repository is over a size limit.",
        "The error names the limit; an operator can raise it (AUTODEVOPS_GIT_MAX_* settings).",
    ),
    (
        re.compile(r"unreachable|connection|resolve|network", re.I),
        "The Git host could not be reached.",
        "Check that the host is up and reachable from the workers, then requeue the job.",
    ),
)
_GENERIC = Explanation("The job failed.", "Requeue it; if it fails again, the raw error below names what went wrong.")


def kind(job: Job) -> str:
    return _KINDS.get(job.name, job.name)


def title(job: Job, repository_name: str | None) -> str:
    """'Analysis of acme/api' rather than `analysis.run`."""
    preposition = "for" if job.name == "pipeline.generate" else "of"
    return f"{kind(job)} {preposition} {repository_name}" if repository_name else kind(job)


def status_word(state: str) -> str:
    return STATUS_WORDS.get(state, state.replace("_", " ").capitalize())


def readable_error(raw: str | None) -> str:
    """The error without the worker's exception class prefix (`ChildFailed: ...`)."""
    return re.sub(r"^[A-Z][A-Za-z]*(Error|Failed|Exception): ", "", raw or "").strip()


def explain(raw: str | None) -> Explanation | None:
    """The likely cause of a job's last error and the fix; None when there was no error."""
    if not raw:
        return None
    for pattern, cause, fix in _CAUSES:
        if pattern.search(raw):
            return Explanation(cause, fix)
    return _GENERIC
