""".NET: solutions (`.sln`, `.slnx`) and SDK-style projects (`.csproj`, `.fsproj`, `.vbproj`).

A stack is a solution and the projects it lists (or, when its content is unreadable, the projects below it);
projects that no solution covers form one stack at their common directory. Versions are the .NET lines the
test projects (else all projects) target (`TargetFramework(s)`, also from `Directory.Build.props`): explicit
targets, each built and tested, so an end-of-life one stays in the matrix and is reported as a finding.
`global.json` pins the SDK that builds them.
"""

from __future__ import annotations

import posixpath
import re
from xml.etree.ElementTree import Element

from autodevops.engine import runtimes
from autodevops.engine.detect import entrypoints
from autodevops.engine.detect.base import Context, unique
from autodevops.engine.detect.builder import (
    StackBuilder,
    ancestors,
    doubt_nested,
    ev,
    files_under,
    in_test_dir,
    is_project_path,
    is_under,
    join,
    relpath,
    services_from_deps,
)
from autodevops.engine.detect.services import services_of_package
from autodevops.engine.model import Evidence, Stack

_PROJECT = re.compile(r"[^/]+\.(csproj|fsproj|vbproj)")
_SOLUTION = re.compile(r"[^/]+\.slnx?")
_SLN_ENTRY = re.compile(r'^Project\("[^"]*"\)\s*=\s*"[^"]*",\s*"([^"]+\.(?:cs|fs|vb)proj)"', re.M)
_TFM = re.compile(r"^net(?:coreapp)?(\d+)\.(\d+)$")
_CSHARP_RULES = re.compile(r"^\s*(\[[^\]]*\bcs\b[^\]]*\]|dotnet_\w+|csharp_\w+)", re.M)
_DOTNET_FORMAT = re.compile(r"\bdotnet[ \t]+format\b|\bdotnet-format\b")
_PROPS = ("TargetFramework", "TargetFrameworks", "IsTestProject", "UseWPF", "UseWindowsForms")
TEST_PACKAGES = ("microsoft.net.test.sdk", "xunit", "xunit.v3", "nunit", "mstest.testframework", "mstest", "tunit")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def detect(ctx: Context) -> list[Stack]:
    # Test projects live in `tests/`; a solution there is a sample a test reads.
    projects = [p for p in ctx.find_matching(_PROJECT) if is_project_path(p, allow_test_dirs=True)]
    if not projects:
        return []
    solutions = [p for p in ctx.find_matching(_SOLUTION) if is_project_path(p)]
    project_set = set(projects)
    covered: dict[str, list[str]] = {}
    claimed: set[str] = set()
    # Deeper solutions first would let a sub-solution steal projects of an outer one; outer first instead.
    for sln in sorted(solutions, key=lambda p: (p.count("/"), p)):
        d = Context.dirname(sln)
        if any(Context.dirname(s) == d for s in covered):
            continue  # one stack per directory: further solutions there are alternative views
        listed = _solution_projects(ctx, sln)
        members = [p for p in (listed if listed is not None else projects) if p in project_set]
        if listed is None:
            members = [p for p in members if is_under(p, d)]
        members = [p for p in members if p not in claimed]
        if not members:
            continue
        covered[sln] = members
        claimed.update(members)
    groups: list[tuple[str, str | None, list[str]]] = [(Context.dirname(s), s, m) for s, m in covered.items()]
    # Outside a solution, a project in a test directory counts only when it is named as a test project:
    # anything else there is test data (a sample project a test reads, often not even well-formed).
    rest = [p for p in projects if p not in claimed and (not in_test_dir(p) or _named_as_test(p))]
    # A project below a solution that leaves it out was left out on purpose (a probe for an old framework, a
    # test suite that needs a local orchestrator): the solution is what the maintainers build and test.
    listing = [Context.dirname(sln) for sln in covered if _solution_projects(ctx, sln) is not None]
    rest = [p for p in rest if not any(is_under(p, d) for d in listing)]
    if rest:
        common = posixpath.commonpath([Context.dirname(p) for p in rest]) if len(rest) > 1 else Context.dirname(rest[0])
        groups.append((common or ".", None, rest))
    return doubt_nested([_stack(ctx, d, sln, members) for d, sln, members in _at_sdk_roots(ctx, groups)])


