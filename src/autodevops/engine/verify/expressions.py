"""GitHub Actions expressions: `${{ ... }}` substitution and `if:` conditions.

A small, complete evaluator of the expression language the runner implements: literals (`null`, booleans,
numbers, single-quoted strings with `''` escapes), property and index access (`a.b`, `a['b']`, `a[0]`, the
`*` object filter), `!`, `<`, `<=`, `>`, `>=`, `==`, `!=`, `&&`, `||`, parentheses, and the functions
`contains`, `startsWith`, `endsWith`, `format`, `join`, `toJSON`, `fromJSON`, `hashFiles`, `case` and the
status functions `success()`, `failure()`, `always()`, `cancelled()`.

The semantics are the runner's, not Python's: `==` compares loosely (different types are compared as numbers,
strings case-insensitively), `&&`/`||` return one of their operands, and falsy values are `false`, `0`, `-0`,
`""`, `null` and NaN. Objects print as `Object`, arrays as `Array`, integral numbers without a decimal point.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Value = Any  # None | bool | float | int | str | list[Value] | dict[str, Value]


class ExpressionError(ValueError):
    """An expression that cannot be parsed or evaluated (the runner fails the step or job for these)."""


# ---- tokens ------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))
  | (?P<op>&&|\|\||==|!=|<=|>=|[<>!()\[\].,*])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # string | number | op | ident | end
    text: str


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExpressionError(f"unexpected character {text[pos]!r} at position {pos + 1} in {text!r}")
        kind = m.lastgroup or ""
        if kind != "ws":
            # A '-' is part of a number only where an operand may start ("a -1" is not valid anyway).
            tokens.append(_Token(kind, m.group()))
        pos = m.end()
    tokens.append(_Token("end", ""))
    return tokens


# ---- syntax tree -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Literal:
    value: Value


@dataclass(frozen=True, slots=True)
class _Context:
    name: str


@dataclass(frozen=True, slots=True)
class _Index:
    target: _Node
    key: _Node | None  # None: the `*` filter


@dataclass(frozen=True, slots=True)
class _Not:
    operand: _Node


@dataclass(frozen=True, slots=True)
class _Binary:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True, slots=True)
class _Call:
    name: str
    args: tuple[_Node, ...]


_Node = _Literal | _Context | _Index | _Not | _Binary | _Call

_FUNCTIONS: dict[str, tuple[int, int]] = {
    "contains": (2, 2),
    "startswith": (2, 2),
    "endswith": (2, 2),
    "format": (1, 255),
    "join": (1, 2),
    "tojson": (1, 1),
    "fromjson": (1, 1),
    "hashfiles": (1, 255),
    "case": (3, 255),
    "success": (0, 0),
    "failure": (0, 0),
    "always": (0, 0),
    "cancelled": (0, 0),
}
STATUS_FUNCTIONS = frozenset({"success", "failure", "always", "cancelled"})


class _Parser:
    """Recursive descent over the runner's precedence: || < && < ==,!= < <,<=,>,>= < ! < access."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def parse(self) -> _Node:
        node = self._or()
        if self._peek().kind != "end":
            raise self._error(f"unexpected {self._peek().text!r}")
        return node

    def _error(self, message: str) -> ExpressionError:
        return ExpressionError(f"{message} in expression {self.text!r}")

    def _peek(self) -> _Token:
        return self.tokens[self.pos]

    def _take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _accept(self, text: str) -> bool:
        token = self._peek()
        if token.kind == "op" and token.text == text:
            self.pos += 1
            return True
        return False

    def _expect(self, text: str) -> None:
        if not self._accept(text):
            raise self._error(f"expected {text!r}, found {self._peek().text or 'end of expression'!r}")

    def _or(self) -> _Node:
        node = self._and()
        while self._accept("||"):
            node = _Binary("||", node, self._and())
        return node

    def _and(self) -> _Node:
        node = self._equality()
        while self._accept("&&"):
            node = _Binary("&&", node, self._equality())
        return node

    def _equality(self) -> _Node:
        node = self._comparison()
        while self._peek().text in ("==", "!=") and self._peek().kind == "op":
            op = self._take().text
            node = _Binary(op, node, self._comparison())
        return node

    def _comparison(self) -> _Node:
        node = self._unary()
        while self._peek().text in ("<", "<=", ">", ">=") and self._peek().kind == "op":
            op = self._take().text
            node = _Binary(op, node, self._unary())
        return node

    def _unary(self) -> _Node:
        if self._accept("!"):
            return _Not(self._unary())
        return self._postfix(self._primary())

    def _primary(self) -> _Node:
        token = self._take()
        if token.kind == "string":
            return _Literal(token.text[1:-1].replace("''", "'"))
        if token.kind == "number":
            return _Literal(_parse_number(token.text))
        if token.kind == "op" and token.text == "(":
            node = self._or()
            self._expect(")")
            return node
        if token.kind == "ident":
            lowered = token.text.lower()
            if lowered in ("true", "false"):
                return _Literal(lowered == "true")
            if lowered == "null":
                return _Literal(None)
            if lowered in ("nan", "infinity"):
                return _Literal(math.nan if lowered == "nan" else math.inf)
            if self._accept("("):
                return self._call(lowered)
            return _Context(lowered)
        raise self._error(f"unexpected {token.text or 'end of expression'!r}")

    def _call(self, name: str) -> _Node:
        if name not in _FUNCTIONS:
            raise self._error(f"unknown function {name}()")
        args: list[_Node] = []
        if not self._accept(")"):
            args.append(self._or())
            while self._accept(","):
                args.append(self._or())
            self._expect(")")
        low, high = _FUNCTIONS[name]
        if not low <= len(args) <= high:
            raise self._error(f"{name}() takes {low}..{high} arguments, got {len(args)}")
        return _Call(name, tuple(args))

    def _postfix(self, node: _Node) -> _Node:
        while True:
            if self._accept("."):
                token = self._take()
                if token.kind == "op" and token.text == "*":
                    node = _Index(node, None)
                elif token.kind == "ident":
                    node = _Index(node, _Literal(token.text))
                else:
                    raise self._error(f"expected a property name after '.', found {token.text!r}")
            elif self._accept("["):
                node = _Index(node, None) if self._accept("*") else _Index(node, self._or())
                self._expect("]")
            else:
                return node


