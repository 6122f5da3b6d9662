"""Checkers of the files a repository owns besides its code: spelling (typos, codespell, cspell), TOML, YAML and
Markdown linters, dprint, link checkers.

Their configuration files exist to run them: unlike a language linter's settings (kept for editors just as
often), nobody writes a `_typos.toml` or a `.yamllint` for an editor. Such a checker is a lint tool of the stack
that owns the directory its configuration sits in (`other` in the vocabulary), stated as a fact without a
command: which files it covers is the project's choice.
"""

from __future__ import annotations

from autodevops.engine.detect.base import Context
from autodevops.engine.detect.builder import is_under
from autodevops.engine.model import Evidence, LanguageShare, Provenance, Stack

CONFIGS = (
    "_typos.toml",
    "typos.toml",
    ".typos.toml",
    ".codespellrc",
    "taplo.toml",
    ".taplo.toml",
    "cspell.json",
    ".cspell.json",
    "cspell.config.yaml",
    "cspell.yaml",
    ".markdownlint.json",
    ".markdownlint.yaml",
    ".markdownlint.yml",
    ".markdownlint-cli2.yaml",
    ".markdownlint-cli2.jsonc",
    ".markdownlintrc",
    ".yamllint",
    ".yamllint.yml",
    ".yamllint.yaml",
    "dprint.json",
    ".dprint.json",
    "lychee.toml",
    ".lychee.toml",
)
PYPROJECT_TABLES = ("codespell", "typos")
# Language share names (linguist's) that differ from the stack vocabulary.
_LINGUIST = {"c++": "cpp", "c#": "csharp", "f#": "fsharp"}


def attach(ctx: Context, stacks: list[Stack], languages: list[LanguageShare]) -> None:
    """Add `other` to the lint tools of the stack owning each checker configuration (the root's or the nearest
    stack above it; of several stacks there, the one in the repository's main language)."""
    rank = {_LINGUIST.get(share.name.lower(), share.name.lower()): i for i, share in enumerate(languages)}
    for config, key in _configs(ctx):
        directory = Context.dirname(config)
        owners = [s for s in stacks if is_under(directory, s.path)]
        if not owners:
            continue
        nearest = max((s.path for s in owners), key=lambda p: (p != ".", len(p)))
        stack = min((s for s in owners if s.path == nearest), key=lambda s: rank.get(s.language, len(rank)))
        evidence = Evidence(file=config, key=key)
        if "other" in stack.lint_tools:
            prov = stack.provenance.get("lint_tools")
            if prov is not None and evidence not in prov.evidence:
                prov.evidence.append(evidence)
            continue
        stack.lint_tools = [*stack.lint_tools, "other"]
        prov = stack.provenance.get("lint_tools")
        if prov is None:
            stack.provenance["lint_tools"] = Provenance(
                evidence=[evidence], confidence=0.6, justification="a file checker's configuration"
            )
        else:
            prov.evidence.append(evidence)
            prov.confidence = min(prov.confidence, 0.6)


def _configs(ctx: Context) -> list[tuple[str, str | None]]:
    """Checker configurations at the repository root, or at a stack's root one level down (deeper ones belong to
    vendored or sample code): files of their own, and `[tool.codespell]` / `[tool.typos]` in pyproject.toml."""
    names = set(CONFIGS)
    shallow = sorted(p for p in ctx.sizes if p.count("/") <= 1)
    found: list[tuple[str, str | None]] = [(p, None) for p in shallow if p.rsplit("/", 1)[-1] in names]
    for p in shallow:
        if p.rsplit("/", 1)[-1] == "pyproject.toml":
            tool = (ctx.toml(p) or {}).get("tool")
            for table in PYPROJECT_TABLES:
                if isinstance(tool, dict) and isinstance(tool.get(table), dict):
                    found.append((p, f"tool.{table}"))
    return found
