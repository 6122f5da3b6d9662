"""What every detector gets: an indexed view of the repository and safe, cached, size-limited parsers.

A detector is a function `detect(ctx: Context) -> list[Stack]`. It never opens files itself: it asks the
context, which reads each file at most once, refuses oversized or binary files, and turns every parse error
into a finding naming the file, so one malformed manifest never stops the rest of the analysis.
"""

from __future__ import annotations

import configparser
import datetime as dt
import functools
import json
import posixpath
import re
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET

from autodevops.engine.model import Evidence, Finding, Severity, Stack
from autodevops.engine.source import FileEntry, RepoSource

if TYPE_CHECKING:
    import yaml

MAX_MANIFEST_BYTES = 2 * 1024 * 1024  # manifests and configs larger than this are not read
MAX_YAML_NODES = 200_000  # aliases can expand a small file exponentially ("billion laughs")

Detector = Callable[["Context"], list[Stack]]


class Context:
    """The repository as detectors see it."""

    def __init__(self, source: RepoSource, today: dt.date) -> None:
        self.source = source
        self.today = today
        self.entries: list[FileEntry] = source.files()
        self.sizes: dict[str, int] = {e.path: e.size for e in self.entries}
        self.executables: frozenset[str] = frozenset(e.path for e in self.entries if e.executable)
        self.by_name: dict[str, list[str]] = defaultdict(list)
        self.by_dir: dict[str, list[str]] = defaultdict(list)
        for e in self.entries:
            d, _, n = e.path.rpartition("/")
            self.by_name[n].append(e.path)
            self.by_dir[d or "."].append(n)
        for paths in self.by_name.values():
            paths.sort()
        self.findings: list[Finding] = []
        self._report_skipped(source)
        self.files_read = 0
        self._text: dict[str, str | None] = {}
        self._parsed: dict[tuple[str, str], Any] = {}
        self._memo: dict[str, Any] = {}

    def _report_skipped(self, source: RepoSource) -> None:
        """What the source could not list is a finding: the analysis is only as complete as the listing."""
        reasons: dict[str, int] = getattr(source, "skipped_reasons", None) or {}
        messages = {
            "too-deep": "directories nested deeper than the depth limit were not analyzed",
            "unreadable": "entries that could not be read (permissions, or removed during the scan) were skipped",
            "too-many-files": "files past the file-count limit were not analyzed",
        }
        codes = {"too-deep": "too-deep", "unreadable": "unreadable-paths", "too-many-files": "too-many-files"}
        for reason, message in messages.items():
            count = reasons.get(reason, 0)
            if count:
                self.finding(codes[reason], "warning", f"{message[0].upper()}{message[1:]}: {count:,}")

    # ---- the file index -------------------------------------------------------------------------------

    def exists(self, path: str) -> bool:
        return path in self.sizes

    def find(self, name: str) -> list[str]:
        """Every path whose file name is `name`, sorted."""
        return self.by_name.get(name, [])

    def listdir(self, directory: str) -> list[str]:
        """File names (not subdirectories) directly in `directory` ('.' for the root)."""
        return self.by_dir.get(directory, [])

    def find_matching(self, pattern: re.Pattern[str]) -> list[str]:
        """Every path whose file name matches `pattern` (full match), sorted."""
        return sorted(p for name, paths in self.by_name.items() if pattern.fullmatch(name) for p in paths)

    @staticmethod
    def join(directory: str, name: str) -> str:
        """Join a stack directory ('.' for the root) and a relative name into a repo path."""
        return name if directory in ("", ".") else posixpath.normpath(posixpath.join(directory, name))

    @staticmethod
    def dirname(path: str) -> str:
        d = posixpath.dirname(path)
        return d or "."

    # ---- reading and parsing --------------------------------------------------------------------------

    def text(self, path: str) -> str | None:
        """The file's text, or None if it is missing, too large, binary or unreadable (with a finding)."""
        if path in self._text:
            return self._text[path]
        result: str | None = None
        size = self.sizes.get(path)
        if size is None:
            pass
        elif size > MAX_MANIFEST_BYTES:
            self.finding(
                "file-too-large",
                "warning",
                f"{path} is {size:,} bytes, over the {MAX_MANIFEST_BYTES:,}-byte limit for manifests; not read",
                Evidence(file=path),
            )
        else:
            try:
                raw = self.source.read_bytes(path, MAX_MANIFEST_BYTES)
                self.files_read += 1
            except (OSError, ValueError) as exc:
                self.finding("unreadable-file", "warning", f"{path} could not be read: {exc}", Evidence(file=path))
            else:
                if b"\x00" in raw[:8192]:
                    self.finding("binary-file", "warning", f"{path} looks binary; not parsed", Evidence(file=path))
                else:
                    try:
                        result = raw.decode("utf-8-sig")
                    except UnicodeDecodeError as exc:
                        self.finding(
                            "not-utf8",
                            "warning",
                            f"{path} is not valid UTF-8 (byte {exc.start}); read with replacement characters",
                            Evidence(file=path),
                        )
                        result = raw.decode("utf-8", "replace")
        self._text[path] = result
        return result

    def _parse(self, path: str, kind: str, parser: Callable[[str], Any]) -> Any:
        key = (path, kind)
        if key in self._parsed:
            return self._parsed[key]
        value: Any = None
        text = self.text(path)
        if text is not None:
            try:
                value = parser(text)
            except Exception as exc:  # noqa: BLE001 - any parser error is reported the same way
                self.finding(
                    "parse-error",
                    "error",
                    f"{path}: invalid {kind.upper()}: {_one_line(exc)}",
                    Evidence(file=path),
                )
                value = None
        self._parsed[key] = value
        return value

    def toml(self, path: str) -> dict[str, Any] | None:
        value = self._parse(path, "toml", tomllib.loads)
        return value if isinstance(value, dict) else None

    def json(self, path: str, *, comments: bool = False) -> Any:
        """JSON; `comments=True` accepts JSONC (tsconfig.json, .eslintrc.json, devcontainer.json)."""
        return self._parse(path, "json", _loads_jsonc if comments else json.loads)

    def yaml(self, path: str) -> Any:
        """The first YAML document, safely loaded, with alias expansion bounded."""
        return self._parse(path, "yaml", _load_yaml)

    def yaml_all(self, path: str) -> list[Any]:
        value = self._parse(path, "yaml-stream", _load_yaml_all)
        return value if isinstance(value, list) else []

    def xml(self, path: str) -> Element | None:
        value = self._parse(path, "xml", SafeET.fromstring)
        return value if isinstance(value, Element) else None

    def ini(self, path: str) -> configparser.ConfigParser | None:
        def parse(text: str) -> configparser.ConfigParser:
            cp = configparser.ConfigParser(interpolation=None, strict=False)
            cp.read_string(text, source=path)
            return cp

        value = self._parse(path, "ini", parse)
        return value if isinstance(value, configparser.ConfigParser) else None

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """A value derived from the whole index (a filtered path list...), computed once per analysis."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # ---- findings -------------------------------------------------------------------------------------

    def finding(
        self, code: str, severity: Severity, message: str, *evidence: Evidence, stack: str | None = None
    ) -> None:
        self.findings.append(
            Finding(code=code, severity=severity, message=message, stack=stack, evidence=list(evidence))
        )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


_JSONC_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/|,(?=\s*[}\]])', re.S)


def _loads_jsonc(text: str) -> Any:
    """JSON with comments and trailing commas, as tsconfig and VS Code files allow."""

    def keep_strings(m: re.Match[str]) -> str:
        tok = m.group(0)
        return tok if tok.startswith('"') else ""

    return json.loads(_JSONC_TOKEN.sub(keep_strings, text))


@functools.cache
def _yaml_loader() -> type[yaml.SafeLoader]:
    """Safe loading with libyaml, resolving plain scalars by YAML 1.2's core schema.

    libyaml is fast (a pure-Python parser needs seconds for a large lockfile) and bounds nesting depth.
    YAML 1.1's implicit types are dropped because they misread real configuration: `on:` (a workflow's
    trigger key) would become True, `yes`/`no` booleans, `22:22` (a port mapping) a base-60 number, `010`
    octal, and dates `datetime` objects; under 1.2 they stay strings and decimal numbers.
    Built on first use: PyYAML's import compiles large regular expressions, and many repositories are
    analyzed without reading any YAML.
    """
    import yaml

    base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Yaml12Loader(base):  # type: ignore[valid-type,misc]
        yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {}

    for tag, pattern, first in (
        ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
        ("null", r"~|null|Null|NULL|", "~nN"),
        ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
        (
            "float",
            r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
            "-+0123456789.",
        ),
        ("merge", r"<<", "<"),
    ):
        Yaml12Loader.add_implicit_resolver(
            f"tag:yaml.org,2002:{tag}", re.compile(f"^(?:{pattern})$"), [*first, ""] if tag == "null" else [*first]
        )
    Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
    return Yaml12Loader


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    value = str(loader.construct_scalar(node))
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value)


def _bounded(value: Any, text: str) -> Any:
    """Refuse documents whose alias expansion makes them huge (a YAML bomb is small on disk).

    Aliases make shared references, so counting every reference visited is exactly the size the document
    would have once expanded; the walk stops as soon as the bound is passed. A document without aliases has
    fewer nodes than characters, so the bound grows with the text and never refuses a large honest file.
    """
    limit = MAX_YAML_NODES + len(text)
    seen = 0
    stack = [value]
    while stack:
        v = stack.pop()
        seen += 1
        if seen > limit:
            raise ValueError(f"document expands to more than {limit:,} nodes (alias bomb?)")
        if isinstance(v, dict):
            stack.extend(v.values())
            stack.extend(v.keys())
        elif isinstance(v, list):
            stack.extend(v)
    return value


def _load_yaml(text: str) -> Any:
    import yaml

    for doc in yaml.load_all(text, Loader=_yaml_loader()):
        return _bounded(doc, text)
    return None


def _load_yaml_all(text: str) -> list[Any]:
    import yaml

    return [_bounded(d, text) for d in yaml.load_all(text, Loader=_yaml_loader())]


def unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without duplicates."""
    return list(dict.fromkeys(items))