def _parse_number(text: str) -> float | int:
    lowered = text.lower()
    if "0x" in lowered:
        return int(lowered, 16)
    number = float(lowered)
    return int(number) if number.is_integer() and "e" not in lowered and "." not in lowered else number


def parse(text: str) -> _Node:
    """Parse an expression (without the `${{ }}`); raises ExpressionError on a syntax error."""
    return _Parser(text).parse()


# ---- values -----------------------------------------------------------------------------------------------


def to_string(value: Value) -> str:
    """The runner's string form of a value, as substituted into `run:` scripts and inputs."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "Array"
    return "Object"


def _number_string(value: float) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return str(value)


def truthy(value: Value) -> bool:
    """Falsy: false, 0, -0, "", null, NaN. Everything else, objects and arrays included, is truthy."""
    if value is None or value is False:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def to_number(value: Value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        stripped = value.strip()
        if stripped == "":
            return 0.0
        try:
            return float(_parse_number(stripped))
        except ValueError:
            return math.nan
    return math.nan


def _kind(value: Value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def loose_equals(left: Value, right: Value) -> bool:
    """`==`: same-kind values compare directly (strings ignoring case); other kinds compare as numbers."""
    lk, rk = _kind(left), _kind(right)
    if lk == rk:
        if lk == "string":
            return str(left).casefold() == str(right).casefold()
        if lk == "number":
            return float(left) == float(right)
        if lk == "object":
            return left is right
        return bool(left == right)
    if "object" in (lk, rk):
        return False
    return to_number(left) == to_number(right)


def _compare(op: str, left: Value, right: Value) -> bool:
    lk, rk = _kind(left), _kind(right)
    if lk == rk == "string":
        a: Any = str(left).casefold()
        b: Any = str(right).casefold()
    elif "object" in (lk, rk):
        return False
    else:
        a, b = to_number(left), to_number(right)
        if math.isnan(a) or math.isnan(b):
            return False
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


# ---- evaluation -------------------------------------------------------------------------------------------


@dataclass
class Scope:
    """What an expression can see: the named contexts, the job's status, and the workspace for hashFiles."""

    contexts: Mapping[str, Value]
    status: str = "success"  # success | failure | cancelled: the job (or the needed jobs) so far
    workspace: Path | None = None
    # Contexts that do not exist at this place in the workflow; naming one is an error, as on the runner.
    forbidden: frozenset[str] = field(default_factory=frozenset)


def evaluate(node_or_text: _Node | str, scope: Scope) -> Value:
    """Evaluate an expression (text without `${{ }}`, or a parsed tree) to a value."""
    node = parse(node_or_text) if isinstance(node_or_text, str) else node_or_text
    return _Evaluator(scope).eval(node)


