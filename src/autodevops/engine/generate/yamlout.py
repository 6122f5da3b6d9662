"""A small, deterministic YAML writer that keeps comments where a reader needs them.

Generated pipelines are read by people: every job carries a comment saying why it exists, and key order follows
the conventions of the CI system (`name`, `runs-on`, `steps`...), not the alphabet. A general YAML library
round-trips comments awkwardly and its output varies with its version, so the generator builds a small tree of
`Map`/`Seq`/`Block` nodes and this module prints it the same way every time. Strings are emitted plain only when
they cannot be read back as anything but that string; everything else is double-quoted (JSON escaping, which
YAML's double-quoted style accepts).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

Scalar = str | int | bool

MAX_FLOW_WIDTH = 100  # `[a, b]` lists longer than this are written one item per line
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# YAML 1.1 booleans, null, and the value and merge keys: a plain `on`, `null` or `=` would not read back as a string.
_RESERVED = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", "=", "<<"}
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
# Characters YAML cannot carry raw (or would read as line breaks / byte-order marks): always escaped.
UNPRINTABLE = re.compile("[^\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_NUMBERISH = re.compile(r"[-+.]?[0-9]|[-+]?\.(inf|nan)", re.IGNORECASE)


def _plain_ok(value: str, flow: bool) -> bool:
    if not value or value != value.strip() or value[0] in _INDICATORS or value.endswith(":"):
        return False
    if value.lower() in _RESERVED or _NUMBERISH.match(value):
        return False
    if ": " in value or " #" in value or "\t" in value or UNPRINTABLE.search(value):
        return False
    # Inside `[a, b]` the flow indicators end the scalar.
    return not (flow and any(ch in value for ch in ",[]{}"))


def scalar(value: Scalar, *, flow: bool = False) -> str:
    """Render one scalar so that it reads back as exactly this value (plain when unambiguous)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if _plain_ok(value, flow):
        return value
    return _quoted(value)


def _quoted(value: str) -> str:
    """A double-quoted scalar: JSON escaping, plus YAML escapes for characters JSON leaves raw."""

    def escape(m: re.Match[str]) -> str:
        code = ord(m.group())
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"

    return UNPRINTABLE.sub(escape, json.dumps(value, ensure_ascii=False))


def _key(key: str) -> str:
    return key if _KEY.fullmatch(key) else _quoted(key)


@dataclass
class Block:
    """A literal block scalar (`|`), for multi-line shell scripts."""

    text: str


@dataclass
class Flow:
    """A short list of scalars on one line: `[a, b]`."""

    items: Sequence[Scalar]


@dataclass
class Entry:
    key: str
    value: object
    comments: list[str] = field(default_factory=list)  # full-line comments above the key
    inline: str | None = None  # a short comment after a scalar value


@dataclass
class Map:
    entries: list[Entry] = field(default_factory=list)
    spaced: bool = False  # a blank line between entries (jobs, services) for readability

    def add(self, key: str, value: object, *, comments: list[str] | None = None, inline: str | None = None) -> Map:
        """Append a key (chainable); `None` values are skipped so optional keys read naturally at call sites."""
        if value is not None:
            self.entries.append(Entry(key, value, list(comments or []), inline))
        return self


@dataclass
class Item:
    value: object
    comments: list[str] = field(default_factory=list)


@dataclass
class Seq:
    items: list[Item] = field(default_factory=list)

    def add(self, value: object, *, comments: list[str] | None = None) -> Seq:
        self.items.append(Item(value, list(comments or [])))
        return self


