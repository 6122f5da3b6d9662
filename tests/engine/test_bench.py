"""The accuracy benchmark: SCHEMA.md's scoring rules, the skeleton layout, and the corpus threshold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autodevops.engine import bench
from autodevops.engine.model import Analysis, Evidence, Provenance, Stack
from autodevops.engine.source import LocalDir

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


def test_jaccard_normalizes_x_suffix_and_empty_sets() -> None:
    assert bench.jaccard(["3.12", "3.13"], ["3.12.x", "3.13"]) == 1.0
    assert bench.jaccard([], []) == 1.0
    assert bench.jaccard(["20"], []) == 0.0
    assert bench.jaccard(["3.11", "3.12"], ["3.12", "3.13"]) == pytest.approx(1 / 3)


def test_jaccard_compares_release_lines_not_patch_releases() -> None:
    assert bench.jaccard(["1.96.0", "stable"], ["1.96", "stable"]) == 1.0
    assert bench.jaccard(["3.4.6", "v2.x"], ["3.4", "2"]) == 1.0
    assert bench.jaccard(["3.4.6"], ["3.5"]) == 0.0
    assert bench.jaccard(["3.14t", "pypy3.11", "nightly-2026-05-04"], ["3.14", "pypy3.11", "nightly"]) == pytest.approx(
        1 / 5
    )


def test_f1_both_empty_is_one() -> None:
    assert bench.f1([], []) == 1.0
    assert bench.f1(["ruff"], []) == 0.0
    assert bench.f1(["ruff", "mypy"], ["ruff"]) == pytest.approx(2 / 3)


def test_score_repo_matches_by_path_and_language_and_counts_precision() -> None:
    expected = {
        "stacks": [
            {"path": ".", "language": "java", "package_manager": "maven", "versions": ["17"], "test_tool": "maven",
             "lint_tools": [], "build_commands": ["mvn package"], "services": []},
            {"path": ".", "language": "java", "package_manager": "gradle", "versions": ["17"], "test_tool": "gradle",
             "lint_tools": [], "build_commands": [], "services": []},
            {"path": "web", "language": "typescript", "package_manager": "npm", "versions": [], "test_tool": "jest",
             "lint_tools": ["eslint"], "build_commands": [], "services": []},
        ]
    }  # fmt: skip
    analysis = Analysis(
        source="x",
        analyzed_on="2026-11-26",
        stacks=[
            Stack(path=".", language="java", package_manager="gradle", versions=["17"], test_tool="gradle"),
            Stack(path=".", language="java", package_manager="maven", versions=["17"], test_tool="maven",
                  build_commands=["mvn -B verify"]),
            Stack(path="web", language="javascript", package_manager="npm", test_tool="jest"),
        ],
    )  # fmt: skip
    repo = bench.score_repo("r", expected, analysis)
    maven, gradle, web = repo.stacks
    assert maven.matched
    assert maven.predicted is not None
    assert maven.predicted["package_manager"] == "maven"
    assert maven.score == 1.0
    assert gradle.score == 1.0
    assert not web.matched
    assert web.score == 0.0
    assert repo.score == pytest.approx(2 / 3)
    assert repo.precision == pytest.approx(2 / 3)
    assert repo.unmatched_predicted == ["web (javascript)"]


def test_layout_skips_ci_and_overlays_files(tmp_path: Path) -> None:
    entry = tmp_path / "entry"
    (entry / "files").mkdir(parents=True)
    (entry / "tree.txt").write_text(
        "pyproject.toml\nsrc/app.py\n.github/workflows/ci.yml\n.circleci/config.yml\n.travis.yml\n../escape\n"
    )
    (entry / "files" / "pyproject.toml").write_text("[project]\nname='x'\n")
    target = tmp_path / "out"
    target.mkdir()
    bench.layout(entry, target)
    laid = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert laid == ["pyproject.toml", "src/app.py"]
    assert (target / "pyproject.toml").read_text() == "[project]\nname='x'\n"
    assert (target / "src" / "app.py").read_text() == ""


def test_run_entry_uses_the_fetched_date(tmp_path: Path) -> None:
    entry = tmp_path / "corpus" / "o__r"
    (entry / "files").mkdir(parents=True)
    (entry / "tree.txt").write_text("pyproject.toml\n")
    (entry / "files" / "pyproject.toml").write_text("[project]\nname='x'\nrequires-python='>=3.11'\n")
    (entry / "source.json").write_text(json.dumps({"repo": "o/r", "commit": "0" * 40, "fetched": "2025-06-01"}))
    expected = {"stacks": [{"path": ".", "language": "python", "package_manager": "pip",
                            "versions": ["3.11", "3.12", "3.13"], "test_tool": "none", "lint_tools": [],
                            "build_commands": [], "services": []}]}  # fmt: skip
    (entry / "expected.json").write_text(json.dumps(expected))
    repo, analysis = bench.run_entry(entry)
    assert analysis is not None
    assert analysis.analyzed_on.isoformat() == "2025-06-01"
    assert repo.stacks[0].fields["versions"] == 1.0  # 3.14 was not yet released on that date
    assert repo.score == 1.0


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not present")
def test_corpus_accuracy_threshold() -> None:
    result = bench.run(CORPUS)
    assert len(result.repos) >= 30
    assert not [r.name for r in result.repos if r.error]
    fields = {f: result.field(f) for f in bench.FIELDS}
    assert result.overall >= 0.85, fields
    assert result.precision >= 0.95, fields
    assert {f: v for f, v in fields.items() if v < 0.70} == {}, fields  # no field below 0.70


# ---- full trees ----------------------------------------------------------------------------------------------


def test_split_of_is_the_fixed_hash_rule() -> None:
    # sha256("autodevops-split-v1:" + repo) % 3 == 0 is the test split; these values pin the salt and the rule.
    assert bench.split_of("o/r") == bench.TEST
    assert bench.split_of("celery/celery") == bench.TUNING
    assert bench.split_of("encode/httpx") == bench.TUNING
    names = [f"owner{i}/repo{i}" for i in range(300)]
    share = sum(bench.split_of(n) == bench.TEST for n in names) / len(names)
    assert 0.25 < share < 0.42


def test_a_test_entry_whose_misses_were_read_is_scored_as_tuning() -> None:
    assert bench.entry_split({"repo": "o/r"}) == bench.TEST
    assert bench.entry_split({"repo": "o/r", "test_read": "2026-12-04"}) == bench.TUNING
    assert bench.entry_split({"repo": "celery/celery"}) == bench.TUNING


def test_calibration_judges_confident_facts_of_matched_and_stray_stacks() -> None:
    def prov(confidence: float) -> Provenance:
        return Provenance(evidence=[Evidence(file="pyproject.toml")], confidence=confidence)

    expected = {"stacks": [{"path": ".", "language": "python", "package_manager": "uv", "versions": ["3.12"],
                            "test_tool": "pytest", "lint_tools": ["ruff"], "build_commands": [],
                            "services": []}]}  # fmt: skip
    analysis = Analysis(
        source="x",
        analyzed_on="2026-11-26",
        stacks=[
            Stack(path=".", language="python", package_manager="uv", versions=["3.12", "3.13"], test_tool="pytest",
                  lint_tools=["ruff"], provenance={"path": prov(0.9), "package_manager": prov(0.95),
                                                   "versions": prov(0.8), "test_tool": prov(0.5),
                                                   "test_commands": prov(0.9)}),
            Stack(path="docs", language="python", provenance={"path": prov(0.85), "package_manager": prov(0.9)}),
        ],
    )  # fmt: skip
    repo = bench.score_repo("r", expected, analysis)
    assert sorted((f.field, f.right) for f in repo.facts) == [
        ("package_manager", True),
        ("stack", False),  # the docs stack matches nothing: its existence is the wrong fact
        ("stack", True),
        ("test_tool", True),
        ("versions", False),  # 3.13 is not tested: a partial Jaccard is not right
    ]
    cal = bench.BenchResult(repos=[repo]).calibration()
    assert (cal.right, cal.total) == (2, 4)  # test_tool's 0.5 is below the threshold
    assert cal.by_field["versions"] == (0, 1)
    assert cal.share == 0.5
    assert bench.BenchResult(repos=[]).calibration().share is None


def _full_entry(corpus: Path, repo: str, fetched: str = "2025-06-01") -> Path:
    entry = corpus / repo.replace("/", "__")
    entry.mkdir(parents=True)
    (entry / "source.json").write_text(json.dumps({"repo": repo, "commit": "0" * 40, "fetched": fetched}))
    expected = {"repo": repo, "stacks": [{"path": ".", "language": "python", "package_manager": "uv",
                                          "versions": ["3.11", "3.12", "3.13"], "test_tool": "pytest",
                                          "lint_tools": [], "build_commands": [], "services": []}]}  # fmt: skip
    (entry / "expected.json").write_text(json.dumps(expected))
    return entry


def _checkout(checkouts: Path, repo: str) -> Path:
    root = checkouts / repo.replace("/", "__")
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        "[project]\nname='x'\nrequires-python='>=3.11'\n[dependency-groups]\ndev=['pytest']\n"
    )
    (root / "uv.lock").write_text("")
    (root / "tests" / "test_x.py").write_text("def test_x():\n    pass\n")
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: {}\n")
    (root / ".gitlab-ci.yml").write_text("test:\n  script: pytest\n")
    return root


def test_without_ci_hides_ci_files_from_listing_and_reads(tmp_path: Path) -> None:
    root = _checkout(tmp_path, "o/r")
    source = bench.WithoutCI(LocalDir(root, name="o__r"))
    assert [f.path for f in source.files()] == ["pyproject.toml", "tests/test_x.py", "uv.lock"]
    assert source.read_bytes("uv.lock", 10) == b""
    with pytest.raises(FileNotFoundError):
        source.read_bytes(".github/workflows/ci.yml", 100)
    assert source.name == "o__r"


def test_run_full_scores_checkouts_per_split_with_ci_hidden_and_skips_the_rest(tmp_path: Path) -> None:
    corpus, checkouts = tmp_path / "corpus", tmp_path / "checkouts"
    test_entry = _full_entry(corpus, "o/r")  # test split
    _full_entry(corpus, "celery/celery")  # tuning split, no checkout
    _full_entry(corpus, "encode/httpx")  # tuning split, empty checkout directory
    (checkouts / "encode__httpx").mkdir(parents=True)
    _checkout(checkouts, "o/r")

    result = bench.run_full(corpus, checkouts)
    assert result.splits[bench.TUNING].repos == []
    [scored] = result.splits[bench.TEST].repos
    assert scored.name == "o__r"
    assert scored.score == 1.0  # 3.14 was not yet released on the fetched date
    assert scored.facts
    assert [(s.name, s.reason) for s in result.skipped] == [
        ("celery__celery", f"no checkout at {checkouts / 'celery__celery'}"),
        ("encode__httpx", f"no checkout at {checkouts / 'encode__httpx'}"),
    ]
    _, analysis = bench.run_checkout(test_entry, checkouts / "o__r")
    assert analysis is not None
    assert analysis.analyzed_on.isoformat() == "2025-06-01"
    assert analysis.existing_ci == []  # the CI files were never seen
    data = result.to_dict()
    assert data["splits"]["test"]["overall"] == 1.0
    assert data["splits"]["test"]["calibration"]["total"] > 0
    assert data["skipped"][0]["name"] == "celery__celery"
