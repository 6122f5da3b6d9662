"""Java and Kotlin: Maven and Gradle builds.

A Maven stack is a root `pom.xml` with the modules it aggregates; a Gradle stack is a settings script (or a lone
build script) with its subprojects. Nested Gradle settings inside another Gradle build are included builds
(`build-logic`, `buildSrc`), not stacks. The same directory may hold both a Maven and a Gradle build: they are
two stacks (two ways of building one project), and facts the Gradle scripts do not state (Java release, database
drivers) are taken from the sibling pom. A Bazel build beside them is one more stack (see `second_build`).

Versions: the Java release the build compiles for (`maven.compiler.release/source`, `java.version`, toolchains,
`JavaLanguageVersion.of`, `jvmToolchain`, `JavaVersion.VERSION_x`, `jvmTarget`, in the build scripts, the
version catalog or the convention plugins of `buildSrc`/`build-logic`), else `.java-version`, `.sdkmanrc`, or a
`java` pin for asdf or mise. A build that declares none gets the Java releases supported on the analysis date.
A Maven enforcer `requireJavaVersion` rule that refuses the JDK of that release wins: CI builds on the supported
releases inside its range (a library compiled for Java 8 whose build needs `[17,22)` is built on 17 and 21).
"""

from __future__ import annotations

import posixpath
import re
from xml.etree.ElementTree import Element

from autodevops.engine import runtimes
from autodevops.engine.detect import second_build
from autodevops.engine.detect.base import Context, unique
from autodevops.engine.detect.builder import (
    StackBuilder,
    doubt_nested,
    ev,
    files_under,
    is_project_path,
    is_under,
    join,
    line_of,
    matrix,
    pinned,
    services_from_deps,
    source_bytes,
    tool_pin,
)
from autodevops.engine.model import Evidence, Language, Stack

_EXTS = {".java": "java", ".kt": "kotlin", ".groovy": "java", ".scala": "java"}
LINT_PLUGINS = {
    "maven-checkstyle-plugin": "checkstyle",
    "spotless-maven-plugin": "spotless",
    "spring-javaformat-maven-plugin": "spring-javaformat",
    "maven-pmd-plugin": "pmd",
    "spotbugs-maven-plugin": "spotbugs",
    "fmt-maven-plugin": "google-java-format",
    "ktlint-maven-plugin": "ktlint",
    "detekt-maven-plugin": "detekt",
    "error-prone": "error-prone",
}
APP_PLUGINS = (
    "spring-boot-maven-plugin",
    "maven-shade-plugin",
    "maven-assembly-plugin",
    "jib-maven-plugin",
    "quarkus-maven-plugin",
    "micronaut-maven-plugin",
    "native-maven-plugin",
)
# Checkers a Gradle build applies: `check` runs them beside the tests (binary-compatibility-validator's apiCheck
# compares the public API with the committed dump).
_GRADLE_LINT = re.compile(
    r"\b(checkstyle|spotless|ktlint|detekt|pmd|spotbugs|io\.spring\.javaformat|errorprone|ktfmt"
    r"|binary-compatibility-validator)\b",
    re.I,
)
_GRADLE_VERSION = (
    re.compile(r"JavaLanguageVersion\.of\(\s*[\"']?(\d+)"),
    re.compile(r"jvmToolchain\(\s*(\d+)"),
    re.compile(r"(?:source|target)Compatibility\s*=?\s*(?:JavaVersion\.VERSION_|[\"'])?(1[._]\d+|\d+)"),
    re.compile(r"jvmTarget(?:\.set\(|\s*=\s*)\s*(?:JvmTarget\.JVM_|[\"'])(1[._]\d+|\d+)"),
)
_LINT_CONFIG = re.compile(r"[^/]*checkstyle[^/]*\.xml|detekt[^/]*\.ya?ml")
_GRADLE_DEP = re.compile(r"[\"']([\w.\-]+):([\w.\-]+)(?::[^\"']*)?[\"']")


