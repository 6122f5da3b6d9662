"""Python projects: package manager, version matrix, test runner, linters, build, services.

A Python stack is rooted where a project manifest lives (pyproject.toml, setup.py, setup.cfg, requirements.txt,
Pipfile, environment.yml, manage.py). Nested manifests become their own stack only when they look independently
tested (their own tests or test configuration) and are not members of a root workspace, documentation, examples
or fixtures. Commands are the project's own entry points (`tox`, `nox`, `uv run pytest`, `pre-commit run
--all-files`), so the generated pipeline runs what the maintainers run locally.
"""

from __future__ import annotations

import ast
import configparser
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from autodevops.engine import runtimes
from autodevops.engine.detect import entrypoints
from autodevops.engine.detect import services as svc
from autodevops.engine.detect.base import Context, unique
from autodevops.engine.detect.builder import files_under, files_with, is_project_path
from autodevops.engine.detect.entrypoints import EntryPoint
from autodevops.engine.model import OS, Evidence, LintTool, Provenance, Service, Stack, TestTool

ROOT_MANIFESTS = ("pyproject.toml", "setup.py", "setup.cfg", "Pipfile", "environment.yml", "environment.yaml")
# Directories whose Python manifests are never independently tested projects of this repository.
NON_PROJECT_PARTS = frozenset(
    {
        "docs",
        "doc",
        "documentation",
        "examples",
        "example",
        "samples",
        "sample",
        "tests",
        "test",
        "testing",
        "fixtures",
        "fixture",
        "testdata",
        "data",
        "benchmarks",
        "bench",
        "vendor",
        "vendored",
        "_vendor",
        "third_party",
        "node_modules",
        "site-packages",
        "venv",
        "env",
        "__pypackages__",
        "templates",
        "template",
        "scripts",
        "tools",
        "build",
        "dist",
    }
)

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_NORM = re.compile(r"[-_.]+")
_PY_CLASSIFIER = re.compile(r"Programming Language :: Python :: (\d+\.\d+)\s*$")

# Linter/formatter/type-checker packages and the vocabulary name they map to.
LINT_PACKAGES: dict[str, LintTool] = {
    "ruff": "ruff",
    "flake8": "flake8",
    "pylint": "pylint",
    "black": "black",
    "isort": "isort",
    "mypy": "mypy",
    "pyright": "pyright",
    "basedpyright": "pyright",
    "pre-commit": "pre-commit",
    "prek": "pre-commit",  # a faster runner of the same .pre-commit-config.yaml hooks
    "flake8p": "flake8",  # Flake8-pyproject's command: flake8 configured from pyproject.toml
}
# pre-commit hook ids → lint vocabulary ('other' for real linters outside it; housekeeping hooks are ignored).
HOOK_TOOLS: dict[str, LintTool] = {
    "ruff": "ruff",
    "ruff-check": "ruff",
    "ruff-format": "ruff",
    "black": "black",
    "black-jupyter": "black",
    "isort": "isort",
    "flake8": "flake8",
    "pylint": "pylint",
    "mypy": "mypy",
    "pyright": "pyright",
    "basedpyright": "pyright",
    "codespell": "other",
    "typos": "other",
    "pyupgrade": "other",
    "bandit": "other",
    "pydocstyle": "other",
    "interrogate": "other",
    "deptry": "other",
    "semgrep": "other",
    "pycln": "other",
    "autoflake": "other",
    "yesqa": "other",
    "blacken-docs": "other",
    "eslint": "eslint",
    "prettier": "prettier",
    "markdownlint": "other",
    "markdownlint-cli2": "other",
    "yamllint": "other",
    "shellcheck": "other",
    "vulture": "other",
    "slotscheck": "other",
    "validate-pyproject": "other",
    "ty": "other",
    "pyrefly": "other",
    # More checkers and formatters outside the vocabulary that hooks commonly run.
    "autopep8": "other",
    "add-trailing-comma": "other",
    "flynt": "other",
    "refurb": "other",
    "docformatter": "other",
    "pyproject-fmt": "other",
    "mdformat": "other",
    "cython-lint": "other",
    "rstcheck": "other",
    "rst-linter": "other",
    "sphinx-lint": "other",
    "doc8": "other",
    "check-jsonschema": "other",
    "check-github-workflows": "other",
    "actionlint": "other",
    "hadolint": "other",
    "hadolint-docker": "other",
    "shfmt": "other",
    "taplo-lint": "other",
    "taplo-format": "other",
    "clang-format": "other",
    "cmake-format": "other",
    "cmake-lint": "other",
}
FRAMEWORKS = {
    "django": "django",
    "flask": "flask",
    "fastapi": "fastapi",
    "starlette": "starlette",
    "pyramid": "pyramid",
    "tornado": "tornado",
    "aiohttp": "aiohttp",
    "sanic": "sanic",
    "litestar": "litestar",
    "celery": "celery",
    "streamlit": "streamlit",
    "dash": "dash",
}


def norm(name: str) -> str:
    """PEP 503 normalized distribution name."""
    return _NORM.sub("-", name.strip().lower())


def req_name(requirement: str) -> str | None:
    """The distribution name of a requirement string (`pytest>=8; python_version<'3.12'` → `pytest`)."""
    line = requirement.strip()
    if not line or line.startswith(("#", "-", "git+", "http:", "https:", "file:", ".")):
        return None
    m = _NAME.match(line)
    return norm(m.group(1)) if m else None


@dataclass
class Deps:
    """A project's declared dependencies, by role."""

    main: dict[str, Evidence] = field(default_factory=dict)
    dev: dict[str, Evidence] = field(default_factory=dict)  # dev/test/lint groups and extras
    extras: dict[str, Evidence] = field(default_factory=dict)  # optional user-facing extras

    def add(self, role: str, names: Iterable[str | None], evidence: Evidence) -> None:
        target = {"main": self.main, "dev": self.dev, "extras": self.extras}[role]
        for n in names:
            if n and n not in target:
                target[n] = evidence

    def merge(self, other: Deps) -> None:
        for mine, theirs in ((self.main, other.main), (self.dev, other.dev), (self.extras, other.extras)):
            for name, evidence in theirs.items():
                mine.setdefault(name, evidence)

    def any(self, name: str) -> Evidence | None:
        return self.main.get(name) or self.dev.get(name) or self.extras.get(name)

    def all_names(self) -> set[str]:
        return set(self.main) | set(self.dev) | set(self.extras)


_DOCS_GROUP = re.compile(r"doc|sphinx|mkdocs", re.I)
# A development set's name, word by word (`dev`, `test-requirements`, `typing`), never a part of a word: the
# `circuit_breaker` extra is a feature users pick, not a `ci` set.
_DEV_GROUP = re.compile(
    r"(?:^|[-_.])(?:dev\w*|tests?|testing|lint\w*|check\w*|typ(?:e|es|ing|echeck)|ci|qa|style|mypy|format\w*)(?:$|[-_.])",
    re.I,
)
# Requirement files at a project's root: `requirements.txt`, `requirements-dev.txt`, `dev_requirements.txt`.
_REQUIREMENTS_FILE = re.compile(r"(?:\w+[-_])?requirements(?:[-_.][\w.-]+)?\.(?:txt|in)")
REQUIREMENTS_DIRS = ("requirements", "requirements.d", "reqs")


def detect(ctx: Context) -> list[Stack]:
    """One stack per independently tested Python project root."""
    roots = _roots(ctx)
    return [_stack(ctx, root) for root in roots]


# ---- roots ---------------------------------------------------------------------------------------------------


def _roots(ctx: Context) -> list[str]:
    candidates: set[str] = set()
    for name in (*ROOT_MANIFESTS, "manage.py", "requirements.txt"):
        for path in ctx.find(name):
            candidates.add(Context.dirname(path))
    if any(n.startswith("requirements") and n.endswith(".txt") for n in ctx.listdir(".")):
        candidates.add(".")
    roots: list[str] = []
    if "." in candidates and _is_python_root(ctx, "."):
        roots.append(".")
    members = _workspace_members(ctx)
    for d in sorted(candidates - {"."}):
        parts = d.split("/")
        if any(p in NON_PROJECT_PARTS or p.startswith(".") for p in parts):
            continue
        if d in members or not _is_python_root(ctx, d) or _is_project_template(ctx, d):
            continue
        # A nested project is a separate stack only if it is tested on its own.
        if not _has_own_tests(ctx, d):
            continue
        # A package directory inside another project's source tree (src/pkg/setup.py) is part of it.
        roots.append(d)
    return roots


def _is_python_root(ctx: Context, d: str) -> bool:
    pyproject = Context.join(d, "pyproject.toml")
    if ctx.exists(pyproject):
        data: dict[str, Any] = ctx.toml(pyproject) or {}
        tool: dict[str, Any] = data["tool"] if isinstance(data.get("tool"), dict) else {}
        build: dict[str, Any] = data["build-system"] if isinstance(data.get("build-system"), dict) else {}
        backend = str(build.get("build-backend", ""))
        # A pyproject.toml that only configures tools for a non-Python build (maturin is Python+Rust, kept).
        if "project" in data or "poetry" in tool or "dependency-groups" in data or backend:
            return True
        if any(ctx.exists(Context.join(d, n)) for n in ("setup.py", "setup.cfg", "requirements.txt")):
            return True
        # Tool-only pyproject (ruff/black settings) at the root of a repo that is Python by its files.
        return d == "." and _has_python_sources(ctx, d)
    if ctx.exists(Context.join(d, "setup.cfg")) and not ctx.exists(Context.join(d, "setup.py")):
        cp = ctx.ini(Context.join(d, "setup.cfg"))
        if cp is not None and not (cp.has_section("metadata") or cp.has_section("options")):
            return _has_python_sources(ctx, d) and d == "."
    return not _tooling_requirements_only(ctx, d)


# Tools a repository in another language installs with pip for its own CI (spelling, docs, hooks, linters).
_TOOLING = frozenset({*LINT_PACKAGES, "codespell", "yamllint", "mdformat", "gitlint", "reuse", "mkdocs", "sphinx"})


def _tooling_requirements_only(ctx: Context, d: str) -> bool:
    """Whether `d` has nothing Python but a requirements file of tools (a Go repository's `codespell` pin) and
    no Python sources: the tools serve another language's project."""
    if any(ctx.exists(Context.join(d, n)) for n in (*ROOT_MANIFESTS, "manage.py")) or _has_python_sources(ctx, d):
        return False
    text = ctx.text(Context.join(d, "requirements.txt")) or ""
    names = [name for line in text.splitlines() if (name := req_name(line))]
    return bool(names) and all(n in _TOOLING or n.startswith(("mkdocs-", "sphinx-")) for n in names)


def _has_python_sources(ctx: Context, d: str) -> bool:
    prefix = "" if d == "." else d + "/"
    return any(p.startswith(prefix) and p.endswith(".py") for p in ctx.sizes)


def _is_project_template(ctx: Context, d: str) -> bool:
    """A Django `startproject`/`startapp` template (`manage.py-tpl`, `*.py-tpl` files): rendered into projects,
    never run as one."""
    return any(name.endswith(".py-tpl") for name in ctx.listdir(d))


def _has_own_tests(ctx: Context, d: str) -> bool:
    prefix = d + "/"
    for name in ("tox.ini", "tox.toml", "noxfile.py", "pytest.ini", "conftest.py"):
        if ctx.exists(prefix + name):
            return True
    data = ctx.toml(prefix + "pyproject.toml") if ctx.exists(prefix + "pyproject.toml") else None
    tool = (data or {}).get("tool")
    if isinstance(tool, dict) and ("pytest" in tool or "tox" in tool):
        return True
    if ctx.exists(prefix + "manage.py"):
        return True
    return any(p.startswith(prefix) for p in _test_modules(ctx))


_TEST_MODULE = re.compile(r"(?:test_\w+|\w+_test|tests)\.py")


def _test_modules(ctx: Context) -> list[str]:
    """Paths of Python test modules (test_*.py, *_test.py, tests.py) anywhere in the repository."""
    found: list[str] = ctx.memo("python.test_modules", lambda: ctx.find_matching(_TEST_MODULE))
    return found


