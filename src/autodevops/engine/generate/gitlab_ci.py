"""`.gitlab-ci.yml` from the same plan as the GitHub workflows: stages, jobs, services, caches, rules, needs.

Toolchains come from official container images (GitLab runs every job in one) instead of setup actions; the
version matrix is `parallel: matrix` over an image tag variable. Caches live under the project directory
(GitLab only caches paths inside it) and are keyed on the stack's lockfiles.
"""

from __future__ import annotations

import posixpath
import re
import shlex

from autodevops.engine.generate.plan import Plan, StackPlan
from autodevops.engine.generate.yamlout import Block, Flow, Map, Seq, dump
from autodevops.engine.model import GENERATED_MARK

HEADER = [
    f"{GENERATED_MARK} from the repository's own configuration; regenerate with `autodevops generate`.",
]
MR = '$CI_PIPELINE_SOURCE == "merge_request_event"'
DEFAULT_BRANCH = "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"


def _tag(plan: StackPlan, version: str) -> str:
    """An image tag for a version the setup actions would accept (`stable`, `8.0.x`, `v2.x` → a real tag)."""
    v = version.removesuffix(".x").lstrip("v")
    if v.startswith("lts") and plan.toolchain == "node":
        return "lts"  # `lts/*`, `lts/iron`: the node image's moving LTS tag
    if plan.toolchain == "python" and re.fullmatch(r"\d+\.\d+t", v):
        return v[:-1]  # no official free-threaded image: the same line's regular build
    if not v or not v[0].isdigit():
        return "latest"
    return v


def _image_for(plan: StackPlan, version: str) -> str:
    """The image for one version; PyPy lines (`pypy3.10`) come from the pypy image."""
    if plan.toolchain == "python" and version.startswith("pypy"):
        return f"pypy:{version.removeprefix('pypy') or 'latest'}"
    return _image(plan, None, _tag(plan, version))


def _image(plan: StackPlan, version_var: str | None, tag: str | None = None) -> str:
    v = f"${version_var}" if version_var else (tag or _tag(plan, plan.latest))
    pm = plan.stack.package_manager
    images = {
        "python": f"python:{v}",
        "node": f"node:{v}",
        "bun": f"oven/bun:{v}",
        "deno": f"denoland/deno:{v}",
        "go": f"golang:{v}",
        "rust": f"rust:{v}",
        "java": _java_image(pm, v),
        "ruby": f"ruby:{v}",
        # The composer image carries the current PHP; the version matrix runs on GitHub Actions.
        "php": "composer:2",
        "dotnet": f"mcr.microsoft.com/dotnet/sdk:{v}",
        "elixir": f"elixir:{v}",
        "cpp": "gcc:14",
        "swift": f"swift:{v}",
        "dart": f"dart:{v}",
        "shell": "koalaman/shellcheck-alpine:stable",
    }
    return images[plan.toolchain]


def _java_image(pm: str, v: str) -> str:
    if pm == "maven":
        return "maven:3" if v == "latest" else f"maven:3-eclipse-temurin-{v}"
    if pm == "gradle":
        return "gradle:latest" if v == "latest" else f"gradle:jdk{v}"
    return f"eclipse-temurin:{v}"