def detect(ctx: Context) -> list[Stack]:
    maven, gradle = _maven(ctx), _gradle(ctx)
    for dup in sorted({s.path for s in maven} & {s.path for s in gradle}):
        manifests = [m for s in (*maven, *gradle) if s.path == dup for m in s.manifests[:1]]
        ctx.finding(
            "multiple-build-systems",
            "info",
            f"{dup}: the project is built by both Maven and Gradle; CI has to keep both builds working",
            *(ev(m) for m in manifests),
            stack=dup,
        )
    stacks = doubt_nested([*maven, *gradle], unless_tested=True)
    # One Bazel stack per directory, even where Maven and Gradle both build it.
    firsts: dict[str, Stack] = {}
    for s in stacks:
        firsts.setdefault(s.path, s)
    return stacks + [
        x for s in firsts.values() if (x := second_build.alongside(ctx, s, meson=False, shares_toolchain=True))
    ]


# Build files under a source set (`src/test/resources/...`, `src/it/...`) are test inputs, not builds.
_SOURCE_SET = re.compile(r"(^|/)src/(main|test|it|integrationTest|testFixtures)/")


def _is_build_root(path: str) -> bool:
    # Gradle and Maven builds may keep test modules in `tests/`: they are part of the build, not test data.
    return is_project_path(path, allow_test_dirs=True) and not _SOURCE_SET.search(path)


# ---- Maven -------------------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el: Element | None, name: str) -> Element | None:
    if el is None:
        return None
    return next((c for c in el if _local(c.tag) == name), None)


def _children(el: Element | None, name: str) -> list[Element]:
    return [] if el is None else [c for c in el if _local(c.tag) == name]


def _text(el: Element | None) -> str | None:
    return el.text.strip() if el is not None and el.text and el.text.strip() else None


def _maven(ctx: Context) -> list[Stack]:
    poms = [p for p in ctx.find("pom.xml") if _is_build_root(p)]
    parsed = {p: ctx.xml(p) for p in poms}
    # Modules aggregated by a pom are built with it, not on their own.
    member_of: dict[str, str] = {}
    for pom, root in parsed.items():
        base = Context.dirname(pom)
        for modules in _children(root, "modules") + [
            m for prof in _children(_child(root, "profiles"), "profile") for m in _children(prof, "modules")
        ]:
            for mod in _children(modules, "module"):
                name = _text(mod)
                if not name:
                    continue
                target = join(base, name)
                child = target if target.endswith(".xml") else Context.join(target, "pom.xml")
                if child in parsed and child != pom:
                    member_of.setdefault(child, pom)

    def top(pom: str) -> str:
        seen = set()
        while pom in member_of and pom not in seen:
            seen.add(pom)
            pom = member_of[pom]
        return pom

    disabled = _commented_modules(ctx, parsed)
    groups: dict[str, list[str]] = {}
    for pom in poms:
        if pom in member_of or pom not in disabled:
            groups.setdefault(top(pom), []).append(pom)
    return [_maven_stack(ctx, root, members, parsed) for root, members in groups.items()]


_XML_COMMENT = re.compile(r"<!--(.*?)-->", re.S)
_MODULE_ELEMENT = re.compile(r"<module>\s*([^<\s]+)\s*</module>")


def _commented_modules(ctx: Context, parsed: dict[str, Element | None]) -> set[str]:
    """Poms an aggregator lists only inside a comment (`<!-- <module>legacy</module> -->`): modules the
    maintainers took out of the build (broken, awaiting an upstream fix), which CI no longer builds."""
    out: set[str] = set()
    for pom in parsed:
        text = ctx.text(pom) or ""
        if "<!--" not in text:
            continue
        base = Context.dirname(pom)
        for comment in _XML_COMMENT.findall(text):
            for name in _MODULE_ELEMENT.findall(comment):
                target = join(base, name)
                out.add(target if target.endswith(".xml") else Context.join(target, "pom.xml"))
    return out


def _props(root: Element | None) -> dict[str, str]:
    props: dict[str, str] = {}
    block = _child(root, "properties")
    for el in list(block) if block is not None else []:
        value = _text(el)
        if value:
            props[_local(el.tag)] = value
    return props