def _workspace_members(ctx: Context) -> set[str]:
    """Directories that a root uv workspace builds as one unit."""
    data = ctx.toml("pyproject.toml") if ctx.exists("pyproject.toml") else None
    tool = (data or {}).get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    ws = uv.get("workspace") if isinstance(uv, dict) else None
    if not isinstance(ws, dict):
        return set()
    members: set[str] = set()
    globs = [g for g in ws.get("members", []) if isinstance(g, str)]
    dirs = {Context.dirname(p) for p in ctx.find("pyproject.toml")}
    for g in globs:
        pattern = re.compile("^" + re.escape(g.strip("/")).replace(r"\*\*", ".*").replace(r"\*", "[^/]*") + "$")
        members.update(d for d in dirs if pattern.match(d))
    return members


# ---- one stack -----------------------------------------------------------------------------------------------


class _B:
    """Sets stack fields with their provenance."""

    def __init__(self, ctx: Context, root: str) -> None:
        self.ctx = ctx
        self.stack = Stack(path=root, language="python")

    def set(self, name: str, value: Any, confidence: float, *evidence: Evidence, why: str | None = None) -> None:
        setattr(self.stack, name, value)
        self.stack.provenance[name] = Provenance(evidence=list(evidence), confidence=confidence, justification=why)

    def add(self, name: str, items: Iterable[str], confidence: float, *evidence: Evidence) -> None:
        items = list(items)
        if not items:
            return
        setattr(self.stack, name, unique([*getattr(self.stack, name), *items]))
        prov = self.stack.provenance.get(name)
        if prov is None:
            self.stack.provenance[name] = Provenance(evidence=list(evidence), confidence=confidence)
        else:
            prov.evidence.extend(e for e in evidence if e not in prov.evidence)
            prov.confidence = min(prov.confidence, confidence)

    def finding(self, code: str, severity: str, message: str, *evidence: Evidence) -> None:
        self.ctx.finding(code, severity, message, *evidence, stack=self.stack.path)  # type: ignore[arg-type]


def _stack(ctx: Context, root: str) -> Stack:
    b = _B(ctx, root)
    j = functools.partial(Context.join, root)
    pyproject = ctx.toml(j("pyproject.toml")) if ctx.exists(j("pyproject.toml")) else None
    data: dict[str, Any] = pyproject or {}
    tool: dict[str, Any] = data.get("tool") if isinstance(data.get("tool"), dict) else {}  # type: ignore[assignment]
    manifests = [j(n) for n in (*ROOT_MANIFESTS, "requirements.txt", "manage.py") if ctx.exists(j(n))]
    manifests += _dev_requirement_files(ctx, root)
    b.stack.manifests = manifests
    first = manifests[0] if manifests else j("pyproject.toml")
    b.stack.provenance["language"] = Provenance(evidence=[Evidence(file=first)], confidence=0.95)
    b.stack.provenance["path"] = Provenance(evidence=[Evidence(file=first)], confidence=0.9)

    deps = _dependencies(ctx, root, data, tool)
    # A workspace is built and tested as one unit: its members' dependencies and test setup are the stack's.
    members = sorted(_workspace_members(ctx)) if root == "." else []
    for member in members:
        member_data = ctx.toml(Context.join(member, "pyproject.toml")) or {}
        member_tool = member_data.get("tool") if isinstance(member_data.get("tool"), dict) else {}
        deps.merge(_dependencies(ctx, member, member_data, member_tool or {}))
    b.stack.workspace_members = members
    _install_sets(b, root, data)
    pm = _package_manager(b, root, data, tool)
    # invoke tasks only where the project installs invoke: the job runs them in the project's environment.
    points = [
        p
        for p in entrypoints.find(ctx, root, ENTRY_POINT_NAMES)
        if not p.command.startswith("invoke ") or deps.any("invoke")
    ]
    _test(b, root, data, tool, deps, pm, members, points)
    _versions(b, root, data, tool)
    _tox_matrix(b, root, tool, pm)
    if b.stack.test_tool == "nox" and b.stack.versions:
        ev = b.stack.provenance["test_tool"].evidence[0]
        cells = {v: {"NOX_PYTHON": v} for v in b.stack.versions}
        b.set("matrix_env", cells, 0.7, ev, why="nox runs each cell's interpreter")
    _lint(b, root, data, tool, deps, pm, points)
    _build(b, root, data, pm, points)
    _install(b, pm, points)
    _version_from_git(b, root, data, tool, points)
    _services(b, root, data, deps)
    frameworks = [fw for name, fw in FRAMEWORKS.items() if name in deps.main]
    if frameworks:
        b.set("frameworks", frameworks, 0.8, *(deps.main[n] for n in FRAMEWORKS if n in deps.main))
    if ctx.exists(j("manage.py")) and "django" not in b.stack.frameworks:
        b.add("frameworks", ["django"], 0.7, Evidence(file=j("manage.py")))
    return b.stack


def _install_sets(b: _B, root: str, data: dict[str, Any]) -> None:
    """The extras and dependency groups a CI install needs: the development ones (test, lint, typing), never
    user-facing extras or documentation sets."""
    pp = Context.join(root, "pyproject.toml")
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    extras = [str(e) for e in ((project or {}).get("optional-dependencies") or {}) if _DEV_GROUP.search(str(e))]
    groups = data.get("dependency-groups") if isinstance(data.get("dependency-groups"), dict) else {}
    dev_groups = [str(g) for g in groups or {} if _DEV_GROUP.search(str(g)) and not _DOCS_GROUP.search(str(g))]
    if extras:
        evidence = [Evidence(file=pp, key=f"project.optional-dependencies.{e}") for e in extras]
        b.set("extras", extras, 0.8, *evidence, why="the development extras")
    if dev_groups:
        evidence = [Evidence(file=pp, key=f"dependency-groups.{g}") for g in dev_groups]
        b.set("dependency_groups", dev_groups, 0.8, *evidence, why="the development dependency groups")


# ---- dependencies --------------------------------------------------------------------------------------------


def _dependencies(ctx: Context, root: str, data: dict[str, Any], tool: dict[str, Any]) -> Deps:
    deps = Deps()
    pp = Context.join(root, "pyproject.toml")
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    assert isinstance(project, dict)
    deps.add(
        "main", (req_name(r) for r in _strs(project.get("dependencies"))), Evidence(file=pp, key="project.dependencies")
    )
    for extra, reqs in (project.get("optional-dependencies") or {}).items():
        role = "dev" if _DEV_GROUP.search(str(extra)) else "extras"
        deps.add(
            role, (req_name(r) for r in _strs(reqs)), Evidence(file=pp, key=f"project.optional-dependencies.{extra}")
        )
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for group, reqs in groups.items():
            # A documentation group's tools (black for mkdocstrings' signatures) are not the project's checks.
            role = "extras" if _DOCS_GROUP.search(str(group)) else "dev"
            deps.add(role, (req_name(r) for r in _strs(reqs)), Evidence(file=pp, key=f"dependency-groups.{group}"))
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else None
    if isinstance(poetry, dict):
        deps.add(
            "main",
            (norm(n) for n in (poetry.get("dependencies") or {}) if n != "python"),
            Evidence(file=pp, key="tool.poetry.dependencies"),
        )
        deps.add(
            "dev",
            (norm(n) for n in (poetry.get("dev-dependencies") or {})),
            Evidence(file=pp, key="tool.poetry.dev-dependencies"),
        )
        for group, spec in (poetry.get("group") or {}).items():
            if isinstance(spec, dict):
                deps.add(
                    "dev",
                    (norm(n) for n in (spec.get("dependencies") or {})),
                    Evidence(file=pp, key=f"tool.poetry.group.{group}"),
                )
    pdm = tool.get("pdm") if isinstance(tool.get("pdm"), dict) else None
    if isinstance(pdm, dict):
        for group, reqs in (pdm.get("dev-dependencies") or {}).items():
            deps.add(
                "dev", (req_name(r) for r in _strs(reqs)), Evidence(file=pp, key=f"tool.pdm.dev-dependencies.{group}")
            )
    uv = tool.get("uv") if isinstance(tool.get("uv"), dict) else None
    if isinstance(uv, dict):
        deps.add(
            "dev",
            (req_name(r) for r in _strs(uv.get("dev-dependencies"))),
            Evidence(file=pp, key="tool.uv.dev-dependencies"),
        )
    hatch = tool.get("hatch") if isinstance(tool.get("hatch"), dict) else None
    envs = hatch.get("envs") if isinstance(hatch, dict) else None
    for env, spec in (envs or {}).items() if isinstance(envs, dict) else ():
        if isinstance(spec, dict):
            reqs = _strs(spec.get("dependencies")) + _strs(spec.get("extra-dependencies"))
            deps.add("dev", (req_name(r) for r in reqs), Evidence(file=pp, key=f"tool.hatch.envs.{env}"))
    # requirements files: the root's own, and a requirements/ directory.
    prefix = "" if root == "." else root + "/"
    for name in ctx.listdir(root):
        if _REQUIREMENTS_FILE.fullmatch(name):
            role = "dev" if _DEV_GROUP.search(name.removesuffix(".txt").removesuffix(".in")) else "main"
            _requirements(ctx, prefix + name, deps, role)
    for sub in REQUIREMENTS_DIRS:
        for name in ctx.listdir(prefix + sub):
            if name.endswith((".txt", ".in")):
                _requirements(ctx, f"{prefix}{sub}/{name}", deps, "dev" if _DEV_GROUP.search(name) else "main")
    pipfile = prefix + "Pipfile"
    if ctx.exists(pipfile):
        pf = ctx.toml(pipfile) or {}
        deps.add("main", (norm(n) for n in (pf.get("packages") or {})), Evidence(file=pipfile, key="packages"))
        deps.add("dev", (norm(n) for n in (pf.get("dev-packages") or {})), Evidence(file=pipfile, key="dev-packages"))
    setup_cfg = prefix + "setup.cfg"
    if ctx.exists(setup_cfg):
        cp = ctx.ini(setup_cfg)
        if cp is not None and cp.has_section("options"):
            deps.add(
                "main",
                (req_name(r) for r in cp.get("options", "install_requires", fallback="").splitlines()),
                Evidence(file=setup_cfg, key="options.install_requires"),
            )
            deps.add(
                "dev",
                (req_name(r) for r in cp.get("options", "tests_require", fallback="").splitlines()),
                Evidence(file=setup_cfg, key="options.tests_require"),
            )
        if cp is not None and cp.has_section("options.extras_require"):
            for extra, value in cp.items("options.extras_require"):
                role = "dev" if _DEV_GROUP.search(extra) else "extras"
                deps.add(
                    role,
                    (req_name(r) for r in value.splitlines()),
                    Evidence(file=setup_cfg, key=f"options.extras_require.{extra}"),
                )
    for env in ("environment.yml", "environment.yaml"):
        if ctx.exists(prefix + env):
            doc = ctx.yaml(prefix + env)
            items = doc.get("dependencies", []) if isinstance(doc, dict) else []
            names: list[str | None] = []
            for item in items if isinstance(items, list) else []:
                if isinstance(item, str):
                    names.append(req_name(item.replace("=", " ")))
                elif isinstance(item, dict):
                    names.extend(req_name(r) for r in _strs(item.get("pip")))
            deps.add("main", names, Evidence(file=prefix + env, key="dependencies"))
    return deps


def _dev_requirement_files(ctx: Context, root: str) -> list[str]:
    """The development requirement files CI installs beside `requirements.txt`: `requirements-dev.txt`,
    `dev_requirements.txt`, `requirements/test.txt` (not documentation sets, not `.in` sources of a lock)."""
    out: list[str] = []
    for directory in (root, *(Context.join(root, d) for d in REQUIREMENTS_DIRS)):
        for name in sorted(ctx.listdir(directory)):
            stem = name.removesuffix(".txt")
            if name == "requirements.txt" or stem == name or _DOCS_GROUP.search(stem):
                continue
            in_dir = directory != root
            if (in_dir or _REQUIREMENTS_FILE.fullmatch(name)) and _DEV_GROUP.search(stem):
                out.append(Context.join(directory, name))
    return out


def _requirements(ctx: Context, path: str, deps: Deps, role: str) -> None:
    """A requirements file's names; those under a documentation heading (`# Documentation`) are documentation
    tools, whatever else the file holds."""
    text = ctx.text(path) or ""
    section = role
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            heading = stripped.lstrip("#").strip()
            if heading and len(heading) < 40:
                section = "extras" if _DOCS_GROUP.search(heading) else role
            continue
        deps.add(section, [req_name(line)], Evidence(file=path))