def _at_sdk_roots(
    ctx: Context, groups: list[tuple[str, str | None, list[str]]]
) -> list[tuple[str, str | None, list[str]]]:
    """A solution below the directory whose `global.json` pins the SDK is built from that directory: it is where
    the maintainers work (the SDK pin, build scripts, tool manifests sit beside it; `src/App.slnx` under a root
    `global.json`). The stack moves there when it is the only one below it."""
    out = []
    for d, sln, members in groups:
        pins = [a for a in [d, *ancestors(d)] if ctx.exists(Context.join(a, "global.json"))]
        root = pins[0] if pins and pins[0] != d else None
        alone = root is not None and not any(o != d and is_under(o, root) for o, _, _ in groups)
        out.append((root if alone and root is not None else d, sln, members))
    return out


def _solution_projects(ctx: Context, sln: str) -> list[str] | None:
    """Repo paths of the projects a solution lists; None when the file says nothing readable."""
    base = Context.dirname(sln)
    out: list[str] = []
    if not (ctx.text(sln) or "").strip():
        return None
    if sln.endswith(".slnx"):
        root = ctx.xml(sln)
        if root is None:
            return None
        for el in root.iter():
            if _local(el.tag) == "Project" and el.get("Path"):
                out.append(join(base, el.get("Path", "").replace("\\", "/")))
    else:
        text = ctx.text(sln) or ""
        out = [join(base, m.replace("\\", "/")) for m in _SLN_ENTRY.findall(text)]
    return out or None


class _Project:
    def __init__(self, ctx: Context, path: str) -> None:
        self.path = path
        self.root: Element | None = ctx.xml(path)
        self.sdk = (self.root.get("Sdk") or "") if self.root is not None else ""
        self.props: dict[str, str] = {}
        self.packages: list[str] = []
        # Directory.Build.props files apply to every project below them; the project's own values win.
        chain = []
        d = Context.dirname(path)
        while True:
            p = Context.join(d, "Directory.Build.props")
            if ctx.exists(p):
                chain.append(p)
            if d in ("", "."):
                break
            d = Context.dirname(d)
        self.sources: dict[str, str] = {}
        for props_file in reversed(chain):
            self._read(ctx.xml(props_file), props_file)
        self._read(self.root, path)

    def _read(self, root: Element | None, file: str) -> None:
        if root is None:
            return
        for el in root.iter():
            tag = _local(el.tag)
            text = (el.text or "").strip()
            if tag in _PROPS and text and "$(" not in text:
                # A conditional value is one alternative; keep the first, unconditional-looking one.
                if tag in self.props and el.get("Condition"):
                    continue
                self.props[tag] = text
                self.sources[tag] = file
            elif tag == "PackageReference" and el.get("Include"):
                self.packages.append(el.get("Include", "").lower())

    @property
    def frameworks(self) -> list[str]:
        value = self.props.get("TargetFrameworks") or self.props.get("TargetFramework") or ""
        return [t.strip() for t in value.split(";") if t.strip()]

    @property
    def is_test(self) -> bool:
        if self.props.get("IsTestProject", "").lower() == "true":
            return True
        if any(p in TEST_PACKAGES or p.startswith(("xunit.", "nunit3", "mstest.")) for p in self.packages):
            return True
        # By name only as a last resort.
        return _named_as_test(self.path)


def _named_as_test(path: str) -> bool:
    """`App.Tests.csproj`, `AppTests.fsproj`...; never fuzzing or benchmark harnesses named "...Tests"."""
    name = posixpath.basename(path).rsplit(".", 1)[0].lower()
    if "fuzz" in name or "benchmark" in name:
        return False
    return name.endswith((".tests", ".test", ".unittests", ".integrationtests", "tests"))