def _resolve(value: str | None, props: dict[str, str]) -> str | None:
    for _ in range(5):
        if value is None or "${" not in value:
            return value
        value = re.sub(r"\$\{([^}]+)\}", lambda m: props.get(m.group(1), m.group(0)), value)
        if "${" in value and all(k not in props for k in re.findall(r"\$\{([^}]+)\}", value)):
            return None
    return value


def _plugins(root: Element | None) -> list[Element]:
    build = _child(root, "build")
    found = _children(_child(build, "plugins"), "plugin")
    found += _children(_child(_child(build, "pluginManagement"), "plugins"), "plugin")
    for prof in _children(_child(root, "profiles"), "profile"):
        found += _children(_child(_child(prof, "build"), "plugins"), "plugin")
    return found


def _maven_stack(ctx: Context, pom: str, members: list[str], parsed: dict[str, Element | None]) -> Stack:
    directory = Context.dirname(pom)
    root = parsed[pom]
    language = _language(ctx, directory)
    b = StackBuilder(ctx, directory, language, ev(pom), 0.9)
    b.set("package_manager", "maven", 0.95, ev(pom))
    b.add("manifests", members, 0.95, ev(pom))
    if len(members) > 1:
        b.add("workspace_members", [Context.dirname(m) for m in members if m != pom], 0.9, ev(pom, key="modules"))

    wrapper = ctx.exists(Context.join(directory, "mvnw"))
    mvn = "./mvnw" if wrapper else "mvn"
    verify = f"{mvn} -B verify"
    tested = _has_test_sources(ctx, directory)
    if tested:
        b.set("test_tool", "maven", 0.9, ev(pom), why="tests run in Maven's test phase (surefire/failsafe)")
        b.set("test_commands", [verify], 0.85, ev(Context.join(directory, "mvnw") if wrapper else pom))
    else:
        b.set("test_tool", "none", 0.7, ev(pom), why="no module has test sources (src/test, src/it)")

    all_plugins: list[tuple[str, str]] = []  # (artifactId, pom)
    deps: list[tuple[str, str]] = []  # ("group:artifact", pom)
    version: tuple[str, Evidence] | None = None
    required_jdk: tuple[str, Evidence] | None = None
    root_props = _props(root)
    # The aggregator first: its properties are inherited by the modules, and its Java release governs them.
    for m in sorted(members, key=lambda x: x != pom):
        el = parsed.get(m)
        if el is None:
            continue
        props = {**root_props, **_props(el)}
        for plugin in _plugins(el):
            aid = _text(_child(plugin, "artifactId"))
            if aid:
                all_plugins.append((aid, m))
        # Only real dependencies: a dependencyManagement entry pins a version, it does not use the library.
        for dep in _dependencies(el):
            gid, aid = _text(_child(dep, "groupId")), _text(_child(dep, "artifactId"))
            if gid and aid:
                deps.append((f"{_resolve(gid, props) or gid}:{aid}", m))
        if version is None:
            version = _maven_java(el, props, m)
        if required_jdk is None:
            required_jdk = _enforced_jdk(el, props, m)
    parent = _child(root, "parent")
    parent_id = f"{_text(_child(parent, 'groupId'))}:{_text(_child(parent, 'artifactId'))}"

    lint = [(LINT_PLUGINS[a], m) for a, m in all_plugins if a in LINT_PLUGINS]
    for _name, m in lint:
        b.add("lint_tools", ["other"], 0.8, ev(m, key="build.plugins", excerpt=_name))
    packaging = _text(_child(root, "packaging")) or "jar"
    app = [a for a, _ in all_plugins if a in APP_PLUGINS] or (
        ["packaging " + packaging] if packaging in ("war", "ear") else []
    )
    if app or not tested:
        # Without tests, `verify` is the whole check: it compiles, packages and runs the plugins bound to it.
        b.set(
            "build_commands",
            [verify],
            0.7,
            ev(pom, key="build.plugins", excerpt=app[0]) if app else ev(pom),
            why="the verify lifecycle packages the application" if app else "no tests: verify builds and checks",
        )
    elif directory == "." and packaging in ("jar", "bundle", "maven-plugin", "pom"):
        # The repository's own library build: its jars are what it publishes, so CI checks they package (the
        # test job already runs the tests). Nested builds (examples, test fixtures) are only tested.
        b.set(
            "build_commands",
            [f"{mvn} -B -DskipTests package"],
            0.6,
            ev(pom, key="packaging", excerpt=packaging),
            why="the repository's library: its artifacts package",
        )
    version = _reconcile(b, version, _version_files(ctx, directory))
    enforced = required_jdk is not None and _set_enforced_jdks(
        b, *required_jdk, release=version[0] if version else None
    )
    if not enforced and version:
        _set_java(b, *version)
    elif not enforced and root is not None:
        _undeclared_java(b, ev(pom))
    if tested:
        # Servers are started for the tests; a build without tests connects to none.
        services_from_deps(b, "java", [d for d, _ in deps], pom, confidence=0.6)
    _frameworks(b, [d for d, _ in deps] + [parent_id], pom)
    return b.build()


