"""What a verify run found: per job and step, green / red / blocked / skipped, as a table or as JSON.

Exit status of a run: 0 when every job that ran is green (blocked and skipped jobs are named in the summary),
1 when a job is red, 3 when no job could run at all (everything blocked or skipped): a run that proved
nothing is not a success.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

GREEN, RED, BLOCKED, SKIPPED = "green", "red", "blocked", "skipped"
EXIT_RED = 1
EXIT_NOTHING_RAN = 3


@dataclass
class StepResult:
    number: int  # 1-based, as the runner shows steps
    name: str
    status: str
    cause: str | None = None  # blocked: toolchain | service | docker | action | os | environment | timeout
    reason: str = ""
    command: str | None = None
    exit_code: int | None = None
    seconds: float = 0.0
    log: str | None = None
    tail: list[str] = field(default_factory=list)
    continue_on_error: bool = False


@dataclass
class JobResult:
    workflow: str
    job_id: str
    name: str
    matrix: dict[str, Any]
    status: str
    cause: str | None = None
    reason: str = ""
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0
    workdir: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def ran(self) -> bool:
        return self.status in (GREEN, RED)

    def failing_step(self) -> StepResult | None:
        return next((s for s in self.steps if s.status == RED and not s.continue_on_error), None)

    def blocking_step(self) -> StepResult | None:
        return next((s for s in self.steps if s.status == BLOCKED), None)


@dataclass
class Report:
    source: str
    workflows: list[str]
    logs_dir: str
    jobs: list[JobResult] = field(default_factory=list)
    event: str = "push"
    ref: str = "refs/heads/main"

    def counts(self) -> Counter[str]:
        return Counter(job.status for job in self.jobs)

    def blocked_by_cause(self) -> Counter[str]:
        return Counter(job.cause or "unknown" for job in self.jobs if job.status == BLOCKED)

    def exit_code(self) -> int:
        counts = self.counts()
        if counts[RED]:
            return EXIT_RED
        if not counts[GREEN]:
            return EXIT_NOTHING_RAN
        return 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["summary"] = {
            "green": self.counts()[GREEN],
            "red": self.counts()[RED],
            "blocked": self.counts()[BLOCKED],
            "skipped": self.counts()[SKIPPED],
            "blocked_by_cause": dict(self.blocked_by_cause()),
            "exit_code": self.exit_code(),
        }
        return data


_MARK = {GREEN: "✓", RED: "✗", BLOCKED: "■", SKIPPED: "-"}


def _status_text(status: str, cause: str | None) -> str:
    return f"{status} ({cause})" if status == BLOCKED and cause else status


def render_text(report: Report, tail_lines: int = 20) -> str:
    """The human report: one block per job with its steps, the failing command and log tail, then a summary."""
    out: list[str] = [f"verify {report.source} ({report.event} to {report.ref})", ""]
    width = max((len(s.name) for j in report.jobs for s in j.steps), default=10)
    width = min(max(width, 20), 60)
    for job in report.jobs:
        title = f"{job.workflow} › {job.name}"
        out.append(f"{_MARK[job.status]} {title}  [{_status_text(job.status, job.cause)}, {job.seconds:.0f}s]")
        if job.reason and job.status != GREEN:
            out.append(f"    {job.reason}")
        if job.workdir:
            out.append(f"    kept: {job.workdir}")
        for step in job.steps:
            name = step.name if len(step.name) <= width else step.name[: width - 1] + "…"
            line = f"    {_MARK[step.status]} {step.number:>2} {name:<{width}}  {_status_text(step.status, step.cause)}"
            if step.status == GREEN and step.seconds >= 1:
                line += f"  {step.seconds:.0f}s"
            if step.reason and step.status != GREEN:
                line += f"  — {step.reason}"
            elif step.reason and step.status == GREEN:
                line += f"  ({step.reason})"
            out.append(line)
            if step.status == RED or (step.status == BLOCKED and step.cause == "environment"):
                if step.command:
                    out.append("         command:")
                    out.extend(f"           {c}" for c in step.command.splitlines()[:12])
                if step.exit_code is not None:
                    out.append(f"         exit code {step.exit_code}; log {step.log}")
                if step.tail:
                    out.append(f"         last {min(tail_lines, len(step.tail))} lines:")
                    out.extend(f"           | {t}" for t in step.tail[-tail_lines:])
        out.append("")
    out.append(summary_line(report))
    blocked = report.blocked_by_cause()
    if blocked:
        out.append("blocked, by cause (this machine cannot run them; not counted green or red):")
        for cause, count in sorted(blocked.items()):
            reasons = sorted({j.reason for j in report.jobs if j.status == BLOCKED and (j.cause or "unknown") == cause})
            out.append(f"  {cause}: {count} — {'; '.join(reasons)[:400]}")
    out.append(f"logs: {report.logs_dir}")
    return "\n".join(out)


def summary_line(report: Report) -> str:
    counts = report.counts()
    ran = counts[GREEN] + counts[RED]
    return (
        f"jobs: {counts[GREEN]} green of {ran} run, {counts[RED]} red, {counts[BLOCKED]} blocked, "
        f"{counts[SKIPPED]} skipped"
    )
