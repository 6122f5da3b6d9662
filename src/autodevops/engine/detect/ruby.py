"""Ruby: Bundler projects (a `Gemfile`, or `gems.rb`), each its own stack.

Versions: a pinned interpreter (`.ruby-version`, `ruby` in `.tool-versions`, an exact `ruby "3.3.0"` in the
Gemfile) wins; otherwise every Ruby line from the declared floor (Gemfile `ruby ">= 3.1"`, gemspec
`required_ruby_version`) through the newest, end-of-life floors included and reported. With no declared floor, a
Gemfile that gates gems on `RUBY_VERSION` still tells which old lines it runs on; with neither, the lines supported
on the analysis date. JRuby/TruffleRuby join that matrix when the Gemfile provides for them.

Tests: RSpec (`.rspec`, `spec/`, the rspec gem) or Minitest (`test/`, the minitest gem); the entry point is
`bundle exec rake` when a Rakefile exists (its default task is the project's test run), else the runner itself.
"""

from __future__ import annotations

import datetime as dt
import re

from autodevops.engine import runtimes
from autodevops.engine.detect.base import Context
from autodevops.engine.detect.builder import (
    StackBuilder,
    check_pin,
    ev,
    files_under,
    files_with,
    frameworks_from_deps,
    is_project_path,
    is_under,
    join,
    line_of,
    matrix,
    pinned,
    services_from_deps,
    tool_pin,
)
from autodevops.engine.detect.services import DRIVER_WORDS
from autodevops.engine.model import Evidence, Provenance, Stack

_GEM = re.compile(r"""^\s*gem\s*\(?\s*["']([^"']+)["']""", re.M)
_RUBY = re.compile(r"""^\s*ruby\b\s*\(?(.*)$""", re.M)
_QUOTED = re.compile(r"""["']([^"']+)["']""")
_SPEC_DEP = re.compile(r"""add_(?:development_|runtime_)?dependency\s*\(?\s*["']([^"']+)["']""")
_REQUIRED_RUBY = re.compile(
    r"""required_ruby_version\s*=\s*(?:Gem::Requirement\.new\()?\s*\[?\s*((?:["'][^"']+["']\s*,?\s*)+)"""
)
_ADAPTER = re.compile(r"^\s*adapter:\s*[\"']?([\w]+)", re.M)
FRAMEWORKS = {
    "rails": "rails",
    "railties": "rails",
    "sinatra": "sinatra",
    "hanami": "hanami",
    "roda": "roda",
    "grape": "grape",
    "padrino": "padrino",
}


# The confidence of a matrix guessed from the supported Ruby lines because nothing declares one.
UNDECLARED_CONFIDENCE = 0.5
# Linters outside the vocabulary a bundle installs to run as checks (`other`): Rails code with security rules,
# templates, code smells. Vulnerability scanners (bundler-audit) are no lint tools.
OTHER_CHECKERS = ("brakeman", "erb_lint", "haml_lint", "slim_lint", "reek", "rails_best_practices")


def detect(ctx: Context) -> list[Stack]:
    gemfiles = [p for name in ("Gemfile", "gems.rb") for p in ctx.find(name) if is_project_path(p)]
    dirs: dict[str, str] = {}
    for g in sorted(gemfiles):
        dirs.setdefault(Context.dirname(g), g)
    # A gem without a Gemfile is still a Ruby project (built and tested with its gemspec's dependencies).
    for spec in ctx.find_matching(re.compile(r"[^/]+\.gemspec")):
        d = Context.dirname(spec)
        if is_project_path(spec) and d not in dirs and not any(is_under(d, o) for o in dirs):
            dirs[d] = spec
    stacks = [_stack(ctx, d, manifest) for d, manifest in sorted(dirs.items())]
    _inherit_versions(stacks)
    # A bundle with nothing to test is not a project CI tests: nested ones are benchmarks or helpers, and one
    # of only tooling gems (a Jekyll site, fastlane or CocoaPods for a mobile app) serves another ecosystem.
    return [
        s
        for s in stacks
        if s.test_tool != "none" or ((s.path == "." or s.lint_tools) and not _tooling_only(ctx, dirs[s.path]))
    ]