# Where Maven and its plugins find tests: surefire/failsafe (`src/test`), the invoker plugin (`src/it`).
_TEST_SOURCE_DIR = re.compile(r"(?:^|/)src/(?:test|it|integration-?test)[^/]*/")


def _has_test_sources(ctx: Context, directory: str) -> bool:
    """Whether any module under `directory` has test sources."""
    paths: list[str] = ctx.memo(
        "jvm.test_sources", lambda: [p for p in ctx.sizes if "src/" in p and _TEST_SOURCE_DIR.search(p)]
    )
    if directory in (".", ""):
        return bool(paths)
    return any(p.startswith(directory + "/") for p in paths)


def _dependencies(project: Element) -> list[Element]:
    """The `<dependency>` elements of a plain build: the project's own and those of the profiles active by
    default (`<activeByDefault>true</activeByDefault>`), which Maven applies unless another profile is chosen."""
    found = _children(_child(project, "dependencies"), "dependency")
    for profile in _children(_child(project, "profiles"), "profile"):
        if _text(_child(_child(profile, "activation"), "activeByDefault")) == "true":
            found += _children(_child(profile, "dependencies"), "dependency")
    return found


def _maven_java(root: Element, props: dict[str, str], pom: str) -> tuple[str, Evidence] | None:
    for key in (
        "maven.compiler.release",
        "maven.compiler.source",
        "maven.compiler.target",
        "java.version",
        "java.release",
        "jdk.version",
        "javaVersion",
        "java.target",
    ):
        value = _resolve(props.get(key), props)
        if value:
            return value, ev(pom, key=f"properties.{key}", excerpt=value)
    for plugin in _plugins(root):
        aid = _text(_child(plugin, "artifactId"))
        conf = _child(plugin, "configuration")
        if aid == "maven-compiler-plugin":
            for key in ("release", "source", "target"):
                value = _resolve(_text(_child(conf, key)), props)
                if value:
                    return value, ev(pom, key=f"maven-compiler-plugin.{key}", excerpt=value)
        if aid == "maven-toolchains-plugin":
            for el in conf.iter() if conf is not None else []:
                if _local(el.tag) == "version" and _text(el):
                    value = _resolve(_text(el), props)
                    if value:
                        return value, ev(pom, key="maven-toolchains-plugin.jdk.version", excerpt=value)
    return None


def _enforced_jdk(root: Element, props: dict[str, str], pom: str) -> tuple[str, Evidence] | None:
    """The JDK range a `maven-enforcer-plugin` `requireJavaVersion` rule accepts (`[17,22)`, `11`)."""
    for plugin in _plugins(root):
        if _text(_child(plugin, "artifactId")) != "maven-enforcer-plugin":
            continue
        for el in plugin.iter():
            if _local(el.tag) == "requireJavaVersion":
                value = _resolve(_text(_child(el, "version")), props)
                if value:
                    return value, ev(pom, key="maven-enforcer-plugin.requireJavaVersion", excerpt=value)
    return None


