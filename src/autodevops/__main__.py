"""The `autodevops` executable (and `python -m autodevops`).

`autodevops analyze PATH --json` is what CI jobs, scripts and the benchmark run, often on every push, so it
takes a direct path: the engine and its pydantic models only, without loading the command-line framework
and every other command's module (about a third of the start-up time). Any other command line, including
`--help`, a human-readable summary, an invalid `--date` or an option this path does not know, goes through
the full CLI in `autodevops.cli`, which stays the one definition of the interface. A test holds the two
paths to the same output.
"""

from __future__ import annotations

import datetime as dt
import sys


def main() -> None:
    """Run the command line."""
    fast = _fast_analyze_args(sys.argv[1:])
    if fast is not None:
        sys.exit(_analyze_json(*fast))
    from autodevops.cli import main as cli_main

    cli_main()


def _fast_analyze_args(argv: list[str]) -> tuple[str, dt.date | None] | None:
    """`(path, date)` when `argv` is `analyze PATH --json [--date YYYY-MM-DD]` (any order), else None."""
    if not argv or argv[0] != "analyze":
        return None
    path: str | None = None
    date: str | None = None
    as_json = False
    args = iter(argv[1:])
    for arg in args:
        if arg == "--json":
            as_json = True
        elif arg == "--date":
            date = next(args, None)
            if date is None:
                return None
        elif arg.startswith("--date="):
            date = arg.removeprefix("--date=")
        elif arg.startswith("-") or path is not None:
            return None  # --help, an option this path does not know, or a second argument: the CLI decides
        else:
            path = arg
    if not as_json or path is None:
        return None
    if date is None:
        return path, None
    try:
        return path, dt.date.fromisoformat(date)
    except ValueError:
        return None  # the CLI reports it


def _analyze_json(path: str, today: dt.date | None) -> int:
    from autodevops.engine.analyze import analyze
    from autodevops.engine.clone import GitClone
    from autodevops.engine.source import LocalDir, SourceError, is_git_url

    try:
        if is_git_url(path):
            with GitClone(path) as clone:
                result = analyze(clone, today)
        else:
            result = analyze(LocalDir(path), today)
    except SourceError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    return 0


if __name__ == "__main__":
    main()