def _inherit_versions(stacks: list[Stack]) -> None:
    """A nested bundle that declares no Ruby of its own runs on its enclosing project's matrix (sibling gems
    released together, like a framework and its contrib gems, are tested on the same interpreters)."""
    by_path = {s.path: s for s in stacks}
    for stack in stacks:
        own = stack.provenance.get("versions")
        if stack.path == "." or own is None or own.confidence > UNDECLARED_CONFIDENCE:
            continue
        parent = stack.path
        while parent != ".":
            parent = Context.dirname(parent)
            outer = by_path.get(parent)
            if outer is not None and outer.versions:
                stack.versions = list(outer.versions)
                inherited = outer.provenance.get("versions")
                stack.provenance["versions"] = Provenance(
                    evidence=list(inherited.evidence) if inherited else [],
                    confidence=min(own.confidence, inherited.confidence if inherited else own.confidence),
                    justification=f"declares no Ruby version: runs on the matrix of the enclosing project {parent}",
                )
                break


def _stack(ctx: Context, directory: str, manifest: str) -> Stack:
    b = StackBuilder(ctx, directory, "ruby", ev(manifest), 0.95)
    b.set("package_manager", "bundler", 0.9, ev(manifest))
    text = ctx.text(manifest) or "" if manifest.endswith(("Gemfile", "gems.rb")) else ""
    gemspecs = [Context.join(directory, n) for n in ctx.listdir(directory) if n.endswith(".gemspec")]
    b.add("manifests", [manifest, *[g for g in gemspecs if g != manifest]], 0.95, ev(manifest))
    gems: dict[str, str] = {}
    for path, gemfile_text in _gemfiles(ctx, manifest, text):
        for m in _GEM.finditer(gemfile_text):
            gems.setdefault(m.group(1), path)
    spec_texts = {g: ctx.text(g) or "" for g in gemspecs}
    for g, st in spec_texts.items():
        for m in _SPEC_DEP.finditer(st):
            gems.setdefault(m.group(1), g)
    lock = next((p for n in ("Gemfile.lock", "gems.locked") if ctx.exists(p := Context.join(directory, n))), None)
    if lock:
        b.add("lockfiles", [lock], 0.95, ev(lock))
    elif _is_application(ctx, directory, gemspecs):
        b.finding(
            "no-lockfile",
            "warning",
            f"{manifest}: an application without a committed Gemfile.lock resolves different gems on every CI run",
            ev(manifest),
        )

    _versions(ctx, b, directory, manifest, text, spec_texts)
    _tests(ctx, b, directory, manifest, gems)

    if (
        "rubocop" in gems
        or any(g.startswith("rubocop-") for g in gems)
        or ctx.exists(Context.join(directory, ".rubocop.yml"))
    ):
        cfg = Context.join(directory, ".rubocop.yml")
        evidence = ev(cfg) if ctx.exists(cfg) else ev(gems.get("rubocop", manifest), key="rubocop")
        # Used, but CI often runs more checkers beside it (or none): for review.
        b.add("lint_tools", ["rubocop"], 0.75, evidence)
        b.add("lint_commands", ["bundle exec rubocop"], 0.8, evidence)
    if "standard" in gems or ctx.exists(Context.join(directory, ".standard.yml")):
        evidence = ev(gems.get("standard", manifest), key="standard")
        b.add("lint_tools", ["standardrb"], 0.75, evidence)
        b.add("lint_commands", ["bundle exec standardrb"], 0.8, evidence)

    checkers = [g for g in OTHER_CHECKERS if g in gems]
    if checkers:
        # Installed to be run (Rails' generated CI runs brakeman beside rubocop), but how (which paths, which
        # warnings fail) is the project's call: a fact without a command.
        b.add("lint_tools", ["other"], 0.6, *(ev(gems[g], key=g) for g in checkers), why=", ".join(checkers))

    services_from_deps(b, "ruby", list(gems), manifest, confidence=0.6)
    db = Context.join(directory, "config/database.yml")
    if ctx.exists(db):
        db_text = ctx.text(db) or ""
        for m in _ADAPTER.finditer(db_text):
            service = DRIVER_WORDS.get(m.group(1).lower())
            if service:
                b.add("services", [service], 0.8, ev(db, key="adapter", line=line_of(db_text, m.start())))
    frameworks_from_deps(b, FRAMEWORKS, list(gems), manifest)
    _asset_build(ctx, b, directory, gems, gemspecs)
    return b.build()


