"""How many jobs of the pipelines we generate go green when they run? The execution corpus's green rate.

Usage:
    .venv/bin/python bench/green_rate.py bench/green_rate.example.toml --checkouts /work/checkouts \\
        [--jobs 1] [--timeout 900] [--only OWNER/NAME] [--logs DIR] [--json] [--python X.Y=PATH] [--node N=PATH]
        [--matrix KEY=VALUE] [--job ID] [--generator PATH] [--compare]

The list file (TOML) names repositories at fixed commits:

    [[repo]]
    repo = "hynek/structlog"
    commit = "025edaf799c6d6d511ab672d14c2ba8e885c4c36"
    ecosystem = "python"   # optional: else the first stack the analysis finds
    notes = "tox env_list, git-derived version"

and `--checkouts` holds one checked-out tree per repository, `OWNER__NAME` (a clone at COMMIT; not `git archive`,
which drops the paths a repository marks export-ignore, often its tests).
Each checkout is copied to a temporary directory, its own CI configuration is removed (.github/workflows,
.gitlab-ci.yml, .circleci, azure-pipelines.yml, .travis.yml, appveyor.yml, Jenkinsfile), and
`autodevops verify` runs the pipeline `generate` writes for it, in a subprocess per repository (`--jobs`
of them at a time). The checkouts themselves are never modified.

Printed per ecosystem and overall: jobs green / jobs run, jobs blocked by cause, and for every red job the
failing step and its command. It runs the repositories' own code: use it on the corpus's public repositories
on a machine that may run them. A benchmark that prints numbers, not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CI_PATHS = (
    ".github/workflows",
    ".gitlab-ci.yml",
    ".circleci",
    "azure-pipelines.yml",
    ".travis.yml",
    "appveyor.yml",
    ".appveyor.yml",
    "Jenkinsfile",
)


@dataclass
class Entry:
    repo: str
    commit: str
    ecosystem: str | None = None
    notes: str = ""


@dataclass
class Outcome:
    entry: Entry
    ecosystem: str
    jobs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    own_jobs: list[dict[str, Any]] | None = None  # the maintainers' own CI at the same commit (--compare)


def load_list(path: Path) -> list[Entry]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = []
    for raw in data.get("repo", []):
        if not isinstance(raw, dict) or "repo" not in raw or "commit" not in raw:
            raise SystemExit(f"{path}: every [[repo]] needs `repo` and `commit`")
        entries.append(Entry(str(raw["repo"]), str(raw["commit"]), raw.get("ecosystem"), str(raw.get("notes", ""))))
    return entries


def prepared_copy(checkout: Path, into: Path) -> Path:
    """A copy of the checkout without its CI configuration (the repository as a new user would have it).

    A clone keeps its history (tags matter to git-derived versions); the removal is committed there, so a
    checkout with `fetch-depth: 0` sees the same tree as one without.
    """
    dest = into / checkout.name
    shutil.copytree(checkout, dest, symlinks=True)
    for rel in CI_PATHS:
        target = dest / rel
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
    if (dest / ".git").exists():
        identity = ["-c", "user.name=green-rate", "-c", "user.email=green-rate@autodevops.invalid"]
        subprocess.run(["git", "-C", str(dest), "add", "-A"], check=True, capture_output=True)
        subprocess.run(
            ["git", "-C", str(dest), *identity, "commit", "-q", "--allow-empty", "-m", "Remove CI configuration"],
            check=True,
            capture_output=True,
        )
    return dest


def ecosystem_of(entry: Entry, copy: Path) -> str:
    if entry.ecosystem:
        return entry.ecosystem
    from autodevops.engine.analyze import analyze
    from autodevops.engine.source import LocalDir

    stacks = analyze(LocalDir(str(copy))).stacks
    return stacks[0].language if stacks else "unknown"


def run_one(entry: Entry, args: argparse.Namespace) -> Outcome:
    import time

    started = time.monotonic()
    checkout = args.checkouts / entry.repo.replace("/", "__")
    if not checkout.is_dir():
        return Outcome(entry, entry.ecosystem or "unknown", error=f"no checkout at {checkout}")
    with tempfile.TemporaryDirectory(prefix="green-rate-") as tmp:
        copy = prepared_copy(checkout, Path(tmp))
        ecosystem = ecosystem_of(entry, copy)
        logs = args.logs / checkout.name
        options = ["--timeout", str(args.timeout)]
        if args.cache_dir:
            options += ["--cache-dir", str(args.cache_dir)]
        for option in ("python", "node", "matrix", "job"):
            for value in getattr(args, option):
                options += [f"--{option}", value]
        command = [sys.executable, "-m", "autodevops", "verify", str(copy), "--json", "--logs", str(logs), *options]
        if args.date:
            command += ["--date", args.date]
        outcome = Outcome(entry, ecosystem)
        if args.generator:
            try:
                workflows = generated_by(args.generator, copy, Path(tmp), args.date)
                command += [a for w in workflows for a in ("--workflow", w)]
            except RuntimeError as exc:
                outcome.error = str(exc)
                return outcome
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        outcome.seconds = time.monotonic() - started
        try:
            report = json.loads(done.stdout)
        except json.JSONDecodeError:
            outcome.error = f"verify exited {done.returncode}: {done.stderr.strip()[-500:]}"
            return outcome
        outcome.jobs = report["jobs"]
        if args.compare and any(j["status"] == "red" for j in outcome.jobs):
            outcome.own_jobs = own_ci_jobs(checkout, Path(tmp), options, logs.with_name(f"{logs.name}-own"))
        return outcome


def generated_by(generator: Path, copy: Path, tmp: Path, date: str | None) -> list[str]:
    """The workflows another build of the generator (`--generator`, e.g. an older release's `autodevops`) writes
    for `copy`, for verify to run as committed files: the same verify judges two generators."""
    out = tmp / "generated"
    command = [str(generator), "generate", str(copy), "--target", "github", "--out", str(out), "--force"]
    done = subprocess.run([*command, *(["--date", date] if date else [])], capture_output=True, text=True, check=False)
    workflows = sorted(str(w) for w in (out / ".github" / "workflows").glob("*.y*ml"))
    if done.returncode != 0 or not workflows:
        raise RuntimeError(f"{generator} generate exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return workflows


def own_ci_jobs(checkout: Path, tmp: Path, options: list[str], logs: Path) -> list[dict[str, Any]]:
    """The repository's own workflows run by verify at the same commit, with the same options: a job that is
    red there too is red because of the repository (a dependency's new release, a test that needs the
    network), not because of the pipeline we generated."""
    copy = tmp / "own" / checkout.name
    shutil.copytree(checkout, copy, symlinks=True)
    workflows = sorted((copy / ".github" / "workflows").glob("*.y*ml"))
    if not workflows:
        return []
    command = [sys.executable, "-m", "autodevops", "verify", str(copy), "--json", "--logs", str(logs), *options]
    command += [a for w in workflows for a in ("--workflow", str(w))]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        return list(json.loads(done.stdout)["jobs"])
    except (json.JSONDecodeError, KeyError):
        return []


def maintainers_verdict(own_jobs: list[dict[str, Any]] | None) -> str:
    """How the maintainers' own CI fared at the same commit: `red too`, `green`, or why it says nothing."""
    if own_jobs is None:
        return "not compared"
    statuses = {j["status"] for j in own_jobs}
    if "red" in statuses:
        return "red too"
    return "green" if "green" in statuses else "not run here (blocked)"


def job_ecosystem(job: dict[str, Any], fallback: str) -> str:
    """The generator names jobs `<language>-<kind>`; other jobs belong to the repository's ecosystem."""
    prefix = str(job["job_id"]).split("-")[0]
    known = {"python", "javascript", "typescript", "go", "rust", "java", "kotlin", "ruby", "php", "csharp", "elixir"}
    return prefix if prefix in known else fallback


def summarize(outcomes: list[Outcome]) -> dict[str, Any]:
    per: dict[str, Counter[str]] = defaultdict(Counter)
    blocked: dict[str, Counter[str]] = defaultdict(Counter)
    red: list[dict[str, Any]] = []
    errors = []
    for outcome in outcomes:
        if outcome.error:
            errors.append({"repo": outcome.entry.repo, "error": outcome.error})
            continue
        for job in outcome.jobs:
            ecosystem = job_ecosystem(job, outcome.ecosystem)
            for key in (ecosystem, "overall"):
                per[key][job["status"]] += 1
                if job["status"] == "blocked":
                    blocked[key][job.get("cause") or "unknown"] += 1
            if job["status"] == "red":
                step = next((s for s in job["steps"] if s["status"] == "red" and not s["continue_on_error"]), None)
                red.append(
                    {
                        "repo": outcome.entry.repo,
                        "job": job["name"],
                        "step": step["name"] if step else None,
                        "command": step["command"] if step else None,
                        "reason": step["reason"] if step else job["reason"],
                        "log": step["log"] if step else None,
                        "maintainers_ci": maintainers_verdict(outcome.own_jobs),
                    }
                )
    table = {
        key: {
            "green": counts["green"],
            "run": counts["green"] + counts["red"],
            "red": counts["red"],
            "blocked": counts["blocked"],
            "skipped": counts["skipped"],
            "blocked_by_cause": dict(blocked[key]),
        }
        for key, counts in sorted(per.items(), key=lambda kv: (kv[0] == "overall", kv[0]))
    }
    return {"ecosystems": table, "red_jobs": red, "errors": errors}


def render(summary: dict[str, Any], outcomes: list[Outcome]) -> str:
    lines = ["repositories:"]
    for outcome in outcomes:
        statuses = Counter(j["status"] for j in outcome.jobs)
        state = outcome.error or ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
        lines.append(f"  {outcome.entry.repo:<32} {outcome.ecosystem:<11} {outcome.seconds:>5.0f}s  {state}")
    lines.append("")
    lines.append(f"{'ecosystem':<12} {'green/run':>10} {'rate':>6}  blocked (by cause)            skipped")
    for key, row in summary["ecosystems"].items():
        rate = f"{100 * row['green'] / row['run']:.0f}%" if row["run"] else "-"
        causes = ", ".join(f"{c} {n}" for c, n in sorted(row["blocked_by_cause"].items())) or "-"
        lines.append(f"{key:<12} {row['green']:>4}/{row['run']:<5} {rate:>6}  {row['blocked']:>2} ({causes})"[:78])
        lines[-1] += f"  {row['skipped']}"
    if summary["red_jobs"]:
        lines += ["", "red jobs:"]
        for red in summary["red_jobs"]:
            command = (red["command"] or "").strip().splitlines()
            shown = command[0] + (" …" if len(command) > 1 else "") if command else ""
            lines.append(f"  {red['repo']} › {red['job']} › {red['step']}: {red['reason']}")
            lines.append(f"      maintainers' own CI at this commit: {red['maintainers_ci']}")
            if shown:
                lines.append(f"      $ {shown}")
    for error in summary["errors"]:
        lines.append(f"error: {error['repo']}: {error['error']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("list", type=Path, help="TOML list of [[repo]] entries (repo, commit, notes)")
    parser.add_argument("--checkouts", type=Path, required=True, help="directory of OWNER__NAME exported trees")
    parser.add_argument("--jobs", type=int, default=1, help="repositories verified at once (default 1)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per step (default 900)")
    parser.add_argument("--only", action="append", default=[], help="only this OWNER/NAME (repeatable)")
    parser.add_argument("--logs", type=Path, help="where step logs go (default: a temporary directory)")
    parser.add_argument("--cache-dir", type=Path, help="verify's tools and download cache")
    parser.add_argument("--date", help="analysis date YYYY-MM-DD for generation")
    parser.add_argument("--python", action="append", default=[], help="X.Y=PATH, passed to verify (repeatable)")
    parser.add_argument("--node", action="append", default=[], help="MAJOR=PATH, passed to verify (repeatable)")
    parser.add_argument(
        "--matrix",
        action="append",
        default=[],
        help="KEY=VALUE, passed to verify: of the cells with KEY, only those with VALUE run (repeatable)",
    )
    parser.add_argument(
        "--generator",
        type=Path,
        help="the `autodevops` executable whose generate writes the pipelines (default: this one), e.g. an older "
        "build to measure a change before and after with the same verify",
    )
    parser.add_argument("--job", action="append", default=[], help="ID, passed to verify: only this job (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="for a repository with a red job, also run its own workflows and say whether they are red too",
    )
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    entries = [e for e in load_list(args.list) if not args.only or e.repo in args.only]
    args.logs = args.logs or Path(tempfile.mkdtemp(prefix="green-rate-logs-"))
    print(f"{len(entries)} repositories, logs in {args.logs}", file=sys.stderr)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(lambda e: run_one(e, args), entries))
    summary = summarize(outcomes)
    if args.json:
        summary["repositories"] = [
            {"repo": o.entry.repo, "commit": o.entry.commit, "ecosystem": o.ecosystem, "jobs": o.jobs, "error": o.error}
            for o in outcomes
        ]
        print(json.dumps(summary, indent=2))
    else:
        print(render(summary, outcomes))


if __name__ == "__main__":
    main()