def _strs(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


# ---- package manager -----------------------------------------------------------------------------------------


def _package_manager(b: _B, root: str, data: dict[str, Any], tool: dict[str, Any]) -> str:
    ctx = b.ctx
    j = functools.partial(Context.join, root)
    locks = [
        (name, pm)
        for name, pm in (
            ("uv.lock", "uv"),
            ("poetry.lock", "poetry"),
            ("pdm.lock", "pdm"),
            ("Pipfile.lock", "pipenv"),
            ("pixi.lock", "conda"),
        )
        if ctx.exists(j(name))
    ]
    b.stack.lockfiles = [j(n) for n, _ in locks]
    if len(locks) > 1:
        b.finding(
            "multiple-lockfiles",
            "warning",
            f"{root}: several Python lockfiles ({', '.join(n for n, _ in locks)}); which package manager is "
            "authoritative is ambiguous",
            *(Evidence(file=j(n)) for n, _ in locks),
        )
    pp = j("pyproject.toml")
    backend = str((data.get("build-system") or {}).get("build-backend", ""))
    if len(locks) > 1:
        # A stray lockfile (someone ran `uv lock` in a Poetry project) does not outvote the tool the project is
        # configured and built with.
        configured = _configured_manager(data, tool, backend)
        chosen = next(((n, pm) for n, pm in locks if pm == configured), None)
        if chosen:
            name, pm = chosen
            why = f"the {pm} lockfile of a project configured for {pm} ([tool.{pm}], build backend {backend or '-'})"
            b.set("package_manager", pm, 0.85, Evidence(file=j(name)), Evidence(file=pp, key=f"tool.{pm}"), why=why)
            return pm
    if locks:
        name, pm = locks[0]
        b.set("package_manager", pm, 0.95 if len(locks) == 1 else 0.6, Evidence(file=j(name)), why="lockfile")
        return pm
    checks: list[tuple[bool, str, Evidence, float]] = [
        (
            "poetry" in tool and ("poetry" in backend or "project" not in data),
            "poetry",
            Evidence(file=pp, key="tool.poetry"),
            0.8,
        ),
        (ctx.exists(j("Pipfile")), "pipenv", Evidence(file=j("Pipfile")), 0.85),
        (
            "pdm" in tool
            and isinstance(tool.get("pdm"), dict)
            and bool({"dev-dependencies", "scripts"} & set(tool["pdm"])),
            "pdm",
            Evidence(file=pp, key="tool.pdm"),
            0.7,
        ),
        ("uv" in tool, "uv", Evidence(file=pp, key="tool.uv"), 0.7),
        (
            isinstance((tool.get("hatch") or {}).get("envs"), dict),
            "hatch",
            Evidence(file=pp, key="tool.hatch.envs"),
            0.6,
        ),
        (
            ctx.exists(j("environment.yml")) or ctx.exists(j("environment.yaml")),
            "conda",
            Evidence(file=j("environment.yml")),
            0.7,
        ),
    ]
    for ok, pm, evidence, conf in checks:
        if ok:
            b.set("package_manager", pm, conf, evidence, why="project configuration without a lockfile")
            if pm in ("poetry", "pipenv", "pdm", "uv"):
                b.finding(
                    "no-lockfile",
                    "info",
                    f"{root}: {pm} project without a committed lockfile; CI installs may differ run to run",
                    evidence,
                )
            return pm
    evidence = Evidence(file=b.stack.manifests[0] if b.stack.manifests else pp)
    b.set("package_manager", "pip", 0.6, evidence, why="no other package manager configured: plain pip")
    return "pip"


def _configured_manager(data: dict[str, Any], tool: dict[str, Any], backend: str) -> str | None:
    """The package manager the project is built with (its build backend) or, failing that, the one it has a
    configuration table for."""
    for prefix, pm in (("poetry.", "poetry"), ("pdm.", "pdm"), ("uv_build", "uv")):
        if backend.startswith(prefix):
            return pm
    tables = [pm for pm in ("poetry", "pdm", "uv") if isinstance(tool.get(pm), dict)]
    return tables[0] if len(tables) == 1 else None


# ---- versions ------------------------------------------------------------------------------------------------


def _versions(b: _B, root: str, data: dict[str, Any], tool: dict[str, Any]) -> None:
    ctx = b.ctx
    j = functools.partial(Context.join, root)
    pp = j("pyproject.toml")
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    assert isinstance(project, dict)
    spec: runtimes.Spec = None
    spec_text: str | None = None
    spec_ev: Evidence | None = None
    if isinstance(project.get("requires-python"), str):
        spec_text = project["requires-python"]
        spec_ev = Evidence(file=pp, key="project.requires-python", excerpt=spec_text)
    else:
        poetry_py = (
            ((tool.get("poetry") or {}).get("dependencies") or {}).get("python")
            if isinstance(tool.get("poetry"), dict)
            else None
        )
        if isinstance(poetry_py, str):
            spec_text = poetry_py
            spec_ev = Evidence(file=pp, key="tool.poetry.dependencies.python", excerpt=poetry_py)
        elif ctx.exists(j("setup.cfg")):
            cp = ctx.ini(j("setup.cfg"))
            value = cp.get("options", "python_requires", fallback=None) if cp is not None else None
            if value:
                spec_text = value
                spec_ev = Evidence(file=j("setup.cfg"), key="options.python_requires", excerpt=value)
    if spec_text is not None and spec_ev is not None:
        try:
            spec = _python_spec(spec_text)
        except ValueError as exc:
            b.finding("invalid-version-range", "warning", f"{spec_ev.cite()}: {exc}", spec_ev)
            spec = None

    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
    all_classifiers = _strs(project.get("classifiers")) or _strs((poetry or {}).get("classifiers"))
    cls_ev = Evidence(file=pp, key="project.classifiers")
    if not all_classifiers:
        all_classifiers, legacy_ev = _legacy_classifiers(ctx, root)
        cls_ev = legacy_ev or cls_ev
    classifiers = [m.group(1) for c in all_classifiers if (m := _PY_CLASSIFIER.search(c))]
    pinned, pin_ev = _pinned_python(ctx, root)
    tox_versions, tox_ev = _tox_python_versions(ctx, root, tool)

    today = ctx.today
    released = {r.cycle for r in runtimes.releases("python") if r.is_released(today)}
    listed = [c for c in classifiers if c in released and (spec is None or runtimes.matches("python", c, spec))]
    tox_listed = [v for v in tox_versions if _released_interpreter(v, released, today)]
    noxfile = Context.join(root, "noxfile.py")
    nox_listed = (
        [v for v in _nox_python_versions(ctx.text(noxfile) or "") if _released_interpreter(v, released, today)]
        if b.stack.test_tool == "nox"
        else []
    )
    if b.stack.test_tool == "tox" and tox_listed and tox_ev:
        # tox runs the tests: its envlist is the project's own matrix, interpreters and all.
        # For review: CI matrices often leave out or add envlist interpreters (PyPy, free-threaded builds).
        b.set("versions", tox_listed, 0.75, tox_ev, why="the interpreters the tox envlist runs")
        _eol_findings(b, tox_ev, [v for v in tox_listed if v in released])
        tox_ev = None  # used
    elif nox_listed:
        # Likewise for nox: the interpreters its test sessions name are the project's own matrix.
        nox_ev = Evidence(file=noxfile, key="python")
        b.set("versions", nox_listed, 0.85, nox_ev, why="the interpreters the noxfile's test sessions run")
        _eol_findings(b, nox_ev, [v for v in nox_listed if v in released])
    elif listed:
        # Per-version classifiers are the maintainers' explicit claim: test every line they list, even one past
        # end of life (reported as a finding), since users on it were promised support.
        # For review: CI adds what classifiers rarely list (free-threaded builds, the next release's pre-release).
        b.set("versions", listed, 0.75, cls_ev, why="the Python versions the project's classifiers list")
        _eol_findings(b, cls_ev, listed)
    elif spec is not None and spec_ev is not None:
        lines = _matrix(spec, today)
        b.set("versions", lines, 0.8, spec_ev, why=f"requires-python intersected with lines supported on {today}")
        _eol_findings(b, spec_ev, lines)
    elif tox_listed and tox_ev:
        b.set("versions", tox_listed, 0.7, tox_ev, why="tox envlist")
    elif pinned and pin_ev:
        cycle = runtimes.cycle_of("python", pinned)
        b.set("versions", [cycle or pinned], 0.75, pin_ev, why="pinned interpreter version")
    pin_cycle = runtimes.cycle_of("python", pinned) if pinned else None
    excluded = spec is not None and pin_cycle is not None and not runtimes.matches("python", pin_cycle, spec)
    if excluded and spec_ev and pin_ev:
        b.finding(
            "python-version-excluded",
            "warning",
            f"{pin_ev.cite()} pins Python {pinned}, which {spec_ev.cite()} ({spec_text}) excludes",
            pin_ev,
            spec_ev,
        )
    _platforms(b, all_classifiers, cls_ev)
    has_pypy = any(v.startswith("pypy") for v in b.stack.versions)
    if b.stack.versions and not has_pypy and any("Implementation :: PyPy" in c for c in all_classifiers):
        pypy = [r.cycle for r in runtimes.releases("pypy") if r.is_released(today)]
        if pypy and (spec is None or runtimes.matches("python", pypy[-1], spec)):
            b.add("versions", [f"pypy{pypy[-1]}"], 0.7, cls_ev)
    has_free_threaded = any(v.endswith("t") for v in b.stack.versions)
    ft_ev = (
        cls_ev
        if any("Free Threading" in c for c in all_classifiers)
        else _gil_free_extension(ctx, root)
        if b.stack.versions and not has_free_threaded
        else None
    )
    if b.stack.versions and not has_free_threaded and ft_ev is not None:
        # The free-threaded build of the newest settled line the matrix has (3.13t was experimental).
        settled = [
            r.cycle
            for r in runtimes.releases("python")
            if r.cycle in b.stack.versions and (today - r.released).days >= NEW_LINE_SETTLING_DAYS
        ]
        if settled and tuple(map(int, settled[-1].split("."))) >= (3, 14):
            b.add("versions", [f"{settled[-1]}t"], 0.65, ft_ev)
    if pinned and pin_ev and runtimes.is_eol("python", pinned, today):
        b.finding(
            "eol-runtime", "warning", f"{pin_ev.cite()} pins Python {pinned}, past end of life on {today}", pin_ev
        )


_CLASSIFIER_LITERAL = re.compile(r"""["']((?:Programming Language|Operating System) :: [^"'\n]+)["']""")


def _legacy_classifiers(ctx: Context, root: str) -> tuple[list[str], Evidence | None]:
    """Trove classifiers of a project without [project] metadata: setup.cfg's `[metadata] classifiers`, else the
    string literals of setup.py (`classifiers=[...]`)."""
    cfg = Context.join(root, "setup.cfg")
    cp = ctx.ini(cfg) if ctx.exists(cfg) else None
    value = cp.get("metadata", "classifiers", fallback="") if cp is not None else ""
    found = [line.strip() for line in value.splitlines() if line.strip()]
    if found:
        return found, Evidence(file=cfg, key="metadata.classifiers")
    setup = Context.join(root, "setup.py")
    text = ctx.text(setup) if ctx.exists(setup) else None
    found = [m.group(1).strip() for m in _CLASSIFIER_LITERAL.finditer(text or "")]
    return found, (Evidence(file=setup, key="classifiers") if found else None)


def _platforms(b: _B, classifiers: list[str], evidence: Evidence) -> None:
    """Windows and macOS in the classifiers are platforms the project promises: the tests run there too."""
    oses: list[OS] = ["linux"]
    if any(c.startswith("Operating System :: MacOS") for c in classifiers):
        oses.append("macos")
    if any(c.startswith("Operating System :: Microsoft :: Windows") for c in classifiers):
        oses.append("windows")
    if len(oses) > 1:
        b.set("operating_systems", oses, 0.7, evidence, why="the operating systems the classifiers name")


# An extension module declaring that it runs without the GIL: C's `Py_mod_gil` slot set to
# `Py_MOD_GIL_NOT_USED`, Cython's `freethreading_compatible` directive (in a .pyx header or the build config).
_GIL_FREE = re.compile(r"Py_MOD_GIL_NOT_USED|freethreading_compatible\s*[=:]\s*[\"']?True")
_EXTENSION_SOURCES = (".c", ".cc", ".cpp", ".pyx")
_BUILD_CONFIGS = ("pyproject.toml", "setup.py", "setup.cfg")
# Extension sources read at most: the declaration sits in the module's init file, and a project with more
# sources than this is read no further (vendored C libraries are already left out of the index).
_MAX_EXTENSION_SOURCES = 200


# A build configuration that compiles extension modules (setuptools `Extension`/`ext_modules`, Cython, meson-python,
# scikit-build, cibuildwheel); without one, C sources in the tree are not the package's extensions.
_BUILDS_EXTENSIONS = re.compile(r"\bExtension\(|ext_modules|cythonize|Cython|mesonpy|scikit.build|cibuildwheel")


def _gil_free_extension(ctx: Context, root: str) -> Evidence | None:
    """Where the project's own extension modules declare they run without the GIL: the maintainers made their
    compiled code safe for the free-threaded build, so it is part of what they test."""
    candidates = files_under(ctx, root, _BUILD_CONFIGS)
    if not any(_BUILDS_EXTENSIONS.search(ctx.text(path) or "") for path in candidates):
        return None
    candidates += [e.path for e in files_with(ctx, _EXTENSION_SOURCES, root)[:_MAX_EXTENSION_SOURCES]]
    for path in candidates:
        text = ctx.text(path) or ""
        m = _GIL_FREE.search(text)
        if m:
            line = text.count("\n", 0, m.start()) + 1
            return Evidence(file=path, line=line, excerpt=m.group(0))
    return None


def _released_interpreter(version: str, released: set[str], today: Any) -> bool:
    if version.startswith("pypy"):
        return any(r.cycle == version[4:] and r.is_released(today) for r in runtimes.releases("pypy"))
    return version.rstrip("t") in released


def _python_spec(text: str) -> runtimes.Spec:
    """requires-python (PEP 440) or a Poetry constraint (`^3.9`, `~3.10`, `>=3.9,<4.0 || ...`)."""
    t = text.strip()
    if re.search(r"\^|~(?!=)|\|\|", t) or re.fullmatch(r"[\d.*]+", t):
        return runtimes.range_spec(t.replace(",", " "))
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(t)
    except InvalidSpecifier as exc:
        raise ValueError(f"invalid version specifier {t!r}: {exc}") from None


# Lines that reached end of life within this many days before the analysis date stay in a matrix the project
# still declares: projects drop a line in their next release after its EOL, and until then CI keeps testing the
# floor users are promised. Older EOL lines are dropped (with a finding).
EOL_GRACE_DAYS = 400


# A brand-new interpreter line often lacks wheels of compiled dependencies for a while; an open range proposes
# it once it has been out this long (a project that lists it in its classifiers gets it at once).
NEW_LINE_SETTLING_DAYS = 90


def _matrix(spec: runtimes.Spec, today: Any) -> list[str]:
    current = runtimes.supported_versions("python", spec, today)
    declared = runtimes.supported_versions("python", spec, today, include_eol=True)
    keep = set()
    for r in runtimes.releases("python"):
        if r.cycle not in declared:
            continue
        if r.cycle in current and (today - r.released).days < NEW_LINE_SETTLING_DAYS and r.cycle != current[0]:
            continue
        if r.cycle in current or (r.eol is not None and (today - r.eol).days <= EOL_GRACE_DAYS):
            keep.add(r.cycle)
    return [c for c in declared if c in keep]


def _eol_findings(b: _B, evidence: Evidence, lines: list[str]) -> None:
    eol = [v for v in lines if runtimes.is_eol("python", v, b.ctx.today)]
    if eol:
        b.finding(
            "eol-runtime",
            "info",
            f"{evidence.cite()} still allows end-of-life Python {', '.join(eol)} (as of {b.ctx.today})",
            evidence,
        )


def _pinned_python(ctx: Context, root: str) -> tuple[str | None, Evidence | None]:
    pv = Context.join(root, ".python-version")
    if ctx.exists(pv):
        for i, line in enumerate((ctx.text(pv) or "").splitlines(), 1):
            value = line.strip()
            if value and not value.startswith("#"):
                return value, Evidence(file=pv, line=i, excerpt=value)
    tv = Context.join(root, ".tool-versions")
    if ctx.exists(tv):
        for i, line in enumerate((ctx.text(tv) or "").splitlines(), 1):
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "python":
                return parts[1], Evidence(file=tv, line=i, excerpt=line.strip())
    for name in ("runtime.txt", ".python-version"):
        rt = Context.join(root, name)
        if name == "runtime.txt" and ctx.exists(rt):
            m = re.search(r"python-(\d+\.\d+(?:\.\d+)?)", ctx.text(rt) or "")
            if m:
                return m.group(1), Evidence(file=rt, line=1, excerpt=m.group(0))
    return None, None


_TOX_PY = re.compile(r"(pypy|py)?(\d)\.?(\d{1,2})(t)?")


def tox_factor_version(factor: str) -> str | None:
    """The interpreter a tox factor names: `py312` → 3.12, `py3.14t` → 3.14t, `pypy3.11` → pypy3.11, `3.13` →
    3.13; None for other factors (`tests`, `django42` is not one: it has no `py` and no dot)."""
    m = _TOX_PY.fullmatch(factor)
    if not m or (m.group(1) is None and "." not in factor):
        return None
    line = f"{m.group(2)}.{int(m.group(3))}"
    if m.group(1) == "pypy":
        return f"pypy{line}"
    return line + ("t" if m.group(4) else "")


def _tox_python_factors(envs: list[str]) -> dict[str, str]:
    """Each interpreter the env names mention, and the factor spelling it (`3.12` → `py312`)."""
    found: dict[str, str] = {}
    for env in envs:
        for factor in env.split("-"):
            version = tox_factor_version(factor)
            if version is not None:
                found.setdefault(version, factor)
    return found


def _nox_python_versions(text: str) -> list[str]:
    """Interpreters the noxfile's test sessions name, in matrix order (as the tox envlist's are)."""
    return sorted((v for v in nox_test_pythons(text) if re.fullmatch(r"(?:pypy)?3\.\d+t?", v)), key=_interpreter_order)


def _interpreter_order(version: str) -> tuple[int, tuple[int, ...]]:
    """CPython lines first, then free-threaded builds, then PyPy; each by version."""
    kind = 2 if version.startswith("pypy") else 1 if version.endswith("t") else 0
    return kind, tuple(int(n) for n in re.findall(r"\d+", version))


def _tox_python_versions(ctx: Context, root: str, tool: dict[str, Any]) -> tuple[list[str], Evidence | None]:
    """Interpreters the tox envlist names: `py312` → 3.12, `py3.14t` → 3.14t, `pypy3.11` → pypy3.11."""
    envs, ev = _tox_envs(ctx, root, tool)
    return sorted(_tox_python_factors(envs), key=_interpreter_order), ev


def _expand_braces(text: str) -> list[str]:
    """Expand tox's `py{38,39}-{a,b}` and `3.1{0-5}` factor syntax into plain env names."""
    out: list[str] = []
    for token in re.split(r"[\s,]+(?![^{]*\})", text):
        token = token.strip()
        if not token:
            continue
        pending = [token]
        done: list[str] = []
        while pending:
            t = pending.pop(0)
            m = re.search(r"\{([^{}]*)\}", t)
            if not m:
                done.append(t)
                continue
            inner = m.group(1)
            rng = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", inner)
            options = [str(i) for i in range(int(rng.group(1)), int(rng.group(2)) + 1)] if rng else inner.split(",")
            pending.extend(t[: m.start()] + o.strip() + t[m.end() :] for o in options)
        out.extend(done)
    return out


# ---- tests ---------------------------------------------------------------------------------------------------


def _hatch_env(tool: dict[str, Any], wanted: Iterable[str]) -> str | None:
    """The hatch environment to run `wanted` tools in when the default one does not install them (rq keeps ruff
    and mypy in `[tool.hatch.envs.test]`: `hatch run make lint` would find no ruff); None for the default."""
    hatch = tool.get("hatch") if isinstance(tool.get("hatch"), dict) else {}
    envs = (hatch or {}).get("envs") if isinstance((hatch or {}).get("envs"), dict) else {}
    wanted = set(wanted)

    def installs(env: Any) -> bool:
        if not isinstance(env, dict):
            return False
        requirements = [*_strs(env.get("dependencies")), *_strs(env.get("extra-dependencies"))]
        return any(req_name(r) in wanted for r in requirements)

    if not envs or installs(envs.get("default")):
        return None
    return next((name for name, env in envs.items() if not _DOCS_GROUP.search(str(name)) and installs(env)), None)


def _runner_prefix(pm: str, tool: dict[str, Any] | None = None, wanted: Iterable[str] = ()) -> str:
    if pm == "hatch" and tool is not None and (env := _hatch_env(tool, wanted)) is not None:
        return f"hatch run {env}:"
    return {
        "uv": "uv run ",
        "poetry": "poetry run ",
        "pipenv": "pipenv run ",
        "pdm": "pdm run ",
        "hatch": "hatch run ",
    }.get(pm, "")


# Entry points a Python project's scripts directory or Makefile may have, by what CI uses them for.
TEST_ENTRY_POINTS = ("test", "tests", "cibuild")
LINT_ENTRY_POINTS = (
    "check",
    "lint",
    "linters",
    "typecheck",
    "type-check",
    "typing",
    "style",
    "format-check",
    "fmt-check",
    "check-format",
)
BUILD_ENTRY_POINTS = ("build", "dist", "package")
INSTALL_ENTRY_POINTS = ("install", "bootstrap")
ENTRY_POINT_NAMES = (*TEST_ENTRY_POINTS, *LINT_ENTRY_POINTS, *BUILD_ENTRY_POINTS, *INSTALL_ENTRY_POINTS)


def _named(points: list[EntryPoint], names: tuple[str, ...]) -> list[EntryPoint]:
    return [p for p in points if p.name in names]


def _test_runner_of(body: str, *, pytest: bool) -> TestTool | None:
    """The Python test runner an entry point runs: pytest or a unittest-based runner (`runtests.py`,
    `manage.py test`); None for tox and nox, whose own configuration says more, and for anything else.
    `pytest`: whether pytest is installed, for runner scripts that may use it."""
    if entrypoints.runs(body, "tox") or entrypoints.runs(body, "nox"):
        return None
    if re.search(r"\bpy(?:\.)?test\b", body):
        return "pytest"
    if re.search(r"runtests\.py|manage\.py\s+test\b|\bunittest\b", body):
        return "pytest" if pytest and "runtests" in body else "unittest"
    return None


def _test_entry_point(points: list[EntryPoint], *, pytest: bool) -> tuple[EntryPoint, TestTool] | None:
    for point in _named(points, TEST_ENTRY_POINTS):
        # An invoke test task takes options and composes suites with the environments they need (a cluster,
        # containers the developer started); the runner it calls, with the services the analysis found, is what
        # a job can run on its own.
        if point.command.startswith("invoke "):
            continue
        runner = _test_runner_of(point.body, pytest=pytest)
        if runner is not None:
            return point, runner
    return None


@dataclass(frozen=True)
class _ToxIni:
    """tox's ini-style configuration: tox.ini (`[tox]`), or setup.cfg (`[tox:tox]`); both name environments
    `[testenv:NAME]`, generative names included (`[testenv:{lint,typing}]`)."""

    parser: configparser.ConfigParser
    path: str
    main: str  # the section holding env_list

    def section(self, env: str) -> str | None:
        """The section that configures `env`: its own, or a generative one that expands to it."""
        if self.parser.has_section(f"testenv:{env}"):
            return f"testenv:{env}"
        for name in self.parser.sections():
            if name.startswith("testenv:") and "{" in name and env in _expand_braces(name.removeprefix("testenv:")):
                return name
        return None

    def get(self, env: str, key: str) -> str:
        """`key` of `env`, falling back to `[testenv]` as tox does; factor-conditional lines (`mypy: mypy ...`)
        are kept when they name one of `env`'s factors, without the condition."""
        for section in (self.section(env), "testenv"):
            if section is not None and self.parser.has_option(section, key):
                return _tox_factor_lines(self.parser.get(section, key), env)
        return ""


def _tox_factor_lines(value: str, env: str) -> str:
    factors = set(env.split("-")) | {env}
    lines = []
    for line in value.splitlines():
        m = re.match(r"\s*([\w.,!-]+):\s+(.*)$", line)
        if m is None:
            lines.append(line)
        elif any(f in factors for f in m.group(1).split(",")):
            lines.append(m.group(2))
    return "\n".join(lines)


def _tox_ini(ctx: Context, root: str) -> _ToxIni | None:
    for name, main in (("tox.ini", "tox"), ("setup.cfg", "tox:tox")):
        path = Context.join(root, name)
        cp = ctx.ini(path) if ctx.exists(path) else None
        testenvs = name == "tox.ini" and any(section.startswith("testenv") for section in (cp.sections() if cp else []))
        if cp is not None and (cp.has_section(main) or testenvs):
            return _ToxIni(cp, path, main)
    return None


def _tox_configured(ctx: Context, root: str, tool: dict[str, Any]) -> Evidence | None:
    ini = _tox_ini(ctx, root)
    if ini is not None and ini.main == "tox":
        return Evidence(file=ini.path, key="[tox]")
    native = _tox_toml(ctx, root, tool)
    if native is not None:
        return native[1]
    return Evidence(file=ini.path, key=f"[{ini.main}]") if ini is not None else None


# Sections that map CI's interpreters to tox environments: tox-gh-actions (`[gh-actions]`) and tox-gh (`[gh]`).
# They exist only for CI to run tox.
_TOX_CI_SECTIONS = ("gh-actions", "gh")


def _tox_runs_in_ci(ctx: Context, root: str, tool: dict[str, Any]) -> Evidence | None:
    """A tox configuration's mapping of CI interpreters to environments: the project's CI runs its tests with tox."""
    ini = _tox_ini(ctx, root)
    if ini is not None:
        for section in _TOX_CI_SECTIONS:
            if ini.parser.has_section(section):
                return Evidence(file=ini.path, key=f"[{section}]")
    native = tool.get("tox") if isinstance(tool.get("tox"), dict) else None
    if native is not None and isinstance(native.get("gh"), dict):
        return Evidence(file=Context.join(root, "pyproject.toml"), key="tool.tox.gh")
    toml_path = Context.join(root, "tox.toml")
    doc = ctx.toml(toml_path) if ctx.exists(toml_path) else None
    if isinstance(doc, dict) and isinstance(doc.get("gh"), dict):
        return Evidence(file=toml_path, key="gh")
    return None


def _tox_use(evidence: Evidence) -> str:
    """How `evidence` shows the project runs tox, for a justification."""
    mapping = evidence.key in (*(f"[{s}]" for s in _TOX_CI_SECTIONS), "tool.tox.gh", "gh")
    return " mapped to CI's interpreters" if mapping else " and tox in the dev dependencies"


def _pytest_configured(ctx: Context, root: str, tool: dict[str, Any]) -> Evidence | None:
    j = functools.partial(Context.join, root)
    if isinstance(tool.get("pytest"), dict):
        return Evidence(file=j("pyproject.toml"), key="tool.pytest")
    for name in ("pytest.ini", "conftest.py"):
        if ctx.exists(j(name)):
            return Evidence(file=j(name))
    for sub in ("tests", "test"):
        for name in ("pytest.ini", "conftest.py"):
            if ctx.exists(j(f"{sub}/{name}")):
                return Evidence(file=j(f"{sub}/{name}"))
    for name, section in (("setup.cfg", "tool:pytest"), ("tox.ini", "pytest")):
        if ctx.exists(j(name)):
            cp = ctx.ini(j(name))
            if cp is not None and cp.has_section(section):
                return Evidence(file=j(name), key=f"[{section}]")
    return None


_NOX_TEST_SESSION = re.compile(r"^(?:tests?|unit(?:_?tests)?|pytest|test[-_]\w+)$")


def nox_sessions(text: str) -> list[tuple[str, bool]]:
    """The sessions a noxfile declares, each with whether it runs by default (`@nox.session(default=False)`
    does not); read from the syntax tree, never executed."""
    return [(name, default) for name, default, _ in _nox_session_nodes(text)]


def _run_lines(session: ast.FunctionDef) -> str:
    """What a nox session runs: one line per `session.run(...)`, its literal arguments joined as a shell would
    see them (`session.run("ruff", "check", ".")` reads `ruff check .`); read, never executed."""
    lines = []
    # Commands kept in a list of strings first: `cmd = ["mypy", "src"]` then `session.run(*cmd)`, or
    # `for cmd in ["flake8 src", "black --check ."]: session.run(*cmd.split())`.
    named: dict[str, list[str]] = {}
    for node in ast.walk(session):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            words = _constant_strings(node.value)
            if words is not None:
                named[node.targets[0].id] = [" ".join(words)]
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            items = _constant_strings(node.iter)
            if items is not None:
                named[node.target.id] = items
    for call in ast.walk(session):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "run":
            words = []
            for a in call.args:
                if isinstance(a, ast.Constant) and isinstance(a.value, str):
                    words.append(a.value)
                elif isinstance(a, ast.Starred):
                    inner = _split_receiver(a.value) or a.value
                    if isinstance(inner, ast.Name) and inner.id in named:
                        lines.extend(named[inner.id][1:])
                        words.append(named[inner.id][0])
            if words:
                lines.append(" ".join(words))
    return "\n".join(lines)


def _constant_strings(node: ast.expr) -> list[str] | None:
    """The strings of a literal list or tuple made only of string constants (implicitly joined ones included)."""
    if not isinstance(node, (ast.List, ast.Tuple)) or not node.elts:
        return None
    out = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return out if len(out) == len(node.elts) else None


def _split_receiver(node: ast.expr) -> ast.expr | None:
    """`cmd` of `cmd.split()`; None for anything else."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "split":
        return None if node.args else node.func.value
    return None


def _noxfile_tree(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def _nox_session_nodes(text: str, tree: ast.Module | None = None) -> list[tuple[str, bool, ast.FunctionDef]]:
    """(name, runs by default, function) of each session; `tree` is `text` already parsed, when the caller has it."""
    tree = tree or _noxfile_tree(text)
    if tree is None:
        return []
    out: list[tuple[str, bool, ast.FunctionDef]] = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call else decorator
            name = (
                target.attr if isinstance(target, ast.Attribute) else target.id if isinstance(target, ast.Name) else ""
            )
            if name != "session":
                continue
            keywords = {k.arg: k.value for k in call.keywords} if call else {}
            named = keywords.get("name")
            default = keywords.get("default")
            session = named.value if isinstance(named, ast.Constant) and isinstance(named.value, str) else node.name
            out.append((session, not (isinstance(default, ast.Constant) and default.value is False), node))
    return out


def nox_test_pythons(text: str) -> list[str]:
    """The interpreters a noxfile's test sessions name in `python=` or `@nox.parametrize("python", ...)` (a list
    or tuple of strings, or a module-level name bound to one: `PYTHON_VERSIONS = ["3.12", "3.14t"]`); read, never
    executed. Empty when the sessions leave the interpreter to nox or compute it."""
    tree = _noxfile_tree(text)
    if tree is None:
        return []
    constants: dict[str, ast.expr] = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def strings(value: ast.expr | None) -> list[str]:
        if isinstance(value, ast.Name):
            value = constants.get(value.id)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return [value.value]
        return (_constant_strings(value) or []) if value is not None else []

    out: list[str] = []
    for name, _, node in _nox_session_nodes(text, tree):
        if not _NOX_TEST_SESSION.match(name):
            continue
        for decorator in node.decorator_list:
            if not isinstance(decorator, ast.Call):
                continue
            keywords = {k.arg: k.value for k in decorator.keywords}
            out += strings(keywords.get("python") or keywords.get("py"))
            named = decorator.func.attr if isinstance(decorator.func, ast.Attribute) else ""
            first = decorator.args[0] if decorator.args else keywords.get("arg_names")
            if named == "parametrize" and isinstance(first, ast.Constant) and first.value == "python":
                out += strings(decorator.args[1] if len(decorator.args) > 1 else keywords.get("arg_values_list"))
    return unique(out)


def _hook_tools(ctx: Context, precommit: str) -> list[tuple[LintTool, Evidence]]:
    """The lint tools of the hooks a .pre-commit-config.yaml configures."""
    out: list[tuple[LintTool, Evidence]] = []
    for hook_id, ev in _hooks(ctx.yaml(precommit), precommit):
        tool = HOOK_TOOLS.get(hook_id) or HOOK_TOOLS.get(hook_id.removeprefix("local-"))
        if tool:
            out.append((tool, ev))
    return out


def _nox_lint_sessions(ctx: Context, root: str) -> tuple[list[str], list[LintTool]]:
    """The noxfile's check sessions (`lint`, `typing`, `pre-commit`), minus those that rewrite files (a `format`
    session running black without --check), and the linters they run."""
    nodes: dict[str, ast.FunctionDef] = {}
    for name, _, node in _nox_session_nodes(ctx.text(Context.join(root, "noxfile.py")) or ""):
        nodes.setdefault(name, node)
    commands = {name: _run_lines(node) for name, node in nodes.items()}
    sessions = [
        name
        for name, body in commands.items()
        if _LINT_ENV.match(name) and body and not entrypoints.rewrites_files(body) and not _NOX_TEST_SESSION.match(name)
    ]
    # A session another chosen one calls (`lint` ending with `mypy(session)`) already runs.
    by_function = {node.name: name for name, node in nodes.items()}
    called = {
        by_function[call.func.id]
        for name in sessions
        for call in ast.walk(nodes[name])
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in by_function
    }
    tools: list[LintTool] = list(dict.fromkeys(t for name in sessions for t in _lint_tools_in(commands[name])))
    return [name for name in sessions if name not in called], tools


def _test(
    b: _B,
    root: str,
    data: dict[str, Any],
    tool: dict[str, Any],
    deps: Deps,
    pm: str,
    members: list[str],
    points: list[EntryPoint],
) -> None:
    ctx = b.ctx
    j = functools.partial(Context.join, root)
    prefix = _runner_prefix(pm)
    pytest_cfg = _pytest_configured(ctx, root, tool)
    for member in members:
        if pytest_cfg is None:
            member_data = ctx.toml(Context.join(member, "pyproject.toml")) or {}
            member_tool = member_data.get("tool")
            pytest_cfg = _pytest_configured(ctx, member, member_tool if isinstance(member_tool, dict) else {})
    pytest_dep = deps.any("pytest")
    tox_cfg = _tox_configured(ctx, root, tool)
    # tox in the dependencies, or a mapping of CI interpreters to its environments: the project runs tox.
    tox_dep = deps.any("tox") or (_tox_runs_in_ci(ctx, root, tool) if tox_cfg else None)
    if pytest_cfg and not pytest_dep and not tox_cfg and not ctx.exists(j("noxfile.py")):
        b.finding(
            "test-runner-not-installed",
            "warning",
            f"pytest is configured ({pytest_cfg.cite()}) but no dependency list of {root} installs it",
            pytest_cfg,
        )
    entry = _test_entry_point(points, pytest=bool(pytest_cfg or pytest_dep))
    if entry is not None and not (tox_cfg and entry[0].command.startswith("make ") and tox_dep):
        # The project's own entry point: it prepares what the runner needs (fixtures, settings, services) and
        # names what to collect.
        point, runner = entry
        b.set("test_tool", runner, 0.8, point.evidence, why=f"the project's `{point.command}` runs {runner}")
        b.set("test_commands", [f"{prefix}{point.command}"], 0.8, point.evidence)
        return
    if ctx.exists(j("noxfile.py")):
        ev = Evidence(file=j("noxfile.py"))
        b.set("test_tool", "nox", 0.85, ev, why="noxfile.py drives the sessions")
        # A test session kept out of the defaults (`default=False`, so a bare local `nox` lints only) is still
        # the one CI runs.
        sessions = nox_sessions(ctx.text(j("noxfile.py")) or "")
        tests = [n for n, _ in sessions if _NOX_TEST_SESSION.match(n)]
        # Each matrix cell runs the test sessions on its own interpreter (`--force-python` runs a session on an
        # interpreter its `python=` list may not name); without a test-named session, the default sessions.
        selection = f"-s {' '.join(tests)} " if tests else ""
        b.set("test_commands", [f'nox {selection}--force-python "$NOX_PYTHON"'], 0.7, ev)
        return
    makefile = ctx.exists(j("Makefile"))
    if tox_cfg and (tox_dep or not makefile):
        conf = 0.85 if tox_dep else 0.65
        evidence = [tox_cfg] + ([tox_dep] if tox_dep else [])
        b.set(
            "test_tool",
            "tox",
            conf,
            *evidence,
            why="tox environments" + (_tox_use(tox_dep) if tox_dep else ""),
        )
        b.set("test_commands", [f"{_tox_prefix(pm, deps)}tox"], conf, *evidence)
        return
    if pytest_cfg or pytest_dep:
        evidence = [e for e in (pytest_cfg, pytest_dep) if e]
        conf = 0.9 if pytest_cfg and pytest_dep else 0.75
        b.set("test_tool", "pytest", conf, *evidence, why="pytest configuration/dependency")
        cmd = f"{prefix}pytest" if prefix else "python -m pytest"
        b.set("test_commands", [cmd], conf, *evidence)
        return
    if ctx.exists(j("runtests.py")):
        # The Django-library convention: a script that configures settings, then runs Django's test runner.
        ev = Evidence(file=j("runtests.py"))
        b.set("test_tool", "unittest", 0.6, ev, why="runtests.py runs Django's (unittest) test runner")
        b.set("test_commands", [f"{prefix}python runtests.py"], 0.6, ev)
        return
    if ctx.exists(j("manage.py")):
        ev = Evidence(file=j("manage.py"))
        b.set("test_tool", "unittest", 0.7, ev, why="Django's test runner")
        b.set("test_commands", [f"{prefix}python manage.py test"], 0.7, ev)
        return
    test_dir = _unittest_dir(ctx, root)
    if test_dir:
        directory, first = test_dir
        ev = Evidence(file=first)
        # unittest only descends into packages: a tests/ directory without __init__.py is searched as the start
        # directory itself; one inside the package (`pkg/tests/`) is imported as part of it (`-t` the root).
        start = directory if root == "." else directory[len(root) + 1 :]
        packaged = ctx.exists(Context.join(directory, "__init__.py"))
        command = f"{prefix}python -m unittest discover -s {start}" + (" -t ." if packaged else "")
        b.set("test_tool", "unittest", 0.5, ev, why="test modules without pytest: assumed unittest (low confidence)")
        b.set("test_commands", [command], 0.5, ev)


def _unittest_dir(ctx: Context, root: str) -> tuple[str, str] | None:
    """The test directory of a stack without a declared runner: `tests/` or `test/` at its root, else one inside
    its package (`certifi/tests/`), the shallowest first; with the first test module found there."""
    prefix = "" if root == "." else root + "/"
    found: dict[str, str] = {}
    for path in _test_modules(ctx):
        if not path.startswith(prefix) or not is_project_path(path, allow_test_dirs=True):
            continue
        parts = path[len(prefix) :].split("/")[:-1]
        for i, part in enumerate(parts):
            if part in ("tests", "test"):
                found.setdefault(prefix + "/".join(parts[: i + 1]), path)
                break
    if not found:
        return None
    directory = min(found, key=lambda d: (d.count("/"), d))
    if directory.count("/") - prefix.count("/") > 1:
        return None  # deeper than a package's own tests/: fixtures or vendored code, not the project's suite
    return directory, found[directory]


def _tox_prefix(pm: str, deps: Deps) -> str:
    """`uv run ` when a uv project installs tox itself (its locked version), else nothing (a standalone tox)."""
    return "uv run " if pm == "uv" and deps.any("tox") else ""


# tox environments that are neither tests nor checks: documentation, coverage reports, packaging, development.
_NON_TEST_ENV = re.compile(r"^(docs?|coverage|cov|report|clean|build|release|publish|dev|develop|watch|bump)", re.I)


def _has_python_factor(env: str) -> bool:
    return any(tox_factor_version(f) is not None for f in env.split("-"))


def _tox_matrix(b: _B, root: str, tool: dict[str, Any], pm: str) -> None:
    """One tox selection per matrix cell, never the whole env_list in every cell.

    With interpreter factors in the env_list (`py312-tests`, `3.13-mypy`), each cell runs the environments of its
    own interpreter (`tox run -e py312-tests,py312-mypy`); a matrix version the env_list does not name runs
    tox's generated environment for it, spelled the env_list's way (`py314`). Without interpreter factors, each
    cell runs the test environments with the cell's interpreter. Lint environments run once, in the lint job
    (`_lint`)."""
    if b.stack.test_tool != "tox" or not b.stack.test_commands:
        return
    envs, ev = _tox_envs(b.ctx, root, tool)
    if not envs or ev is None:
        return
    prefix = b.stack.test_commands[0].removesuffix("tox")
    prov = b.stack.provenance.get("test_commands")
    conf = prov.confidence if prov else 0.7
    by_version = _tox_envs_by_version(envs)
    versions = b.stack.versions
    if versions and by_version:
        spelled = next(iter(_tox_python_factors(envs).values()))
        cells = {v: {"TOX_ENV": ",".join(_tox_envs_for(v, by_version, spelled))} for v in versions}
        b.set("matrix_env", cells, conf, ev, why="the env_list's environments of each interpreter")
        b.set("test_commands", [f'{prefix}tox run -e "$TOX_ENV"'], conf, ev, why="each cell runs its own envs")
        return
    tests = [e for e in envs if not _has_python_factor(e) and not _LINT_ENV.match(e) and not _NON_TEST_ENV.match(e)]
    if tests:
        b.set("test_commands", [f"{prefix}tox run -e {','.join(tests)}"], conf, ev, why="the env_list's test envs")


def _tox_envs_by_version(envs: list[str]) -> dict[str, list[str]]:
    """The env_list's environments per interpreter they name (`pypy3` names every PyPy 3 line)."""
    found: dict[str, list[str]] = {}
    for env in envs:
        for factor in env.split("-"):
            version = tox_factor_version(factor) or ("pypy3" if factor == "pypy3" else None)
            if version is not None:
                found.setdefault(version, []).append(env)
    return found