class _Evaluator:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def eval(self, node: _Node) -> Value:
        if isinstance(node, _Literal):
            return node.value
        if isinstance(node, _Context):
            if node.name in self.scope.forbidden:
                raise ExpressionError(f"the {node.name} context is not available here")
            for name, value in self.scope.contexts.items():
                if name.lower() == node.name:
                    return value
            raise ExpressionError(f"unrecognized named-value: {node.name!r}")
        if isinstance(node, _Index):
            return self._index(node)
        if isinstance(node, _Not):
            return not truthy(self.eval(node.operand))
        if isinstance(node, _Binary):
            return self._binary(node)
        return self._call(node)

    def _index(self, node: _Index) -> Value:
        target = self.eval(node.target)
        if node.key is None:
            if isinstance(target, list):
                return _Filtered(target)
            if isinstance(target, dict):
                return _Filtered(list(target.values()))
            return _Filtered([])
        key = self.eval(node.key)
        if isinstance(target, _Filtered):
            return _Filtered([v for item in target for v in [_lookup(item, key)] if v is not None])
        return _lookup(target, key)

    def _binary(self, node: _Binary) -> Value:
        left = self.eval(node.left)
        if node.op == "&&":
            return self.eval(node.right) if truthy(left) else left
        if node.op == "||":
            return left if truthy(left) else self.eval(node.right)
        right = self.eval(node.right)
        if node.op == "==":
            return loose_equals(left, right)
        if node.op == "!=":
            return not loose_equals(left, right)
        return _compare(node.op, left, right)

    def _call(self, node: _Call) -> Value:
        name = node.name
        if name in STATUS_FUNCTIONS:
            status = self.scope.status
            return {
                "success": status == "success",
                "failure": status == "failure",
                "cancelled": status == "cancelled",
                "always": True,
            }[name]
        if name == "case":
            return self._case(node.args)
        args = [self.eval(a) for a in node.args]
        function: Callable[[list[Value]], Value] = getattr(self, f"_fn_{name}")
        return function(args)

    def _case(self, args: tuple[_Node, ...]) -> Value:
        if len(args) % 2 == 0:
            raise ExpressionError("case() takes predicate/value pairs and a default (an odd number of arguments)")
        for i in range(0, len(args) - 1, 2):
            predicate = self.eval(args[i])
            if not isinstance(predicate, bool):
                raise ExpressionError("case() predicates must be booleans")
            if predicate:
                return self.eval(args[i + 1])
        return self.eval(args[-1])

    @staticmethod
    def _fn_contains(args: list[Value]) -> Value:
        search, item = args
        if isinstance(search, list):
            return any(loose_equals(element, item) for element in search)
        return to_string(item).casefold() in to_string(search).casefold()

    @staticmethod
    def _fn_startswith(args: list[Value]) -> Value:
        return to_string(args[0]).casefold().startswith(to_string(args[1]).casefold())

    @staticmethod
    def _fn_endswith(args: list[Value]) -> Value:
        return to_string(args[0]).casefold().endswith(to_string(args[1]).casefold())

    @staticmethod
    def _fn_format(args: list[Value]) -> Value:
        template = to_string(args[0])
        values = [to_string(v) for v in args[1:]]
        out: list[str] = []
        i = 0
        while i < len(template):
            ch = template[i]
            if ch == "{" and template.startswith("{{", i):
                out.append("{")
                i += 2
            elif ch == "}" and template.startswith("}}", i):
                out.append("}")
                i += 2
            elif ch == "{":
                end = template.find("}", i)
                index_text = template[i + 1 : end] if end > 0 else ""
                if not index_text.isdigit() or int(index_text) >= len(values):
                    raise ExpressionError(f"format(): invalid placeholder in {template!r}")
                out.append(values[int(index_text)])
                i = end + 1
            elif ch == "}":
                raise ExpressionError(f"format(): unbalanced '}}' in {template!r}")
            else:
                out.append(ch)
                i += 1
        return "".join(out)

    @staticmethod
    def _fn_join(args: list[Value]) -> Value:
        separator = to_string(args[1]) if len(args) > 1 else ","
        items = args[0]
        if isinstance(items, list):
            return separator.join(to_string(v) for v in items)
        return to_string(items)

    @staticmethod
    def _fn_tojson(args: list[Value]) -> Value:
        return json.dumps(_plain(args[0]), indent=2)

    @staticmethod
    def _fn_fromjson(args: list[Value]) -> Value:
        text = to_string(args[0])
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExpressionError(f"fromJSON(): {text[:80]!r} is not JSON ({exc})") from None

    def _fn_hashfiles(self, args: list[Value]) -> Value:
        workspace = self.scope.workspace
        if workspace is None:
            raise ExpressionError("hashFiles() is only available in steps")
        return hash_files(workspace, [to_string(a) for a in args])


