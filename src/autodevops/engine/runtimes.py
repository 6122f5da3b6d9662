"""Runtime release lines and end-of-life dates, and the version matrix they imply.

The data lives in `runtimes.toml` next to this module (one dated table, one place to update); this module
answers the questions detectors ask of it:

- `supported_versions(language, spec, today)`: the release lines a project declares support for (`spec`) that are
  released and not end-of-life on `today` — the version matrix AutoDevOps proposes.
- `is_eol(language, version, today)`: whether the line a pinned version belongs to is past end of life.
- `cycle_of(language, version)`: the release line of a version (`"3.12.4"` → `"3.12"`, `"v20.11.0"` → `"20"`).

A `spec` is whatever the ecosystem declares: a `packaging` `SpecifierSet` (or a PEP 440 string) for Python, a
range string for the others (npm/semver ranges, Composer constraints, RubyGems `~>`), or any predicate over the
release line. A release line satisfies a spec when some version in it does, so `>=3.8.1` still includes 3.8.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

RangeFlavor = Literal["npm", "composer", "gem"]
Spec = SpecifierSet | str | Callable[[str], bool] | None

# The highest patch/minor probed when asking "does any version of this line satisfy the spec". Real releases
# stay far below it, so `<3.13` excludes 3.13 while `>=3.8.1` still admits 3.8.
_TOP = 9999


@dataclass(frozen=True, slots=True)
class Release:
    """One release line of a runtime."""

    language: str
    cycle: str
    released: dt.date
    eol: dt.date | None = None
    lts: bool = False

    def is_released(self, today: dt.date) -> bool:
        return self.released <= today

    def is_eol(self, today: dt.date) -> bool:
        return self.eol is not None and self.eol <= today


@dataclass(frozen=True, slots=True)
class RuntimeTable:
    as_of: dt.date
    lts_only: frozenset[str]
    releases: dict[str, tuple[Release, ...]]


@functools.cache
def table() -> RuntimeTable:
    """The parsed `runtimes.toml` (read once per process)."""
    raw = tomllib.loads(resources.files(__package__).joinpath("runtimes.toml").read_text("utf-8"))
    return _build_table(raw)


def _build_table(raw: dict[str, Any]) -> RuntimeTable:
    as_of = raw.get("as_of")
    if not isinstance(as_of, dt.date):
        raise ValueError("runtimes.toml: `as_of` must be a date")
    releases: dict[str, tuple[Release, ...]] = {}
    for language, rows in raw.items():
        if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
            continue
        parsed = [
            Release(
                language=language,
                cycle=str(row["cycle"]),
                released=row["released"],
                eol=row.get("eol"),
                lts=bool(row.get("lts", False)),
            )
            for row in rows
        ]
        releases[language] = tuple(sorted(parsed, key=lambda r: version_key(r.cycle)))
    return RuntimeTable(as_of=as_of, lts_only=frozenset(raw.get("matrix_lts_only", [])), releases=releases)


def as_of() -> dt.date:
    """The date the runtime table was last checked against upstream schedules."""
    return table().as_of


def languages() -> list[str]:
    """Languages the table has release lines for."""
    return sorted(table().releases)


def releases(language: str) -> tuple[Release, ...]:
    """Every known release line of `language`, oldest first (empty for a language without a table)."""
    return table().releases.get(language, ())


def release(language: str, version: str) -> Release | None:
    """The release line `version` belongs to, if the table knows it."""
    cycle = cycle_of(language, version)
    return next((r for r in releases(language) if r.cycle == cycle), None)


def version_key(version: str) -> tuple[int, ...]:
    """Sort key of a dotted version: its numeric parts (`20.19.1` → (20, 19, 1))."""
    return tuple(int(p) for p in re.findall(r"\d+", version))


def _cycle_width(language: str) -> int:
    rows = releases(language)
    return len(rows[-1].cycle.split(".")) if rows else 2


_VERSION_PREFIX = re.compile(r"^\s*(?:v|go|ruby-|python|py|node|php|jdk|java|net|dotnet)?\s*(\d+(?:\.\d+)*)", re.I)


def cycle_of(language: str, version: str) -> str | None:
    """The release line of `version` in the table's format, or None if it does not look like a version.

    `3.12.4` → `3.12` (Python), `v20.11.0` → `20` (Node), `go1.22.3` → `1.22` (Go).
    """
    m = _VERSION_PREFIX.match(version)
    if not m:
        return None
    parts = m.group(1).split(".")
    width = _cycle_width(language)
    if len(parts) < width:
        # "3" alone is not a Python line; "20" is a Node line.
        return None
    return ".".join(str(int(p)) for p in parts[:width])


def is_eol(language: str, version: str, today: dt.date) -> bool | None:
    """True if `version`'s release line is past end of life on `today`; None if the table does not know it."""
    rel = release(language, version)
    if rel is None:
        return None
    return rel.is_eol(today)