def _tox_envs_for(version: str, by_version: dict[str, list[str]], spelled: str) -> list[str]:
    """The environments a cell of `version` runs; tox generates `py314` (or `3.14`, `py3.14`: the env_list's own
    spelling, taken from `spelled`) for an interpreter the env_list does not name."""
    if version in by_version:
        return by_version[version]
    if version.startswith("pypy3") and "pypy3" in by_version:
        return by_version["pypy3"]
    if version.startswith("pypy"):
        return [version if "." in spelled else version.replace(".", "")]
    digits = version.replace(".", "")
    if spelled.startswith("py") and "." in spelled:
        return [f"py{version}"]
    return [version] if not spelled.startswith("py") else [f"py{digits}"]


def _tox_lint_envs(ctx: Context, root: str, tool: dict[str, Any]) -> tuple[list[str], Evidence | None]:
    """The env_list's check environments that name no interpreter (`lint`, `typing`, `pre-commit`), minus those
    whose commands rewrite files (a `format` env running black without --check)."""
    envs, ev = _tox_envs(ctx, root, tool)
    ini = _tox_ini(ctx, root)
    out = []
    for env in envs:
        if _has_python_factor(env) or not _LINT_ENV.match(env):
            continue
        commands = ini.get(env, "commands") if ini is not None else ""
        if ini is None and (native := _tox_toml(ctx, root, tool)) is not None:
            commands = _tox_toml_env(native[0], env)
        # A check-named environment that inherits the test command (`ruff` with no section of its own runs
        # `[testenv]`'s pytest) is a test run, with the services tests need: not a lint job's.
        if not entrypoints.rewrites_files(commands) and _test_runner_of(commands, pytest=True) is None:
            out.append(env)
    return out, ev


