"""GitHub Actions workflows from a plan: `ci.yml` (one per stack directory in monorepos) and `docker.yml`.

Secure by default: read-only `GITHUB_TOKEN` at the top (only the image job widens it, to `packages: write`),
every action pinned to a commit SHA from the pins table, `persist-credentials: false` on checkout, and no
`${{ }}` expression inside `run:` (values reach scripts through `env:`), so actionlint and zizmor find nothing.
"""

from __future__ import annotations

import posixpath
from dataclasses import replace

from autodevops.engine.generate.pins import Pin
from autodevops.engine.generate.plan import ELIXIR_OTP, Command, DockerImage, Plan, StackPlan, slugify
from autodevops.engine.generate.yamlout import Block, Flow, Map, Seq, dump
from autodevops.engine.model import GENERATED_MARK

BRANCHES = Flow(["main", "master"])
CONCURRENCY_GROUP = "${{ github.workflow }}-${{ github.event.pull_request.number || github.ref }}"
ON_DEFAULT_BRANCH = (
    "github.event_name == 'push' && github.ref == format('refs/heads/{0}', github.event.repository.default_branch)"
)
HEADER = [
    f"{GENERATED_MARK} from the repository's own configuration; regenerate with `autodevops generate`.",
    "Every action is pinned to a commit SHA (the release is in the comment); the token is read-only by default.",
]
TIMEOUTS = {"lint": 15, "test": 30, "build": 20, "msrv": 20}


class _Actions:
    def __init__(self, pins: dict[str, Pin]) -> None:
        self.pins = pins

    def step(
        self, name: str, action: str, with_: Map | None = None, *, id_: str | None = None, if_: str | None = None
    ) -> Map:
        pin = self.pins[action]
        step = Map().add("name", name).add("id", id_).add("if", if_)
        step.add("uses", pin.uses(), inline=pin.version)
        if with_ is not None and with_.entries:
            step.add("with", with_)
        return step

    def checkout(self, plan: StackPlan | None = None) -> Map:
        # The token is not left in .git/config: later steps (tests, installs) cannot read or misuse it.
        with_ = Map().add("persist-credentials", False)
        if plan is not None and plan.stack.version_from_git:
            # The version comes from git tags: a shallow clone without them builds 0.1.dev1 or fails.
            with_.add("fetch-depth", 0)
        return self.step("Check out", "actions/checkout", with_)


def _run(command: Command, name: str | None = None) -> Map:
    step = Map().add("name", name or command.name)
    if command.advisory:
        step.add(
            "continue-on-error",
            True,
            comments=["Configured, but nothing shows the project enforces it: make it blocking once it passes."],
        )
    step.add("run", Block(command.run) if "\n" in command.run else command.run)
    return step


def _repo_path(plan: StackPlan, name: str) -> str:
    return name if plan.path in ("", ".") else posixpath.join(plan.path, name)


def _version_expr(plan: StackPlan, matrix: bool, version: str | None = None) -> str:
    return f"${{{{ matrix.{plan.version_key} }}}}" if matrix else version or plan.latest


def _lock(plan: StackPlan, *names: str) -> list[str]:
    return [p for p in plan.stack.lockfiles if posixpath.basename(p) in names]


