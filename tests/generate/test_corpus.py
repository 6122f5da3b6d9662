"""End to end over the shared corpus: lay out, analyze, generate, and validate every entry's pipeline."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from autodevops.engine.analyze import analyze
from autodevops.engine.bench import entries, layout
from autodevops.engine.generate import Generated, generate
from autodevops.engine.source import LocalDir
from autodevops.engine.validate import Problem

from .conftest import validate_many, write_tree

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
ENTRIES = entries(CORPUS) if CORPUS.is_dir() else []

pytestmark = [
    pytest.mark.skipif(not ENTRIES, reason=f"no corpus at {CORPUS}"),
    # The module fixture generates and validates every entry at once (about a minute on an idle machine); its
    # time counts against the first test.
    pytest.mark.timeout(600),
]


@pytest.fixture(scope="module")
def corpus_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Generated], list[Problem]]:
    out = tmp_path_factory.mktemp("corpus-out")
    results: dict[str, Generated] = {}
    files: list[str] = []
    for entry in ENTRIES:
        repo = tmp_path_factory.mktemp(entry.name)
        layout(entry, repo)
        fetched = json.loads((entry / "source.json").read_text())["fetched"]
        result = generate(analyze(LocalDir(str(repo)), dt.date.fromisoformat(fetched)), "all")
        results[entry.name] = result
        write_tree(out / entry.name, result.files)
        files += [f"{entry.name}/{rel}" for rel in result.files]
    return results, validate_many(out, files)


@pytest.mark.parametrize("name", [e.name for e in ENTRIES])
def test_corpus_pipeline_has_zero_validator_findings(
    name: str, corpus_runs: tuple[dict[str, Generated], list[Problem]]
) -> None:
    results, problems = corpus_runs
    assert ".github/workflows/ci.yml" in results[name].files or any(
        p.startswith(".github/workflows/ci") for p in results[name].files
    )
    assert [str(p) for p in problems if p.file.startswith(f"{name}/") or f"/{name}/" in p.file] == []