# Gems that compile a Rails application's CSS or JavaScript into app/assets/builds: those files are generated,
# not committed, so the application's pages (and its system tests) need the build.
ASSET_BUNDLERS = ("tailwindcss-rails", "cssbundling-rails", "jsbundling-rails", "dartsass-rails")


def _asset_build(ctx: Context, b: StackBuilder, directory: str, gems: dict[str, str], gemspecs: list[str]) -> None:
    """A Rails application whose assets a bundler gem compiles builds them (`assets:precompile` runs the
    bundlers' build tasks first); one served by importmap and propshaft alone has nothing to build."""
    if "rails" not in gems or not ctx.exists(Context.join(directory, "config/application.rb")) or gemspecs:
        return
    bundler = next((g for g in ASSET_BUNDLERS if g in gems), None)
    if bundler is None:
        return
    rails = "bin/rails" if ctx.exists(Context.join(directory, "bin/rails")) else "bundle exec rails"
    b.set(
        "build_commands",
        [f"{rails} assets:precompile"],
        0.6,
        ev(gems[bundler], key=bundler),
        why="the asset bundler's output is generated, not committed",
    )


_EVAL_GEMFILE = re.compile(r"""^\s*eval_gemfile\s*\(?\s*["']([^"']+)["']""", re.M)


def _gemfiles(ctx: Context, manifest: str, text: str) -> list[tuple[str, str]]:
    """The Gemfile and the files it includes with `eval_gemfile` (shared development bundles), transitively."""
    out = [(manifest, text)]
    seen = {manifest}
    i = 0
    while i < len(out) and len(out) < 10:
        path, body = out[i]
        i += 1
        for m in _EVAL_GEMFILE.finditer(body):
            included = join(Context.dirname(path), m.group(1))
            if included not in seen and ctx.exists(included):
                seen.add(included)
                out.append((included, ctx.text(included) or ""))
    return out


TOOLING_GEMS = frozenset(
    {
        "jekyll",
        "github-pages",
        "fastlane",
        "cocoapods",
        "danger",
        "xcpretty",
        "xcodeproj",
        "slather",
        "license_finder",
        "jazzy",
        "xcode-install",
        "xcov",
    }
)
_TOOLING_PREFIXES = ("jekyll-", "fastlane-plugin-", "danger-", "cocoapods-")


def _tooling_only(ctx: Context, manifest: str) -> bool:
    gems = [m.group(1) for _, text in _gemfiles(ctx, manifest, ctx.text(manifest) or "") for m in _GEM.finditer(text)]
    return bool(gems) and all(g in TOOLING_GEMS or g.startswith(_TOOLING_PREFIXES) for g in gems)


def _is_application(ctx: Context, directory: str, gemspecs: list[str]) -> bool:
    return not gemspecs and any(
        ctx.exists(Context.join(directory, p)) for p in ("config/application.rb", "config.ru", "Procfile")
    )


def _versions(
    ctx: Context, b: StackBuilder, directory: str, manifest: str, gemfile: str, gemspecs: dict[str, str]
) -> None:
    pin = _pin(ctx, directory, manifest, gemfile)
    requirements = _requirements(manifest, gemfile, gemspecs)
    # A gem promises its users every Ruby its gemspec admits; the developers' pin is only the one they work on, so
    # it decides the matrix only for an application (as `.python-version` does for Python).
    promised = [r for r in requirements if r[1].file.endswith(".gemspec")]
    if pin:
        version, pin_ev = pin
        for spec, spec_ev in requirements:
            check_pin(b, "ruby", version, pin_ev, spec, spec_ev, flavor="gem")
        if not promised:
            pinned(b, "ruby", version, pin_ev)
            return
    gemfiles = _gemfiles(ctx, manifest, gemfile)
    for spec, spec_ev in promised or requirements:
        if matrix(b, "ruby", spec, spec_ev, flavor="gem", label=f"ruby {spec!r}"):
            break
    else:
        gate = _version_gate_floor(gemfiles, ctx.today)
        if not (gate and matrix(b, "ruby", f">= {gate[0]}", gate[1], flavor="gem", label=gate[2], confidence=0.6)):
            matrix(b, "ruby", None, ev(manifest), label="no declared Ruby version", confidence=UNDECLARED_CONFIDENCE)
    for engine, engine_ev in _engines(gemfiles):
        b.add("versions", [engine], 0.6, engine_ev, why="the Gemfile provides for this Ruby implementation")