def _setup(plan: StackPlan, a: _Actions, matrix: bool, version: str | None = None) -> tuple[list[Map], Map]:
    """Steps that install the toolchain with dependency caching, and env they need. Pure data, no I/O."""
    steps: list[Map] = []
    env = Map()
    version = _version_expr(plan, matrix, version)
    stack, tc = plan.stack, plan.toolchain
    pm = stack.package_manager
    if tc == "python":
        if pm == "uv":
            w = Map().add("python-version", version).add("enable-cache", True)
            if plan.path not in ("", "."):
                w.add("working-directory", plan.path)
            if _lock(plan, "uv.lock"):
                w.add("cache-dependency-glob", "uv.lock")
            steps.append(a.step("Set up uv", "astral-sh/setup-uv", w))
            return steps, env
        if pm in SETUP_INSTALLS:
            # setup-python's poetry/pipenv cache asks the tool for its cache directory: install it first.
            steps.append(_run(Command(f"Install {pm}", f"pipx install {pm}")))
        w = Map().add("python-version", version)
        cache_files: list[str] = []
        if pm == "poetry":
            cache_files = _lock(plan, "poetry.lock")
        elif pm == "pipenv":
            cache_files = _lock(plan, "Pipfile.lock")
        elif pm in ("pip", "none"):
            cache_files = [
                m
                for m in stack.manifests
                if posixpath.basename(m) in ("pyproject.toml", "setup.py", "setup.cfg")
                or (posixpath.basename(m).startswith("requirements") and m.endswith(".txt"))
            ]
        if cache_files:
            w.add("cache", pm if pm in ("poetry", "pipenv") else "pip")
            w.add(
                "cache-dependency-path",
                Block("\n".join(sorted(cache_files))) if len(cache_files) > 1 else cache_files[0],
            )
        steps.append(a.step("Set up Python", "actions/setup-python", w))
        return steps, env
    if tc == "node":
        if pm == "pnpm":
            pnpm = Map()
            prov = stack.provenance.get("package_manager")
            declared = prov is not None and any("packageManager" in (e.key or "") for e in prov.evidence)
            if not declared:
                # Without a `packageManager` field the action needs a version; 10 is the current major.
                pnpm.add("version", 10)
            steps.append(a.step("Set up pnpm", "pnpm/action-setup", pnpm))
        w = Map().add("node-version", version)
        lock_names = {
            "npm": ("package-lock.json", "npm-shrinkwrap.json"),
            "pnpm": ("pnpm-lock.yaml",),
            "yarn": ("yarn.lock",),
        }
        locks = _lock(plan, *lock_names.get(pm, ()))
        if locks:
            w.add("cache", pm).add("cache-dependency-path", locks[0])
        steps.append(a.step("Set up Node.js", "actions/setup-node", w))
        if pm == "yarn" and ".yarnrc.yml" in {posixpath.basename(m) for m in stack.manifests}:
            steps.append(_run(Command("Enable Corepack (Yarn Berry)", "corepack enable")))
        return steps, env
    if tc == "bun":
        steps.append(a.step("Set up Bun", "oven-sh/setup-bun", Map().add("bun-version", version)))
        return steps, env
    if tc == "deno":
        steps.append(
            a.step("Set up Deno", "denoland/setup-deno", Map().add("deno-version", version).add("cache", True))
        )
        return steps, env
    if tc == "go":
        w = Map()
        if plan.versions_declared:
            w.add("go-version", version)
        elif "go.mod" in {posixpath.basename(m) for m in stack.manifests}:
            w.add("go-version-file", _repo_path(plan, "go.mod"))
        else:
            w.add("go-version", version)
        sums = _lock(plan, "go.sum")
        if sums:
            w.add("cache-dependency-path", sums[0])
        steps.append(a.step("Set up Go", "actions/setup-go", w))
        return steps, env
    if tc == "rust":
        env.add("RUST_TOOLCHAIN", version)
        steps.append(
            _run(
                Command(
                    "Set up Rust",
                    'rustup toolchain install "$RUST_TOOLCHAIN" --profile minimal --component clippy,rustfmt\n'
                    'rustup default "$RUST_TOOLCHAIN"',
                )
            )
        )
        w = Map()
        if plan.path not in ("", "."):
            w.add("workspaces", plan.path)
        steps.append(a.step("Cache Cargo", "Swatinem/rust-cache", w))
        return steps, env
    if tc == "java":
        w = Map().add("distribution", "temurin").add("java-version", version)
        if pm == "maven":
            w.add("cache", "maven")
        steps.append(a.step("Set up Java", "actions/setup-java", w))
        if pm == "gradle":
            commands = [c.run for c in plan.install + plan.lint + plan.test + plan.build]
            wrapper = any("gradlew" in c for c in commands)
            # Without a wrapper in the repository the action installs Gradle itself.
            gradle = None if wrapper else Map().add("gradle-version", "current")
            steps.append(a.step("Set up Gradle", "gradle/actions/setup-gradle", gradle))
        return steps, env
    if tc == "ruby":
        w = Map().add("ruby-version", version).add("bundler-cache", True)
        if plan.path not in ("", "."):
            w.add("working-directory", plan.path)
        steps.append(a.step("Set up Ruby", "ruby/setup-ruby", w))
        return steps, env
    if tc == "php":
        steps.append(
            a.step("Set up PHP", "shivammathur/setup-php", Map().add("php-version", version).add("coverage", "none"))
        )
        steps.append(
            Map()
            .add("name", "Locate Composer cache")
            .add("id", "composer-cache")
            .add("run", 'echo "dir=$(composer config cache-files-dir)" >> "$GITHUB_OUTPUT"')
        )
        key_files = ", ".join(f"'{_repo_path(plan, n)}'" for n in ("composer.json", "composer.lock"))
        steps.append(
            a.step(
                "Cache Composer packages",
                "actions/cache",
                Map()
                .add("path", "${{ steps.composer-cache.outputs.dir }}")
                .add("key", f"${{{{ runner.os }}}}-composer-${{{{ hashFiles({key_files}) }}}}")
                .add("restore-keys", "${{ runner.os }}-composer-"),
            )
        )
        return steps, env
    if tc == "dotnet":
        w = Map().add("dotnet-version", version)
        locks = _lock(plan, "packages.lock.json")
        if locks:
            w.add("cache", True).add("cache-dependency-path", locks[0])
        steps.append(a.step("Set up .NET", "actions/setup-dotnet", w))
        return steps, env
    if tc == "elixir":
        otp = "${{ matrix.otp-version }}" if matrix else ELIXIR_OTP.get(plan.latest, "27")
        steps.append(
            a.step("Set up Elixir", "erlef/setup-beam", Map().add("elixir-version", version).add("otp-version", otp))
        )
        key_file = _repo_path(plan, "mix.lock")
        steps.append(
            a.step(
                "Cache Mix dependencies",
                "actions/cache",
                Map()
                .add("path", Block(f"{_repo_path(plan, 'deps')}\n{_repo_path(plan, '_build')}"))
                # Compiled `_build` output only fits the Elixir/OTP pair that produced it.
                .add("key", f"${{{{ runner.os }}}}-mix-{version}-{otp}-${{{{ hashFiles('{key_file}') }}}}")
                .add("restore-keys", f"${{{{ runner.os }}}}-mix-{version}-{otp}-"),
            )
        )
        return steps, env
    # C/C++, Swift, shell: the runner images ship the toolchain (cmake, compilers, swift, shellcheck).
    return steps, env