def _hooks_only_fix(ctx: Context, root: str, tool: dict[str, Any]) -> bool:
    """Whether the tox environments that run pre-commit's hooks (`pre-commit run`, `prek run`) are all fixers,
    never check environments (`lint`, `check`, `pre-commit`)."""
    ini = _tox_ini(ctx, root)
    bodies: dict[str, str] = {}
    if ini is not None:
        for section in ini.parser.sections():
            if section.startswith("testenv:"):
                for env in _expand_braces(section.removeprefix("testenv:")):
                    bodies[env] = ini.get(env, "commands")
    elif (native := _tox_toml(ctx, root, tool)) is not None:
        envs = native[0].get("env")
        for env in envs if isinstance(envs, dict) else {}:
            bodies[env] = _tox_toml_env(native[0], env)
    running = [env for env, body in bodies.items() if re.search(r"(?<![\w-])(?:pre-commit|prek)\s+run\b", body)]
    return bool(running) and not any(_LINT_ENV.match(env) for env in running)


def _local_fixers_only(doc: Any) -> bool:
    """Whether every hook is a local command that rewrites files (`ruff check --fix .`, `autopep8 --in-place .`):
    a developer's fixers before a commit, which pass in CI whatever the code looks like, not checks."""
    repos = doc.get("repos") if isinstance(doc, dict) else None
    hooks = [
        (repo.get("repo"), hook)
        for repo in (repos if isinstance(repos, list) else [])
        if isinstance(repo, dict)
        for hook in (repo.get("hooks") or [])
        if isinstance(hook, dict)
    ]
    return bool(hooks) and all(
        repo == "local" and isinstance(hook.get("entry"), str) and entrypoints.rewrites_files(hook["entry"])
        for repo, hook in hooks
    )