# One Maven version range: `[17,22)`, `(,11]`, `[21,)`, or a bare version (that version or newer).
_MAVEN_RANGE = re.compile(r"([\[(])\s*([^,\])]*)\s*,\s*([^\])]*)\s*([\])])|([^,\[\]()]+)")


def _in_maven_range(line: int, spec: str) -> bool:
    """Whether Java release `line` satisfies a Maven version range spec (a union of ranges)."""
    for m in _MAVEN_RANGE.finditer(spec):
        if m.group(5):
            low = _java_line(m.group(5))
            if low is not None and line >= int(low):
                return True
            continue
        opening, low_text, high_text, closing = m.group(1), m.group(2), m.group(3), m.group(4)
        low, high = _java_line(low_text) if low_text else None, _java_line(high_text) if high_text else None
        if low is not None and (line < int(low) or (opening == "(" and line == int(low))):
            continue
        if high is not None and (line > int(high) or (closing == ")" and line == int(high))):
            continue
        return True
    return False


def _set_enforced_jdks(b: StackBuilder, spec: str, evidence: Evidence, *, release: str | None) -> bool:
    """When the build's enforcer rule refuses the JDK of the release it compiles for (a library compiled for
    Java 8 whose plugins need JDK 17), CI must build on the JDKs the rule accepts: every supported release of a
    bounded range (`[17,22)`: 17 and 21), or the lowest one of an open range. False, changing nothing, when the
    release's own JDK is accepted or no supported release is."""
    line = _java_line(release) if release else None
    if line is not None and _in_maven_range(int(line), spec):
        return False
    accepted = [v for v in runtimes.supported_versions("java", None, b.ctx.today) if _in_maven_range(int(v), spec)]
    if not accepted:
        return False
    bounded = all(m.group(5) is None and bool(m.group(3)) for m in _MAVEN_RANGE.finditer(spec))
    b.set(
        "versions",
        accepted if bounded else accepted[:1],
        0.8,
        evidence,
        why="the supported JDKs the build's enforcer rule accepts (it refuses to build on any other)",
    )
    return True


# ---- Gradle ------------------------------------------------------------------------------------------------


def _gradle(ctx: Context) -> list[Stack]:
    settings = sorted(
        Context.dirname(p)
        for name in ("settings.gradle", "settings.gradle.kts")
        for p in ctx.find(name)
        if _is_build_root(p)
    )
    builds = sorted(p for name in ("build.gradle", "build.gradle.kts") for p in ctx.find(name) if _is_build_root(p))
    roots: list[str] = []
    for d in settings:
        # A settings script inside another Gradle build is an included build (build-logic, buildSrc), unless it
        # is a build of its own that consumes the enclosing one from source (`includeBuild '..'`: examples, a
        # smoke test) with its own wrapper: CI runs it from its directory.
        outer = [r for r in settings if is_under(d, r) and d != r]
        if outer and not (ctx.exists(Context.join(d, "gradlew")) and _consumes_outer_build(ctx, d, outer)):
            continue
        if d not in roots:
            roots.append(d)
    for p in builds:
        d = Context.dirname(p)
        if "buildSrc" in d.split("/") or any(is_under(d, r) for r in roots):
            continue
        # A lone build script without settings, wrapper or JVM sources is a helper (an Android packaging
        # stub, a docs tool), not a build CI runs.
        if ctx.exists(Context.join(d, "gradlew")) or source_bytes(ctx, _EXTS, d):
            roots.append(d)
    stacks = []
    for r in roots:
        if _mobile_shell(ctx, r):
            continue
        files = [p for p in builds if is_under(p, r)]
        files += [
            s for s in (Context.join(r, "settings.gradle"), Context.join(r, "settings.gradle.kts")) if ctx.exists(s)
        ]
        stacks.append(_gradle_stack(ctx, r, files))
    return stacks


