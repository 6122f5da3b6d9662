"""Engine commands: analyze, bench (and the generator's commands). Pure: no database, no network except `git clone`.

Heavy modules are imported inside the command bodies so `autodevops analyze` starts fast. To add a command,
define it in a function `_register_<name>(app)` and call it from `register()`.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from autodevops.engine.bench import BenchResult, FullTreeResult
    from autodevops.engine.model import Analysis

EXIT_BAD_INPUT = 2


def register(app: typer.Typer) -> None:
    """Attach the engine commands to the root app."""
    _register_analyze(app)
    _register_bench(app)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _fail(f"--date must be YYYY-MM-DD, got {value!r}") from None


def _register_analyze(app: typer.Typer) -> None:
    @app.command("analyze")
    def analyze_command(
        path: Annotated[str, typer.Argument(help="A directory, or a git URL to clone (shallow) and analyze.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the full analysis as JSON.")] = False,
        date: Annotated[
            str | None, typer.Option("--date", help="Analysis date (YYYY-MM-DD) for runtime end-of-life.")
        ] = None,
    ) -> None:
        """Analyze a repository: stacks, versions, commands, services, findings."""
        from autodevops.engine.analyze import analyze
        from autodevops.engine.clone import GitClone
        from autodevops.engine.source import LocalDir, SourceError, is_git_url

        today = _parse_date(date)
        try:
            if is_git_url(path):
                with GitClone(path) as clone:
                    result = analyze(clone, today)
            else:
                result = analyze(LocalDir(path), today)
        except SourceError as exc:
            raise _fail(str(exc)) from None
        if as_json:
            sys.stdout.write(result.model_dump_json(indent=2) + "\n")
            return
        _print_analysis(result)


def _register_bench(app: typer.Typer) -> None:
    @app.command("bench")
    def bench_command(
        corpus: Annotated[
            Path,
            typer.Argument(
                help="Corpus directory: skeleton entries (tree.txt, files/, expected.json), or full-tree entries "
                "(source.json, expected.json) with --checkouts."
            ),
        ],
        checkouts: Annotated[
            Path | None,
            typer.Option(
                "--checkouts",
                help="Directory of exported trees (OWNER__NAME per entry): analyze each entry's full tree, CI "
                "hidden, and report the tuning and test splits.",
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print scores as JSON.")] = False,
        only: Annotated[str | None, typer.Option("--only", help="Only entries whose name contains this.")] = None,
        causes: Annotated[
            bool,
            typer.Option(
                "--causes",
                help="With --checkouts: split each field's shortfall by cause (named in the repository, CI-only, "
                "extra...), per split and in aggregate only.",
            ),
        ] = False,
    ) -> None:
        """Score the analyzer against a corpus of hand-read ground truth."""
        import json

        from autodevops.engine import bench, bench_misses

        if not corpus.is_dir():
            raise _fail(f"{corpus}: not a directory")
        found = bench.entries(corpus, only)
        if not found:
            raise _fail(f"{corpus}: no corpus entries" + (f" matching {only!r}" if only else ""))
        if checkouts is not None:
            if not checkouts.is_dir():
                raise _fail(f"--checkouts {checkouts}: not a directory (export each entry's tree to OWNER__NAME in it)")
            full = bench.run_full(corpus, checkouts, only)
            explained = bench_misses.explain(full, checkouts) if causes else None
            if as_json:
                doc = full.to_dict()
                if explained is not None:
                    doc["causes"] = _rounded(explained)
                sys.stdout.write(json.dumps(doc, indent=2) + "\n")
            else:
                _print_full_bench(full)
                if explained is not None:
                    _print_causes(full, explained)
            return
        if causes:
            raise _fail("--causes needs --checkouts: causes are looked up in each repository's full tree")
        bare = [e.name for e in found if not (e / "tree.txt").is_file()]
        if bare:
            raise _fail(
                f"{corpus}: {len(bare)} entries have no tree.txt (e.g. {bare[0]}); full-tree entries need "
                "--checkouts DIR with each repository's exported tree"
            )
        result = bench.run(corpus, only)
        if as_json:
            sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
            return
        _print_bench(result)


# ---- rendering -----------------------------------------------------------------------------------------------


def _print_analysis(a: Analysis) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{a.source}[/bold]  analyzed on {a.analyzed_on.isoformat()}  ({a.stats.files:,} files)")

    def cite(stack_prov: dict[str, object], name: str) -> str:
        prov = stack_prov.get(name)
        evidence = getattr(prov, "evidence", None) or []
        conf = getattr(prov, "confidence", None)
        where = ", ".join(e.cite() for e in evidence[:3])
        if conf is not None and conf < 0.6:
            where += " [dim](low confidence)[/dim]"
        return where

    if not a.stacks:
        console.print("No project stack detected.")
    for s in a.stacks:
        t = Table(title=f"{s.path}  {s.language}", show_header=True, title_justify="left")
        t.add_column("field")
        t.add_column("value")
        t.add_column("from", style="dim")
        rows: list[tuple[str, str]] = [
            ("package_manager", s.package_manager),
            ("versions", ", ".join(s.versions) or "-"),
            ("test_tool", s.test_tool),
            ("test_commands", "; ".join(s.test_commands) or "-"),
            ("lint_tools", ", ".join(s.lint_tools) or "-"),
            ("lint_commands", "; ".join(s.lint_commands) or "-"),
            ("build_commands", "; ".join(s.build_commands) or "-"),
            ("services", ", ".join(s.services) or "-"),
            ("frameworks", ", ".join(s.frameworks) or "-"),
        ]
        for name, value in rows:
            t.add_row(name, value, cite(dict(s.provenance), name))
        console.print(t)
    if a.languages:
        console.print("Languages: " + ", ".join(f"{lang.name} {lang.percent:.1f}%" for lang in a.languages[:8]))
    if a.docker.dockerfiles or a.docker.compose_files:
        t = Table(title="Docker", title_justify="left")
        t.add_column("file")
        t.add_column("details")
        for d in a.docker.dockerfiles:
            detail = ", ".join(d.base_images) + (" (multi-stage)" if d.multi_stage else "")
            if d.exposed_ports:
                detail += f"; EXPOSE {' '.join(map(str, d.exposed_ports))}"
            t.add_row(d.path, detail)
        for c in a.docker.compose_files:
            t.add_row(c.path, ", ".join(f"{cs.name}{'=' + cs.kind if cs.kind else ''}" for cs in c.services))
        console.print(t)
    if a.existing_ci:
        console.print("Existing CI: " + ", ".join(f"{c.provider} ({c.path})" for c in a.existing_ci))
    if a.deploy:
        console.print("Deploy: " + ", ".join(f"{d.kind} ({d.path})" for d in a.deploy))
    if a.monorepo:
        console.print("Monorepo: " + ", ".join(a.monorepo.tools))
    if a.findings:
        t = Table(title="Findings", title_justify="left")
        t.add_column("severity")
        t.add_column("code")
        t.add_column("message")
        t.add_column("from", style="dim")
        for f in a.findings:
            t.add_row(f.severity, f.code, f.message, ", ".join(e.cite() for e in f.evidence[:3]))
        console.print(t)


def _bench_console() -> Console:
    from rich.console import Console

    return Console(width=max(Console().width, 150))


def _print_repo_table(console: Console, result: BenchResult, title: str) -> None:
    from rich.table import Table

    from autodevops.engine.bench import FIELDS

    t = Table(title=title, title_justify="left")
    t.add_column("repository")
    t.add_column("score", justify="right")
    for f in FIELDS:
        t.add_column(f.replace("package_manager", "pm").replace("lint_tools", "lint"), justify="right")
    t.add_column("prec", justify="right")
    t.add_column("unmatched", style="dim")
    for r in result.repos:
        missing = [f"{s.path}:{s.language}" for s in r.stacks if not s.matched]
        note = r.error or " ".join([*(f"-{m}" for m in missing), *(f"+{u}" for u in r.unmatched_predicted)])[:80]
        t.add_row(
            r.name,
            f"{r.score:.2f}",
            *(f"{r.field(f):.2f}" for f in FIELDS),
            f"{r.precision:.2f}",
            note,
        )
    console.print(t)


def _print_bench(result: BenchResult) -> None:
    from rich.table import Table

    from autodevops.engine.bench import FIELDS

    console = _bench_console()
    _print_repo_table(console, result, "Per repository")
    s = Table(title="Summary", title_justify="left")
    s.add_column("metric")
    s.add_column("score", justify="right")
    for f in FIELDS:
        s.add_row(f, f"{result.field(f):.3f}")
    s.add_row("stack precision", f"{result.precision:.3f}")
    s.add_row("[bold]overall[/bold]", f"[bold]{result.overall:.3f}[/bold]")
    console.print(s)


def _print_full_bench(full: FullTreeResult) -> None:
    from rich.table import Table

    from autodevops.engine.bench import FIELDS, SPLITS
    from autodevops.engine.model import CONFIDENT

    console = _bench_console()
    for name in SPLITS:
        if full.splits[name].repos:
            _print_repo_table(console, full.splits[name], f"{name.capitalize()} split, per repository")
    s = Table(title="Summary (full trees, CI hidden)", title_justify="left")
    s.add_column("metric")
    for name in SPLITS:
        s.add_column(f"{name} ({len(full.splits[name].repos)})", justify="right")

    def calibration(r: BenchResult) -> str:
        c = r.calibration()
        return "-" if c.share is None else f"{c.share:.3f} ({c.right}/{c.total})"

    rows: list[tuple[str, Callable[[BenchResult], str]]] = [
        *((f, partial(_field_cell, name=f)) for f in FIELDS),
        ("stack precision", lambda r: f"{r.precision:.3f}"),
        ("[bold]overall[/bold]", lambda r: f"[bold]{r.overall:.3f}[/bold]"),
        (f"right when confidence >= {CONFIDENT}", calibration),
    ]
    for label, cell in rows:
        s.add_row(label, *(cell(full.splits[n]) if full.splits[n].repos else "-" for n in SPLITS))
    console.print(s)
    if full.skipped:
        console.print(f"Skipped {len(full.skipped)} entries (not scored):")
        for skipped in full.skipped:
            console.print(f"  {skipped.name}: {skipped.reason}", markup=False)


def _rounded(explained: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, dict[str, float]]]:
    return {
        split: {name: {cause: round(v, 4) for cause, v in by_cause.items()} for name, by_cause in fields.items()}
        for split, fields in explained.items()
    }


def _print_causes(full: FullTreeResult, explained: dict[str, dict[str, dict[str, float]]]) -> None:
    from rich.table import Table

    from autodevops.engine.bench import FIELDS, SPLITS
    from autodevops.engine.bench_misses import CAUSES

    console = _bench_console()
    for split in SPLITS:
        result = full.splits[split]
        if not result.repos:
            continue
        table = Table(
            title=f"Where the {split} split's score goes: each field's shortfall from 1, by cause",
            title_justify="left",
        )
        table.add_column("field")
        table.add_column("score", justify="right")
        for cause in CAUSES:
            table.add_column(cause, justify="right")
        for name in FIELDS:
            by_cause = explained[split][name]
            table.add_row(name, f"{result.field(name):.3f}", *(f"{by_cause[c]:.3f}" for c in CAUSES))
        console.print(table)
    console.print(
        "named: the repository names the value outside CI; in-range: a line inside the proposed range; toolchain: "
        "a tool the language ships; other-tool: a tool outside the schema's list; ci-only: only CI names it; "
        "extra: stated with confidence but not what CI uses; flagged: stated with low confidence (marked for review "
        "in the pipeline) and not what CI uses; no-stack: the project was not found.",
        markup=False,
    )


def _field_cell(result: BenchResult, name: str) -> str:
    return f"{result.field(name):.3f}"