def _tox_ini_basepython(ctx: Context, root: str, env: str) -> str | None:
    """The interpreter tox.ini pins for `env` (its own `basepython`, else `[testenv]`'s)."""
    ini = _tox_ini(ctx, root)
    return (ini.get(env, "basepython").strip() or None) if ini is not None else None


# ---- lint ----------------------------------------------------------------------------------------------------

_LINT_ENV = re.compile(
    r"^(lint|linting|style|check|checks|typing|types|type|typecheck|type-check|mypy|ruff|flake8|pylint|pre-commit|format|fmt|static"
    r"|pep8|pep484|codestyle)",
    re.I,
)


# Checkers outside the vocabulary that Python projects run beside their linters (`other`): spelling, packaging
# manifests, documentation and template linters, dead code and docstring coverage.
OTHER_CHECKERS = (
    "codespell",
    "typos",
    "check-manifest",
    "doc8",
    "proselint",
    "rstcheck",
    "sphinx-lint",
    "blacken-docs",
    "djlint",
    "pydocstyle",
    "bandit",
    "vulture",
    "interrogate",
    "deptry",
    "validate-pyproject",
    "yamllint",
    "shellcheck",
    "ty",
    "pyrefly",
    "slotscheck",
    "autopep8",
)


def _lint_tools_in(body: str) -> list[LintTool]:
    tools: list[LintTool] = []
    for name, mapped in LINT_PACKAGES.items():
        if entrypoints.runs(body, name) and mapped not in tools:
            tools.append(mapped)
    if any(entrypoints.runs(body, name) for name in OTHER_CHECKERS):
        tools.append("other")
    return tools


def _lint_entry_points(b: _B, root: str, points: list[EntryPoint], prefix: str) -> bool:
    """Lint through the project's own check entry points (`scripts/check`, `make lint`): the ones that run
    linters in check mode and no tests, each unless an earlier one already runs all of its linters."""
    chosen: list[tuple[EntryPoint, list[LintTool]]] = []
    covered: set[str] = set()
    for point in _named(points, LINT_ENTRY_POINTS):
        tools = _lint_tools_in(point.body)
        if not tools or entrypoints.rewrites_files(point.body) or _test_runner_of(point.body, pytest=True):
            continue
        if set(tools) <= covered:
            continue
        precommit = Context.join(root, ".pre-commit-config.yaml")
        if "pre-commit" in tools and b.ctx.exists(precommit):
            # An entry point that runs the hooks runs their linters.
            tools += [t for t, _ in _hook_tools(b.ctx, precommit) if t not in tools]
        chosen.append((point, tools))
        covered |= set(tools)
    if not chosen:
        return False
    evidence = [point.evidence for point, _ in chosen]
    b.set("lint_commands", [f"{prefix}{point.command}" for point, _ in chosen], 0.8, *evidence)
    b.set(
        "lint_tools", unique(t for _, tools in chosen for t in tools), 0.8, *evidence, why="what the entry point runs"
    )
    return True


