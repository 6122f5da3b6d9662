"""Pipeline generation: an `Analysis` in, CI configuration files out. Pure and deterministic.

`generate()` builds one plan (`plan.py`) and renders it for each target: GitHub Actions workflows, the
Dependabot configuration, and GitLab CI. The same analysis always yields byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from autodevops.engine.generate.dependabot import render_dependabot
from autodevops.engine.generate.github_actions import render_github
from autodevops.engine.generate.gitlab_ci import render_gitlab
from autodevops.engine.generate.pins import Pin, load_pins
from autodevops.engine.generate.plan import build_plan
from autodevops.engine.model import Analysis, Evidence, Finding

Target = Literal["github", "gitlab", "all"]


@dataclass
class Generated:
    """The files to write (repo-relative path → content) and what the generator wants a person to know."""

    files: dict[str, str]
    findings: list[Finding]


def generate(analysis: Analysis, target: Target = "github", pins: dict[str, Pin] | None = None) -> Generated:
    """Render the pipeline for `analysis`: GitHub workflows + dependabot.yml (unless the repository configures its
    dependency updates already), `.gitlab-ci.yml`, or all."""
    plan = build_plan(analysis)
    files: dict[str, str] = {}
    findings = list(plan.findings)
    if target in ("github", "all"):
        files.update(render_github(plan, pins if pins is not None else load_pins()))
        if analysis.update_bots:
            findings.append(_kept_update_bots(analysis))
        else:
            files[".github/dependabot.yml"] = render_dependabot(plan)
    if target in ("gitlab", "all"):
        files[".gitlab-ci.yml"] = render_gitlab(plan)
    return Generated(files=dict(sorted(files.items())), findings=findings)


def _kept_update_bots(analysis: Analysis) -> Finding:
    """The repository already configures its dependency updates: a dependabot.yml beside that would open each
    update twice (or overwrite a file other tooling manages), so none is written. The generated workflows pin
    actions to commits, so a configuration that does not update actions is worth a warning."""
    bots = analysis.update_bots
    kept = ", ".join(f"{bot.path} ({bot.bot})" for bot in bots)
    message = (
        f"dependency updates stay with the repository's own configuration, {kept}: no .github/dependabot.yml "
        "was generated"
    )
    covered = any(bot.updates_actions for bot in bots)
    if not covered:
        message += (
            "; it does not update GitHub Actions, and the generated workflows pin each action to a commit: add a "
            "`package-ecosystem: github-actions` entry (directory `/`) so those pins get updates"
        )
    return Finding(
        code="update-bot-kept",
        severity="info" if covered else "warning",
        message=message,
        evidence=[Evidence(file=bot.path) for bot in bots],
    )
