"""`autodevops generate` and `autodevops pins update`.

`generate` analyzes a directory and writes its pipeline. Files are compared before anything is written: an
existing file with other content is never replaced without `--force`, `--diff` and `--check` never write, and
each file is written to a temporary file in its directory and renamed over the target, so a failure leaves
either the old file or the new one, never half of one. Exit status: 0 written or unchanged, 1 `--check` found
a difference or a file would be overwritten, 2 bad input (unreadable source, unwritable `--out`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

if TYPE_CHECKING:
    from autodevops.engine.model import Analysis

EXIT_DIFFERS = 1
EXIT_BAD_INPUT = 2


def register(app: typer.Typer) -> None:
    """Attach `generate` and the `pins` group to the root app."""
    _register_generate(app)
    pins = typer.Typer(help="The table of commit SHAs generated workflows pin actions to.", no_args_is_help=True)
    _register_pins(pins)
    app.add_typer(pins, name="pins")


def _error(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def write_atomic(path: Path, content: str) -> None:
    """Write `content` to `path` through a temporary file in the same directory and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_inside(out: Path, rel_paths: list[str]) -> None:
    """Refuse a target whose directory is reached through a symlink that leaves `out` (`.github -> /elsewhere`):
    the pipeline belongs in the repository, and a link planted there must not make us write anywhere else."""
    root = out.resolve()
    for rel in rel_paths:
        directory = (out / rel).parent
        if directory.resolve() != root and not directory.resolve().is_relative_to(root):
            raise _error(f"refusing to write {rel}: {directory} leads outside {out} through a symbolic link")


def _check_writable(out: Path, rel_paths: list[str]) -> None:
    """Fail before writing anything when any target directory cannot be created or written."""
    for rel in rel_paths:
        directory = (out / rel).parent
        probe = directory
        while not probe.exists():
            probe = probe.parent
        if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
            raise _error(f"cannot write to {directory}: {probe} is not a writable directory")
        target = out / rel
        if target.exists() and (target.is_dir() or not os.access(target.parent, os.W_OK)):
            raise _error(f"cannot write {target}")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise _error(f"cannot read {path}: {exc}") from None


def _register_generate(app: typer.Typer) -> None:
    @app.command("generate")
    def generate_command(
        path: Annotated[str, typer.Argument(help="The repository: a directory, or a git URL (with --out).")],
        target: Annotated[
            str, typer.Option("--target", help="github (workflows + dependabot), gitlab, or all.")
        ] = "github",
        out: Annotated[
            Path | None, typer.Option("--out", help="Where to write the files (default: the repository itself).")
        ] = None,
        force: Annotated[bool, typer.Option("--force", help="Replace existing files that differ.")] = False,
        check: Annotated[
            bool, typer.Option("--check", help="Write nothing; exit 1 if the files on disk differ.")
        ] = False,
        diff: Annotated[bool, typer.Option("--diff", help="Write nothing; show the change against disk.")] = False,
        date: Annotated[
            str | None, typer.Option("--date", help="Analysis date (YYYY-MM-DD) for runtime end-of-life.")
        ] = None,
        default_branch: Annotated[
            str | None,
            typer.Option(
                "--default-branch",
                help="The branch pushes trigger CI on (default: read from the checkout's git metadata).",
            ),
        ] = None,
    ) -> None:
        """Analyze a repository and write its CI pipeline (GitHub Actions, Dependabot, GitLab CI)."""
        from autodevops.engine.analyze import analyze
        from autodevops.engine.clone import GitClone
        from autodevops.engine.generate import Target, generate
        from autodevops.engine.source import LocalDir, SourceError, is_git_url

        if target not in ("github", "gitlab", "all"):
            raise _error(f"--target must be github, gitlab or all, got {target!r}")
        today: dt.date | None = None
        if date is not None:
            try:
                today = dt.date.fromisoformat(date)
            except ValueError:
                raise _error(f"--date must be YYYY-MM-DD, got {date!r}") from None
        remote = is_git_url(path)
        if remote and out is None:
            raise _error("--out is required when PATH is a git URL")
        if not remote and not Path(path).is_dir():
            raise _error(f"{path} is not a directory")
        try:
            if remote:
                with GitClone(path) as clone:
                    analysis = analyze(clone, today)
            else:
                analysis = analyze(LocalDir(path), today)
        except SourceError as exc:
            raise _error(str(exc)) from None
        if default_branch is not None:
            if not re.fullmatch(r"[A-Za-z0-9._/-]{1,200}", default_branch) or ".." in default_branch:
                raise _error(f"--default-branch: {default_branch!r} is not a branch name")
            analysis.default_branch = default_branch
        unreadable = [f for f in analysis.findings if f.code == "parse-error"]
        if not analysis.stacks and unreadable:
            # Nothing was recognised because the manifests could not be read: a checkout-only pipeline would
            # look like success. Say what to fix instead.
            for finding in unreadable:
                typer.echo(f"error: {finding.message}", err=True)
            raise _error("no project was recognised: fix the files above and run `autodevops generate` again")
        chosen: Target = "all" if target == "all" else ("gitlab" if target == "gitlab" else "github")
        result = generate(analysis, chosen)
        for finding in result.findings:
            typer.echo(f"{finding.severity}: {finding.message}", err=True)
        if not remote:
            for warning in existing_test_workflows(Path(path), analysis, result.files):
                typer.echo(f"warning: {warning}", err=True)
        code = _apply(result.files, out or Path(path), force=force, check=check, diff=diff)
        raise typer.Exit(code)


