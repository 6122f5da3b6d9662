"""Shared pieces of the compiled-language detectors (Go, Rust, JVM, Ruby, PHP, .NET, Elixir, C/C++, Swift).

- `StackBuilder` sets a `Stack` field together with its provenance, so no value is ever recorded without the
  file and key it came from.
- `is_project_path` decides which manifests can be project roots: manifests inside vendored code, test
  fixtures, test or documentation directories or dependency caches are somebody else's project (or a sample of
  one), not this repository's.
- `matrix` turns a declared range into the version matrix through the runtime table; `pinned` records a pin;
  `check_pin` reports a pin the declared range excludes; end-of-life versions become findings.
- `index` holds per-analysis lookups (source files by extension, directories containing them) so that no
  detector rescans the whole tree per stack.
"""

from __future__ import annotations

import bisect
import functools
import posixpath
import re
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from autodevops.engine import runtimes
from autodevops.engine.detect.base import Context, unique
from autodevops.engine.detect.services import services_from_dependencies, services_run_in_process
from autodevops.engine.model import Evidence, Language, Provenance, Stack
from autodevops.engine.source import FileEntry

# Directory names whose manifests never define a stack of this repository: vendored dependencies, test
# fixtures, dependency and build caches. (Examples and sub-projects with their own manifest DO count: CI builds
# them.)
NON_PROJECT_DIRS = frozenset(
    {
        "vendor",
        "vendors",
        "vendor-bin",
        "third_party",
        "third-party",
        "thirdparty",
        "3rdparty",
        "external",
        "extern",
        "testdata",
        "test-data",
        "test_data",
        "fixtures",
        "fixture",
        "__fixtures__",
        "test-fixtures",
        "test_fixtures",
        "node_modules",
        "bower_components",
        "deps",
        "_build",
        "target",
        "build",
        "dist",
        "out",
        "bin",
        "obj",
        "pods",
        "carthage",
        ".build",
        ".swiftpm",
        ".git",
        ".github",
        ".cargo",
        ".gradle",
        ".mvn",
        ".bundle",
    }
)

# Test directories: a manifest inside one is test data (a sample project a test reads, a fixture for a language
# tool), not a project CI builds on its own. The Python and Node detectors apply the same rule to theirs.
# Exact names only: `integration_test/`, `test_suite/` or `maven-tests/` hold real projects.
TEST_DIRS = frozenset({"test", "tests", "spec", "specs", "__tests__"})
# Documentation directories: their manifests belong to code snippets and documentation sites (a Hugo module, a
# Writerside snippet project), which CI does not build as projects either. (`examples/` do count.)
DOC_DIRS = frozenset({"docs", "doc", "documentation", "website", "snippets"})

# Path segments that mark template sources (cookiecutter, generator templates) rather than real projects.
_TEMPLATE_MARKERS = ("{{", "{%", "$")


def is_project_path(
    path: str, *, extra: Iterable[str] = (), allow_test_dirs: bool = False, allow_doc_dirs: bool = False
) -> bool:
    """Whether the manifest at `path` may be a project root: not vendored, not a fixture, not a cache, unless
    `allow_doc_dirs` not in a documentation directory and, unless `allow_test_dirs` (ecosystems whose test projects
    live in `tests/`), not inside a test directory."""
    directory = path.rpartition("/")[0] or "."
    parts = {part.lower() for part in path.split("/")[:-1]}
    return (
        _project_dir(directory, frozenset(extra))
        and (allow_doc_dirs or not parts & DOC_DIRS)
        and (allow_test_dirs or not parts & TEST_DIRS)
    )


def in_test_dir(path: str) -> bool:
    """Whether repo path `path` lies inside a test directory (`tests/`, `spec/`, ...)."""
    return any(part.lower() in TEST_DIRS for part in path.split("/")[:-1])


@functools.lru_cache(maxsize=65536)
def _project_dir(directory: str, extra: frozenset[str]) -> bool:
    # Cached per directory: a tree has far fewer directories than files, and siblings share the answer.
    if directory in ("", "."):
        return True
    parent, _, name = directory.rpartition("/")
    # Case-insensitive: PHP and .NET projects keep fixtures in `Fixtures/`, iOS ones pods in `Pods/`.
    if name.lower() in NON_PROJECT_DIRS or name in extra or any(m in name for m in _TEMPLATE_MARKERS):
        return False
    return _project_dir(parent or ".", extra)


def is_under(path: str, directory: str) -> bool:
    """Whether repo path `path` is `directory` itself or inside it ('.' contains everything)."""
    if directory in ("", "."):
        return True
    return path == directory or path.startswith(directory + "/")