def _cache(plan: StackPlan) -> tuple[Map | None, Map]:
    """The job's cache (keyed on lockfiles) and the variables that point the tools at it."""
    pm, tc = plan.stack.package_manager, plan.toolchain
    dirs: dict[str, tuple[str, dict[str, str]]] = {
        "uv": (".cache/uv", {"UV_CACHE_DIR": "$CI_PROJECT_DIR/.cache/uv"}),
        "poetry": (".cache/pypoetry", {"POETRY_CACHE_DIR": "$CI_PROJECT_DIR/.cache/pypoetry"}),
        "npm": (".npm", {"npm_config_cache": "$CI_PROJECT_DIR/.npm"}),
        "pnpm": (".pnpm-store", {"npm_config_store_dir": "$CI_PROJECT_DIR/.pnpm-store"}),
        "yarn": (".yarn-cache", {"YARN_CACHE_FOLDER": "$CI_PROJECT_DIR/.yarn-cache"}),
        "go": (".go", {"GOPATH": "$CI_PROJECT_DIR/.go"}),
        "cargo": (".cargo", {"CARGO_HOME": "$CI_PROJECT_DIR/.cargo"}),
        "maven": (".m2/repository", {"MAVEN_OPTS": "-Dmaven.repo.local=$CI_PROJECT_DIR/.m2/repository"}),
        "gradle": (".gradle", {"GRADLE_USER_HOME": "$CI_PROJECT_DIR/.gradle"}),
        "bundler": (".bundle", {"BUNDLE_PATH": "$CI_PROJECT_DIR/.bundle"}),
        "composer": (".cache/composer", {"COMPOSER_CACHE_DIR": "$CI_PROJECT_DIR/.cache/composer"}),
        "dotnet": (".nuget", {"NUGET_PACKAGES": "$CI_PROJECT_DIR/.nuget"}),
        "mix": (_join(plan.path, "deps"), {"MIX_HOME": "$CI_PROJECT_DIR/.mix"}),
    }
    key = pm
    if tc == "python" and pm not in dirs:
        key = "pip"
        dirs["pip"] = (".cache/pip", {"PIP_CACHE_DIR": "$CI_PROJECT_DIR/.cache/pip"})
    variables = Map()
    if key not in dirs:
        return None, variables
    path, env = dirs[key]
    for k, v in env.items():
        variables.add(k, v)
    files = sorted(plan.stack.lockfiles)[:2]  # GitLab keys on at most two files
    cache_key = Map()
    if files:
        cache_key.add("files", Flow(list(files))).add("prefix", plan.slug)
        cache = Map().add("key", cache_key)
    else:
        cache = Map().add("key", f"{plan.slug}-{key}")
    cache.add("paths", Flow([path]))
    return cache, variables


def _join(base: str, name: str) -> str:
    return name if base in ("", ".") else posixpath.join(base, name)


def _setup_script(plan: StackPlan, apps: list[str], py_tools: list[str]) -> list[str]:
    pm, tc = plan.stack.package_manager, plan.toolchain
    lines: list[str] = []
    if tc == "python":
        tools: list[str] = [t for t in ("uv", "poetry", "pdm", "pipenv", "hatch") if pm == t]
        tools += apps
        if tools:
            lines.append("python -m pip install " + " ".join(dict.fromkeys(tools)))
    elif tc == "node" and pm in ("pnpm", "yarn"):
        lines.append("corepack enable")
    elif tc == "rust":
        lines.append("rustup component add clippy rustfmt")
    elif tc == "elixir":
        lines.append("mix local.hex --force && mix local.rebar --force")
    elif tc == "cpp":
        lines.append("apt-get update && apt-get install -y --no-install-recommends cmake")
    if tc != "python" and apps:
        # Python CLIs (pre-commit, tox...) in a non-Python image: the image must provide python3 and pip.
        lines.append("python3 -m pip install " + " ".join(apps))
    if plan.path not in ("", "."):
        lines.append(f"cd {shlex.quote(plan.path)}")
    return lines


def _rules(plan: StackPlan, split: bool) -> Seq | None:
    if not split or plan.path in ("", "."):
        return None
    changes = Flow([f"{plan.path}/**/*", ".gitlab-ci.yml"])
    # Only pipelines that touch this project run its jobs.
    return (
        Seq()
        .add(Map().add("if", MR).add("changes", changes))
        .add(Map().add("if", "$CI_COMMIT_BRANCH").add("changes", changes))
    )