def existing_test_workflows(root: Path, analysis: Analysis, generated: dict[str, str]) -> list[str]:
    """Workflows the repository already has, beside the ones generated, that run the same tests: committing
    both would run every test twice (and report it twice)."""
    from autodevops.engine.generate.plan import build_plan, tool_word

    words: set[str] = set()
    for line in (line.strip() for sp in build_plan(analysis).stacks for c in sp.test for line in c.run.splitlines()):
        word = tool_word(line) if line else ""
        if word.split()[:1] in (["tox"], ["nox"]):
            word = word.split()[0]  # the environments differ; tox itself running is what matters
        elif word in ("npm", "pnpm", "yarn", "bun"):
            word = line  # `npm test`, not every `npm` line
        if word:
            words.add(word)
    warnings: list[str] = []
    for ci in analysis.existing_ci:
        if ci.provider != "github-actions" or ci.path in generated:
            continue
        try:
            text = (root / ci.path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        runs = sorted(w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text))
        if runs:
            warnings.append(
                f"{ci.path} already runs {', '.join(f'`{w}`' for w in runs)}: with the generated workflow the tests "
                "would run twice; remove one of them, or merge what the old one adds"
            )
    return warnings


def _apply(files: dict[str, str], out: Path, *, force: bool, check: bool, diff: bool) -> int:
    _check_inside(out, list(files))
    if not (check or diff):
        _check_writable(out, list(files))
    states: dict[str, Literal["new", "same", "changed"]] = {}
    for rel, content in files.items():
        current = _read(out / rel)
        states[rel] = "new" if current is None else ("same" if current == content else "changed")
        if diff and current != content:
            typer.echo(
                "".join(
                    difflib.unified_diff(
                        (current or "").splitlines(keepends=True),
                        content.splitlines(keepends=True),
                        fromfile=f"a/{rel}" if current is not None else "/dev/null",
                        tofile=f"b/{rel}",
                    )
                ),
                nl=False,
            )
    if check:
        differing = [rel for rel, state in states.items() if state != "same"]
        for rel in differing:
            typer.echo(f"{rel}: {'missing' if states[rel] == 'new' else 'differs'}", err=True)
        return EXIT_DIFFERS if differing else 0
    if diff:
        return 0
    blocked = [rel for rel, state in states.items() if state == "changed" and not force]
    if blocked:
        for rel in blocked:
            typer.echo(f"error: {out / rel} exists and differs; use --diff to see the change, --force to replace it")
        return EXIT_DIFFERS
    for rel, state in states.items():
        if state == "same":
            typer.echo(f"unchanged {out / rel}")
            continue
        try:
            write_atomic(out / rel, files[rel])
        except OSError as exc:
            raise _error(f"cannot write {out / rel}: {exc}") from None
        typer.echo(f"{'wrote' if state == 'new' else 'replaced'} {out / rel}")
    return 0


def _register_pins(pins: typer.Typer) -> None:
    @pins.command("update")
    def update_command(
        api_url: Annotated[
            str,
            typer.Option(
                "--api-url", envvar="AUTODEVOPS_GITHUB_API_URL", help="GitHub REST API base URL (GHES, a mirror)."
            ),
        ] = "https://api.github.com",
        pins_file: Annotated[
            Path | None, typer.Option("--file", help="The pins table to update (default: the packaged one).")
        ] = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the changes without writing.")] = False,
    ) -> None:
        """Refresh every pinned action to its latest release's commit SHA."""
        import httpx

        from autodevops.engine.generate.pins import PinError, default_path, load_pins, render_pins, update_pins

        target = pins_file or default_path()
        try:
            current = load_pins(target)
        except (OSError, PinError, ValueError) as exc:
            raise _error(f"cannot read {target}: {exc}") from None
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        token = os.environ.get("GITHUB_TOKEN")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            with httpx.Client(base_url=api_url.rstrip("/"), headers=headers, timeout=20.0) as client:
                updated, changes = update_pins(current, client)
        except (httpx.HTTPError, PinError) as exc:
            raise _error(f"GitHub API: {exc}") from None
        for old, new in changes:
            typer.echo(f"{old.action}: {old.version} ({old.sha[:12]}) -> {new.version} ({new.sha[:12]})")
        if not changes:
            typer.echo("all pins are current")
            return
        if not dry_run:
            write_atomic(target, render_pins(updated))
            typer.echo(f"updated {target}")