# Package managers the setup steps install themselves (before setup-python, whose cache asks them for its path).
SETUP_INSTALLS = ("poetry", "pipenv")


def _apps_step(plan: StackPlan, apps: list[str]) -> list[Map]:
    apps = [a for a in apps if not (plan.toolchain == "python" and a == plan.stack.package_manager in SETUP_INSTALLS)]
    if not apps:
        return []
    return [_run(Command("Install tools", "\n".join(f"pipx install {app}" for app in apps)))]


def _pip_tools_step(tools: list[str]) -> list[Map]:
    if not tools:
        return []
    return [_run(Command("Install tools", "python -m pip install " + " ".join(tools)))]


def _defaults(plan: StackPlan, windows: bool) -> Map | None:
    run = Map()
    if plan.path not in ("", "."):
        run.add("working-directory", plan.path)
    if windows:
        # One shell everywhere: the same commands run on Linux, macOS and Windows runners.
        run.add("shell", "bash")
    return Map().add("run", run) if run.entries else None


def _services(plan: StackPlan) -> tuple[Map | None, Map]:
    env = Map()
    if not plan.services:
        return None, env
    services = Map()
    for svc in plan.services:
        m = Map().add("image", svc.image)
        if svc.env:
            container_env = Map()
            for k, v in svc.env.items():
                container_env.add(k, v)
            m.add("env", container_env)
        m.add("ports", Flow([f"{svc.port}:{svc.port}"]))
        if svc.health_cmd:
            options = f'--health-cmd "{svc.health_cmd}" --health-interval 5s --health-timeout 5s --health-retries 20'
            m.add("options", options)
        services.add(svc.name, m)
    for k, v in plan.service_env(on_localhost=True).items():
        env.add(k, v)
    return services, env


