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

A corpus of full-tree entries (`bench/corpus/`: source.json, expected.json and ci/, no skeleton) is scored against
exported checkouts of the repositories instead (`run_full`): each entry's whole tree is analyzed with its CI
configuration hidden, and the results are split into a tuning and a test split by a fixed hash of the repository
name (`split_of`), so the test split is never chosen by looking at scores. A test entry whose misses have been read
to find causes is marked `test_read` in its source.json and counts as tuning from then on (`entry_split`): once
read, it can no longer measure how the analyzer does on repositories nobody has tuned on. Calibration is reported
beside the scores: of the facts the analyzer states with confidence >= 0.8, the share that the ground truth
confirms.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
from autodevops.engine.model import CONFIDENT, Analysis, Stack
from autodevops.engine.source import FileEntry, LocalDir, RepoSource

FIELDS = ("language", "package_manager", "versions", "test_tool", "lint_tools", "build", "services")

# Existing CI configuration is the answer key: it is never laid out for the analyzer to see.
_CI_PATH = re.compile(
    r"(?:^|/)(?:\.github/workflows/|\.circleci/)|^(?:\.gitlab-ci\.ya?ml|azure-pipelines\.ya?ml|\.travis\.ya?ml|"
    r"appveyor\.ya?ml|\.appveyor\.ya?ml|bitbucket-pipelines\.ya?ml|Jenkinsfile)$"
)


def is_ci_path(path: str) -> bool:
    """Whether `path` is existing CI configuration that the skeleton leaves out."""
    return bool(_CI_PATH.search(path))


@dataclass(frozen=True)
class Fact:
    """One value the analyzer stated with a confidence, and whether the ground truth confirms it.

    `field` is a scored field (`FIELDS`), or `stack` for the stack itself (its `path` provenance): right when
    the predicted stack matches an expected one.
    """

    field: str
    confidence: float
    right: bool


@dataclass
class StackScore:
    path: str
    language: str
    matched: bool
    fields: dict[str, float]
    expected: dict[str, Any]
    predicted: dict[str, Any] | None
    # The scored fields the analysis stated with confidence >= CONFIDENT (the others it flagged for review).
    confident: frozenset[str] = frozenset()

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
    facts: list[Fact] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(s.score for s in self.stacks) / len(self.stacks) if self.stacks else 1.0

    def field(self, name: str) -> float:
        return sum(s.fields[name] for s in self.stacks) / len(self.stacks) if self.stacks else 1.0

    @property
    def precision(self) -> float:
        return self.matched_predicted / self.predicted if self.predicted else 1.0


@dataclass(frozen=True)
class Calibration:
    right: int
    total: int
    by_field: dict[str, tuple[int, int]]

    @property
    def share(self) -> float | None:
        """The share of confident facts that are right; None when there are none."""
        return self.right / self.total if self.total else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "share": None if self.share is None else round(self.share, 4),
            "right": self.right,
            "total": self.total,
            "fields": {name: {"right": r, "total": t} for name, (r, t) in self.by_field.items() if t},
        }


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

    def calibration(self, threshold: float = CONFIDENT) -> Calibration:
        """Of the facts stated with confidence >= `threshold`, how many the ground truth confirms."""
        facts = [f for r in self.repos for f in r.facts if f.confidence >= threshold]
        return Calibration(
            right=sum(f.right for f in facts),
            total=len(facts),
            by_field={
                name: (sum(f.right for f in facts if f.field == name), sum(f.field == name for f in facts))
                for name in ("stack", *FIELDS)
            },
        )

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


# Provenance keys that name a scored field; `path` is the stack's own existence.
_SCORED_PROVENANCE = {name: name for name in FIELDS if name != "build"} | {"build_commands": "build", "path": "stack"}


def _facts(stack: Stack, fields: dict[str, float] | None) -> list[Fact]:
    """The confidence-bearing facts of a predicted stack; `fields` are its scores, None when it matched nothing
    (then only its existence is judged, and it is wrong)."""
    out = []
    for key, prov in stack.provenance.items():
        name = _SCORED_PROVENANCE.get(key)
        if name == "stack":
            out.append(Fact(name, prov.confidence, fields is not None))
        elif name is not None and fields is not None:
            out.append(Fact(name, prov.confidence, fields[name] == 1.0))
    return out