def _comment_lines(comments: list[str], indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    for comment in comments:
        for line in comment.splitlines() or [""]:
            out.append(f"{pad}# {line}".rstrip() if line else f"{pad}#")
    return out


def _is_empty_collection(value: object) -> bool:
    return isinstance(value, Map | Seq) and not (value.entries if isinstance(value, Map) else value.items)


def _inline_value(value: object) -> str | None:
    """The value's text when it fits after `key:` on the same line, else None."""
    if isinstance(value, Map) and not value.entries:
        return "{}"
    if isinstance(value, Seq) and not value.items:
        return "[]"
    if isinstance(value, Flow):
        return "[" + ", ".join(scalar(v, flow=True) for v in value.items) + "]"
    if isinstance(value, str | int | bool):
        return scalar(value)
    return None


def _block_header(block: Block) -> str:
    """`|`, or `|2` when the text starts indented (YAML would otherwise take that indent as the block's)."""
    first = next((line for line in block.text.split("\n") if line.strip()), "")
    return "|2" if first[:1] in (" ", "\t") else "|"


def _block_lines(block: Block, indent: int) -> list[str]:
    pad = " " * indent
    text = block.text.rstrip("\n")
    return [f"{pad}{line}".rstrip() if line.strip() else "" for line in text.split("\n")]


def _map_lines(node: Map, indent: int, first_prefix: str | None = None) -> list[str]:
    """Lines of a mapping; `first_prefix` replaces the indentation of the first key (used after `- `)."""
    out: list[str] = []
    pad = " " * indent
    for i, entry in enumerate(node.entries):
        lead = first_prefix if (i == 0 and first_prefix is not None) else pad
        if i and node.spaced:
            out.append("")
        if entry.comments:
            comment_lines = _comment_lines(entry.comments, indent)
            if i == 0 and first_prefix is not None:
                # A comment cannot sit between `- ` and its first key: put it above the item.
                out.extend(_comment_lines(entry.comments, max(indent - 2, 0)))
            else:
                out.extend(comment_lines)
        head = f"{lead}{_key(entry.key)}:"
        value = entry.value
        inline = _inline_value(value)
        if isinstance(value, Flow) and inline is not None and len(head) + len(inline) > MAX_FLOW_WIDTH:
            # A long list reads better one item per line.
            inline, value = None, Seq([Item(v) for v in value.items])
        if inline is not None:
            line = f"{head} {inline}"
            if entry.inline:
                line += f"  # {entry.inline}"
            out.append(line)
        elif isinstance(value, Block):
            out.append(f"{head} {_block_header(value)}" + (f"  # {entry.inline}" if entry.inline else ""))
            out.extend(_block_lines(value, indent + 2))
        elif isinstance(value, Map):
            out.append(head + (f"  # {entry.inline}" if entry.inline else ""))
            out.extend(_map_lines(value, indent + 2))
        elif isinstance(value, Seq):
            out.append(head + (f"  # {entry.inline}" if entry.inline else ""))
            out.extend(_seq_lines(value, indent + 2))
        else:
            raise TypeError(f"cannot emit {type(value).__name__}")
    return out


def _seq_lines(node: Seq, indent: int) -> list[str]:
    out: list[str] = []
    pad = " " * indent
    for item in node.items:
        out.extend(_comment_lines(item.comments, indent))
        inline = _inline_value(item.value)
        if inline is not None:
            out.append(f"{pad}- {inline}")
        elif isinstance(item.value, Map):
            out.extend(_map_lines(item.value, indent + 2, first_prefix=f"{pad}- "))
        elif isinstance(item.value, Block):
            out.append(f"{pad}- {_block_header(item.value)}")
            out.extend(_block_lines(item.value, indent + 2))
        elif isinstance(item.value, Seq):
            raise TypeError("nested sequences are not used in generated pipelines")
        else:
            raise TypeError(f"cannot emit {type(item.value).__name__}")
    return out


def dump(document: Map, header: list[str] | None = None, *, blank_between: bool = True) -> str:
    """The whole document: header comments, then top-level keys separated by blank lines."""
    lines = _comment_lines(header or [], 0)
    if lines:
        lines.append("")
    for i, entry in enumerate(document.entries):
        if i and blank_between:
            lines.append("")
        lines.extend(_map_lines(Map([entry]), 0))
    return "\n".join(lines) + "\n"