def _included_builds(ctx: Context, directory: str) -> set[str]:
    """The repository paths the settings of the Gradle build in `directory` names in `includeBuild(...)`."""
    out: set[str] = set()
    for name in ("settings.gradle", "settings.gradle.kts"):
        text = ctx.text(Context.join(directory, name)) or ""
        out.update(posixpath.normpath(posixpath.join(directory, m.group(1))) for m in _INCLUDE_BUILD.finditer(text))
    return out


def _consumes_outer_build(ctx: Context, directory: str, outer: list[str]) -> bool:
    """Whether the nested build in `directory` includes one of the `outer` builds, which do not include it."""
    mine = _included_builds(ctx, directory)
    return any(posixpath.normpath(r) in mine and directory not in _included_builds(ctx, r) for r in outer)


_INCLUDE_BUILD = re.compile(r"""includeBuild\s*\(?\s*["']([^"']+)["']""")


# Cross-platform app frameworks whose `android/` directory holds the native shell of the app: its Gradle build
# resolves the framework from the app's own install (node_modules, the Flutter SDK), so it is built through the
# app, not as a project of its own.
_MOBILE_APP_DEPENDENCIES = ("react-native", "@capacitor/android", "expo")


def _mobile_shell(ctx: Context, directory: str) -> bool:
    """Whether the Gradle build in `directory` is the `android/` shell of a React Native, Expo, Capacitor or
    Flutter app in the parent directory."""
    if directory.rpartition("/")[2] != "android":
        return False
    parent = Context.dirname(directory)
    if ctx.exists(Context.join(parent, "pubspec.yaml")):
        return True
    pkg = ctx.json(Context.join(parent, "package.json")) if ctx.exists(Context.join(parent, "package.json")) else None
    if not isinstance(pkg, dict):
        return False
    deps = {name for key in ("dependencies", "devDependencies") if isinstance(pkg.get(key), dict) for name in pkg[key]}
    return any(d in deps for d in _MOBILE_APP_DEPENDENCIES)


