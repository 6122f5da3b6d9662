"""Accuracy benchmark: score the analyzer against a corpus of hand-read ground truth.

The corpus layout and the scoring rules are those of the corpus's `SCHEMA.md`:

- each entry is laid out as a skeleton (every path of `tree.txt` as an empty file, minus existing CI
  configuration), with `files/` copied over it, and analyzed on the entry's `fetched` date;
- each expected stack is matched to a predicted stack with the same path and language (one-to-one; among several
  candidates the one with the same package manager wins); per matched stack `language`, `package_manager` and
  `test_tool` score 1 if equal, `versions` is the Jaccard index (`3.12` = `3.12.x`), `lint_tools` and `services`
  are F1 scores (both empty = 1), `build` is 1 when both or neither list build commands; an unmatched expected
  stack scores 0 on every field;
- a repository's score is the mean over its expected stacks of the mean of the seven fields; the overall score
  and each field's score are averaged over repositories. Stack precision (matched predicted stacks over predicted
  stacks) is reported beside it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autodevops.engine.analyze import analyze
from autodevops.engine.model import Analysis, Stack
from autodevops.engine.source import LocalDir

FIELDS = ("language", "package_manager", "versions", "test_tool", "lint_tools", "build", "services")

# Existing CI configuration is the answer key: it is never laid out for the analyzer to see.
_CI_PATH = re.compile(
    r"(?:^|/)(?:\.github/workflows/|\.circleci/)|^(?:\.gitlab-ci\.ya?ml|azure-pipelines\.ya?ml|\.travis\.ya?ml|"
    r"appveyor\.ya?ml|\.appveyor\.ya?ml|bitbucket-pipelines\.ya?ml|Jenkinsfile)$"
)


def is_ci_path(path: str) -> bool:
    """Whether `path` is existing CI configuration that the skeleton leaves out."""
    return bool(_CI_PATH.search(path))


@dataclass
class StackScore:
    path: str
    language: str
    matched: bool
    fields: dict[str, float]
    expected: dict[str, Any]
    predicted: dict[str, Any] | None

    @property
    def score(self) -> float:
        return sum(self.fields.values()) / len(FIELDS)


@dataclass
class RepoScore:
    name: str
    stacks: list[StackScore]
    predicted: int
    matched_predicted: int
    unmatched_predicted: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def score(self) -> float:
        return sum(s.score for s in self.stacks) / len(self.stacks) if self.stacks else 1.0

    def field(self, name: str) -> float:
        return sum(s.fields[name] for s in self.stacks) / len(self.stacks) if self.stacks else 1.0

    @property
    def precision(self) -> float:
        return self.matched_predicted / self.predicted if self.predicted else 1.0


@dataclass
class BenchResult:
    repos: list[RepoScore]

    @property
    def overall(self) -> float:
        return sum(r.score for r in self.repos) / len(self.repos) if self.repos else 0.0

    def field(self, name: str) -> float:
        return sum(r.field(name) for r in self.repos) / len(self.repos) if self.repos else 0.0

    @property
    def precision(self) -> float:
        return sum(r.precision for r in self.repos) / len(self.repos) if self.repos else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": round(self.overall, 4),
            "fields": {f: round(self.field(f), 4) for f in FIELDS},
            "stack_precision": round(self.precision, 4),
            "repos": [
                {
                    "name": r.name,
                    "score": round(r.score, 4),
                    "fields": {f: round(r.field(f), 4) for f in FIELDS},
                    "stack_precision": round(r.precision, 4),
                    "unmatched_predicted": r.unmatched_predicted,
                    "error": r.error,
                    "stacks": [
                        {
                            "path": s.path,
                            "language": s.language,
                            "matched": s.matched,
                            "score": round(s.score, 4),
                            "fields": {k: round(v, 4) for k, v in s.fields.items()},
                            "expected": s.expected,
                            "predicted": s.predicted,
                        }
                        for s in r.stacks
                    ],
                }
                for r in self.repos
            ],
        }


# ---- scoring -------------------------------------------------------------------------------------------------


_PATCH_LEVEL = re.compile(r"(\d+\.\d+)\.\d+")


def _norm_version(v: str) -> str:
    """A version as the release line it names: `3.12.x`, `3.12.4` and `v3.12` are all `3.12` (SCHEMA.md's
    `3.12` = `3.12.x`: the patch is a wildcard); `24.x` is `24`; names like `stable` stay as they are."""
    v = str(v).strip().lower()
    while v.endswith(".x"):
        v = v[:-2]
    if v[:1] == "v" and v[1:2].isdigit():
        v = v[1:]
    patch = _PATCH_LEVEL.fullmatch(v)
    return patch.group(1) if patch else v


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """Jaccard index of two version lists, `3.12` equal to `3.12.x`; both empty = 1."""
    sa, sb = {_norm_version(x) for x in a}, {_norm_version(x) for x in b}
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def f1(expected: Iterable[str], predicted: Iterable[str]) -> float:
    """F1 of two sets; both empty = 1, exactly one empty = 0."""
    e, p = set(expected), set(predicted)
    if not e and not p:
        return 1.0
    tp = len(e & p)
    if tp == 0:
        return 0.0
    precision, recall = tp / len(p), tp / len(e)
    return 2 * precision * recall / (precision + recall)


def score_stack(expected: dict[str, Any], predicted: Stack) -> dict[str, float]:
    """Per-field scores of one matched stack."""
    return {
        "language": float(expected.get("language") == predicted.language),
        "package_manager": float(expected.get("package_manager") == predicted.package_manager),
        "versions": jaccard(expected.get("versions") or [], predicted.versions),
        "test_tool": float(expected.get("test_tool") == predicted.test_tool),
        "lint_tools": f1(expected.get("lint_tools") or [], predicted.lint_tools),
        "build": float(bool(expected.get("build_commands")) == bool(predicted.build_commands)),
        "services": f1(expected.get("services") or [], predicted.services),
    }


def score_repo(name: str, expected: dict[str, Any], analysis: Analysis) -> RepoScore:
    """Match expected stacks to predicted ones (path + language) and score them."""
    remaining = list(analysis.stacks)
    scores: list[StackScore] = []
    for exp in expected.get("stacks", []):
        path = _norm_path(exp.get("path", "."))
        candidates = [s for s in remaining if _norm_path(s.path) == path and s.language == exp.get("language")]
        chosen = next((s for s in candidates if s.package_manager == exp.get("package_manager")), None)
        chosen = chosen or (candidates[0] if candidates else None)
        if chosen is None:
            scores.append(StackScore(path, exp.get("language", ""), False, dict.fromkeys(FIELDS, 0.0), exp, None))
            continue
        remaining.remove(chosen)
        scores.append(
            StackScore(
                path,
                chosen.language,
                True,
                score_stack(exp, chosen),
                exp,
                chosen.model_dump(exclude={"provenance"}),
            )
        )
    predicted = len(analysis.stacks)
    return RepoScore(
        name=name,
        stacks=scores,
        predicted=predicted,
        matched_predicted=predicted - len(remaining),
        unmatched_predicted=[f"{s.path} ({s.language})" for s in remaining],
    )


def _norm_path(p: str) -> str:
    p = p.strip().strip("/")
    return "." if p in ("", ".", "./") else p.removeprefix("./")


# ---- layout --------------------------------------------------------------------------------------------------


def layout(entry: Path, target: Path) -> None:
    """Lay out a corpus entry in `target`: tree.txt paths as empty files (minus CI config), `files/` over them."""
    tree = (entry / "tree.txt").read_text("utf-8").splitlines()
    for raw in tree:
        rel = raw.strip()
        if not rel or is_ci_path(rel) or _unsafe(rel):
            continue
        dest = target / rel
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.touch()
        except (IsADirectoryError, NotADirectoryError, FileExistsError):
            # A path that is both a file and a directory prefix in the listing (submodule entries): skip it.
            continue
    files = entry / "files"
    if files.is_dir():
        for src in files.rglob("*"):
            if src.is_dir() or src.is_symlink():
                continue
            rel = src.relative_to(files).as_posix()
            if is_ci_path(rel) or _unsafe(rel):
                continue
            dest = target / rel
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                if dest.is_dir():
                    continue
                shutil.copyfile(src, dest)
            except (IsADirectoryError, NotADirectoryError, FileExistsError):
                continue


def _unsafe(rel: str) -> bool:
    parts = rel.split("/")
    return rel.startswith("/") or ".." in parts


def _scratch_dir() -> str | None:
    """A memory-backed temporary directory when the system has one: a skeleton is thousands of empty files,
    and creating and removing them on a disk dominates the benchmark's run time."""
    shm = Path("/dev/shm")  # noqa: S108 - only a parent for a private TemporaryDirectory
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def entries(corpus: Path, only: str | None = None) -> list[Path]:
    """Corpus entries (directories with an expected.json), sorted by name; `only` filters by substring."""
    out = [p for p in sorted(corpus.iterdir()) if p.is_dir() and (p / "expected.json").is_file()]
    if only:
        out = [p for p in out if only.lower() in p.name.lower()]
    return out


def run_entry(entry: Path) -> tuple[RepoScore, Analysis | None]:
    """Lay out, analyze and score one corpus entry."""
    expected = json.loads((entry / "expected.json").read_text("utf-8"))
    source_meta = json.loads((entry / "source.json").read_text("utf-8")) if (entry / "source.json").exists() else {}
    fetched = source_meta.get("fetched")
    today = dt.date.fromisoformat(fetched) if fetched else dt.date.today()
    with tempfile.TemporaryDirectory(prefix="autodevops-bench-", dir=_scratch_dir()) as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        layout(entry, root)
        try:
            analysis = analyze(LocalDir(root, name=entry.name), today=today)
        except Exception as exc:  # noqa: BLE001 - a crash on one entry is reported and scored 0, not fatal
            repo = score_repo(entry.name, expected, Analysis(source=entry.name, analyzed_on=today))
            repo.error = f"{type(exc).__name__}: {exc}"
            return repo, None
    return score_repo(entry.name, expected, analysis), analysis


def run(corpus: Path, only: str | None = None) -> BenchResult:
    """Score every entry of `corpus` (or those whose name contains `only`)."""
    return BenchResult(repos=[run_entry(e)[0] for e in entries(corpus, only)])