def latest(language: str, today: dt.date, *, lts_only: bool | None = None) -> str | None:
    """The newest release line released by `today` (LTS lines only for languages that test only those)."""
    lines = supported_versions(language, None, today, lts_only=lts_only)
    return lines[-1] if lines else None


def supported_versions(
    language: str,
    spec: Spec,
    today: dt.date,
    *,
    lts_only: bool | None = None,
    include_eol: bool = False,
    flavor: RangeFlavor = "npm",
) -> list[str]:
    """Release lines that satisfy `spec` and are released and (unless `include_eol`) not end-of-life on `today`.

    `spec=None` means "no declared range": every current line. `lts_only` defaults to the table's choice for
    the language (Node.js: even LTS majors only). String specs are PEP 440 for Python and `flavor` ranges for
    other languages; an unparseable spec raises `ValueError` (callers turn it into a finding).
    """
    if lts_only is None:
        lts_only = language in table().lts_only
    accepts = _predicate(language, spec, flavor)
    out: list[str] = []
    for rel in releases(language):
        if not rel.is_released(today) or (not include_eol and rel.is_eol(today)):
            continue
        if lts_only and not rel.lts:
            continue
        if accepts(rel.cycle):
            out.append(rel.cycle)
    return out


def matches(language: str, cycle: str, spec: Spec, *, flavor: RangeFlavor = "npm") -> bool:
    """Whether some version of release line `cycle` satisfies `spec`."""
    return _predicate(language, spec, flavor)(cycle)


def range_spec(text: str, flavor: RangeFlavor = "npm") -> Callable[[str], bool]:
    """A range string (npm, Composer, RubyGems, Poetry `^3.9`) as a spec over release lines.

    Use it for languages whose string specs are PEP 440 by default (Python) when the project wrote a
    caret/tilde range instead. Raises ValueError on a range it cannot read.
    """
    check = parse_range(text, flavor)
    return lambda cycle: any(check(v) for v in _probes(cycle))


def _predicate(language: str, spec: Spec, flavor: RangeFlavor) -> Callable[[str], bool]:
    if spec is None:
        return lambda _cycle: True
    if callable(spec) and not isinstance(spec, SpecifierSet):
        return spec
    if isinstance(spec, str) and language != "python":
        return range_spec(spec, flavor)
    if isinstance(spec, str):
        try:
            spec = SpecifierSet(spec.strip())
        except InvalidSpecifier as exc:
            raise ValueError(f"invalid version specifier {spec!r}: {exc}") from None
    specset = spec

    def pep440(cycle: str) -> bool:
        for probe in _probes(cycle):
            try:
                if specset.contains(Version(".".join(map(str, probe))), prereleases=True):
                    return True
            except InvalidVersion:
                return False
        return False

    return pep440


def _probes(cycle: str) -> list[tuple[int, int, int]]:
    """The lowest and highest versions of a release line, as 3-part tuples."""
    parts = [int(p) for p in cycle.split(".")][:3]
    low = tuple(parts + [0] * (3 - len(parts)))
    high = tuple(parts + [_TOP] * (3 - len(parts)))
    return [low, high]  # type: ignore[list-item]


# ---- range strings (npm/semver, Composer, RubyGems) ------------------------------------------------------

_V3 = tuple[int, int, int]
_Check = Callable[[_V3], bool]
_COMPARATOR = re.compile(r"^(~>|\^|~|>=|<=|>|<|==|=|!=)?\s*v?((?:\d+|[xX*])(?:\.(?:\d+|[xX*]))*)(?:[-+].*)?$")


def parse_range(text: str, flavor: RangeFlavor = "npm") -> _Check:
    """A version-range string as a predicate over (major, minor, patch).

    Supports `||` (and Composer's `|`) alternatives, space- or comma-separated AND, hyphen ranges `1.2 - 2`,
    x-ranges (`18.x`, `1.*`, bare `20`), `^`, `~` (npm: patch-level; Composer: like `~>`), `~>` (pessimistic),
    and the comparison operators. Raises ValueError on a range it cannot read.
    """
    alternatives = [a.strip() for a in re.split(r"\|\|?", text)]
    checks = [_parse_conjunction(a, flavor, text) for a in alternatives]
    return lambda v: any(c(v) for c in checks)