def _job(plan: StackPlan, kind: str, split: bool) -> Map:
    matrix = kind == "test" and len(plan.versions) > 1
    var = plan.version_key.upper().replace("-", "_") if matrix else None
    if plan.toolchain == "rust" and var:
        var = "RUST_VERSION"
    golangci = kind == "lint" and plan.golangci
    # pre-commit manages its hooks' own environments: a non-Python project lints from a Python image.
    precommit_only = (
        kind == "lint"
        and plan.toolchain != "python"
        and bool(plan.lint)
        and all(line.strip().startswith("pre-commit ") for c in plan.lint for line in c.run.splitlines())
    )
    pypy = matrix and plan.toolchain == "python" and any(v.startswith("pypy") for v in plan.versions)
    if pypy:
        var = "PYTHON_IMAGE"  # CPython and PyPy lines differ in image, not only in tag
    single = plan.msrv if kind == "msrv" and plan.msrv else plan.latest
    image = f"${var}" if pypy else (_image(plan, var) if matrix else _image_for(plan, single))
    if golangci:
        image = "golangci/golangci-lint:latest"
    elif precommit_only:
        image = "python:3.13"
    job = Map().add("stage", "test" if kind == "msrv" else kind)
    job.add("image", image)
    if matrix and var:
        # The elixir image bundles a matching Erlang/OTP, so no OTP pairing is needed here.
        values = {v: _image_for(plan, v) if pypy else _tag(plan, v) for v in plan.versions}
        cells = Seq()
        if plan.cell_env:
            # One entry per version, with the variables that go with it; a version whose image another version
            # already has (3.14t runs on the 3.14 image) is left out rather than run on the wrong interpreter.
            first: dict[str, str] = {}
            for v in plan.versions:
                first.setdefault(values[v], v)
            for value, v in first.items():
                entry = Map().add(var, value)
                for name, value in plan.cell_env.get(v, {}).items():
                    entry.add(name, value)
                cells.add(entry)
        else:
            cells.add(Map().add(var, Flow(list(dict.fromkeys(values.values())))))
        job.add("parallel", Map().add("matrix", cells))
    job.add("rules", _rules(plan, split))
    job.add("needs", Flow([plan.job_id("test")]) if kind == "build" and plan.has_test_job else Flow([]))
    variables = Map()
    if kind == "test" and not matrix:
        for name, value in plan.cell_env.get(plan.versions[0], {}).items():
            variables.add(name, value)
    if kind == "test" and plan.services:
        services = Seq()
        for svc in plan.services:
            s = Map().add("name", svc.image).add("alias", svc.name)
            if svc.env:
                svc_vars = Map()
                for k, v in svc.env.items():
                    svc_vars.add(k, v)
                s.add("variables", svc_vars)
            services.add(s)
        job.add("services", services)
        for k, v in plan.service_env(on_localhost=False).items():
            variables.add(k, v)
    if plan.stack.version_from_git:
        variables.add("GIT_DEPTH", 0)  # the version comes from git tags: a full clone, tags included
    cache, cache_vars = _cache(plan)
    variables.entries.extend(cache_vars.entries)
    if variables.entries:
        job.add("variables", variables)
    if cache is not None:
        job.add("cache", cache)
    apps = {"lint": plan.lint_apps, "test": plan.apps, "build": plan.build_apps, "msrv": []}[kind]
    py_tools = {"lint": plan.lint_py_tools, "test": plan.py_tools, "build": plan.build_py_tools, "msrv": []}[kind]
    before = _setup_script(plan, apps, py_tools)
    script: list[str] = [c.run for c in plan.install_for(kind)]
    if precommit_only:
        before = ["python -m pip install pre-commit"] + [line for line in before if line.startswith("cd ")]
        script = []
    if py_tools:
        script.append("python -m pip install " + " ".join(py_tools))
    commands = {"lint": plan.lint, "test": plan.test, "build": plan.build, "msrv": plan.msrv_check}[kind]
    if golangci:
        script = ["golangci-lint run"]
    # A non-blocking check reports its failure and lets the job go on (GitLab has no per-line allow_failure).
    script += [f'{c.run} || echo "{c.name} failed (not enforced yet)"' if c.advisory else c.run for c in commands]
    if kind == "test" and not plan.test:
        script.append('echo "No test runner was detected: add the test command."')
    if before:
        job.add("before_script", _seq(before))
    job.add("script", _seq(script))
    return job