def _job_comments(plan: StackPlan, kind: str, why: list[str]) -> list[str]:
    what = f"each {plan.stack.language} project of the matrix" if plan.projects else f"the {plan.title} project"
    out = [f"{kind.capitalize()} {what}.", *why]
    out += [f"TODO: {t}" for t in plan.todos if kind == plan.todo_job]
    return out


def _matrix_key(env_name: str) -> str:
    """`TOX_ENV` → `tox-env`: the matrix key that carries an env variable's per-cell value."""
    return env_name.lower().replace("_", "-")


def _test_job(plan: StackPlan, a: _Actions) -> Map:
    matrix = len(plan.versions) > 1 or len(plan.oses) > 1 or bool(plan.projects)
    version_matrix = len(plan.versions) > 1
    job = Map()
    label = plan.title
    parts: list[str] = []
    if version_matrix:
        parts.append(f"${{{{ matrix.{plan.version_key} }}}}")
    if len(plan.oses) > 1:
        parts.append("${{ matrix.os }}")
    job.add("name", f"test {label}" + (f" ({', '.join(parts)})" if parts else ""))
    if len(plan.oses) > 1:
        job.add("runs-on", "${{ matrix.os }}")
    elif plan.cell_runner and version_matrix:
        job.add("runs-on", f"${{{{ matrix.runner || '{plan.oses[0]}' }}}}")
    else:
        job.add("runs-on", plan.cell_runner.get(plan.versions[0], plan.oses[0]))
    job.add("timeout-minutes", TIMEOUTS["test"])
    if matrix:
        m = Map()
        if plan.projects:
            m.add("project", Flow(list(plan.projects)))
        if version_matrix:
            m.add(plan.version_key, Flow(list(plan.versions)))
        if len(plan.oses) > 1:
            m.add("os", Flow(list(plan.oses)))
        if version_matrix and (plan.toolchain == "elixir" or plan.cell_env or plan.cell_runner):
            # Entries that extend each version's cells with what goes with that version.
            include = Seq()
            for v in plan.versions:
                entry = Map().add(plan.version_key, v)
                if plan.toolchain == "elixir":
                    entry.add("otp-version", ELIXIR_OTP.get(v, "27"))
                for name, value in plan.cell_env.get(v, {}).items():
                    entry.add(_matrix_key(name), value)
                if v in plan.cell_runner:
                    entry.add("runner", plan.cell_runner[v])
                if len(entry.entries) > 1:
                    include.add(entry)
            m.add("include", include)
        job.add("strategy", Map().add("fail-fast", False).add("matrix", m))
    services, env = _services(plan)
    for name in sorted({n for values in plan.cell_env.values() for n in values}):
        if version_matrix:
            env.add(name, f"${{{{ matrix.{_matrix_key(name)} }}}}")
        elif plan.versions[0] in plan.cell_env:
            env.add(name, plan.cell_env[plan.versions[0]][name])
    job.add("services", services)
    setup, setup_env = _setup(plan, a, version_matrix)
    env.entries.extend(setup_env.entries)
    if env.entries:
        job.add("env", env)
    job.add("defaults", _defaults(plan, "windows-latest" in plan.oses))
    steps = Seq()
    steps.add(a.checkout(plan))
    for s in setup:
        steps.add(s)
    for s in _apps_step(plan, plan.apps):
        steps.add(s)
    for c in plan.install_for("test"):
        steps.add(_run(c))
    for s in _pip_tools_step(plan.py_tools):
        steps.add(s)
    if plan.test:
        for c in plan.test:
            steps.add(_run(c))
    else:
        steps.add(
            _run(Command("No test command", 'echo "::warning::No test runner was detected: add the test command."')),
            comments=["TODO: replace this step with the project's test command."],
        )
    job.add("steps", steps)
    return job