_RUBY_VERSION_GATE = re.compile(
    r"""RUBY_VERSION\)?\s*(>=|<=|>|<)\s*(?:Gem::Version\.new\(\s*)?["'](\d+\.\d+)(?:\.\d+)*["']"""
)


def _version_gate_floor(gemfiles: list[tuple[str, str]], today: dt.date) -> tuple[str, Evidence, str] | None:
    """The oldest Ruby line a Gemfile provides for when nothing declares a floor: a gem gated on
    `RUBY_VERSION >= '3.0'` (or `< '3.0'`) means the bundle is also resolved on Rubies older than 3.0, so the
    line just before the lowest such threshold is supported (for `> '3.0'` or `<= '3.0'`, 3.0 itself). Returns
    the floor, its evidence and a label for findings."""
    best: tuple[tuple[int, ...], str, Evidence, str] | None = None
    for path, text in gemfiles:
        for i, line in enumerate(text.splitlines(), 1):
            code = line.split("#")[0]
            for m in _RUBY_VERSION_GATE.finditer(code):
                operator, threshold = m.group(1), m.group(2)
                if operator in (">", "<="):
                    floor: str | None = threshold
                else:
                    older = runtimes.supported_versions("ruby", f"< {threshold}", today, include_eol=True, flavor="gem")
                    floor = older[-1] if older else None
                if floor is None:
                    continue
                key = tuple(int(part) for part in floor.split("."))
                if best is None or key < best[0]:
                    evidence = ev(path, key="RUBY_VERSION", line=i, excerpt=code.strip())
                    best = (key, floor, evidence, f"a gem gated on RUBY_VERSION {operator} {threshold!r}")
    return best[1:] if best else None


# Other Ruby implementations a bundle provides for, by the names ruby/setup-ruby installs them under (the
# latest release of each).
_ENGINES = ("jruby", "truffleruby")
_PLATFORMS_BLOCK = re.compile(r"^\s*platforms?\s*\(?\s*((?::\w+\s*,?\s*)+)\)?\s*(?:do|\{)", re.M)


def _engines(gemfiles: list[tuple[str, str]]) -> list[tuple[str, Evidence]]:
    """Ruby implementations besides MRI the Gemfile provides for: a condition on `RUBY_ENGINE` naming one
    (`gem 'x' if RUBY_ENGINE == 'jruby'`), or a `platforms :jruby do` block of gems for it. Maintainers write
    these because they run the suite on that implementation. An inline `platforms: [..., :jruby]` option is
    not enough: generated Rails Gemfiles carry one (tzinfo-data) whatever the project runs on."""
    found: dict[str, Evidence] = {}
    for path, text in gemfiles:
        code = "\n".join(line.split("#")[0] for line in text.splitlines())
        for i, line in enumerate(code.splitlines(), 1):
            if "RUBY_ENGINE" not in line:
                continue
            for engine in _ENGINES:
                if engine not in found and re.search(rf"\b{engine}\b", line):
                    found[engine] = ev(path, key="RUBY_ENGINE", line=i, excerpt=line.strip())
        for m in _PLATFORMS_BLOCK.finditer(code):
            for engine in _ENGINES:
                if engine not in found and re.search(rf":{engine}\b", m.group(1)):
                    found[engine] = ev(path, key="platforms", line=line_of(code, m.start()), excerpt=m.group(0).strip())
    return sorted(found.items(), key=lambda item: _ENGINES.index(item[0]))


def _pin(ctx: Context, directory: str, manifest: str, gemfile: str) -> tuple[str, Evidence] | None:
    """The interpreter version developers pin: `.ruby-version`, `.tool-versions`, or an exact Gemfile `ruby`."""
    for d in dict.fromkeys([directory, "."]):
        rv = Context.join(d, ".ruby-version")
        if ctx.exists(rv) and (text := (ctx.text(rv) or "").strip()):
            return text.split()[0].removeprefix("ruby-"), ev(rv, line=1)
    managed = tool_pin(ctx, directory, ("ruby",))
    if managed:
        return managed
    m = _RUBY.search(gemfile)
    args = m.group(1) if m else ""
    file_arg = re.search(r"""file:\s*["']([^"']+)["']""", args)
    if m and file_arg:
        path = join(directory, file_arg.group(1))
        if ctx.exists(path) and (text := (ctx.text(path) or "").strip()):
            return text.split()[0], ev(path, line=1)
    quoted = [] if file_arg else _QUOTED.findall(args.split("#")[0])
    if m and len(quoted) == 1 and re.fullmatch(r"\d+\.\d+\.\d+", quoted[0]):
        return quoted[0], ev(manifest, key="ruby", line=line_of(gemfile, m.start()), excerpt=m.group(0).strip())
    return None