def _stack(ctx: Context, directory: str, sln: str | None, members: list[str]) -> Stack:
    anchor = sln or members[0]
    b = StackBuilder(ctx, directory, "csharp", ev(anchor), 0.9)
    b.set("package_manager", "dotnet", 0.95, ev(anchor))
    b.add("manifests", [*([sln] if sln else []), *members], 0.95, ev(anchor))
    b.add("workspace_members", unique(Context.dirname(m) for m in members), 0.85, ev(anchor))
    projects = [_Project(ctx, p) for p in members]
    locks = [p for m in members if ctx.exists(p := Context.join(Context.dirname(m), "packages.lock.json"))]
    b.add("lockfiles", locks, 0.95, *(ev(p) for p in locks))

    target = relpath(sln, directory) if sln else None
    # A solution in another directory, or one of several here, must be named.
    named = target is not None and (Context.dirname(anchor) != directory or _ambiguous(ctx, directory))
    tests = [p for p in projects if p.is_test]
    if tests:
        evidence = [ev(p.path) for p in tests]
        b.set("test_tool", "dotnet-test", 0.9, *evidence)
        if target:
            cmd = [f"dotnet test {target}"] if named else ["dotnet test"]
        else:
            cmd = [f"dotnet test {relpath(p.path, directory)}" for p in tests]
        b.set("test_commands", cmd, 0.85, *evidence)
    build_target = f" {target}" if named else ""
    if not target and len(projects) > 1:
        build_target = ""
        builds = [
            f"dotnet build {relpath(p.path, directory)} --configuration Release" for p in projects if not p.is_test
        ]
    else:
        builds = [f"dotnet build{build_target} --configuration Release"]
    b.set("build_commands", builds or ["dotnet build --configuration Release"], 0.8, ev(anchor))

    _versions(ctx, b, directory, tests or projects)
    _windows_only(b, tests or projects)
    tools = files_under(ctx, directory, [".config/dotnet-tools.json"]) or files_under(
        ctx, ".", [".config/dotnet-tools.json"]
    )
    if tools:
        data = ctx.json(tools[0])
        entries = data.get("tools") if isinstance(data, dict) else None
        names = [str(k).lower() for k in entries] if isinstance(entries, dict) else []
        if "dotnet-format" in names:
            b.add("lint_tools", ["dotnet-format"], 0.85, ev(tools[0], key="tools.dotnet-format"))
            b.add("lint_commands", [f"dotnet format{build_target} --verify-no-changes"], 0.8, ev(tools[0]))
        if "csharpier" in names:
            b.add("lint_tools", ["other"], 0.85, ev(tools[0], key="tools.csharpier"))
            b.add("lint_commands", ["dotnet csharpier --check ."], 0.8, ev(tools[0]))

    # `dotnet format` ships with the SDK and enforces the C# rules of .editorconfig, but many projects keep those
    # rules for their editors only: it is a check when the project also runs it (a script, a git hook, its
    # contributor guide).
    editorconfig = next(
        (p for d in [directory, *ancestors(directory)] if ctx.exists(p := Context.join(d, ".editorconfig"))), None
    )
    if (
        editorconfig
        and _CSHARP_RULES.search(ctx.text(editorconfig) or "")
        and "dotnet-format" not in b.stack.lint_tools
        and (used := entrypoints.usage(ctx, directory, _DOTNET_FORMAT)) is not None
    ):
        b.add("lint_tools", ["dotnet-format"], 0.6, ev(editorconfig), used, why="C# style rules in .editorconfig")
        b.add("lint_commands", [f"dotnet format{build_target} --verify-no-changes"], 0.6, ev(editorconfig))

    for proj in projects:
        services_from_deps(b, "dotnet", proj.packages, proj.path, confidence=0.5)
        web = proj.sdk.lower() == "microsoft.net.sdk.web"
        if web or any(k.startswith("microsoft.aspnetcore.") for k in proj.packages):
            b.add("frameworks", ["aspnetcore"], 0.9, ev(proj.path, key="Sdk" if web else "PackageReference"))
    own = [p for p in projects if not p.is_test] if tests else []
    for proj in own:
        for service in services_of_package("dotnet", posixpath.basename(proj.path).rsplit(".", 1)[0]):
            why = "the project is this service's client library: its tests talk to a real server"
            b.add("services", [service], 0.7, ev(proj.path), why=why)
    return b.build()