def relpath(path: str, start: str) -> str:
    """`path` relative to directory `start` (both repo-relative)."""
    if start in ("", "."):
        return path
    return posixpath.relpath(path, start)


def ev(file: str, key: str | None = None, line: int | None = None, excerpt: str | None = None) -> Evidence:
    """Evidence, briefly."""
    return Evidence(file=file, key=key, line=line, excerpt=excerpt[:120] if excerpt else None)


# How sure a project nested below the repository's main one is a stack of its own (see `doubt_nested`).
NESTED_CONFIDENCE = 0.7


def doubt_nested(stacks: list[Stack], *, unless_tested: bool = False) -> list[Stack]:
    """State the projects nested below a root project of the same kind for review: beside the main project, a
    nested one is as often an example, a tool or a benchmark that CI never builds on its own as a project it
    does (measured on the full-tree corpus). With `unless_tested`, a nested project with tests of its own keeps
    its confidence (in ecosystems where such projects are reliably built)."""
    if not any(s.path == "." for s in stacks):
        return stacks
    for s in stacks:
        prov = s.provenance.get("path")
        if s.path == "." or prov is None or (unless_tested and s.test_tool != "none"):
            continue
        prov.confidence = min(prov.confidence, NESTED_CONFIDENCE)
    return stacks


def line_of(text: str, offset: int) -> int:
    """1-based line number of character `offset` in `text`."""
    return text.count("\n", 0, offset) + 1


class StackBuilder:
    """Builds one `Stack`, recording the provenance of every field it sets."""

    def __init__(self, ctx: Context, path: str, language: Language, evidence: Evidence, confidence: float) -> None:
        self.ctx = ctx
        self.stack = Stack(path=path, language=language)
        self.stack.provenance["path"] = Provenance(evidence=[evidence], confidence=confidence)
        self.stack.provenance["language"] = Provenance(evidence=[evidence], confidence=confidence)

    @property
    def path(self) -> str:
        return self.stack.path

    def set(
        self,
        field: str,
        value: Any,
        confidence: float,
        *evidence: Evidence,
        why: str | None = None,
    ) -> None:
        """Set `field` to `value` (replacing it) with its evidence."""
        setattr(self.stack, field, value)
        self.stack.provenance[field] = Provenance(evidence=list(evidence), confidence=confidence, justification=why)

    def add(
        self,
        field: str,
        items: Iterable[str],
        confidence: float,
        *evidence: Evidence,
        why: str | None = None,
    ) -> None:
        """Append `items` to list field `field` (no duplicates), merging the evidence; the lowest confidence
        of the contributions is kept, since the field is only as sure as its weakest part."""
        items = list(items)
        if not items:
            return
        current: list[str] = getattr(self.stack, field)
        setattr(self.stack, field, unique([*current, *items]))
        prov = self.stack.provenance.get(field)
        if prov is None:
            self.stack.provenance[field] = Provenance(evidence=list(evidence), confidence=confidence, justification=why)
        else:
            prov.evidence.extend(e for e in evidence if e not in prov.evidence)
            prov.confidence = min(prov.confidence, confidence)
            if why and not prov.justification:
                prov.justification = why

    def finding(self, code: str, severity: str, message: str, *evidence: Evidence) -> None:
        self.ctx.finding(code, severity, message, *evidence, stack=self.stack.path)  # type: ignore[arg-type]

    def build(self) -> Stack:
        return self.stack