def range_floor(text: str) -> str | None:
    """The lowest version a range admits, as the range writes it (`>=22.22.0` → `22.22.0`, `^20.19 || >=22` →
    `20.19`); None when some alternative has no lower bound (`<24`, `*`). Raises ValueError on an unreadable range.
    """
    parse_range(text)  # the same errors as every other reading of the range
    floors: list[str] = []
    for alt in (a.strip() for a in re.split(r"\|\|?", text)):
        hyphen = re.fullmatch(r"(\S+)\s+-\s+\S+", alt)
        glued = re.sub(r"(~>|\^|~|>=|<=|>|<|==|=|!=)\s+", r"\1", hyphen.group(1) if hyphen else alt)
        lows = [
            m.group(2)
            for part in re.split(r"[\s,]+", glued)
            if (m := _COMPARATOR.match(part))
            and (m.group(1) or "") in ("", "=", "==", ">=", "^", "~", "~>")
            and m.group(2)[:1].isdigit()
        ]
        if not lows:
            return None
        floors.append(max((low.split(".x")[0].split(".*")[0] for low in lows), key=version_key))
    return min(floors, key=version_key) if floors else None


def _parse_conjunction(alt: str, flavor: RangeFlavor, whole: str) -> _Check:
    if alt in ("", "*", "x", "X", "latest", "lts", "lts/*", "current", "node", "stable"):
        return lambda _v: True
    hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", alt)
    if hyphen:
        low, _lo_n = _parse_partial(hyphen.group(1), whole)
        high, high_n = _parse_partial(hyphen.group(2), whole)
        upper = _bump(high, high_n) if high_n < 3 else None
        return lambda v: v >= low and (v < upper if upper else v <= high)
    # Glue operators to their version (">= 18" → ">=18"), then split on spaces and commas.
    glued = re.sub(r"(~>|\^|~|>=|<=|>|<|==|=|!=)\s+", r"\1", alt)
    parts = [p for p in re.split(r"[\s,]+", glued) if p]
    checks = [_parse_comparator(p, flavor, whole) for p in parts]
    return lambda v: all(c(v) for c in checks)


def _parse_partial(text: str, whole: str) -> tuple[_V3, int]:
    """A possibly partial version: (padded tuple, number of concrete components)."""
    m = _COMPARATOR.match(text)
    if not m or m.group(1):
        raise ValueError(f"invalid version range {whole!r}")
    nums: list[int] = []
    for p in m.group(2).split("."):
        if p in ("x", "X", "*"):
            break
        nums.append(int(p))
    n = len(nums)
    padded = tuple([*nums, 0, 0, 0][:3])
    return padded, n  # type: ignore[return-value]


def _bump(v: _V3, n: int) -> _V3:
    """The first version after the x-range `v` with `n` concrete components (n >= 1)."""
    if n <= 1:
        return (v[0] + 1, 0, 0)
    if n == 2:
        return (v[0], v[1] + 1, 0)
    return (v[0], v[1], v[2] + 1)


def _parse_comparator(text: str, flavor: RangeFlavor, whole: str) -> _Check:
    m = _COMPARATOR.match(text)
    if not m:
        raise ValueError(f"invalid version range {whole!r}")
    op = m.group(1) or ""
    v, n = _parse_partial(m.group(2), whole)
    if n == 0:
        return lambda _v: op not in ("<", "!=")
    upper = _bump(v, n)
    if op in ("", "=", "=="):
        return (lambda x: v <= x < upper) if n < 3 else (lambda x: x == v)
    if op == "!=":
        return (lambda x: not (v <= x < upper)) if n < 3 else (lambda x: x != v)
    if op == ">=":
        return lambda x: x >= v
    if op == ">":
        return (lambda x: x >= upper) if n < 3 else (lambda x: x > v)
    if op == "<":
        return lambda x: x < v
    if op == "<=":
        return (lambda x: x < upper) if n < 3 else (lambda x: x <= v)
    if op == "^":
        # Caret: changes that do not modify the left-most non-zero component.
        if v[0] > 0 or n == 1:
            hi = (v[0] + 1, 0, 0)
        elif v[1] > 0 or n == 2:
            hi = (0, v[1] + 1, 0)
        else:
            hi = (0, 0, v[2] + 1)
        return lambda x: v <= x < hi
    pessimistic = op == "~>" or (op == "~" and flavor != "npm")
    if pessimistic:
        # ~>2.7 → >=2.7 <3 ; ~>2.7.1 → >=2.7.1 <2.8
        hi = (v[0] + 1, 0, 0) if n <= 2 else (v[0], v[1] + 1, 0)
        return lambda x: v <= x < hi
    # npm tilde: patch-level changes if a minor is given, else minor-level.
    hi = (v[0] + 1, 0, 0) if n == 1 else (v[0], v[1] + 1, 0)
    return lambda x: v <= x < hi