def score_repo(name: str, expected: dict[str, Any], analysis: Analysis) -> RepoScore:
    """Match expected stacks to predicted ones (path + language) and score them."""
    remaining = list(analysis.stacks)
    scores: list[StackScore] = []
    facts: list[Fact] = []
    for exp in expected.get("stacks", []):
        path = _norm_path(exp.get("path", "."))
        candidates = [s for s in remaining if _norm_path(s.path) == path and s.language == exp.get("language")]
        chosen = next((s for s in candidates if s.package_manager == exp.get("package_manager")), None)
        chosen = chosen or (candidates[0] if candidates else None)
        if chosen is None:
            scores.append(StackScore(path, exp.get("language", ""), False, dict.fromkeys(FIELDS, 0.0), exp, None))
            continue
        remaining.remove(chosen)
        fields = score_stack(exp, chosen)
        facts.extend(_facts(chosen, fields))
        confident = frozenset(
            _SCORED_PROVENANCE[key]
            for key, prov in chosen.provenance.items()
            if prov.confidence >= CONFIDENT and _SCORED_PROVENANCE.get(key) in FIELDS
        )
        dump = chosen.model_dump(exclude={"provenance"})
        scores.append(StackScore(path, chosen.language, True, fields, exp, dump, confident))
    for stray in remaining:
        facts.extend(_facts(stray, None))
    predicted = len(analysis.stacks)
    return RepoScore(
        name=name,
        stacks=scores,
        predicted=predicted,
        matched_predicted=predicted - len(remaining),
        unmatched_predicted=[f"{s.path} ({s.language})" for s in remaining],
        facts=facts,
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


def _source_meta(entry: Path) -> dict[str, Any]:
    path = entry / "source.json"
    meta = json.loads(path.read_text("utf-8")) if path.exists() else {}
    return meta if isinstance(meta, dict) else {}


def _analysis_date(meta: dict[str, Any]) -> dt.date:
    """The entry's `fetched` date: runtime end-of-life is judged as of the day the truth was read."""
    fetched = meta.get("fetched")
    return dt.date.fromisoformat(fetched) if fetched else dt.date.today()


def _analyze_and_score(
    name: str, expected: dict[str, Any], source: RepoSource, today: dt.date
) -> tuple[RepoScore, Analysis | None]:
    try:
        analysis = analyze(source, today=today)
    except Exception as exc:  # noqa: BLE001 - a crash on one entry is reported and scored 0, not fatal
        repo = score_repo(name, expected, Analysis(source=name, analyzed_on=today))
        repo.error = f"{type(exc).__name__}: {exc}"
        return repo, None
    return score_repo(name, expected, analysis), analysis


def run_entry(entry: Path) -> tuple[RepoScore, Analysis | None]:
    """Lay out, analyze and score one corpus entry."""
    expected = json.loads((entry / "expected.json").read_text("utf-8"))
    today = _analysis_date(_source_meta(entry))
    with tempfile.TemporaryDirectory(prefix="autodevops-bench-", dir=_scratch_dir()) as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        layout(entry, root)
        return _analyze_and_score(entry.name, expected, LocalDir(root, name=entry.name), today)


def run(corpus: Path, only: str | None = None) -> BenchResult:
    """Score every entry of `corpus` (or those whose name contains `only`)."""
    return BenchResult(repos=[run_entry(e)[0] for e in entries(corpus, only)])


# ---- full trees ----------------------------------------------------------------------------------------------

TUNING, TEST = "tuning", "test"
SPLITS = (TUNING, TEST)
_SPLIT_SALT = "autodevops-split-v1:"


def split_of(repo: str) -> str:
    """The split a repository (`owner/name`) belongs to: a third of all names, fixed by hash before anyone tunes
    on them, are the test split."""
    digest = hashlib.sha256((_SPLIT_SALT + repo).encode()).hexdigest()
    return TEST if int(digest, 16) % 3 == 0 else TUNING


def entry_split(meta: dict[str, Any]) -> str:
    """The split an entry (its source.json) is scored in: its repository's `split_of`, except that a test entry
    marked `test_read` (the date its misses were read for causes) is tuning."""
    split = split_of(str(meta.get("repo")))
    return TUNING if split == TEST and meta.get("test_read") else split


class WithoutCI:
    """A source with its existing CI configuration hidden: the CI files are the answer key."""

    def __init__(self, inner: LocalDir) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def skipped_reasons(self) -> dict[str, int]:
        return dict(self.inner.skipped_reasons)

    @property
    def skipped(self) -> int:
        return self.inner.skipped

    @property
    def default_branch(self) -> str | None:
        return self.inner.default_branch

    def files(self) -> list[FileEntry]:
        return [f for f in self.inner.files() if not is_ci_path(f.path)]

    def read_bytes(self, path: str, limit: int) -> bytes:
        if is_ci_path(path):
            raise FileNotFoundError(f"{path}: CI configuration is hidden from the analyzer")
        return self.inner.read_bytes(path, limit)


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str


@dataclass
class FullTreeResult:
    """Scores per split (`SPLITS`), and the entries that could not be scored."""

    splits: dict[str, BenchResult]
    skipped: list[Skipped]

    def to_dict(self) -> dict[str, Any]:
        return {
            "splits": {
                name: result.to_dict() | {"calibration": result.calibration().to_dict()}
                for name, result in self.splits.items()
            },
            "skipped": [{"name": s.name, "reason": s.reason} for s in self.skipped],
        }


def checkout_of(entry: Path, checkouts: Path) -> Path:
    """Where an entry's exported tree is expected: `checkouts/OWNER__NAME`, the entry's own folder name."""
    return checkouts / entry.name


def run_checkout(entry: Path, checkout: Path) -> tuple[RepoScore, Analysis | None]:
    """Analyze the full tree at `checkout`, CI hidden, on the entry's `fetched` date, and score it."""
    expected = json.loads((entry / "expected.json").read_text("utf-8"))
    today = _analysis_date(_source_meta(entry))
    return _analyze_and_score(entry.name, expected, WithoutCI(LocalDir(checkout, name=entry.name)), today)


def run_full(corpus: Path, checkouts: Path, only: str | None = None) -> FullTreeResult:
    """Score every entry of a full-tree corpus whose checkout is at hand, split into tuning and test."""
    splits = {name: BenchResult(repos=[]) for name in SPLITS}
    skipped: list[Skipped] = []
    for entry in entries(corpus, only):
        meta = _source_meta(entry)
        repo = meta.get("repo")
        checkout = checkout_of(entry, checkouts)
        if not isinstance(repo, str) or "/" not in repo:
            skipped.append(Skipped(entry.name, "source.json names no repository (owner/name)"))
        elif not checkout.is_dir() or not any(checkout.iterdir()):
            skipped.append(Skipped(entry.name, f"no checkout at {checkout}"))
        else:
            splits[entry_split(meta)].repos.append(run_checkout(entry, checkout)[0])
    return FullTreeResult(splits=splits, skipped=skipped)