def matrix(
    b: StackBuilder,
    runtime: str,
    spec: runtimes.Spec,
    evidence: Evidence,
    *,
    flavor: runtimes.RangeFlavor = "npm",
    label: str,
    confidence: float = 0.7,
) -> bool:
    """Set `versions` to the matrix a declared `spec` implies, and return whether it did.

    Maintainers test the whole range they claim to support: every release line from the declared floor through
    the newest release on the analysis date, end-of-life lines included (dropping them would ship a package
    that claims support nobody tests). Below the confidence that needs no review: which lines inside its range
    a project's CI really runs (all, or the ends) is its own choice, and measured on real CI it is the whole
    range only a third of the time. An end-of-life floor stays in the matrix and becomes an `eol-runtime`
    finding recommending to raise it. A spec without a floor (`< 4`, `>= 0`, none at all) says nothing about
    old lines, so it gets the lines that are still supported. Returns False (with a finding for an unreadable
    spec) when no known release satisfies the spec."""
    try:
        floored = spec is not None and not runtimes.matches(runtime, _zero_cycle(runtime), spec, flavor=flavor)
        lines = runtimes.supported_versions(runtime, spec, b.ctx.today, flavor=flavor, include_eol=floored)
        if not lines and not floored:
            lines = runtimes.supported_versions(runtime, spec, b.ctx.today, flavor=flavor, include_eol=True)[-1:]
    except ValueError as exc:
        b.finding("invalid-version-range", "warning", f"{evidence.cite()}: {exc}", evidence)
        return False
    if not lines:
        return False
    eol = [v for v in lines if runtimes.is_eol(runtime, v, b.ctx.today)]
    if eol:
        current = [v for v in lines if v not in eol]
        advice = (
            f"raise the minimum to {runtime} {current[0]}, the oldest one still supported"
            if current
            else f"every {runtime} release it allows is end-of-life: raise the minimum to a supported release"
        )
        b.finding(
            "eol-runtime",
            "warning",
            f"{evidence.cite()} declares support for {runtime} {_span(eol)}, end-of-life on "
            f"{b.ctx.today.isoformat()}; the matrix keeps testing what is declared: {advice}",
            evidence,
        )
    why = (
        f"{label}: every {runtime} release from the declared minimum through the newest on {b.ctx.today.isoformat()}"
        if floored
        else f"{label}: the {runtime} releases supported on {b.ctx.today.isoformat()}"
    )
    b.set("versions", lines, confidence if len(eol) < len(lines) else 0.5, evidence, why=why)
    return True


def _span(lines: list[str]) -> str:
    """`1.15, 1.16, 1.17` briefly: lists longer than three as `1.15 through 1.25`."""
    return ", ".join(lines) if len(lines) <= 3 else f"{lines[0]} through {lines[-1]}"


def _zero_cycle(runtime: str) -> str:
    """The lowest conceivable release line (`0` or `0.0`): a spec that admits it declares no floor."""
    rows = runtimes.releases(runtime)
    width = len(rows[-1].cycle.split(".")) if rows else 2
    return ".".join(["0"] * width)


def pinned(b: StackBuilder, runtime: str, version: str, evidence: Evidence, *, confidence: float = 0.9) -> None:
    """Set `versions` to one pinned version, with a finding when that line is end-of-life."""
    b.set("versions", [version], confidence, evidence, why="pinned toolchain version")
    if runtimes.is_eol(runtime, version, b.ctx.today):
        b.finding(
            "eol-runtime",
            "warning",
            f"{evidence.cite()} pins {runtime} {version}, which is past end of life on {b.ctx.today.isoformat()}",
            evidence,
        )


# Source extensions the detectors weigh or look for (language choice, test files, "are there sources here").
INDEXED_EXTS = frozenset(
    {".java", ".kt", ".groovy", ".scala", ".swift", ".rb", ".c", ".h", ".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh"}
    | {".hxx", ".ipp", ".tpp", ".pyx"}
)


class _Index:
    """Per-analysis lookups the detectors share, built once: project files by extension, and the directories
    (with all their ancestors) that contain them. Without them, every stack would rescan the whole tree."""

    def __init__(self, ctx: Context) -> None:
        self.by_ext: dict[str, list[FileEntry]] = defaultdict(list)
        for e in ctx.entries:
            dot = e.path.rfind(".")
            ext = e.path[dot:].lower() if dot > 0 else ""
            # Source files of test directories count (they are the project's tests); only manifests do not.
            if ext in INDEXED_EXTS and _project_dir(e.path.rpartition("/")[0] or ".", frozenset()):
                self.by_ext[ext].append(e)
        for entries in self.by_ext.values():
            entries.sort(key=lambda e: e.path)
        # Sorted paths per extension: the files under a directory are one contiguous slice of them.
        self.paths: dict[str, list[str]] = {ext: [e.path for e in es] for ext, es in self.by_ext.items()}
        self._dirs: dict[frozenset[str], frozenset[str]] = {}

    def under(self, ext: str, root: str) -> list[FileEntry]:
        entries = self.by_ext.get(ext, [])
        if root in ("", "."):
            return entries
        paths = self.paths[ext] if entries else []
        # "/" sorts right before "0": [root + "/", root + "0") is exactly the paths below root.
        return entries[bisect.bisect_left(paths, root + "/") : bisect.bisect_left(paths, root + "0")]

    def dirs_with(self, exts: Iterable[str]) -> frozenset[str]:
        key = frozenset(exts)
        if key not in self._dirs:
            found: set[str] = {"."}
            for ext in key:
                for e in self.by_ext.get(ext, ()):
                    d = e.path
                    while "/" in d:
                        d = d.rsplit("/", 1)[0]
                        if d in found:
                            break
                        found.add(d)
            self._dirs[key] = frozenset(found)
        return self._dirs[key]