def _seq(lines: list[str]) -> Seq:
    seq = Seq()
    for line in lines:
        seq.add(Block(line) if "\n" in line else line)
    return seq


def _docker_jobs(plan: Plan, jobs: Map) -> None:
    for img in plan.images:
        image = "$CI_REGISTRY_IMAGE" + (f"/{img.suffix}" if img.suffix else "")
        script = [
            f'docker build --file {shlex.quote(img.dockerfile)} --tag "{image}:$CI_COMMIT_SHORT_SHA"'
            f" {shlex.quote(img.context)}",
            "\n".join(
                [
                    'if [ "$CI_COMMIT_BRANCH" = "$CI_DEFAULT_BRANCH" ]; then',
                    '  echo "$CI_REGISTRY_PASSWORD"'
                    ' | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"',
                    f'  docker tag "{image}:$CI_COMMIT_SHORT_SHA" "{image}:latest"',
                    f'  docker push "{image}:$CI_COMMIT_SHORT_SHA"',
                    f'  docker push "{image}:latest"',
                    "fi",
                ]
            ),
        ]
        job = (
            Map()
            .add("stage", "docker")
            .add("image", "docker:27")
            .add("services", Flow(["docker:27-dind"]))
            .add("variables", Map().add("DOCKER_TLS_CERTDIR", "/certs"))
            .add("needs", Flow([]))
            .add("rules", Seq().add(Map().add("if", MR)).add(Map().add("if", DEFAULT_BRANCH)))
            .add("script", _seq(script))
        )
        jobs.add(
            f"docker-{img.slug}",
            job,
            comments=[
                f"Dockerfile: {img.dockerfile}. Merge requests build the image; the default branch pushes it",
                "to the project's container registry, tagged with the commit and `latest`.",
            ],
        )


def render_gitlab(plan: Plan) -> str:
    """The `.gitlab-ci.yml` text for this plan."""
    doc = Map()
    doc.add(
        "workflow",
        Map().add(
            "rules",
            Seq()
            .add(Map().add("if", MR))
            .add(Map().add("if", "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS").add("when", "never"))
            .add(Map().add("if", "$CI_COMMIT_BRANCH")),
        ),
        comments=["Merge request pipelines, and branch pipelines for branches without an open merge request."],
    )
    stages = ["lint", "test", "build"] + (["docker"] if plan.images else [])
    doc.add("stages", Flow(stages))
    jobs: list[tuple[str, Map, list[str]]] = []
    if not plan.stacks:
        job = Map().add("stage", "test").add("image", "alpine:3.20")
        job.add("script", _seq(['echo "AutoDevOps found no project to build or test."']))
        jobs.append(("check", job, ["TODO: no language stack was recognised; add the build and test jobs here."]))
    for sp in plan.stacks:
        todos = [f"TODO: {t}" for t in sp.todos]
        if sp.lint or sp.golangci:
            why = [f"Lint the {sp.title} project.", *sp.lint_why, *(todos if sp.todo_job == "lint" else [])]
            jobs.append((sp.job_id("lint"), _job(sp, "lint", plan.split), why))
        if sp.has_test_job:
            why = [f"Test the {sp.title} project.", *sp.test_why, *todos]
            jobs.append((sp.job_id("test"), _job(sp, "test", plan.split), why))
        if sp.msrv:
            why = [f"The minimum supported Rust ({sp.msrv}) still builds the crates (dev-dependencies aside)."]
            jobs.append(
                (sp.job_id("msrv"), _job(sp, "msrv", plan.split), why + (todos if sp.todo_job == "msrv" else []))
            )
        if sp.build:
            why = [f"Build the {sp.title} project.", *sp.build_why, *(todos if sp.todo_job == "build" else [])]
            jobs.append((sp.job_id("build"), _job(sp, "build", plan.split), why))
    for name, job, comments in jobs:
        doc.add(name, job, comments=comments)
    docker = Map()
    _docker_jobs(plan, docker)
    doc.entries.extend(docker.entries)
    return dump(doc, HEADER)