def _gradle_stack(ctx: Context, directory: str, files: list[str]) -> Stack:
    anchor = next((f for f in files if Context.dirname(f) == directory and "settings" in f), None) or next(
        (f for f in files if Context.dirname(f) == directory), files[0]
    )
    language = _language(ctx, directory)
    b = StackBuilder(ctx, directory, language, ev(anchor), 0.9)
    b.set("package_manager", "gradle", 0.95, ev(anchor))
    b.add("manifests", sorted(files), 0.95, ev(anchor))
    subprojects = sorted({Context.dirname(f) for f in files if Context.dirname(f) != directory})
    if subprojects:
        b.add("workspace_members", subprojects, 0.8, ev(anchor))
    wrapper_path = Context.join(directory, "gradlew")
    gradle = "./gradlew" if ctx.exists(wrapper_path) else "gradle"
    if not ctx.exists(wrapper_path):
        b.finding(
            "no-gradle-wrapper",
            "info",
            f"{anchor}: no Gradle wrapper (gradlew), so CI must install a Gradle version the build may not expect",
            ev(anchor),
        )
    locks = [p for p in ctx.find("gradle.lockfile") if is_under(p, directory)]
    b.add("lockfiles", locks, 0.9, *(ev(p) for p in locks))
    b.set("test_tool", "gradle", 0.9, ev(anchor), why="tests run by Gradle's test/check tasks")
    b.set("test_commands", [f"{gradle} check"], 0.85, ev(wrapper_path if gradle == "./gradlew" else anchor))
    b.set("build_commands", [f"{gradle} assemble"], 0.7, ev(anchor))

    # The root scripts and the version catalog first: they set what subprojects inherit.
    catalog = Context.join(directory, "gradle/libs.versions.toml")
    ordered = sorted(files, key=lambda f: (Context.dirname(f) != directory, f))
    # Convention plugins come right after the root: builds set the toolchain for every module there.
    ordered[1:1] = ([catalog] if ctx.exists(catalog) else []) + _convention_plugins(ctx, directory)
    texts = {f: ctx.text(f) or "" for f in ordered}
    version: tuple[str, Evidence] | None = None
    deps: list[str] = []
    for f, text in texts.items():
        for pattern in _GRADLE_VERSION:
            m = pattern.search(text)
            if m and version is None:
                version = (m.group(1), ev(f, line=line_of(text, m.start()), excerpt=m.group(0)))
        for m in _GRADLE_LINT.finditer(text):
            b.add("lint_tools", ["other"], 0.7, ev(f, line=line_of(text, m.start()), excerpt=m.group(0)))
            break
        deps += [f"{g}:{a}" for g, a in _GRADLE_DEP.findall(text)]
        deps += [f"{g}:{a}" for g, a in re.findall(r"module\s*=\s*[\"']([\w.\-]+):([\w.\-]+)[\"']", text)]
    # Checkstyle/detekt configurations are applied by the build even when its scripts are not readable.
    lint_cfg = next((p for p in ctx.find_matching(_LINT_CONFIG) if is_under(p, directory)), None)
    if lint_cfg:
        b.add("lint_tools", ["other"], 0.6, ev(lint_cfg))
    version = _reconcile(b, version, _version_files(ctx, directory))
    sibling = Context.join(directory, "pom.xml")
    sibling_root = ctx.xml(sibling) if ctx.exists(sibling) else None
    if version is None and sibling_root is not None:
        version = _maven_java(sibling_root, _props(sibling_root), sibling)
    if sibling_root is not None and not deps:
        props = _props(sibling_root)
        deps = [
            f"{_resolve(_text(_child(d, 'groupId')), props)}:{_text(_child(d, 'artifactId'))}"
            for d in _children(_child(sibling_root, "dependencies"), "dependency")
        ]
        services_from_deps(b, "java", deps, sibling, confidence=0.5)
    else:
        services_from_deps(b, "java", deps, anchor, confidence=0.6)
    if version:
        _set_java(b, *version)
    else:
        _undeclared_java(b, ev(anchor))
    _raise_to_build_jdk(b, _gradle_jdk_floor(ctx, directory, texts))
    _frameworks(b, deps, anchor)
    if any("com.android" in t for t in texts.values()):
        b.add("frameworks", ["android"], 0.8, ev(anchor))
    return b.build()


_WRAPPER_VERSION = re.compile(r"distributionUrl=.*?gradle-(\d+)(?:\.[\d.]+)?-(?:bin|all)\.zip")
# The oldest JDK that runs the build tools themselves: Gradle 9 needs Java 17, and so does the Android Gradle
# Plugin since 8.0 (2023). A Java release below it is only the bytecode target (`--release 8` on a newer JDK).
BUILD_JDK_FLOOR = 17


def _gradle_jdk_floor(ctx: Context, directory: str, texts: dict[str, str]) -> tuple[str, Evidence] | None:
    wrapper = Context.join(directory, "gradle/wrapper/gradle-wrapper.properties")
    text = ctx.text(wrapper) if ctx.exists(wrapper) else None
    m = _WRAPPER_VERSION.search(text or "")
    if m and int(m.group(1)) >= 9:
        return str(BUILD_JDK_FLOOR), ev(wrapper, key="distributionUrl", line=line_of(text or "", m.start()))
    android = next((f for f, t in texts.items() if "com.android" in t), None)
    if android:
        return str(BUILD_JDK_FLOOR), ev(android, excerpt="com.android")
    return None


def _raise_to_build_jdk(b: StackBuilder, floor: tuple[str, Evidence] | None) -> None:
    """Java releases below the JDK the build tool needs become that JDK: CI builds on it, for the lower target."""
    if floor is None or not b.stack.versions:
        return
    need, evidence = floor
    lines = [v for v in b.stack.versions if v.isdigit()]
    if not lines or min(int(v) for v in lines) >= int(need):
        return
    raised = unique(need if v.isdigit() and int(v) < int(need) else v for v in b.stack.versions)
    b.set("versions", raised, 0.7, evidence, why=f"the build tool runs on Java {need} or newer")


# ---- shared ------------------------------------------------------------------------------------------------