def _requirements(manifest: str, gemfile: str, gemspecs: dict[str, str]) -> list[tuple[str, Evidence]]:
    """Declared supported ranges: a Gemfile `ruby ">= 3.1"` and gemspec `required_ruby_version`s."""
    out: list[tuple[str, Evidence]] = []
    m = _RUBY.search(gemfile)
    if m and "file:" not in m.group(1):
        quoted = _QUOTED.findall(m.group(1).split("#")[0])
        if quoted and not (len(quoted) == 1 and re.fullmatch(r"\d+\.\d+\.\d+", quoted[0])):
            spec = ", ".join(quoted)
            out.append((spec, ev(manifest, key="ruby", line=line_of(gemfile, m.start()), excerpt=m.group(0).strip())))
    for path, st in gemspecs.items():
        rm = _REQUIRED_RUBY.search(st)
        if rm:
            spec = ", ".join(re.findall(r"""["']([^"']+)["']""", rm.group(1)))
            out.append((spec, ev(path, key="required_ruby_version", line=line_of(st, rm.start()), excerpt=spec)))
    return out


def _tests(ctx: Context, b: StackBuilder, directory: str, manifest: str, gems: dict[str, str]) -> None:
    def count(sub: str, pattern: str) -> int:
        return sum(1 for e in files_with(ctx, [".rb"], Context.join(directory, sub)) if re.search(pattern, e.path))

    specs = count("spec", r"_spec\.rb$")
    tests = count("test", r"(_test|/test_[^/]*)\.rb$")
    rspec_cfg = files_under(ctx, directory, [".rspec"])
    rspec = bool(rspec_cfg) or specs > 0 or "rspec" in gems or "rspec-rails" in gems
    minitest = tests > 0 or "minitest" in gems
    tool: str | None = None
    if rspec and (not minitest or rspec_cfg or specs >= tests):
        tool = "rspec"
        evidence = (
            ev(rspec_cfg[0])
            if rspec_cfg
            else ev(Context.join(directory, "spec"))
            if specs
            else ev(gems.get("rspec", manifest), key="rspec")
        )
    elif minitest:
        tool = "minitest"
        evidence = ev(Context.join(directory, "test")) if tests else ev(gems.get("minitest", manifest), key="minitest")
    rakefile = files_under(ctx, directory, ["Rakefile", "rakefile", "Rakefile.rb"])
    if tool is None:
        if rakefile:
            b.set("test_tool", "rake", 0.5, ev(rakefile[0]), why="a Rakefile and no recognizable test suite")
            b.set("test_commands", ["bundle exec rake"], 0.5, ev(rakefile[0]))
        return
    b.set("test_tool", tool, 0.85, evidence)
    if tool == "rspec" and rspec_cfg and gems and not any(g == "rspec" or g.startswith("rspec-") for g in gems):
        b.finding(
            "test-runner-not-installed",
            "warning",
            f"{rspec_cfg[0]} configures RSpec, but neither the Gemfile nor a gemspec depends on rspec: "
            "`bundle exec rspec` will fail",
            ev(rspec_cfg[0]),
            ev(manifest),
        )
    if rakefile:
        b.set(
            "test_commands",
            ["bundle exec rake"],
            0.7,
            ev(rakefile[0]),
            why="the Rakefile's default task is the project's own test entry point",
        )
    elif tool == "rspec":
        b.set("test_commands", ["bundle exec rspec"], 0.8, evidence)
    elif "rails" in gems or "railties" in gems:
        b.set("test_commands", ["bin/rails test"], 0.8, evidence)
    else:
        b.set(
            "test_commands",
            ["bundle exec ruby -Itest -Ilib -e 'Dir.glob(\"./test/**/*_test.rb\").each { |f| require f }'"],
            0.6,
            evidence,
        )
