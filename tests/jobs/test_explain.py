"""Jobs in people's words: titles, status words, and the cause and fix of common failures."""

from __future__ import annotations

import pytest

from autodevops.jobs import explain
from autodevops.models import Job


@pytest.mark.parametrize(
    ("raw", "cause"),
    [
        ("ChildFailed: GitHub answered 403 while trying to resolve 'main'", "GitHub refused access"),
        ("GitHub rate limit exceeded while trying to list files; it resets in 900s", "rate limit ran out"),
        ("timed out after 9s (attempt 2 of 2)", "ran out of time"),
        ("fatal: could not read from remote repository", "could not be found"),
        ("the checkout has 300000 files, over the limit of 250000", "over a size limit"),
        ("something nobody foresaw", "The job failed."),
    ],
)
def test_common_failures_get_a_cause_and_a_fix(raw: str, cause: str) -> None:
    explanation = explain.explain(raw)
    assert explanation is not None
    assert cause in explanation.cause
    assert explanation.fix


def test_titles_words_and_the_raw_error() -> None:
    assert explain.title(Job(name="analysis.run"), "acme/api") == "Analysis of acme/api"
    assert explain.title(Job(name="pipeline.generate"), "acme/api") == "Pipeline generation for acme/api"
    assert explain.title(Job(name="repository.sync"), None) == "Sync"
    assert [explain.status_word(s) for s in ("pending", "active", "failed", "completed", "dead_letter")] == [
        "Queued",
        "Running",
        "Retrying",
        "Succeeded",
        "Dead letter",
    ]
    assert explain.readable_error("ChildFailed: GitHub answered 403") == "GitHub answered 403"
    assert explain.explain(None) is None