def _lint(
    b: _B, root: str, data: dict[str, Any], tool: dict[str, Any], deps: Deps, pm: str, points: list[EntryPoint]
) -> None:
    ctx = b.ctx
    j = functools.partial(Context.join, root)
    prefix = _runner_prefix(pm, tool, LINT_PACKAGES)
    if _lint_entry_points(b, root, points, prefix):
        return
    found: dict[str, list[Evidence]] = {}

    def add(t: str, ev: Evidence) -> None:
        found.setdefault(t, []).append(ev)

    precommit = j(".pre-commit-config.yaml")
    hosted = False
    if ctx.exists(precommit):
        doc = ctx.yaml(precommit)
        # A `ci:` section configures pre-commit.ci, which runs the hooks outside the project's own CI. So does a
        # tox environment that runs the hooks only to fix files (`fix`): the checks CI runs are the
        # env_list's check environments, and the hooks are the developers' (or pre-commit.ci's) fixers.
        hosted = (
            (isinstance(doc, dict) and isinstance(doc.get("ci"), dict))
            or _hooks_only_fix(ctx, root, tool)
            or _local_fixers_only(doc)
        )
        if not hosted:
            add("pre-commit", Evidence(file=precommit))
            for mapped, ev in _hook_tools(ctx, precommit):
                add(mapped, ev)
            b.add(
                "lint_commands",
                [f"{prefix}pre-commit run --all-files" if prefix else "pre-commit run --all-files"],
                0.8,
                Evidence(file=precommit),
            )
    # tox lint/typing environments run their tools directly.
    ini = _tox_ini(ctx, root)
    if ini is not None:
        for section in ini.parser.sections():
            envs = _expand_braces(section.removeprefix("testenv:")) if section.startswith("testenv:") else []
            for env in (e for e in envs if _LINT_ENV.match(e)):
                text = " ".join(ini.get(env, k) for k in ("commands", "deps"))
                for name, mapped in LINT_PACKAGES.items():
                    if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
                        if mapped == "pre-commit" and hosted:
                            continue
                        add(mapped, Evidence(file=ini.path, key=section))
                if "other" in _lint_tools_in(ini.get(env, "commands")):
                    add("other", Evidence(file=ini.path, key=section))
    native = _tox_toml(ctx, root, tool) if ini is None else None
    if native is not None:
        config, native_ev = native
        envs_table = config.get("env")
        for env in envs_table if isinstance(envs_table, dict) else {}:
            if _LINT_ENV.match(env):
                text = _tox_toml_env(config, env)
                for name, mapped in LINT_PACKAGES.items():
                    if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) and not (
                        mapped == "pre-commit" and hosted
                    ):
                        add(mapped, Evidence(file=native_ev.file, key=f"env.{env}"))
                if "other" in _lint_tools_in(text):
                    add("other", Evidence(file=native_ev.file, key=f"env.{env}"))
    # Environments named after a tool (`lint-ruff`, `3.12-mypy`, `typing-pyright`) run it.
    envs, env_ev = _tox_envs(ctx, root, tool)
    for env in envs:
        for factor, mapped in (*LINT_PACKAGES.items(), *ENV_FACTOR_OTHER.items()):
            if re.search(rf"(?:^|-){re.escape(factor)}(?:$|-)", env) and env_ev is not None:
                add(mapped, Evidence(file=env_ev.file, key=f"{env_ev.key}: {env}"))
                if mapped == "pre-commit" and ctx.exists(precommit) and hosted:
                    # The hooks run through tox too, even though pre-commit.ci is configured.
                    for hook_tool, ev in _hook_tools(ctx, precommit):
                        add(hook_tool, ev)
    # Type checkers and linters the project installs are what it runs.
    for name, mapped in LINT_PACKAGES.items():
        # A linter in a runtime requirements file is a development tool all the same.
        dev_ev = deps.dev.get(name) or deps.main.get(name)
        if dev_ev is not None and not (mapped == "pre-commit" and hosted):
            add(mapped, dev_ev)
    # So are the checkers outside the vocabulary its development dependencies install.
    other_ev = next((e for name in OTHER_CHECKERS if (e := deps.dev.get(name)) is not None), None)
    if other_ev is not None:
        add("other", other_ev)
    tools = unique(t for t in found)
    if tools:
        b.add("lint_tools", tools, 0.7, *(e for t in tools for e in found[t][:1]))
    # Configuration alone (a [tool.mypy] table, a .flake8 file) says the project uses the tool, less surely;
    # with pre-commit.ci configured, such settings serve the hosted hooks instead.
    configured: list[tuple[LintTool, Evidence]] = []
    if not hosted:
        configured = [(t, e) for t, e in _configured_linters(ctx, root, tool) if t not in b.stack.lint_tools]
        for lint, evidence in configured:
            b.add("lint_tools", [lint], 0.5, evidence)
            found.setdefault(lint, [evidence])
        tools = unique([*tools, *(t for t, _ in configured)])
    tox_lint, tox_ev = _tox_lint_envs(ctx, root, tool) if b.stack.test_tool == "tox" else ([], None)
    if tox_lint and tox_ev is not None:
        # The env_list's own check environments, once: what `tox` would run besides the tests. An environment that
        # only calls a tool it expects on PATH (`allowlist_externals = pre-commit`, installed by nobody) runs that
        # tool directly: the job installs it, tox would stop at "No such file or directory".
        external = {env: _tox_external_commands(ctx, root, tool, env) for env in tox_lint}
        commands = [line for env in tox_lint for line in external[env] or []]
        managed = [env for env in tox_lint if not external[env]]
        if managed:
            command = f"{_tox_prefix(pm, deps)}tox run -e {','.join(managed)}"
            # An environment pinned to an interpreter (`basepython = python3.10`) runs on the lint job's instead:
            # the job sets up one Python, and tox stops at "could not find python interpreter" without it.
            pinned = [env for env in managed if re.search(r"\d\.\d", _tox_ini_basepython(ctx, root, env) or "")]
            commands.insert(0, command + "".join(f" -x testenv:{env}.basepython=python3" for env in pinned))
        b.set("lint_commands", commands, 0.75, tox_ev, why="the env_list's lint environments")
        return
    nox_lint, nox_tools = _nox_lint_sessions(ctx, root) if b.stack.test_tool == "nox" else ([], [])
    if nox_lint:
        # The noxfile's own check sessions, once, on the lint job's interpreter (a session's `python=` may name
        # one the job does not set up).
        noxfile = Evidence(file=j("noxfile.py"))
        b.set("lint_commands", [f"nox -s {' '.join(nox_lint)} --force-python python3"], 0.75, noxfile)
        if nox_tools:
            # What the sessions run is what the lint job runs: hooks no session runs and linters merely
            # configured are not checks of this pipeline.
            b.set("lint_tools", nox_tools, 0.75, noxfile, why="what the noxfile's check sessions run")
        if "pre-commit" in nox_tools and ctx.exists(precommit):
            # A session runs the hooks (pre-commit or prek), so their tools run too, pre-commit.ci or not.
            for hook_tool, ev in _hook_tools(ctx, precommit):
                b.add("lint_tools", [hook_tool], 0.7, ev)
        return
    direct = [t for t in tools if t in ("ruff", "flake8", "pylint", "black", "isort", "mypy", "pyright")]
    if not any(t == "pre-commit" for t in tools):
        targets = _type_check_targets(ctx, root, data, tool)
        cmds = {
            "ruff": "ruff check .",
            "flake8": "flake8",
            "pylint": "pylint",
            "black": "black --check .",
            "isort": "isort --check-only .",
            "mypy": f"mypy {targets['mypy']}".rstrip(),
            "pyright": f"pyright {targets['pyright']}".rstrip(),
        }
        b.add("lint_commands", [f"{prefix}{cmds[t]}" for t in direct], 0.6, *(found[t][0] for t in direct))
        # A linter known only from its settings (no script, hook or dependency runs it) may be an editor's:
        # offered, not enforced, until it passes.
        unused = [t for t in direct if t in {c for c, _ in configured}]
        b.add("lint_advisory", [f"{prefix}{cmds[t]}" for t in unused], 0.5, *(found[t][0] for t in unused))


def _type_check_targets(ctx: Context, root: str, data: dict[str, Any], tool: dict[str, Any]) -> dict[str, str]:
    """What mypy and pyright check when the project's configuration does not say (no `files`/`packages`, no
    `include`): its package directory (`src/NAME`, `NAME`), and `tests` when the configuration has settings for
    the tests' modules. A bare `mypy` stops with "missing target", and `mypy .` checks documentation and scripts
    the project never type-checks."""
    mypy_cfg = _mypy_config(ctx, root, tool)
    pyright = tool.get("pyright") if isinstance(tool.get("pyright"), dict) else None
    pyright_json = (
        ctx.json(Context.join(root, "pyrightconfig.json"))
        if ctx.exists(Context.join(root, "pyrightconfig.json"))
        else None
    )
    pyright_cfg = pyright_json if isinstance(pyright_json, dict) else pyright or {}
    packages = _package_dirs(ctx, root, data)
    tests = next(
        (d for d in ("tests", "test") if ctx.listdir(Context.join(root, d)) or _has_subdirs(ctx, root, d)), None
    )
    mypy_targets = list(packages)
    if tests and re.search(r"\btests?\b", mypy_cfg.get("overrides", "")):
        mypy_targets.append(tests)
    mypy = "" if mypy_cfg.get("targets") or not mypy_targets else " ".join(mypy_targets)
    pyright_target = "" if pyright_cfg.get("include") or not packages else " ".join(packages)
    return {"mypy": mypy, "pyright": pyright_target}


def _has_subdirs(ctx: Context, root: str, d: str) -> bool:
    prefix = Context.join(root, d) + "/"
    return any(p.startswith(prefix) for p in _test_modules(ctx))


def _mypy_config(ctx: Context, root: str, tool: dict[str, Any]) -> dict[str, str]:
    """`targets`: the files/packages/modules the configuration names; `overrides`: the modules it has
    per-module settings for (a text to search)."""
    mypy = tool.get("mypy") if isinstance(tool.get("mypy"), dict) else None
    if isinstance(mypy, dict):
        targets = " ".join(str(mypy.get(k) or "") for k in ("files", "packages", "modules")).strip()
        overrides: list[Any] = mypy["overrides"] if isinstance(mypy.get("overrides"), list) else []
        names = " ".join(str(o.get("module", "")) for o in overrides if isinstance(o, dict))
        return {"targets": targets, "overrides": names}
    for name in ("mypy.ini", ".mypy.ini", "setup.cfg"):
        path = Context.join(root, name)
        cp = ctx.ini(path) if ctx.exists(path) else None
        if cp is not None and cp.has_section("mypy"):
            targets = " ".join(cp.get("mypy", k, fallback="") for k in ("files", "packages", "modules")).strip()
            sections = " ".join(name.removeprefix("mypy-") for name in cp.sections() if name.startswith("mypy-"))
            return {"targets": targets, "overrides": sections}
    return {"targets": "", "overrides": ""}


def _package_dirs(ctx: Context, root: str, data: dict[str, Any]) -> list[str]:
    """The project's import packages, relative to `root`: `src/NAME` or `NAME` for the distribution's name,
    else the top-level packages (a directory with `__init__.py`) under `src/` or the root."""
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    name = str((project or {}).get("name") or "")
    module = norm(name).replace("-", "_") if name else ""
    if module:
        for candidate in (f"src/{module}", module):
            if ctx.exists(Context.join(root, f"{candidate}/__init__.py")):
                return [candidate]
    for base in ("src", "."):
        base_dir = Context.join(root, base)
        prefix = "" if base_dir in ("", ".") else base_dir + "/"
        found = sorted(
            {
                p[len(prefix) :].split("/")[0]
                for p in ctx.find("__init__.py")
                if p.startswith(prefix) and p[len(prefix) :].count("/") == 1
            }
            - NON_PROJECT_PARTS
        )
        if found:
            return [f"{base}/{f}" if base != "." else f for f in found if not f.startswith(".")]
    return []


ENV_FACTOR_OTHER: dict[str, LintTool] = {"ty": "other", "pyrefly": "other", "codespell": "other", "bandit": "other"}


def _tox_envs(ctx: Context, root: str, tool: dict[str, Any]) -> tuple[list[str], Evidence | None]:
    """The tox environment names the envlist expands to."""
    ini = _tox_ini(ctx, root)
    if ini is not None:
        if ini.parser.has_section(ini.main):
            cp = ini.parser
            envlist = cp.get(ini.main, "envlist", fallback="") or cp.get(ini.main, "env_list", fallback="")
            return _expand_braces(envlist), Evidence(file=ini.path, key=f"{ini.main}.envlist")
    elif (native := _tox_toml(ctx, root, tool)) is not None:
        config, ev = native
        value = config.get("env_list") or config.get("envlist") or []
        envlist = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        return _expand_braces(envlist), Evidence(file=ev.file, key=f"{ev.key}.env_list" if ev.key else "env_list")
    return [], None