def _simple_job(plan: StackPlan, a: _Actions, kind: str, commands: list[Command]) -> Map:
    job = Map()
    job.add("name", f"check {plan.title} (MSRV {plan.msrv})" if kind == "msrv" else f"{kind} {plan.title}")
    if kind == "build" and plan.has_test_job:
        job.add("needs", plan.job_id("test"))
    job.add("runs-on", "ubuntu-latest")
    job.add("timeout-minutes", TIMEOUTS[kind])
    if plan.projects:
        job.add(
            "strategy",
            Map().add("fail-fast", False).add("matrix", Map().add("project", Flow(list(plan.projects)))),
        )
    setup, env = _setup(plan, a, False, plan.msrv if kind == "msrv" else None)
    if env.entries:
        job.add("env", env)
    job.add("defaults", _defaults(plan, False))
    steps = Seq()
    steps.add(a.checkout(plan))
    for s in setup:
        steps.add(s)
    apps = plan.lint_apps if kind == "lint" else plan.build_apps
    for s in _apps_step(plan, apps):
        steps.add(s)
    for c in plan.install_for(kind):
        steps.add(_run(c))
    for s in _pip_tools_step(plan.lint_py_tools if kind == "lint" else plan.build_py_tools):
        steps.add(s)
    if kind == "lint" and _runs_pre_commit(commands):
        steps.add(
            a.step(
                "Cache pre-commit hooks",
                "actions/cache",
                Map()
                .add("path", "~/.cache/pre-commit")
                .add("key", "pre-commit-${{ runner.os }}-${{ hashFiles('**/.pre-commit-config.yaml') }}"),
            )
        )
    if kind == "lint" and plan.golangci:
        w = Map().add("version", "latest")
        if plan.path not in ("", "."):
            w.add("working-directory", plan.path)
        steps.add(a.step("golangci-lint", "golangci/golangci-lint-action", w))
    for c in commands:
        steps.add(_run(c))
    job.add("steps", steps)
    return job


def _runs_pre_commit(commands: list[Command]) -> bool:
    lines = [line.strip() for c in commands for line in c.run.splitlines()]
    return any(line.startswith("pre-commit ") or " pre-commit run" in line for line in lines)


def _stack_jobs(plan: StackPlan, a: _Actions, jobs: Map) -> None:
    if plan.lint or plan.golangci:
        jobs.add(
            plan.job_id("lint"),
            _simple_job(plan, a, "lint", plan.lint),
            comments=_job_comments(plan, "lint", plan.lint_why),
        )
    if plan.has_test_job:
        jobs.add(plan.job_id("test"), _test_job(plan, a), comments=_job_comments(plan, "test", plan.test_why))
    if plan.msrv:
        comments = [f"The minimum supported Rust ({plan.msrv}) still builds the crates (dev-dependencies aside)."]
        comments += [f"TODO: {t}" for t in plan.todos if plan.todo_job == "msrv"]
        jobs.add(plan.job_id("msrv"), _simple_job(plan, a, "msrv", plan.msrv_check), comments=comments)
    if plan.build:
        jobs.add(
            plan.job_id("build"),
            _simple_job(plan, a, "build", plan.build),
            comments=_job_comments(plan, "build", plan.build_why),
        )


def _workflow(name: str, jobs: Map, paths: list[str] | None, header: list[str], branch: str | None) -> str:
    push = Map()
    if branch:
        push.add("branches", Flow([branch]))
    else:
        push.add("branches", BRANCHES, comments=["The default branch was not known: set it here if it is neither."])
    pull = Map()
    if paths:
        push.add("paths", Flow(list(paths)))
        pull.add("paths", Flow(list(paths)))
    doc = Map()
    doc.add("name", name)
    doc.add("on", Map().add("push", push).add("pull_request", pull).add("workflow_dispatch", Map()))
    doc.add("permissions", Map().add("contents", "read"))
    doc.add(
        "concurrency",
        Map().add("group", CONCURRENCY_GROUP).add("cancel-in-progress", "${{ github.event_name == 'pull_request' }}"),
        comments=["A newer push to the same pull request cancels the run in progress; branch builds always finish."],
    )
    doc.add("jobs", jobs)
    return dump(doc, header)


def _empty_workflow(a: _Actions, branch: str | None) -> str:
    steps = Seq().add(a.checkout())
    steps.add(
        _run(Command("No project detected", 'echo "::warning::AutoDevOps found no project to build or test."')),
        comments=[
            "TODO: no language stack was recognised (no manifest such as pyproject.toml, package.json, go.mod).",
            "Add the build and test steps here, or add a manifest and run `autodevops generate` again.",
        ],
    )
    job = Map().add("runs-on", "ubuntu-latest").add("timeout-minutes", 5).add("steps", steps)
    return _workflow("CI", Map(spaced=True).add("check", job), None, HEADER, branch)