def _language(ctx: Context, directory: str) -> Language:
    totals = source_bytes(ctx, _EXTS, directory)
    return "kotlin" if totals.get("kotlin", 0) > totals.get("java", 0) else "java"


def _java_line(value: str) -> str | None:
    # "1.8" is Java 8; "17", "17.0.2" and "21.0.1-tem" are their major release.
    m = re.match(r"^\s*(?:1[._](?=\d))?(\d+)", value)
    return str(int(m.group(1))) if m else None


def _reconcile(
    b: StackBuilder, build: tuple[str, Evidence] | None, pin: tuple[str, Evidence] | None
) -> tuple[str, Evidence] | None:
    """The build's Java release wins; a JDK pinned for developers (`.java-version`, `.sdkmanrc`) that is older
    cannot compile it, which is a conflict worth reporting."""
    if build and pin:
        need, have = _java_line(build[0]), _java_line(pin[0])
        if need and have and int(have) < int(need):
            b.finding(
                "version-conflict",
                "error",
                f"{pin[1].cite()} pins JDK {have}, but {build[1].cite()} compiles for Java {need}",
                pin[1],
                build[1],
            )
    return build or pin


_SCRIPT_PLUGIN = re.compile(r".+\.gradle(?:\.kts)?")
_PLUGIN_SOURCES = re.compile(r"(?:^|/)src/main/(?:kotlin|groovy)/")


def _convention_plugins(ctx: Context, directory: str) -> list[str]:
    """Precompiled script plugins of the build's `buildSrc` or included builds (`build-logic/src/main/kotlin/
    *.gradle.kts`): where multi-project builds configure the Java toolchain of every module at once."""
    return [
        p
        for p in ctx.find_matching(_SCRIPT_PLUGIN)
        if is_under(p, directory) and _PLUGIN_SOURCES.search(p[len(directory) + 1 :] if directory != "." else p)
    ]


def _undeclared_java(b: StackBuilder, evidence: Evidence) -> None:
    """No Java release anywhere in the build: the matrix is the Java releases supported on the analysis date
    (the long-term-support lines and the current feature release), the range such a build must work on."""
    matrix(b, "java", None, evidence, label="no declared Java release", confidence=0.4)


def _set_java(b: StackBuilder, value: str, evidence: Evidence) -> None:
    line = _java_line(value)
    if line:
        # The release the build targets; the JDKs CI builds it on may be newer or several, so it is for review.
        pinned(b, "java", line, evidence, confidence=0.7)


def _version_files(ctx: Context, directory: str) -> tuple[str, Evidence] | None:
    for d in dict.fromkeys([directory, "."]):
        jv = files_under(ctx, d, [".java-version"])
        if jv and (text := (ctx.text(jv[0]) or "").strip()):
            return text.split()[0], ev(jv[0], line=1)
        sdk = files_under(ctx, d, [".sdkmanrc"])
        if sdk:
            for i, line in enumerate((ctx.text(sdk[0]) or "").splitlines(), 1):
                if line.strip().startswith("java="):
                    return line.split("=", 1)[1].strip(), ev(sdk[0], key="java", line=i)
    managed = tool_pin(ctx, directory, ("java",))
    if managed:
        # "temurin-21.0.4+7.0.LTS", "openjdk-17": the release is the first number
        m = re.search(r"(\d+(?:\.\d+)*)", managed[0])
        if m:
            return m.group(1), managed[1]
    return None


_FRAMEWORKS = (
    ("org.springframework.boot:", "spring-boot"),
    ("io.quarkus:", "quarkus"),
    ("io.micronaut", "micronaut"),
    ("io.ktor:", "ktor"),
    ("io.dropwizard:", "dropwizard"),
    ("io.vertx:", "vertx"),
)


def _frameworks(b: StackBuilder, deps: list[str], manifest: str) -> None:
    for dep in deps:
        for prefix, name in _FRAMEWORKS:
            if dep.startswith(prefix):
                b.add("frameworks", [name], 0.9, ev(manifest, key=dep))
