"""The compact, deterministic digest of an analysis that the model reads (never the whole repository).

It holds the detected stacks with the fields the engine is unsure of, the findings, repo-level facts, the
names of notable files next to each stack, and short excerpts of manifests and configuration files, all within
a token budget. The same analysis and files always give the same bytes (sorted keys, fixed order, no dates),
so its hash keys the response cache: re-analysing an unchanged repository hits it.

Built where the files are at hand (the analysis child process, or a benchmark over a local directory); without
a source, it falls back to the analysis alone (no excerpts).
"""

from __future__ import annotations

import hashlib
import json
import math
import posixpath
import tomllib
from dataclasses import dataclass
from typing import Any

from autodevops.ai.schemas import CORRECTABLE_FIELDS
from autodevops.engine.model import Analysis, Stack
from autodevops.engine.source import RepoSource

# Below this confidence a field is offered to the model for correction.
UNCERTAIN_BELOW = 0.7
MAX_FINDINGS = 15
MAX_FILES_PER_DIR = 40
EXCERPT_READ_BYTES = 8192
EXCERPT_MAX_CHARS = 1200
EXCERPT_MAX_LINES = 50

# Configuration files worth quoting beside a stack's manifests: they name test runners, linters and scripts.
CONFIG_FILES = (
    "pytest.ini",
    "tox.ini",
    "tox.toml",
    "noxfile.py",
    "setup.cfg",
    "Makefile",
    "justfile",
    "Taskfile.yml",
    ".pre-commit-config.yaml",
    "jest.config.js",
    "jest.config.ts",
    "vitest.config.ts",
    "vitest.config.js",
    ".mocharc.yml",
    ".rspec",
    "phpunit.xml",
    "phpunit.xml.dist",
    ".golangci.yml",
    ".golangci.yaml",
    "Rakefile",
    ".tool-versions",
    ".nvmrc",
    ".python-version",
    ".ruby-version",
)


def estimate_tokens(text: str) -> int:
    """A deterministic, deliberately generous token estimate (JSON averages ~3-4 characters per token)."""
    return math.ceil(len(text) / 3)


@dataclass(frozen=True, slots=True)
class Digest:
    """The digest as sent: canonical JSON text, its estimated size and its hash (the cache key's part)."""

    data: dict[str, Any]
    text: str
    tokens: int
    sha256: str

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Digest:
        text = canonical_json(data)
        return cls(data=data, text=text, tokens=estimate_tokens(text), sha256=hashlib.sha256(text.encode()).hexdigest())

    def to_dict(self) -> dict[str, Any]:
        """What the analysis child hands to the job: the data; text and hash are recomputed from it."""
        return self.data


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def uncertain_fields(stack: Stack) -> dict[str, dict[str, Any]]:
    """Correctable fields the engine is unsure of (low confidence) or found nothing for, with their evidence."""
    found: dict[str, dict[str, Any]] = {}
    for name in CORRECTABLE_FIELDS:
        provenance = stack.provenance.get(name)
        value = getattr(stack, name)
        empty = value in ("none", []) or not value
        if provenance is not None and provenance.confidence < UNCERTAIN_BELOW:
            found[name] = {
                "confidence": round(provenance.confidence, 2),
                "evidence": [e.cite() for e in provenance.evidence[:3]],
            }
        elif provenance is None and empty:
            found[name] = {"confidence": 0.0, "evidence": []}
    return found


def _stack_entry(stack: Stack) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": stack.path, "language": stack.language, "package_manager": stack.package_manager}
    for name in (
        "versions",
        "test_tool",
        "test_commands",
        "lint_tools",
        "lint_commands",
        "build_commands",
        "services",
        "frameworks",
        "manifests",
        "lockfiles",
        "workspace_members",
    ):
        value = getattr(stack, name)
        if value and value != "none":
            entry[name] = value
    uncertain = uncertain_fields(stack)
    if uncertain:
        entry["uncertain"] = uncertain
    return entry


def _stack_dir(stack: Stack) -> str:
    return "" if stack.path in (".", "") else stack.path.strip("/")


def notable_files(analysis: Analysis, source: RepoSource | None) -> list[str]:
    """Files directly inside the repository root and each stack's directory (the names that reveal tools)."""
    if source is None:
        names = {f for s in analysis.stacks for f in (*s.manifests, *s.lockfiles)}
        return sorted(names)
    dirs = {""} | {_stack_dir(s) for s in analysis.stacks}
    per_dir: dict[str, list[str]] = {d: [] for d in dirs}
    for entry in source.files():
        parent = posixpath.dirname(entry.path)
        if parent in per_dir:
            per_dir[parent].append(entry.path)
    result: list[str] = []
    for d in sorted(per_dir):
        result.extend(sorted(per_dir[d])[:MAX_FILES_PER_DIR])
    return result