def _docker_workflow(images: list[DockerImage], a: _Actions, branch: str | None) -> str:
    jobs = Map(spaced=True)
    for img in images:
        image = "ghcr.io/${{ github.repository }}" + (f"/{img.suffix}" if img.suffix else "")
        steps = Seq().add(a.checkout())
        steps.add(a.step("Set up Docker Buildx", "docker/setup-buildx-action"))
        login = a.step(
            "Log in to GHCR",
            "docker/login-action",
            Map()
            .add("registry", "ghcr.io")
            .add("username", "${{ github.actor }}")
            .add("password", "${{ secrets.GITHUB_TOKEN }}"),
            if_=ON_DEFAULT_BRANCH,
        )
        steps.add(login)
        steps.add(
            a.step(
                "Image tags and labels",
                "docker/metadata-action",
                Map()
                .add("images", image)
                .add(
                    "tags",
                    Block(
                        "type=ref,event=branch\ntype=ref,event=pr\ntype=sha\n"
                        "type=raw,value=latest,enable={{is_default_branch}}"
                    ),
                ),
                id_="meta",
            )
        )
        steps.add(
            a.step(
                "Build (and push on the default branch)",
                "docker/build-push-action",
                Map()
                .add("context", img.context)
                .add("file", img.dockerfile)
                .add("push", f"${{{{ {ON_DEFAULT_BRANCH} }}}}")
                .add("tags", "${{ steps.meta.outputs.tags }}")
                .add("labels", "${{ steps.meta.outputs.labels }}"),
            )
        )
        job = (
            Map()
            .add("name", f"image {img.dockerfile}")
            .add("runs-on", "ubuntu-latest")
            .add("timeout-minutes", 30)
            .add(
                "permissions",
                Map().add("contents", "read").add("packages", "write", inline="push the image to GHCR"),
            )
            .add("steps", steps)
        )
        jobs.add(
            img.slug,
            job,
            comments=[
                f"Dockerfile: {img.dockerfile}. Pull requests build the image to prove it builds;",
                "the default branch also pushes it to GHCR, tagged by branch, commit and `latest`.",
            ],
        )
    return _workflow("Docker", jobs, None, HEADER, branch)


def render_github(plan: Plan, pins: dict[str, Pin]) -> dict[str, str]:
    """Workflow files for this plan, keyed by repo-relative path."""
    a = _Actions(pins)
    branch = plan.analysis.default_branch
    files: dict[str, str] = {}
    if not plan.stacks:
        files[".github/workflows/ci.yml"] = _empty_workflow(a, branch)
    elif not plan.split:
        jobs = Map(spaced=True)
        for sp in plan.stacks:
            _stack_jobs(sp, a, jobs)
        files[".github/workflows/ci.yml"] = _workflow("CI", jobs, None, HEADER + _stack_summary(plan.stacks), branch)
    else:
        root = [sp for sp in plan.stacks if sp.path in ("", ".")]
        if root:
            jobs = Map(spaced=True)
            for sp in root:
                _stack_jobs(sp, a, jobs)
            if jobs.entries:
                files[".github/workflows/ci.yml"] = _workflow("CI", jobs, None, HEADER + _stack_summary(root), branch)
        nested = [sp for sp in plan.stacks if sp.path not in ("", ".")]
        grouped: set[int] = set()
        for template, members in _families(nested):
            grouped.update(id(m) for m in members)
            wf = f".github/workflows/ci-{template.slug}.yml"
            jobs = Map(spaced=True)
            _stack_jobs(template, a, jobs)
            paths = [*(f"{m.path}/**" for m in members), wf]
            listing = [
                "",
                f"{len(members)} {template.stack.language} projects with the same setup, one matrix entry each:",
            ]
            listing += [f"  {m.path}" for m in members]
            header = HEADER + _stack_summary([members[0]]) + listing
            if jobs.entries:
                files[wf] = _workflow(f"CI ({template.stack.language} projects)", jobs, paths, header, branch)
        by_path: dict[str, list[StackPlan]] = {}
        for sp in nested:
            if id(sp) not in grouped:
                by_path.setdefault(sp.path, []).append(sp)
        for path, group in sorted(by_path.items()):
            name = f"ci-{group[0].slug}.yml" if len(group) == 1 else f"ci-{slugify(path)}.yml"
            wf = f".github/workflows/{name}"
            jobs = Map(spaced=True)
            for sp in group:
                _stack_jobs(sp, a, jobs)
            # Only changes to this project (or to its workflow) trigger it; a project with nothing to run gets none.
            paths = [f"{path}/**", wf]
            if jobs.entries:
                files[wf] = _workflow(f"CI ({path})", jobs, paths, HEADER + _stack_summary(group), branch)
    if plan.images:
        files[".github/workflows/docker.yml"] = _docker_workflow(plan.images, a, branch)
    return files