_INDEXES: weakref.WeakKeyDictionary[Context, _Index] = weakref.WeakKeyDictionary()


def index(ctx: Context) -> _Index:
    """The shared lookups for `ctx` (built on first use)."""
    idx = _INDEXES.get(ctx)
    if idx is None:
        idx = _INDEXES[ctx] = _Index(ctx)
    return idx


def files_with(ctx: Context, exts: Iterable[str], root: str = ".") -> list[FileEntry]:
    """Project files (not vendored, not fixtures) with one of `exts` ('.kt') under `root`."""
    idx = index(ctx)
    return [e for ext in exts for e in idx.under(ext, root)]


def has_files(ctx: Context, exts: Iterable[str], root: str) -> bool:
    """Whether any project file with one of `exts` lies under `root` (a set lookup, no scan)."""
    exts = list(exts)
    idx = index(ctx)
    return root in idx.dirs_with(exts) and bool(root != "." or any(idx.by_ext.get(ext) for ext in exts))


def tool_pin(ctx: Context, directory: str, tools: Iterable[str]) -> tuple[str, Evidence] | None:
    """A version pinned for developers by a version manager: asdf/mise `.tool-versions`, or mise's `mise.toml`
    `[tools]`; the stack's directory first, then the repository root. The version is returned as written
    (`temurin-21.0.4`, `1.17.3-otp-27`); callers take what they need from it."""
    names = tuple(tools)
    for d in dict.fromkeys([directory, "."]):
        tv = Context.join(d, ".tool-versions")
        if ctx.exists(tv):
            for i, line in enumerate((ctx.text(tv) or "").splitlines(), 1):
                parts = line.split("#")[0].split()
                if len(parts) >= 2 and parts[0] in names:
                    return parts[1], ev(tv, key=parts[0], line=i)
        for name in ("mise.toml", ".mise.toml"):
            mise = Context.join(d, name)
            data = ctx.toml(mise) if ctx.exists(mise) else None
            table = data.get("tools") if isinstance(data, dict) else None
            if not isinstance(table, dict):
                continue
            for tool in names:
                value = table.get(tool)
                if isinstance(value, list) and value:
                    value = value[0]
                if isinstance(value, dict):
                    value = value.get("version")
                if isinstance(value, str | int | float) and str(value).strip():
                    return str(value).strip(), ev(mise, key=f"tools.{tool}")
    return None


def check_pin(
    b: StackBuilder,
    runtime: str,
    version: str,
    pin_evidence: Evidence,
    spec: str,
    spec_evidence: Evidence,
    *,
    flavor: runtimes.RangeFlavor,
) -> bool:
    """Report a pinned version the project's own declared range excludes (`.ruby-version` 3.1 against
    `required_ruby_version >= 3.2`). Returns whether the pin satisfies the range (True when unreadable)."""
    nums = [int(p) for p in re.findall(r"\d+", version)][:3]
    if not nums:
        return True
    try:
        if len(nums) == 3:
            ok = runtimes.parse_range(spec, flavor)((nums[0], nums[1], nums[2]))
        else:
            ok = runtimes.matches(runtime, ".".join(map(str, nums)), spec, flavor=flavor)
    except ValueError:
        return True
    if not ok:
        b.finding(
            "version-conflict",
            "warning",
            f"{pin_evidence.cite()} pins {runtime} {version}, which {spec_evidence.cite()} ({spec}) does not allow",
            pin_evidence,
            spec_evidence,
        )
    return ok


def source_bytes(ctx: Context, exts: dict[str, str], root: str = ".") -> dict[str, int]:
    """Source per language under `root`, by file extension (`exts`: '.kt' → 'kotlin'), skipping vendored and
    generated directories: total bytes, or file counts when the index has no sizes (every size zero)."""
    totals: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    for e in files_with(ctx, exts, root):
        lang = exts[e.path[e.path.rfind(".") :].lower()]
        totals[lang] += e.size
        counts[lang] += 1
    return dict(totals) if any(totals.values()) else dict(counts)


def nearest_root(path: str, roots: Iterable[str]) -> str | None:
    """The deepest of `roots` that contains `path`."""
    containing = [r for r in roots if is_under(path, r)]
    return max(containing, key=lambda r: 0 if r == "." else len(r) + 1, default=None)


def first(items: Iterable[str], pred: Callable[[str], bool]) -> str | None:
    return next((i for i in items if pred(i)), None)