def _ambiguous(ctx: Context, directory: str) -> bool:
    """`dotnet test`/`build` without an argument fails when the directory holds more than one project or
    solution file, so the command must name one."""
    names = ctx.listdir(directory)
    return sum(1 for n in names if _SOLUTION.fullmatch(n) or _PROJECT.fullmatch(n)) > 1 or any(
        n.endswith(".slnx") for n in names
    )


def _versions(ctx: Context, b: StackBuilder, directory: str, projects: list[_Project]) -> None:
    lines: dict[str, Evidence] = {}
    for p in projects:
        for tfm in p.frameworks:
            m = _TFM.match(tfm.split("-")[0])
            if m and int(m.group(1)) >= 2:
                line = f"{m.group(1)}.{m.group(2)}"
                lines.setdefault(
                    line,
                    ev(
                        p.sources.get("TargetFrameworks", p.sources.get("TargetFramework", p.path)),
                        key="TargetFrameworks",
                        excerpt=tfm,
                    ),
                )
    sdk = _global_json(ctx, directory)
    ordered = sorted(lines, key=lambda v: tuple(int(x) for x in v.split(".")))
    if ordered:
        eol = [v for v in ordered if runtimes.is_eol("dotnet", v, b.ctx.today)]
        if eol:
            b.finding(
                "eol-runtime",
                "warning",
                f"target frameworks {', '.join('net' + v for v in eol)} are past end of life on {b.ctx.today}",
                *(lines[v] for v in eol),
            )
        # Target frameworks are not a range but explicit build targets: `dotnet test` runs every one of them,
        # so each runtime must be installed, end-of-life or not (the finding above says which have ended).
        # Below the confident threshold: CI often installs SDK lines of its own choosing beside (or instead of)
        # the targets, so the matrix is stated for review.
        b.set(
            "versions",
            ordered,
            0.7,
            *(lines[v] for v in ordered),
            why="the .NET lines the test projects target; each is built and tested",
        )
        if sdk:
            version, evidence = sdk
            major = _major(version)
            newest = max(int(v.split(".")[0]) for v in ordered)
            if major is not None and major < newest:
                b.finding(
                    "sdk-older-than-target",
                    "error",
                    f"{evidence.file} pins SDK {version}, which cannot build net{ordered[-1]} targets",
                    evidence,
                    lines[ordered[-1]],
                )
        return
    if sdk:
        version, evidence = sdk
        sdk_line = runtimes.cycle_of("dotnet", version)
        if sdk_line:
            b.set("versions", [sdk_line], 0.7, evidence, why="the SDK global.json pins")


_NETFX = re.compile(r"^net[1-4]\d*$")  # .NET Framework: net20, net35, net40, net452, net48


def _windows_only(b: StackBuilder, projects: list[_Project]) -> None:
    """.NET Framework targets and Windows desktop frameworks build and run on Windows only."""
    why = ".NET Framework and Windows desktop targets build and run only on Windows"
    for p in projects:
        framework = next((t for t in p.frameworks if _NETFX.match(t) or "-windows" in t), None)
        if framework:
            key = "TargetFrameworks" if "TargetFrameworks" in p.props else "TargetFramework"
            evidence = ev(p.sources.get(key, p.path), key=key, excerpt=framework)
            b.set("operating_systems", ["windows"], 0.8, evidence, why=why)
            return
        for key in ("UseWPF", "UseWindowsForms"):
            if p.props.get(key, "").lower() == "true":
                b.set("operating_systems", ["windows"], 0.8, ev(p.sources.get(key, p.path), key=key), why=why)
                return


def _global_json(ctx: Context, directory: str) -> tuple[str, Evidence] | None:
    d = directory
    while True:
        path = Context.join(d, "global.json")
        if ctx.exists(path):
            data = ctx.json(path, comments=True)
            sdk = data.get("sdk") if isinstance(data, dict) else None
            if isinstance(sdk, dict) and isinstance(sdk.get("version"), str):
                return sdk["version"], ev(path, key="sdk.version", excerpt=sdk["version"])
        if d in ("", "."):
            return None
        d = Context.dirname(d)


def _major(version: str) -> int | None:
    m = re.match(r"(\d+)", version)
    return int(m.group(1)) if m else None