class _Filtered(list[Value]):
    """The result of a `*` filter: property access maps over it."""


def _lookup(target: Value, key: Value) -> Value:
    if isinstance(target, dict):
        wanted = to_string(key).casefold()
        for name, value in target.items():
            if str(name).casefold() == wanted:
                return value
        return None
    if isinstance(target, list) and not isinstance(key, str | bool):
        number = to_number(key)
        if not math.isnan(number) and number >= 0 and int(number) < len(target):
            return target[int(number)]
    return None


def _plain(value: Value) -> Value:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def hash_files(workspace: Path, patterns: list[str]) -> str:
    """The runner's hashFiles(): sha256 over the sha256 of every matched file, in path order; '' for none.

    Patterns are globs relative to the workspace; a leading `!` excludes what earlier patterns matched.
    """
    matched: set[Path] = set()
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern[1:] if negate else pattern
        glob = glob.removeprefix("./")
        hits = {p for p in workspace.glob(glob) if p.is_file() and ".git" not in p.relative_to(workspace).parts}
        matched = matched - hits if negate else matched | hits
    if not matched:
        return ""
    outer = hashlib.sha256()
    for path in sorted(matched):
        outer.update(hashlib.sha256(path.read_bytes()).digest())
    return outer.hexdigest()


# ---- templates --------------------------------------------------------------------------------------------


def split_template(text: str) -> list[str | _Node]:
    """Split a string into literal parts and parsed `${{ }}` expressions (quote-aware about `}}`)."""
    parts: list[str | _Node] = []
    pos = 0
    while True:
        start = text.find("${{", pos)
        if start < 0:
            if pos < len(text):
                parts.append(text[pos:])
            return parts
        if start > pos:
            parts.append(text[pos:start])
        i = start + 3
        in_string = False
        while i < len(text):
            if text[i] == "'":
                in_string = not in_string
            elif not in_string and text.startswith("}}", i):
                break
            i += 1
        else:
            raise ExpressionError(f"unclosed '${{{{' in {text!r}")
        parts.append(parse(text[start + 3 : i].strip()))
        pos = i + 2


def substitute(text: str, scope: Scope) -> str:
    """Replace every `${{ expr }}` in `text` by the string form of its value."""
    if "${{" not in text:
        return text
    return "".join(part if isinstance(part, str) else to_string(evaluate(part, scope)) for part in split_template(text))


def evaluate_value(value: Value, scope: Scope) -> Value:
    """Evaluate a workflow value: a string that is exactly one `${{ }}` keeps its type; other strings are
    substituted; lists and mappings are evaluated element by element."""
    if isinstance(value, str):
        if "${{" not in value:
            return value
        parts = split_template(value.strip())
        if len(parts) == 1 and not isinstance(parts[0], str):
            result = evaluate(parts[0], scope)
            return list(result) if isinstance(result, _Filtered) else result
        return substitute(value, scope)
    if isinstance(value, list):
        return [evaluate_value(v, scope) for v in value]
    if isinstance(value, dict):
        return {str(k): evaluate_value(v, scope) for k, v in value.items()}
    return value


def uses_status_function(node: _Node) -> bool:
    """Whether a condition calls success()/failure()/always()/cancelled() anywhere."""
    if isinstance(node, _Call):
        return node.name in STATUS_FUNCTIONS or any(uses_status_function(a) for a in node.args)
    if isinstance(node, _Binary):
        return uses_status_function(node.left) or uses_status_function(node.right)
    if isinstance(node, _Not):
        return uses_status_function(node.operand)
    if isinstance(node, _Index):
        return uses_status_function(node.target) or (node.key is not None and uses_status_function(node.key))
    return False


def condition(text: Value, scope: Scope) -> bool:
    """Evaluate an `if:` the way the runner does.

    An empty condition is `success()`; a condition that calls no status function is `success() && (...)`;
    `${{ }}` around the whole condition is optional; a condition with text outside its `${{ }}` is a
    non-empty string, hence true (a well-known trap the runner has too).
    """
    if text is None or text == "":
        return scope.status == "success"
    if isinstance(text, bool | int | float):
        return scope.status == "success" and truthy(text)
    raw = str(text).strip()
    parts = split_template(raw) if "${{" in raw else [parse(raw)]
    if len(parts) != 1 or isinstance(parts[0], str):
        return scope.status == "success" and truthy(substitute(raw, scope))
    node = parts[0]
    if not uses_status_function(node):
        node = _Binary("&&", _Call("success", ()), node)
    return truthy(evaluate(node, scope))