def _compact_package_json(raw: str) -> str | None:
    """package.json reduced to what tells how it is built and tested (scripts, dependency names, engines)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    keep: dict[str, Any] = {}
    for key in ("packageManager", "engines", "scripts", "workspaces", "type"):
        if key in data:
            keep[key] = data[key]
    for key in ("dependencies", "devDependencies", "peerDependencies"):
        if isinstance(data.get(key), dict):
            keep[key] = sorted(data[key])
    return canonical_json(keep)


# Descriptive metadata that says nothing about building or testing.
_TOML_NOISE = frozenset(
    {
        "classifiers",
        "authors",
        "maintainers",
        "description",
        "readme",
        "license",
        "license-files",
        "keywords",
        "urls",
        "homepage",
        "repository",
        "documentation",
        "categories",
        "exclude",
        "include",
    }
)


def _compact_toml(raw: str) -> str | None:
    """A TOML manifest (pyproject, Cargo) without its descriptive metadata, as compact JSON."""
    try:
        data = tomllib.loads(raw)
    except (tomllib.TOMLDecodeError, ValueError):
        return None

    def prune(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: prune(v) for k, v in node.items() if k not in _TOML_NOISE}
        if isinstance(node, list):
            return [prune(v) for v in node]
        return node if isinstance(node, str | int | float | bool) else str(node)

    return canonical_json(prune(data))


def excerpt(source: RepoSource, path: str) -> str | None:
    """A short quote of `path`: blank and comment-only lines dropped, capped in lines and characters."""
    try:
        raw = source.read_bytes(path, EXCERPT_READ_BYTES).decode("utf-8", errors="replace")
    except (OSError, ValueError):
        return None
    name = posixpath.basename(path)
    compact = _compact_package_json(raw) if name == "package.json" else None
    if name.endswith(".toml"):
        compact = _compact_toml(raw)
    if compact is not None:
        return compact[:EXCERPT_MAX_CHARS]
    lines = [
        line.rstrip() for line in raw.splitlines() if line.strip() and not line.lstrip().startswith(("#", "//", "<!--"))
    ]
    text = "\n".join(lines[:EXCERPT_MAX_LINES])
    return text[:EXCERPT_MAX_CHARS] or None


def _excerpt_candidates(analysis: Analysis, files: set[str]) -> list[str]:
    """Files to quote, most useful first: stacks with uncertain fields, their manifests, then configs."""
    ordered = sorted(analysis.stacks, key=lambda s: (not uncertain_fields(s), s.path))
    seen: list[str] = []
    for stack in ordered:
        base = _stack_dir(stack)
        paths = list(stack.manifests)
        for item in uncertain_fields(stack).values():
            paths.extend(cite.split(" ")[0].split(":")[0] for cite in item["evidence"])
        paths.extend(posixpath.join(base, name) if base else name for name in CONFIG_FILES)
        for path in paths:
            if path in files and path not in seen:
                seen.append(path)
    return seen


def build_digest(analysis: Analysis, source: RepoSource | None = None, *, max_tokens: int = 1500) -> Digest:
    """The digest of `analysis` within `max_tokens` (estimated); excerpts fill what the facts leave."""
    data: dict[str, Any] = {
        "stacks": [_stack_entry(s) for s in analysis.stacks],
        "languages": [{"name": lang.name, "percent": round(lang.percent, 1)} for lang in analysis.languages[:6]],
        "findings": [
            {"code": f.code, "severity": f.severity, "stack": f.stack, "message": f.message[:200]}
            for f in analysis.findings[:MAX_FINDINGS]
        ],
    }
    if analysis.docker.dockerfiles:
        data["dockerfiles"] = [
            {"path": d.path, "base_images": d.base_images[:4]} for d in analysis.docker.dockerfiles[:5]
        ]
    if analysis.existing_ci:
        data["existing_ci"] = sorted({ci.provider for ci in analysis.existing_ci})
    if analysis.monorepo is not None and analysis.monorepo.tools:
        data["monorepo"] = analysis.monorepo.tools
    if analysis.deploy:
        data["deploy"] = sorted({d.kind for d in analysis.deploy})
    files = notable_files(analysis, source)
    data["files"] = files
    # Facts first; if they alone exceed the budget, drop the least useful parts until they fit.
    for trim in ("files", "findings", "languages"):
        if Digest.from_data(data).tokens <= max_tokens:
            break
        data[trim] = data[trim][: len(data[trim]) // 4]
    if Digest.from_data(data).tokens > max_tokens:
        # Large monorepos: stacks the engine is sure of keep only their identity...
        data["stacks"] = [
            s if "uncertain" in s else {k: s[k] for k in ("path", "language", "package_manager")}
            for s in data["stacks"]
        ]
    if Digest.from_data(data).tokens > max_tokens:
        # ...then every stack keeps its identity and the names of its uncertain fields...
        data["stacks"] = [
            {k: s[k] for k in ("path", "language", "package_manager")}
            | (
                {"uncertain": {f: {"confidence": u["confidence"]} for f, u in s["uncertain"].items()}}
                if "uncertain" in s
                else {}
            )
            for s in data["stacks"]
        ]
    while len(data["stacks"]) > 1 and Digest.from_data(data).tokens > max_tokens:
        # ...and the last stacks are left out, counted, rather than exceeding the budget.
        data["stacks"].pop()
        data["stacks_omitted"] = data.get("stacks_omitted", 0) + 1
    data["excerpts"] = []
    if source is not None:
        for path in _excerpt_candidates(analysis, set(files)):
            text = excerpt(source, path)
            if text is None:
                continue
            data["excerpts"].append({"path": path, "text": text})
            if Digest.from_data(data).tokens > max_tokens:
                data["excerpts"].pop()
    return Digest.from_data(data)


def digest_from_dict(data: dict[str, Any]) -> Digest:
    """Rebuild a digest handed over as data (from the analysis child)."""
    return Digest.from_data(data)


def child_digest(analysis: Analysis, source: RepoSource) -> dict[str, Any] | None:
    """For the analysis child process: the digest's data when an AI provider is configured, else None."""
    from autodevops.ai.entries import usable_entries
    from autodevops.config import get_settings

    settings = get_settings()
    if not usable_entries(settings):
        return None
    try:
        return build_digest(analysis, source, max_tokens=settings.ai_digest_max_tokens).to_dict()
    except Exception:  # noqa: BLE001 - a digest that cannot be built means no AI review, never a failed analysis
        return None