# Toolchains whose setup takes the project directory only in plain inputs (no `hashFiles()` keys), so one job
# template can serve every directory through `${{ matrix.project }}`.
GROUPABLE = {"python", "node", "bun", "deno", "go", "rust", "java", "ruby", "dotnet", "cpp", "swift", "shell"}
MIN_FAMILY = 3
PROJECT = "${{ matrix.project }}"


def _signature(sp: StackPlan) -> tuple[object, ...]:
    """Everything that decides a stack's jobs except where it lives."""
    st = sp.stack
    base = {posixpath.basename(p) for p in st.manifests + st.lockfiles}
    commands = [c.run for c in sp.install + sp.lint + sp.test + sp.build]
    return (
        sp.toolchain,
        st.language,
        st.package_manager,
        tuple(sp.versions),
        sp.versions_declared,
        tuple(sp.oses),
        tuple(s.name for s in sp.services),
        tuple(commands),
        (*sp.apps, "|", *sp.lint_apps, "|", *sp.build_apps),
        (*sp.py_tools, "|", *sp.lint_py_tools, "|", *sp.build_py_tools),
        sp.golangci,
        tuple(sorted(base)),
        tuple(sp.todos),
        st.test_tool,
        tuple(st.lint_tools),
    )


def _families(nested: list[StackPlan]) -> list[tuple[StackPlan, list[StackPlan]]]:
    """Groups of at least MIN_FAMILY stacks (in different directories) that would get identical jobs.

    Each group becomes one workflow whose jobs run over a `project` matrix instead of one workflow per
    directory: a Go repository with thirty modules gets one readable file, not thirty copies.
    """
    by_sig: dict[tuple[object, ...], list[StackPlan]] = {}
    for sp in nested:
        if sp.toolchain in GROUPABLE:
            by_sig.setdefault(_signature(sp), []).append(sp)
    families: list[tuple[StackPlan, list[StackPlan]]] = []
    used: set[str] = set()
    for members in by_sig.values():
        if len(members) < MIN_FAMILY or len({m.path for m in members}) != len(members):
            continue
        first = members[0]

        def moved(path: str, root: str = first.path) -> str:
            return PROJECT + path[len(root) :] if path.startswith(root + "/") else path

        stack = first.stack.model_copy(
            update={
                "path": PROJECT,
                "manifests": [moved(p) for p in first.stack.manifests],
                "lockfiles": [moved(p) for p in first.stack.lockfiles],
            }
        )
        slug, n = f"{first.toolchain}-projects", 2
        while slug in used:
            slug, n = f"{first.toolchain}-projects-{n}", n + 1
        used.add(slug)
        template = replace(first, stack=stack, slug=slug, title=f"{first.stack.language} ({PROJECT})")
        template.projects = [m.path for m in members]
        families.append((template, members))
    return families


def _stack_summary(stacks: list[StackPlan]) -> list[str]:
    lines = [""]
    for sp in stacks:
        bits: list[str] = [sp.stack.language, sp.stack.package_manager]
        if sp.stack.test_tool not in ("none",):
            bits.append(sp.stack.test_tool)
        lines.append(f"Stack `{sp.path}`: {', '.join(b for b in bits if b and b != 'none')}.")
    return lines