def paths_under(sorted_paths: list[str], directory: str) -> list[str]:
    """The paths of `sorted_paths` below `directory` (a bisection, not a scan: the paths below a directory are
    one contiguous slice of a sorted list; "/" sorts right before "0")."""
    if directory in ("", "."):
        return sorted_paths
    lo = bisect.bisect_left(sorted_paths, directory + "/")
    return sorted_paths[lo : bisect.bisect_left(sorted_paths, directory + "0", lo)]


def first_under(sorted_paths: list[str], directory: str) -> str | None:
    """The first of `sorted_paths` below `directory`."""
    found = paths_under(sorted_paths, directory)
    return found[0] if found else None


def ancestors(directory: str) -> list[str]:
    """The directories strictly above `directory`, nearest first, ending with '.'."""
    out: list[str] = []
    while directory not in ("", "."):
        directory = directory.rpartition("/")[0] or "."
        out.append(directory)
    return out


def nearest_file(ctx: Context, directory: str, names: Iterable[str], *, boundary: str | None = None) -> str | None:
    """The nearest of `names` in `directory` or above it, as tools that search upward for their configuration
    find it. With `boundary` (a manifest name), the search stops below an ancestor holding one: that
    directory belongs to an enclosing project."""
    names = list(names)
    for d in [directory, *ancestors(directory)]:
        if boundary and d != directory and ctx.exists(Context.join(d, boundary)):
            return None
        found = files_under(ctx, d, names)
        if found:
            return found[0]
    return None


MAKEFILES = ("GNUmakefile", "Makefile", "makefile")  # the order GNU make looks for them


@dataclass(frozen=True)
class MakeRule:
    """A rule of a project's Makefile: where it is, what it depends on, and its recipe's lines."""

    makefile: str
    line: int
    prerequisites: list[str]
    recipe: str


# Lines a recipe may hold between its tab-indented commands: make's own conditionals (`ifdef CI` ... `endif`) and
# comments. Blank lines are ignored there too (GNU make manual, "Recipe Syntax").
_RECIPE_INTERLUDE = re.compile(r"^(?:\s*#|(?:ifdef|ifndef|ifeq|ifneq|else|endif)\b)")


def make_rule(ctx: Context, directory: str, target: str) -> MakeRule | None:
    """The rule for `target` in the Makefile of `directory` (`target:` or `a target b:`, never an assignment
    `target := value`), with the tab-indented recipe lines that follow it."""
    rule = re.compile(rf"^(?:[^\s:#=]+[ \t]+)*{re.escape(target)}(?:[ \t]+[^\s:#=]+)*[ \t]*:(?!=)([^\n]*)$", re.M)
    for makefile in files_under(ctx, directory, MAKEFILES):
        text = ctx.text(makefile) or ""
        m = rule.search(text)
        if m:
            recipe = []
            for following in text[m.end() + 1 :].splitlines():
                if following.startswith("\t"):
                    recipe.append(following)
                elif not (_RECIPE_INTERLUDE.match(following) or not following.strip()):
                    break
            while recipe and not recipe[-1].strip():
                recipe.pop()
            prerequisites = m.group(1).split("|")[0].split(";")[0].split()
            return MakeRule(makefile, line_of(text, m.start()), prerequisites, "\n".join(recipe))
    return None


def files_under(ctx: Context, directory: str, names: Iterable[str]) -> list[str]:
    """Existing paths `directory/name` for each of `names`."""
    return [p for n in names if ctx.exists(p := Context.join(directory, n))]


def services_from_deps(
    b: StackBuilder, ecosystem: str, names: Iterable[str], manifest: str, *, confidence: float = 0.6
) -> None:
    """Add the backing services whose client libraries are among `names` (each cited by its dependency), but not
    those an embeddable server or in-memory fake among `names` runs inside the tests."""
    names = list(names)
    in_process = services_run_in_process(ecosystem, names)
    for service, dep in services_from_dependencies(ecosystem, names):
        if service in in_process:
            continue
        b.add("services", [service], confidence, ev(manifest, key=dep), why="a client library among the dependencies")


def frameworks_from_deps(
    b: StackBuilder, table: dict[str, str], names: Iterable[str], manifest: str, *, confidence: float = 0.9
) -> None:
    """Add the frameworks (`table`: dependency name → framework name) found among `names`."""
    for name in names:
        fw = table.get(name.lower())
        if fw:
            b.add("frameworks", [fw], confidence, ev(manifest, key=name))


def join(directory: str, name: str) -> str:
    """`Context.join`, normalized (`./api` → `api`, `a/../b` → `b`) for paths read from manifests."""
    return posixpath.normpath(Context.join(directory, name))
