"""The analyzer: one `RepoSource` in, one `Analysis` out.

`analyze()` indexes the repository once (a `Context`), runs every ecosystem detector, then the repository-level
passes that no single ecosystem owns: existing CI, Dockerfiles and compose files, deployment hints, monorepo
tools, the backing services each stack's tests need, language shares, and repository-wide findings.

Existing CI configuration is only ever *reported*: no stack field is read from it, so the analysis is the same
for a repository that has no CI yet.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable
from typing import Any

from autodevops.engine.bounds import bound_lists
from autodevops.engine.detect import DETECTORS, file_checkers
from autodevops.engine.detect import services as svc
from autodevops.engine.detect.base import Context, unique
from autodevops.engine.model import (
    GENERATED_MARK,
    Analysis,
    CIProvider,
    ComposeFile,
    ComposeService,
    DeployHint,
    Dockerfile,
    DockerInfo,
    Evidence,
    ExistingCI,
    LanguageShare,
    Monorepo,
    Provenance,
    ScanStats,
    Service,
    Stack,
    UpdateBot,
)
from autodevops.engine.source import RepoSource


def analyze(source: RepoSource, today: dt.date | None = None) -> Analysis:
    """Analyze `source` as of `today` (default: the current UTC date), the date runtime EOL is judged against."""
    today = today or dt.datetime.now(dt.UTC).date()
    ctx = Context(source, today)
    stacks: list[Stack] = []
    for detector in DETECTORS:
        try:
            stacks.extend(detector(ctx))
        except Exception as exc:  # noqa: BLE001 - one broken detector must not lose the rest of the analysis
            name = getattr(detector, "__module__", repr(detector)).rsplit(".", 1)[-1]
            ctx.finding("detector-error", "error", f"the {name} detector failed: {type(exc).__name__}: {exc}")
    stacks.sort(key=lambda s: (s.path != ".", s.path, s.language))

    docker = detect_docker(ctx)
    attach_services(ctx, stacks, docker)
    languages = _languages(ctx)
    file_checkers.attach(ctx, stacks, languages)
    analysis = Analysis(
        source=source.name,
        analyzed_on=today,
        default_branch=getattr(source, "default_branch", None),
        stacks=stacks,
        languages=languages,
        docker=docker,
        existing_ci=detect_existing_ci(ctx),
        update_bots=detect_update_bots(ctx),
        deploy=detect_deploy(ctx),
        monorepo=detect_monorepo(ctx),
    )
    analysis.findings = _dedupe_findings(ctx)
    analysis.stats = ScanStats(
        files=len(ctx.entries),
        bytes=sum(ctx.sizes.values()),
        files_read=ctx.files_read,
        skipped=int(getattr(source, "skipped", 0) or 0),
    )
    bound_lists(analysis)
    return analysis


def _dedupe_findings(ctx: Context) -> list[Any]:
    seen: set[tuple[str, str, str | None]] = set()
    out = []
    for f in ctx.findings:
        key = (f.code, f.message, f.stack)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


# ---- languages ---------------------------------------------------------------------------------------------


def _languages(ctx: Context) -> list[LanguageShare]:
    """Language shares by bytes, from the linguist-like module when it is installed with the engine."""
    try:
        module = importlib.import_module("autodevops.engine.languages")
    except ImportError:
        return []
    fn: Callable[[Context], list[LanguageShare]] | None = getattr(module, "language_shares", None)
    if fn is None:
        return []
    try:
        return list(fn(ctx))
    except Exception as exc:  # noqa: BLE001 - language shares are informative; never fail the analysis on them
        ctx.finding("detector-error", "error", f"language shares failed: {type(exc).__name__}: {exc}")
        return []


# ---- existing CI -------------------------------------------------------------------------------------------

_CI_FILES: tuple[tuple[re.Pattern[str], CIProvider], ...] = (
    (re.compile(r"\.github/workflows/[^/]+\.ya?ml"), "github-actions"),
    (re.compile(r"\.gitlab-ci\.ya?ml"), "gitlab-ci"),
    (re.compile(r"\.circleci/config\.ya?ml"), "circleci"),
    (
        re.compile(r"azure-pipelines\.ya?ml|\.azure-pipelines/[^/]+\.ya?ml|\.?azure-pipelines/.+\.ya?ml"),
        "azure-pipelines",
    ),
    (re.compile(r"\.travis\.ya?ml"), "travis-ci"),
    (re.compile(r"Jenkinsfile|.+\.jenkinsfile|jenkins/Jenkinsfile.*"), "jenkins"),
    (re.compile(r"\.?appveyor\.ya?ml"), "appveyor"),
    (re.compile(r"bitbucket-pipelines\.ya?ml"), "bitbucket-pipelines"),
    (re.compile(r"\.buildkite/[^/]*pipeline[^/]*\.ya?ml|buildkite\.ya?ml"), "buildkite"),
    (re.compile(r"\.drone\.ya?ml"), "drone"),
    (re.compile(r"\.woodpecker\.ya?ml|\.woodpecker/[^/]+\.ya?ml"), "woodpecker"),
    (re.compile(r"\.cirrus\.ya?ml|\.semaphore/semaphore\.ya?ml|codefresh\.ya?ml|cloudbuild\.ya?ml"), "other"),
)


_CI_DIRS = (
    ".github/workflows/",
    ".circleci/",
    ".azure-pipelines/",
    "azure-pipelines/",
    ".buildkite/",
    ".woodpecker/",
    ".semaphore/",
    "jenkins/",
)


def detect_existing_ci(ctx: Context) -> list[ExistingCI]:
    """Every CI configuration file, by provider. Reported only: never an input to stack fields."""
    out: list[ExistingCI] = []
    # CI configuration lives at the root or in a few well-known directories: test only those paths.
    candidates = list(ctx.listdir("."))
    for directory, names in ctx.by_dir.items():
        if (directory + "/").startswith(_CI_DIRS):
            candidates.extend(f"{directory}/{n}" for n in names)
    for path in sorted(candidates):
        for pattern, provider in _CI_FILES:
            if pattern.fullmatch(path):
                out.append(ExistingCI(provider=provider, path=path))
                break
    return out


_DEPENDABOT = re.compile(r"\.github/dependabot\.ya?ml")
_RENOVATE = re.compile(r"(?:\.github/|\.gitlab/)?renovate\.json5?|\.renovaterc(?:\.json5?)?")


def detect_update_bots(ctx: Context) -> list[UpdateBot]:
    """The dependency-update bots the repository configures itself: a second configuration beside its own would
    open every update twice, and a Dependabot file managed by other tooling (a template's "do not edit" copy) would
    fail that tooling's checks. A dependabot.yml this generator wrote is not the repository's own: it is ours to
    regenerate."""
    candidates = [*ctx.listdir("."), *(f"{d}/{n}" for d in (".github", ".gitlab") for n in ctx.listdir(d))]
    out: list[UpdateBot] = []
    for path in sorted(candidates):
        if _DEPENDABOT.fullmatch(path):
            if not (ctx.text(path) or "").lstrip("# ").startswith(GENERATED_MARK):
                doc = ctx.yaml(path)
                updates = doc.get("updates") if isinstance(doc, dict) else None
                ecosystems = {u.get("package-ecosystem") for u in updates or [] if isinstance(u, dict)}
                out.append(UpdateBot(bot="dependabot", path=path, updates_actions="github-actions" in ecosystems))
        elif _RENOVATE.fullmatch(path):
            out.append(UpdateBot(bot="renovate", path=path))
    manifest = ctx.json("package.json") if ctx.exists("package.json") else None
    if isinstance(manifest, dict) and "renovate" in manifest:
        out.append(UpdateBot(bot="renovate", path="package.json"))
    return out


# ---- Docker --------------------------------------------------------------------------------------------------

_DOCKERFILE = re.compile(r"(?:Dockerfile|Containerfile)(?:[.-][\w.-]+)?|[\w.-]+\.(?:dockerfile|Dockerfile)")
_COMPOSE = re.compile(r"(?:docker-)?compose(?:[.-][\w.-]+)?\.ya?ml")
_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", re.I | re.M)
_EXPOSE = re.compile(r"^\s*EXPOSE\s+(.+)$", re.I | re.M)


def detect_docker(ctx: Context) -> DockerInfo:
    """Dockerfiles (base images, exposed ports, multi-stage) and compose files (services and what they are)."""
    info = DockerInfo()
    for path in ctx.find_matching(_DOCKERFILE):
        if _is_vendored(path):
            continue
        text = ctx.text(path)
        if text is None:
            info.dockerfiles.append(Dockerfile(path=path))
            continue
        stages: set[str] = set()
        bases: list[str] = []
        froms = _FROM.findall(text)
        for image, alias in froms:
            if image.lower() not in stages:
                bases.append(image)
            if alias:
                stages.add(alias.lower())
        ports: list[int] = []
        for m in _EXPOSE.finditer(text):
            for tok in m.group(1).split():
                num = tok.split("/", 1)[0]
                if num.isdigit() and 0 < int(num) < 65536:
                    ports.append(int(num))
        info.dockerfiles.append(
            Dockerfile(
                path=path, base_images=unique(bases), exposed_ports=sorted(set(ports)), multi_stage=len(froms) > 1
            )
        )
    for path in ctx.find_matching(_COMPOSE):
        if _is_vendored(path):
            continue
        doc = ctx.yaml(path)
        if not isinstance(doc, dict):
            continue
        services = doc.get("services")
        if not isinstance(services, dict):
            continue
        cf = ComposeFile(path=path)
        for name, spec in services.items():
            if not isinstance(spec, dict):
                continue
            image = spec.get("image")
            image = str(image) if isinstance(image, str | int | float) else None
            # A service built from the repository is the application itself; only an image says what a backing
            # service is (its compose name helps for images of unknown publishers).
            kind: Service | None = svc.service_from_image(image, name=str(name)) if image else None
            cf.services.append(ComposeService(name=str(name), image=image, build="build" in spec, kind=kind))
        info.compose_files.append(cf)
    return info


_VENDORED_PARTS = frozenset({"node_modules", "vendor", "third_party", "testdata", "fixtures", "__fixtures__"})


def _is_vendored(path: str) -> bool:
    return any(part in _VENDORED_PARTS for part in path.split("/")[:-1])


# ---- services ------------------------------------------------------------------------------------------------

# Where dotenv-style files that describe the services a project expects live.
_ENV_FILES = (".env.example", ".env.sample", ".env.dist", ".env.template", ".env.test", ".env.testing", ".env.ci")
# Directories of a stack's test suites: environment examples there say what the tests connect to.
_TEST_SUITE_DIR = re.compile(r"(?:^|[-_])(?:tests?|spec|e2e)(?:$|[-_])", re.I)


def _env_files(ctx: Context, stack: Stack) -> list[str]:
    """Environment examples of a stack: at its root, and in its test-suite directories (`tests/`,
    `integration-tests/`) just below it, workspace members included."""
    every: list[str] = ctx.memo(
        "analyze.env_files", lambda: [p for p in ctx.sizes if p.rsplit("/", 1)[-1] in _ENV_FILES]
    )
    dirs = [stack.path]
    prefix = "" if stack.path == "." else stack.path + "/"
    for path in every:
        rest = path[len(prefix) :] if path.startswith(prefix) else None
        if rest and rest.count("/") == 1 and rest.rsplit("/", 1)[1] in _ENV_FILES:
            sub = rest.split("/", 1)[0]
            if _TEST_SUITE_DIR.search(sub):
                dirs.append(Context.join(stack.path, sub))
    return [Context.join(d, n) for d in dict.fromkeys(dirs) for n in _ENV_FILES]


# Compose files whose services belong to the development/test environment, not only to deployment.
_COMPOSE_DIRS = ("", ".devcontainer", "docker", ".docker", "dev", "tests", "test")


def attach_services(ctx: Context, stacks: list[Stack], docker: DockerInfo) -> None:
    """Add the backing services each stack's tests need, from compose files and env examples near its root.

    Detectors add driver-based services themselves (they know their dependency lists); this pass adds what the
    repository's environment files say. A compose file counts for the stack whose root (or `.devcontainer`,
    `docker/`...) holds it; env examples count for the stack at their directory or whose test suites they
    configure (`integration-tests/.env.example`). When several stacks share a
    root and some of them use database or cache clients, the services are theirs: a front end built beside a
    back end (a JavaScript stack next to a Python one) does not get the back end's database.
    """
    with_clients = {stack.path for stack in stacks if stack.services}
    roots = {stack.path for stack in stacks}
    for stack in stacks:
        if not stack.services and stack.path in with_clients:
            continue
        found: dict[Service, Evidence] = {}
        for cf in docker.compose_files:
            directory = Context.dirname(cf.path)
            if not _near(directory, stack.path, roots):
                continue
            for cs in cf.services:
                if cs.kind is not None and cs.kind not in found:
                    found[cs.kind] = Evidence(file=cf.path, key=f"services.{cs.name}", excerpt=cs.image)
        for path in _env_files(ctx, stack):
            if not ctx.exists(path):
                continue
            text = ctx.text(path) or ""
            for service, key in svc.services_from_env(text):
                found.setdefault(service, Evidence(file=path, key=key))
        new = [s for s in found if s not in stack.services]
        if not new:
            continue
        stack.services = [*stack.services, *new]
        prov = stack.provenance.get("services")
        evidence = [found[s] for s in new]
        if prov is None:
            stack.provenance["services"] = Provenance(
                evidence=evidence,
                confidence=0.7,
                justification="backing services declared by the project's compose or environment files",
            )
        else:
            prov.evidence.extend(evidence)


def _near(directory: str, stack_path: str, roots: set[str]) -> bool:
    if any(directory == Context.join(stack_path, sub or ".") for sub in _COMPOSE_DIRS):
        return True
    # A test suite's own directory just below the stack (`integration-tests/`, `e2e/`), as for env examples:
    # a compose file there starts what those tests run against, unless the suite is a stack of its own.
    prefix = "" if stack_path == "." else stack_path + "/"
    rest = directory[len(prefix) :] if directory.startswith(prefix) else ""
    return bool(rest) and "/" not in rest and bool(_TEST_SUITE_DIR.search(rest)) and directory not in roots


# ---- deployment hints ----------------------------------------------------------------------------------------

_DEPLOY_FILES: dict[str, str] = {
    "Procfile": "heroku",
    "app.json": "heroku",
    "fly.toml": "fly",
    "vercel.json": "vercel",
    "netlify.toml": "netlify",
    "railway.json": "railway",
    "railway.toml": "railway",
    "render.yaml": "render",
    "app.yaml": "google-app-engine",
    "Chart.yaml": "helm",
    "serverless.yml": "serverless",
    "serverless.yaml": "serverless",
    "template.yaml": "aws-sam",
    "samconfig.toml": "aws-sam",
    "cdk.json": "aws-cdk",
    "wrangler.toml": "cloudflare-workers",
    "wrangler.json": "cloudflare-workers",
    "firebase.json": "firebase",
    "skaffold.yaml": "kubernetes",
    "kustomization.yaml": "kubernetes",
    "kustomization.yml": "kubernetes",
    "amplify.yml": "aws-amplify",
    "Dockerrun.aws.json": "aws-elastic-beanstalk",
}
_K8S_DIRS = ("k8s/", "kubernetes/", "deploy/", "manifests/", "deployment/", ".k8s/")
_K8S_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Service", "Ingress", "CronJob", "Job"})


def detect_deploy(ctx: Context) -> list[DeployHint]:
    """Deployment targets the repository already declares."""
    hints: list[DeployHint] = []
    for name, kind in _DEPLOY_FILES.items():
        for path in ctx.find(name):
            if _is_vendored(path):
                continue
            if name == "app.yaml" and not _is_app_engine(ctx, path):
                continue
            if (
                name == "template.yaml"
                and "AWSTemplateFormatVersion" not in (ctx.text(path) or "")
                and ("AWS::Serverless" not in (ctx.text(path) or ""))
            ):
                continue
            if name == "app.json" and not isinstance((ctx.json(path) or {}), dict):
                continue
            if name == "app.json" and not {"buildpacks", "formation", "addons", "scripts"} & set(ctx.json(path) or {}):
                continue
            hints.append(DeployHint(kind=kind, path=path, evidence=[Evidence(file=path)]))
    manifests = sorted(
        f"{directory}/{name}"
        for directory, names in ctx.by_dir.items()
        if (directory + "/").startswith(_K8S_DIRS)
        for name in names
        if name.endswith((".yaml", ".yml"))
    )
    for path in manifests:
        kinds = {d.get("kind") for d in ctx.yaml_all(path) if isinstance(d, dict)}
        found = sorted(k for k in kinds if isinstance(k, str) and k in _K8S_KINDS)
        if found:
            evidence = [Evidence(file=path, key="kind", excerpt=", ".join(found))]
            hints.append(DeployHint(kind="kubernetes", path=path, evidence=evidence))
    return hints


def _is_app_engine(ctx: Context, path: str) -> bool:
    doc = ctx.yaml(path)
    return isinstance(doc, dict) and ("runtime" in doc or ("env" in doc and "entrypoint" in doc))


# ---- monorepo ------------------------------------------------------------------------------------------------


def detect_monorepo(ctx: Context) -> Monorepo | None:
    """Workspace and monorepo tools declared at the repository root."""
    tools: list[str] = []
    evidence: list[Evidence] = []

    def add(tool: str, file: str, key: str | None = None) -> None:
        if tool not in tools:
            tools.append(tool)
            evidence.append(Evidence(file=file, key=key))

    pkg = ctx.json("package.json") if ctx.exists("package.json") else None
    if isinstance(pkg, dict) and pkg.get("workspaces"):
        add("npm-workspaces", "package.json", "workspaces")
    simple = {
        "pnpm-workspace.yaml": "pnpm-workspace",
        "turbo.json": "turbo",
        "nx.json": "nx",
        "lerna.json": "lerna",
        "rush.json": "rush",
        "go.work": "go-work",
    }
    for file, tool in simple.items():
        if ctx.exists(file):
            add(tool, file)
    cargo = ctx.toml("Cargo.toml") if ctx.exists("Cargo.toml") else None
    if isinstance(cargo, dict) and isinstance(cargo.get("workspace"), dict):
        add("cargo-workspace", "Cargo.toml", "[workspace]")
    pyproject = ctx.toml("pyproject.toml") if ctx.exists("pyproject.toml") else None
    if isinstance(pyproject, dict):
        tool_table = pyproject.get("tool")
        uv = tool_table.get("uv") if isinstance(tool_table, dict) else None
        if isinstance(uv, dict) and isinstance(uv.get("workspace"), dict):
            add("uv-workspace", "pyproject.toml", "[tool.uv.workspace]")
    for name in ("deno.json", "deno.jsonc"):
        deno = ctx.json(name, comments=True) if ctx.exists(name) else None
        if isinstance(deno, dict) and deno.get("workspace"):
            add("deno-workspace", name, "workspace")
    if ctx.exists("settings.gradle") or ctx.exists("settings.gradle.kts"):
        gradle = "settings.gradle.kts" if ctx.exists("settings.gradle.kts") else "settings.gradle"
        if "include" in (ctx.text(gradle) or ""):
            add("gradle-multi-project", gradle, "include")
    if ctx.exists("pom.xml") and "<modules>" in (ctx.text("pom.xml") or ""):
        add("maven-multi-module", "pom.xml", "modules")
    return Monorepo(tools=tools, evidence=evidence) if tools else None