def _tox_toml(ctx: Context, root: str, tool: dict[str, Any]) -> tuple[dict[str, Any], Evidence] | None:
    """tox's native TOML configuration: `tox.toml` (tox 4.21+), else pyproject.toml's `[tool.tox]` table."""
    path = Context.join(root, "tox.toml")
    if ctx.exists(path):
        data = ctx.toml(path)
        if isinstance(data, dict):
            return data, Evidence(file=path)
    if isinstance(tool.get("tox"), dict):
        return tool["tox"], Evidence(file=Context.join(root, "pyproject.toml"), key="tool.tox")
    return None


_TOX_POSARGS = re.compile(r"\s*\{posargs(?::[^}]*)?\}")


def _tox_external_commands(ctx: Context, root: str, tool: dict[str, Any], env: str) -> list[str] | None:
    """The commands of tox environment `env` when each runs a program the environment does not install but
    allows from outside (`allowlist_externals`): a tool the developer has on PATH, such as pre-commit. None when
    tox itself provides what the environment runs, or its commands use other substitutions."""
    ini = _tox_ini(ctx, root)
    if ini is not None and ini.section(env) is not None:
        lines = [_TOX_POSARGS.sub("", c).strip() for c in ini.get(env, "commands").splitlines()]
        allowed = ini.get(env, "allowlist_externals").split()
        installed = ini.get(env, "deps")
    elif ini is None and (native := _tox_toml(ctx, root, tool)) is not None:
        envs = native[0].get("env")
        config = envs.get(env) if isinstance(envs, dict) else None
        if not isinstance(config, dict):
            return None
        raw = config.get("commands")
        lines = [
            " ".join(w for w in c if isinstance(w, str))
            for c in (raw if isinstance(raw, list) else [])
            if isinstance(c, list)
        ]
        allow = config.get("allowlist_externals")
        allowed = [str(a) for a in allow] if isinstance(allow, list) else []
        installed = " ".join(str(d) for d in config.get("deps") or [] if isinstance(d, str))
    else:
        return None
    lines = [line for line in lines if line]
    if not lines or any("{" in line for line in lines):
        return None
    programs = {line.split()[0] for line in lines}
    if not programs <= set(allowed) or any(re.search(rf"(?<![\w.-]){re.escape(p)}\b", installed) for p in programs):
        return None
    return lines


def _tox_toml_env(config: dict[str, Any], env: str) -> str:
    """The commands and dependencies of environment `env` in tox's TOML configuration, as one text."""
    envs = config.get("env")
    section = envs.get(env) if isinstance(envs, dict) else None
    if not isinstance(section, dict):
        return ""
    parts: list[str] = []
    for key in ("commands", "deps", "dependency_groups"):
        value = section.get(key)
        items = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        for item in items:
            words = item if isinstance(item, list) else [item]
            parts.append(" ".join(w for w in words if isinstance(w, str)))
    return "\n".join(parts)


_LINT_CONFIG_FILES: tuple[tuple[str, LintTool], ...] = (
    ("ruff.toml", "ruff"),
    (".ruff.toml", "ruff"),
    (".flake8", "flake8"),
    (".pylintrc", "pylint"),
    ("pylintrc", "pylint"),
    (".isort.cfg", "isort"),
    ("mypy.ini", "mypy"),
    (".mypy.ini", "mypy"),
    ("pyrightconfig.json", "pyright"),
)
_LINT_TOOL_TABLES: tuple[tuple[str, LintTool], ...] = (
    ("ruff", "ruff"),
    ("black", "black"),
    ("isort", "isort"),
    ("pylint", "pylint"),
    ("mypy", "mypy"),
    ("pyright", "pyright"),
    ("flake8", "flake8"),
)
_LINT_INI_SECTIONS: tuple[tuple[str, LintTool], ...] = (("flake8", "flake8"), ("mypy", "mypy"), ("isort", "isort"))


def _configured_linters(ctx: Context, root: str, tool: dict[str, Any]) -> list[tuple[LintTool, Evidence]]:
    """Linters the project configures: their own files, [tool.*] tables, and setup.cfg/tox.ini sections."""
    out: list[tuple[LintTool, Evidence]] = []
    for name, lint in _LINT_CONFIG_FILES:
        if ctx.exists(Context.join(root, name)):
            out.append((lint, Evidence(file=Context.join(root, name))))
    for table, lint in _LINT_TOOL_TABLES:
        if isinstance(tool.get(table), dict):
            out.append((lint, Evidence(file=Context.join(root, "pyproject.toml"), key=f"tool.{table}")))
    for ini in ("setup.cfg", "tox.ini"):
        path = Context.join(root, ini)
        cp = ctx.ini(path) if ctx.exists(path) else None
        for section, lint in _LINT_INI_SECTIONS:
            if cp is not None and (cp.has_section(section) or cp.has_section(f"{section}:")):
                out.append((lint, Evidence(file=path, key=f"[{section}]")))
    return out


def _hooks(doc: Any, path: str) -> list[tuple[str, Evidence]]:
    out: list[tuple[str, Evidence]] = []
    repos = doc.get("repos") if isinstance(doc, dict) else None
    for repo in repos if isinstance(repos, list) else []:
        if not isinstance(repo, dict):
            continue
        for hook in repo.get("hooks") or []:
            if isinstance(hook, dict) and isinstance(hook.get("id"), str):
                out.append((hook["id"].lower(), Evidence(file=path, key=f"hooks.{hook['id']}")))
    return out


# ---- build and services --------------------------------------------------------------------------------------


_PY_BUILD = re.compile(
    r"(?:-m\s+build|\b(?:uv|hatch|poetry|pdm|flit)\s+build|\bsetup\.py\s+(?:sdist|bdist)|twine\s+check)"
)
_PY_INSTALL = re.compile(
    r"(?:\$\{?PIP\}?\"?\s+install\b)|\b(?:pip3?\s+install|-m\s+pip\s+install|uv\s+(?:sync|pip\s+install)|poetry\s+install|pdm\s+(?:install|sync)"
    r"|pipenv\s+(?:install|sync))\b"
)
# An install entry point that reaches beyond the project's environment is for a developer's machine, not CI.
_MACHINE_SETUP = re.compile(r"\b(?:sudo|brew|apt-get|apt|yum|dnf|pacman|port)\s")


# Build plugins that derive the package version from git tags.
_SCM_PLUGINS = re.compile(
    r"^(?:setuptools[-_]scm|hatch[-_]vcs|versioningit|poetry[-_]dynamic[-_]versioning|dunamai|pbr|"
    r"setuptools[-_]git[-_]versioning|uv[-_]dynamic[-_]versioning)\b",
    re.I,
)


def _version_from_git(b: _B, root: str, data: dict[str, Any], tool: dict[str, Any], points: list[EntryPoint]) -> None:
    """Whether the build reads its version from git tags, so CI must clone them: a build-system plugin
    (setuptools-scm, hatch-vcs...), its configuration table, versioneer, or `git describe` in an entry point."""
    j = functools.partial(Context.join, root)
    build = data.get("build-system") if isinstance(data.get("build-system"), dict) else {}
    requires = [r for r in (build or {}).get("requires", []) if isinstance(r, str)]
    hatch_version = (tool.get("hatch") or {}).get("version") if isinstance(tool.get("hatch"), dict) else None
    evidence: Evidence | None = None
    if plugin := next((r for r in requires if _SCM_PLUGINS.match(r.strip())), None):
        evidence = Evidence(file=j("pyproject.toml"), key="build-system.requires", excerpt=plugin)
    elif "setuptools_scm" in tool or "versioningit" in tool or "poetry-dynamic-versioning" in tool:
        evidence = Evidence(file=j("pyproject.toml"), key="tool.setuptools_scm")
    elif isinstance(hatch_version, dict) and hatch_version.get("source") == "vcs":
        evidence = Evidence(file=j("pyproject.toml"), key="tool.hatch.version.source")
    elif b.ctx.exists(j("versioneer.py")):
        evidence = Evidence(file=j("versioneer.py"))
    elif point := next((p for p in points if "git describe" in p.body), None):
        evidence = point.evidence
    if evidence is not None:
        b.set("version_from_git", True, 0.85, evidence, why="the version is read from git tags")


def _install(b: _B, pm: str, points: list[EntryPoint]) -> None:
    """The project's own install entry point (`scripts/install`), when it installs the Python environment."""
    for point in _named(points, INSTALL_ENTRY_POINTS):
        if _PY_INSTALL.search(point.body) and not _MACHINE_SETUP.search(point.body):
            b.set("install_commands", [point.command], 0.75, point.evidence, why="the project's install entry point")
            return


def _build(b: _B, root: str, data: dict[str, Any], pm: str, points: list[EntryPoint]) -> None:
    ctx = b.ctx
    j = functools.partial(Context.join, root)
    for point in _named(points, BUILD_ENTRY_POINTS):
        if _PY_BUILD.search(point.body):
            prefix = _runner_prefix(pm)
            b.set("build_commands", [f"{prefix}{point.command}"], 0.75, point.evidence, why="the build entry point")
            return
    tox_env = _tox_build_env(ctx, root)
    if tox_env is not None:
        name, evidence = tox_env
        b.set("build_commands", [f"tox -e {name}"], 0.7, evidence, why="the tox environment that builds the dists")
        return
    build = data.get("build-system") if isinstance(data.get("build-system"), dict) else None
    # An application (Django manage.py, no packaging metadata) is deployed, not packaged.
    if ctx.exists(j("manage.py")):
        return
    ev: Evidence | None = None
    if build and build.get("build-backend"):
        ev = Evidence(file=j("pyproject.toml"), key="build-system.build-backend", excerpt=str(build["build-backend"]))
    elif ctx.exists(j("setup.py")):
        ev = Evidence(file=j("setup.py"))
    if ev is None or (
        "project" not in data
        and not ctx.exists(j("setup.py"))
        and "poetry" not in str(build)
        and not _setup_cfg_metadata(ctx, root)
    ):
        return
    cmd = {"uv": "uv build", "poetry": "poetry build", "pdm": "pdm build", "hatch": "hatch build"}.get(
        pm, "python -m build"
    )
    b.set("build_commands", [cmd], 0.6, ev, why="a packaged library builds its sdist and wheel")


_BUILDS_DISTS = re.compile(r"(?:-m\s+build|\bpyproject-build|\b(?:uv|hatch|poetry|pdm|flit)\s+build)\b")


def _tox_build_env(ctx: Context, root: str) -> tuple[str, Evidence] | None:
    """A tox environment of the project's own whose commands build the sdist and wheel (`[testenv:build-dists]`
    running `python -m build`): the project's way to build, with the options it wants."""
    ini = _tox_ini(ctx, root)
    if ini is None:
        return None
    for section in ini.parser.sections():
        name = section.removeprefix("testenv:")
        if name == section or "{" in name:
            continue
        if _BUILDS_DISTS.search(ini.get(name, "commands")):
            return name, Evidence(file=ini.path, key=f"[{section}]")
    return None


def _setup_cfg_metadata(ctx: Context, root: str) -> bool:
    """Whether setup.cfg names the package (`[metadata] name`): setuptools' declarative packaging metadata,
    the older equivalent of a `[project]` table."""
    cfg = Context.join(root, "setup.cfg")
    cp = ctx.ini(cfg) if ctx.exists(cfg) else None
    return cp is not None and cp.has_option("metadata", "name")


def _services(b: _B, root: str, data: dict[str, Any], deps: Deps) -> None:
    # Only runtime dependencies count: optional extras name drivers users may pick, not what tests need.
    found = svc.services_from_dependencies("python", deps.main)
    # An in-memory fake among the test dependencies (fakeredis) stands in for the server.
    in_process = svc.services_run_in_process("python", [*deps.main, *deps.dev])
    found = [(s, n) for s, n in found if s not in in_process]
    services: list[Service] = unique(s for s, _ in found)  # type: ignore[assignment]
    if services:
        b.add("services", services, 0.55, *(deps.main[n] for _, n in found))
    project = data.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    own = svc.services_of_package("python", name if isinstance(name, str) else None)
    if own:
        evidence = Evidence(file=Context.join(root, "pyproject.toml"), key="project.name", excerpt=name)
        b.add("services", own, 0.7, evidence)


__all__ = ["detect", "norm", "req_name"]
