"""From an `Analysis` to a CI plan: what each stack needs, independent of the CI system that will run it.

The plan decides the jobs (lint, test, build), the commands they run (the project's own entry points first,
a tool's conventional invocation otherwise), the version and OS matrices, the service containers and the
comments that justify each choice. `github_actions.py` and `gitlab_ci.py` only translate a plan into their
syntax, so both targets always agree on what is built and tested.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from dataclasses import dataclass, field

from autodevops.engine import runners, runtimes
from autodevops.engine.generate.yamlout import UNPRINTABLE
from autodevops.engine.model import CONFIDENT, Analysis, Evidence, Finding, Stack

# When a stack declares no version, CI still has to pick one: the newest supported line on the analysis date
# from the runtimes table, or, for runtimes it does not cover, these. The workflow's comment says so.
DEFAULT_VERSIONS: dict[str, str] = {
    "python": "3.13",
    "node": "24",
    "go": "stable",
    "java": "21",
    "ruby": "3.4",
    "php": "8.4",
    "dotnet": "10.0",
    "elixir": "1.18",
    "rust": "stable",
    "deno": "v2.x",
    "bun": "latest",
    "swift": "6.1",
    "dart": "stable",
}
# Elixir needs an Erlang/OTP release it supports; the newest one each Elixir line is tested against.
ELIXIR_OTP = {
    "1.12": "24",
    "1.13": "25",
    "1.14": "25",
    "1.15": "26",
    "1.16": "26",
    "1.17": "27",
    "1.18": "27",
    "1.19": "28",
}
RUNNERS = {"linux": "ubuntu-latest", "macos": "macos-latest", "windows": "windows-latest"}
PY_APPS = ("tox", "nox", "pre-commit", "poetry", "pdm", "hatch", "pipenv")
# Command runners a runner image lacks, by the command: the Python packages that provide it, installed like the
# apps above (`just` is published as a binary wheel; Meson needs the Ninja it drives).
RUNNER_APPS = {"just": ("rust-just",), "meson": ("meson", "ninja")}
PY_RUN = {"uv": "uv run ", "poetry": "poetry run ", "pdm": "pdm run ", "pipenv": "pipenv run ", "hatch": "hatch run "}
NODE_LANGS = {"javascript", "typescript"}
# Directories whose Dockerfiles are fixtures or tooling, not the project's image.
NON_IMAGE_DIRS = {
    "test",
    "tests",
    "testdata",
    "testing",
    "fixtures",
    "example",
    "examples",
    "docs",
    "doc",
    ".devcontainer",
    ".github",
    "ci",
    "benchmarks",
    "vendor",
    "third_party",
}


@dataclass(frozen=True)
class ServiceSpec:
    """A backing service the tests need, as a container with a health check and the env vars clients read."""

    name: str
    image: str
    port: int
    env: dict[str, str]
    health_cmd: str | None
    client_env: dict[str, str]  # values use {host}; the emitters substitute localhost or the service alias


SERVICES: dict[str, ServiceSpec] = {
    "postgres": ServiceSpec(
        "postgres",
        "postgres:17",
        5432,
        {"POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "postgres", "POSTGRES_DB": "test"},
        "pg_isready -U postgres",
        {"DATABASE_URL": "postgresql://postgres:postgres@{host}:5432/test"},
    ),
    "mysql": ServiceSpec(
        "mysql",
        "mysql:8.4",
        3306,
        {"MYSQL_ROOT_PASSWORD": "root", "MYSQL_DATABASE": "test"},
        "mysqladmin ping -h 127.0.0.1 -proot",
        {"DATABASE_URL": "mysql://root:root@{host}:3306/test"},
    ),
    "mariadb": ServiceSpec(
        "mariadb",
        "mariadb:11.4",
        3306,
        {"MARIADB_ROOT_PASSWORD": "root", "MARIADB_DATABASE": "test"},
        "healthcheck.sh --connect --innodb_initialized",
        {"DATABASE_URL": "mysql://root:root@{host}:3306/test"},
    ),
    "redis": ServiceSpec("redis", "redis:7", 6379, {}, "redis-cli ping", {"REDIS_URL": "redis://{host}:6379/0"}),
    "mongodb": ServiceSpec(
        "mongodb",
        "mongo:8",
        27017,
        {},
        "mongosh --quiet --eval 'db.adminCommand({ping: 1})'",
        {"MONGODB_URL": "mongodb://{host}:27017/test"},
    ),
    "rabbitmq": ServiceSpec(
        "rabbitmq",
        "rabbitmq:4",
        5672,
        {},
        "rabbitmq-diagnostics -q ping",
        {"AMQP_URL": "amqp://guest:guest@{host}:5672/"},
    ),
    "elasticsearch": ServiceSpec(
        "elasticsearch",
        "elasticsearch:8.17.0",
        9200,
        {"discovery.type": "single-node", "xpack.security.enabled": "false", "ES_JAVA_OPTS": "-Xms512m -Xmx512m"},
        "curl -fs http://localhost:9200/_cluster/health",
        {"ELASTICSEARCH_URL": "http://{host}:9200"},
    ),
    "memcached": ServiceSpec(
        "memcached",
        "memcached:1.6",
        11211,
        {},
        "timeout 2 bash -c '</dev/tcp/127.0.0.1/11211'",
        {"MEMCACHED_URL": "{host}:11211"},
    ),
    "kafka": ServiceSpec(
        "kafka",
        "apache/kafka:3.9.0",
        9092,
        {},
        "/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092",
        {"KAFKA_BOOTSTRAP_SERVERS": "{host}:9092"},
    ),
    "nats": ServiceSpec("nats", "nats:2-alpine", 4222, {}, "nc -z 127.0.0.1 4222", {"NATS_URL": "nats://{host}:4222"}),
}


@dataclass
class Command:
    """One step: a name for the log, the shell command, and an optional comment saying where it came from."""

    name: str
    run: str
    comment: str | None = None
    advisory: bool = False  # reported, never failing the job: a check the project may not enforce yet


# Cargo subcommands the runners do not ship, by subcommand: the crate that provides each.
_CARGO_SUBCOMMAND_CRATES = {"nextest": "cargo-nextest", "deny": "cargo-deny"}


def _install_cargo_subcommands(commands: list[Command]) -> list[Command]:
    """`commands` preceded by an install step for each third-party cargo subcommand they use."""
    text = "\n".join(c.run for c in commands)
    crates: list[str] = []
    for line in text.splitlines():
        words = line.split()
        crate = _CARGO_SUBCOMMAND_CRATES.get(words[1]) if words[:1] == ["cargo"] and len(words) > 1 else None
        if crate and crate not in crates and f"cargo install --locked {crate}" not in text:
            crates.append(crate)
    return [Command(f"Install {c}", f"cargo install --locked {c}") for c in crates] + commands


# Commands that create the environments they run in.
_ENV_MANAGER = re.compile(r"^(?:uv run |uvx |pipx run )?(?:tox|nox|pre-commit)(?:\s|$)")


@dataclass
class StackPlan:
    """Everything the emitters need for one stack."""

    stack: Stack
    slug: str
    title: str
    toolchain: str  # python, node, deno, bun, go, rust, java, ruby, php, dotnet, elixir, cpp, swift, dart, shell
    version_key: str  # matrix variable: python-version, node-version...
    versions: list[str]  # the matrix (one entry when the project declares none)
    versions_declared: bool
    oses: list[str]  # runner labels
    services: list[ServiceSpec]
    py_tools: list[str] = field(default_factory=list)  # installed into the project's environment (pip stacks)
    apps: list[str] = field(default_factory=list)  # standalone CLIs (pipx on GitHub)
    install: list[Command] = field(default_factory=list)
    lint: list[Command] = field(default_factory=list)
    lint_py_tools: list[str] = field(default_factory=list)
    build_apps: list[str] = field(default_factory=list)
    build_py_tools: list[str] = field(default_factory=list)
    lint_apps: list[str] = field(default_factory=list)
    test: list[Command] = field(default_factory=list)
    build: list[Command] = field(default_factory=list)
    lint_why: list[str] = field(default_factory=list)
    test_why: list[str] = field(default_factory=list)
    build_why: list[str] = field(default_factory=list)
    todos: list[str] = field(default_factory=list)
    golangci: bool = False  # lint through golangci-lint's own action on GitHub
    # Set on a template plan that runs for several identical projects: the matrix over their directories.
    projects: list[str] = field(default_factory=list)
    # Per version of the matrix: variables the test commands read (TOX_ENV), as the emitters pass them.
    cell_env: dict[str, dict[str, str]] = field(default_factory=dict)
    # Versions the default runner image cannot provide, and the older image their cells run on.
    cell_runner: dict[str, str] = field(default_factory=dict)
    # Rust: the minimum supported version, compile-checked in a job of its own (tests run on the channels).
    msrv: str | None = None
    msrv_check: list[Command] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.stack.path

    # The version single-run jobs (lint, build) use, when the matrix's newest line is too new for them.
    settled: str | None = None

    @property
    def latest(self) -> str:
        """The version single-run jobs (lint, build) use: the newest regular build (not PyPy, not free-threaded)
        that has been out long enough for the tools to support it."""
        if "stable" in self.versions:
            return "stable"  # a channel (Rust, Go): the current release, never the MSRV or beta
        if self.settled in self.versions:
            return self.settled
        regular = [v for v in self.versions if not v.startswith("pypy") and not re.fullmatch(r"\d+\.\d+t", v)]
        return (regular or self.versions)[-1]

    @property
    def todo_job(self) -> str:
        """The job whose comments carry the stack's TODOs: the test job, else the first job the stack has."""
        if self.has_test_job:
            return "test"
        if self.lint or self.golangci:
            return "lint"
        return "msrv" if self.msrv else "build"

    @property
    def has_test_job(self) -> bool:
        """A stack with nothing to test and something else to run (a fuzz crate's compile check) gets no test
        job: a job that only echoes a warning would say nothing and still look green."""
        return bool(self.test) or not (self.build or self.lint or self.golangci or self.msrv)

    def install_for(self, kind: str) -> list[Command]:
        """The install steps a job needs: none when every command it runs is tox, nox or pre-commit, which
        build their own environments (installing the project beside them only costs time)."""
        commands = {"lint": self.lint, "test": self.test, "build": self.build, "msrv": self.msrv_check}[kind]
        lines = [line.strip() for c in commands for line in c.run.splitlines() if line.strip()]
        if lines and all(_ENV_MANAGER.match(line) for line in lines):
            return []
        return self.install

    def service_env(self, on_localhost: bool) -> dict[str, str]:
        """Connection variables for the tests: `DATABASE_URL` for the first database, `<NAME>_URL` for others."""
        env: dict[str, str] = {}
        for svc in self.services:
            host = "localhost" if on_localhost else svc.name
            for k, v in svc.client_env.items():
                name = k if k not in env else f"{svc.name.upper()}_URL"
                env[name] = v.format(host=host)
        return env

    def job_id(self, kind: str) -> str:
        return f"{self.slug}-{kind}"


@dataclass
class DockerImage:
    dockerfile: str
    context: str
    slug: str
    suffix: str  # appended to the image name ("" for the repository's main image)


@dataclass
class Plan:
    source: str
    stacks: list[StackPlan]
    images: list[DockerImage]
    findings: list[Finding]  # new findings the generator raises (no test runner, unsupported language...)
    analysis: Analysis
    split: bool = False  # one workflow per stack (monorepo with stacks in different directories)


# ---- helpers ------------------------------------------------------------------------------------------------


def cite(ev: Evidence) -> str:
    """`[tool.pytest.ini_options] in pyproject.toml`, `.nvmrc:1`: where a conclusion was read."""
    where = ev.file + (f":{ev.line}" if ev.line is not None else "")
    return f"{ev.key} in {where}" if ev.key else where


def evidence_for(stack: Stack, fld: str, limit: int = 2) -> str | None:
    prov = stack.provenance.get(fld)
    if not prov or not prov.evidence:
        return None
    cited = [cite(e) for e in prov.evidence[:limit]]
    return ", ".join(dict.fromkeys(cited))


def version_key_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", v)[:3]) or (0,)


def slugify(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "root"


def _rel(stack: Stack, path: str) -> str:
    """A repo-relative path as seen from the stack's working directory."""
    if stack.path in ("", "."):
        return path
    return posixpath.relpath(path, stack.path)


def _names(paths: list[str]) -> set[str]:
    return {posixpath.basename(p) for p in paths}


def _dotnet_target(stack: Stack) -> str | None:
    """What `dotnet restore`/`build` name in the stack's directory: its solution (` src/App.slnx`), nothing when
    the directory holds the one project, or None when there is no single thing to name (projects in several
    folders without a solution: each test or build command restores and builds the project it names)."""
    solution = next((m for m in stack.manifests if m.endswith((".sln", ".slnx"))), None)
    if solution:
        return " " + (solution if stack.path in ("", ".") else posixpath.relpath(solution, stack.path))
    projects = [m for m in stack.manifests if m.endswith((".csproj", ".fsproj", ".vbproj"))]
    here = [p for p in projects if posixpath.dirname(p) == ("" if stack.path in ("", ".") else stack.path)]
    return "" if len(projects) == 1 and here else None


def toolchain_of(stack: Stack) -> str:
    lang = stack.language
    if lang in NODE_LANGS:
        if stack.package_manager == "deno":
            return "deno"
        if stack.package_manager == "bun":
            return "bun"
        return "node"
    return {
        "python": "python",
        "go": "go",
        "rust": "rust",
        "java": "java",
        "kotlin": "java",
        "ruby": "ruby",
        "php": "php",
        "csharp": "dotnet",
        "elixir": "elixir",
        "c": "cpp",
        "cpp": "cpp",
        "swift": "swift",
        "dart": "dart",
        "shell": "shell",
    }[lang]


VERSION_KEYS = {
    "python": "python-version",
    "node": "node-version",
    "deno": "deno-version",
    "bun": "bun-version",
    "go": "go-version",
    "rust": "rust",
    "java": "java-version",
    "ruby": "ruby-version",
    "php": "php-version",
    "dotnet": "dotnet-version",
    "elixir": "elixir-version",
    "swift": "swift-version",
    "dart": "sdk",
    "cpp": "",
    "shell": "",
}


def _normalize_version(toolchain: str, version: str) -> str:
    v = version.strip().lstrip("v") if toolchain not in ("deno",) else version.strip()
    if toolchain == "dotnet" and re.fullmatch(r"\d+\.\d+", v):
        return v + ".x"
    if toolchain == "dotnet" and re.fullmatch(r"\d+", v):
        return v + ".0.x"
    return v


# ---- commands per ecosystem -----------------------------------------------------------------------------------


# Requirement files the analyzer lists as a stack's manifests: the main one and its development sets.
_REQUIREMENTS_MANIFEST = re.compile(
    r"(?:^|/)(?:\w+[-_])?requirements[^/]*\.txt$|(?:^|/)(?:requirements|requirements\.d|reqs)/[^/]+\.txt$"
)


def _python_install(stack: Stack) -> tuple[list[Command], list[str]]:
    """Install commands for a Python stack, and the tools its package manager needs first (pipx apps)."""
    pm = stack.package_manager
    locks = _names(stack.lockfiles)
    if pm == "uv":
        locked = " --locked" if "uv.lock" in locks else ""
        return [Command("Install dependencies", f"uv sync{locked} --all-extras")], []
    if pm == "poetry":
        return [Command("Install dependencies", "poetry install --no-interaction --all-extras")], ["poetry"]
    if pm == "pdm":
        return [Command("Install dependencies", "pdm install")], ["pdm"]
    if pm == "pipenv":
        deploy = " --deploy" if "Pipfile.lock" in locks else ""
        return [Command("Install dependencies", f"pipenv install --dev{deploy}")], ["pipenv"]
    if pm == "hatch":
        return [], ["hatch"]
    lines = ["python -m pip install --upgrade pip"]
    reqs = sorted(
        (_rel(stack, m) for m in stack.manifests if _REQUIREMENTS_MANIFEST.search(m)),
        key=lambda p: (p.count("/"), p),
    )
    lines += [f"python -m pip install -r {r}" for r in reqs]
    names = _names(stack.manifests)
    extras, groups = stack.extras, stack.dependency_groups
    if names & {"pyproject.toml", "setup.py", "setup.cfg"}:
        # The extras the test and lint tools were declared in (`[project.optional-dependencies] dev`).
        lines.append(f'python -m pip install -e ".[{",".join(extras)}]"' if extras else "python -m pip install -e .")
    if groups:
        lines.append("python -m pip install " + " ".join(f"--group {g}" for g in groups))
    return [Command("Install dependencies", "\n".join(lines))], []


# Python linters a plain-pip stack installs next to the project when its lint commands run them by name.
PY_LINTERS = ("ruff", "flake8", "pylint", "black", "isort", "mypy", "pyright")
_OTHER_LINT = {
    "gofmt": 'test -z "$(gofmt -l .)"',
    "go-vet": "go vet ./...",
    "staticcheck": "go run honnef.co/go/tools/cmd/staticcheck@latest ./...",
    "clippy": "cargo clippy --workspace --all-targets",
    "rustfmt": "cargo fmt --all --check",
    "rubocop": "bundle exec rubocop",
    "standardrb": "bundle exec standardrb",
    "phpstan": "vendor/bin/phpstan analyse --no-progress",
    "psalm": "vendor/bin/psalm --no-progress",
    "php-cs-fixer": "vendor/bin/php-cs-fixer fix --dry-run --diff",
    "phpcs": "vendor/bin/phpcs",
    "dotnet-format": "dotnet format --verify-no-changes",
    "credo": "mix credo --strict",
    "pre-commit": "pre-commit run --all-files --show-diff-on-failure",
    "golangci-lint": "golangci-lint run",
}


def _node_run(pm: str, script: str) -> str:
    return {"npm": f"npm run {script}", "pnpm": f"pnpm run {script}", "yarn": f"yarn run {script}"}.get(
        pm, f"bun run {script}"
    )


def _node_install(stack: Stack) -> list[Command]:
    pm = stack.package_manager if stack.package_manager in ("npm", "pnpm", "yarn", "bun") else "npm"
    locks = _names(stack.lockfiles)
    if pm == "npm":
        cmd = "npm ci" if locks & {"package-lock.json", "npm-shrinkwrap.json"} else "npm install"
    elif pm == "pnpm":
        cmd = "pnpm install --frozen-lockfile" if "pnpm-lock.yaml" in locks else "pnpm install"
    elif pm == "yarn":
        berry = ".yarnrc.yml" in _names(stack.manifests)
        if "yarn.lock" not in locks:
            cmd = "yarn install"
        else:
            cmd = "yarn install --immutable" if berry else "yarn install --frozen-lockfile"
    else:
        cmd = "bun install --frozen-lockfile" if locks & {"bun.lock", "bun.lockb"} else "bun install"
    return [Command("Install dependencies", cmd)]


def _default_test(stack: Stack, toolchain: str) -> list[Command]:
    tool, pm = stack.test_tool, stack.package_manager
    py = PY_RUN.get(pm, "")
    names = _names(stack.manifests)
    gradle = "./gradlew" if "gradlew" in names or "gradlew" in _names(stack.lockfiles) else "gradle"
    mvn = "./mvnw" if "mvnw" in names else "mvn"
    simple = {
        "pytest": "hatch test" if pm == "hatch" else f"{py}pytest",
        "tox": "tox -e py",
        "nox": "nox",
        "unittest": f"{py}python -m unittest discover",
        "go-test": "go test ./...",
        "cargo-test": "cargo test --workspace",
        "maven": f"{mvn} -B verify",
        "gradle": f"{gradle} check",
        "rspec": "bundle exec rspec",
        "minitest": "bundle exec rake test",
        "rake": "bundle exec rake",
        "phpunit": "vendor/bin/phpunit",
        "pest": "vendor/bin/pest",
        "dotnet-test": "dotnet test --no-restore",
        "mix-test": "mix test",
        "swift-test": "swift test",
        "make": "make test",
    }
    if tool in simple:
        return [Command(f"Test ({tool})", simple[tool])]
    if tool == "cargo-nextest":
        return [
            Command("Install cargo-nextest", "cargo install --locked cargo-nextest"),
            Command("Test (cargo-nextest)", "cargo nextest run --workspace"),
        ]
    if tool in ("jest", "vitest", "mocha", "ava", "node-test"):
        if toolchain == "deno":
            return [Command("Test", "deno test -A")]
        runner = {"npm": "npm test", "pnpm": "pnpm test", "yarn": "yarn test", "bun": "bun run test"}
        return [Command(f"Test ({tool})", runner.get(pm, "npm test"))]
    if tool == "ctest":
        return [
            Command("Configure", "cmake -S . -B build"),
            Command("Build", "cmake --build build"),
            Command("Test (ctest)", "ctest --test-dir build --output-on-failure"),
        ]
    return []


def _lint_default(toolchain: str, tool: str) -> str | None:
    """A linter's conventional invocation, for ecosystems whose detectors name tools but not commands.

    Python and Node detectors decide their own lint commands (a project's scripts, or a tool's invocation only
    where its configuration makes it valid: `eslint .` stops at once without an eslint config)."""
    if toolchain in ("python", "node", "bun"):
        return None
    if toolchain == "deno":
        return {"prettier": "deno fmt --check", "tsc": "deno check ."}.get(tool)
    return _OTHER_LINT.get(tool)


_RUNNER_PREFIX = re.compile(
    r"^(?:(?:uv|poetry|pdm|pipenv) run |hatch run (?:[\w-]+:)?|uvx |pipx run |npx |pnpm (?:exec |run )?|"
    r"yarn (?:run )?|bunx |bun run |npm run |bundle exec |python3? -m |sh (?:-\w+ )*|bash (?:-\w+ )*|\./|vendor/bin/)+"
)


def tool_word(command: str) -> str:
    """The tool a command runs, for a step's name: `uv run mypy src` → mypy, `npm run lint` → lint."""
    words = _RUNNER_PREFIX.sub("", command.strip().splitlines()[0] if command.strip() else command).split()
    if not words:
        return command
    if words[0] in ("tox", "nox"):
        return " ".join(words)[:60]  # the environments or sessions are the point
    if words[0] in ("make", "just", "cargo", "go", "mix", "dotnet", "deno", "swift") and len(words) > 1:
        return " ".join(words[:2])
    return words[0]


def _split_apps(commands: list[Command], toolchain: str, pm: str) -> list[str]:
    """Standalone CLIs the commands start with (tox, nox, pre-commit, just...), to install before running."""
    apps: list[str] = []
    for c in commands:
        for line in c.run.splitlines():
            first = line.strip().split(" ", 1)[0]
            if first in PY_APPS and first not in apps and not (toolchain == "python" and first == pm):
                apps.append(first)
            # `uv run just test` finds `just` on PATH, so the runner is installed beside the environment.
            runner = line.strip().removeprefix(PY_RUN.get(pm, "")).split(" ", 1)[0]
            apps += [app for app in RUNNER_APPS.get(runner, ()) if app not in apps]
    return apps


def _pip_tools(commands: list[Command], tools: list[str]) -> list[str]:
    """Tools a plain-pip stack runs by bare name: install them next to the project."""
    found: list[str] = []
    for tool in tools:
        for c in commands:
            starts = any(
                line.strip().split(" ", 1)[0] == tool or line.strip().startswith(f"python -m {tool}")
                for line in c.run.splitlines()
            )
            if starts and tool not in found:
                found.append(tool)
    return found


# ---- the plan ------------------------------------------------------------------------------------------------


RUNTIME_LANGUAGE = {
    "python": "python",
    "node": "node",
    "go": "go",
    "java": "java",
    "ruby": "ruby",
    "php": "php",
    "dotnet": "dotnet",
    "elixir": "elixir",
}


def _default_version(toolchain: str, today: dt.date) -> str:
    """The newest supported release line on the analysis date (LTS lines where a project would expect one)."""
    language = RUNTIME_LANGUAGE.get(toolchain)
    if language:
        lts = True if language in ("java", "dotnet", "node") else None
        found = runtimes.latest(language, today, lts_only=lts)
        if found:
            return found
    return DEFAULT_VERSIONS.get(toolchain, "stable")


def _safe(commands: list[str], plan: StackPlan) -> list[str]:
    """Commands read from the repository, minus any that could smuggle an expression into the workflow.

    GitHub expands `${{ }}` in `run:` before the shell sees it, so a command containing one (from a crafted
    package.json script, say) would be a template injection. Such commands are left out with a TODO; control
    characters other than newlines and tabs are never legitimate in a command either.
    """
    kept: list[str] = []
    for command in commands:
        if "${{" in command or any(UNPRINTABLE.search(line) for line in command.split("\n")):
            plan.todos.append(f"a command read from the repository was left out because it is unsafe: {command!r}")
            continue
        kept.append(command)
    return kept


def _stack_plan(stack: Stack, slug: str, analysis: Analysis, new_findings: list[Finding]) -> StackPlan:
    toolchain = toolchain_of(stack)
    key = VERSION_KEYS[toolchain]
    declared = [v for v in stack.versions if v.strip()]
    if toolchain in ("cpp", "shell"):
        versions = [""]
        declared = []
    elif declared:
        versions = sorted(dict.fromkeys(_normalize_version(toolchain, v) for v in declared), key=version_key_tuple)
    else:
        versions = [_normalize_version(toolchain, _default_version(toolchain, analysis.analyzed_on))]
    oses = [RUNNERS[o] for o in ("linux", "macos", "windows") if o in stack.operating_systems] or [RUNNERS["linux"]]
    services = [SERVICES[s] for s in stack.services if s in SERVICES]
    title = stack.language if stack.path in ("", ".") else f"{stack.language} ({stack.path})"
    plan = StackPlan(
        stack=stack,
        slug=slug,
        title=title,
        toolchain=toolchain,
        version_key=key,
        versions=versions,
        versions_declared=bool(declared),
        oses=oses,
        services=services,
    )
    if oses == [RUNNERS["linux"]]:
        _place_on_runners(plan, new_findings)
    plan.settled = _settled(toolchain, plan.versions, analysis.analyzed_on)
    if services and oses != [RUNNERS["linux"]]:
        plan.oses = [RUNNERS["linux"]]
        plan.test_why.append(
            "Tests run on Linux only: they need service containers, which GitHub runs on Linux runners alone."
        )
    unknown_services = [s for s in stack.services if s not in SERVICES]
    for s in unknown_services:
        what = "a service the analysis could not name" if s == "other" else f"a `{s}` service"
        plan.todos.append(f"the tests need {what}, which this pipeline does not start yet; add it.")

    # Why: evidence lines.
    for fld, label in (("package_manager", stack.package_manager), ("versions", "versions")):
        ev = evidence_for(stack, fld)
        if ev:
            plan.test_why.append(f"{label}: {ev}")
    if declared:
        plan.test_why.append(f"Matrix: {', '.join(versions)} (from what the project declares).")
        prov = stack.provenance.get("versions")
        if prov is not None and prov.confidence < CONFIDENT:
            # The measured share of such matrices that match what maintainers test is low: say so where it is read.
            reason = f" ({prov.justification})" if prov.justification else ""
            plan.todos.append(f"confirm the version matrix{reason}: projects often test other lines than they declare.")
    elif versions != [""]:
        plan.test_why.append(f"No version declared: testing the current stable line ({versions[0]}).")
    if len(plan.oses) > 1:
        plan.test_why.append(f"OS matrix: the project targets {', '.join(stack.operating_systems)}.")
    ev = evidence_for(stack, "test_tool")
    if stack.test_tool not in ("none", "other"):
        plan.test_why.insert(0, f"{stack.test_tool}: {ev}" if ev else f"{stack.test_tool}: detected")
    for s in stack.services:
        sev = evidence_for(stack, "services")
        plan.test_why.append(f"{s} service: {sev}" if sev else f"{s} service: detected")

    # Install. (.NET restores, then builds, the solution or project the stack's directory names.)
    dotnet_target = _dotnet_target(stack) if toolchain == "dotnet" else None
    if toolchain == "python":
        plan.install, plan.apps = _python_install(stack)
    elif toolchain in ("node", "bun"):
        plan.install = _node_install(stack)
    elif toolchain == "go":
        plan.install = [Command("Download modules", "go mod download")] if "go.mod" in _names(stack.manifests) else []
    elif toolchain == "php":
        plan.install = [Command("Install dependencies", "composer install --no-interaction --no-progress")]
    elif toolchain == "dotnet":
        plan.install = [Command("Restore", f"dotnet restore{dotnet_target}")] if dotnet_target is not None else []
    elif toolchain == "elixir":
        plan.install = [Command("Install dependencies", "mix deps.get")]

    if stack.install_commands:
        # The project's own install entry point replaces the package manager's default invocation.
        plan.install = [Command("Install dependencies", "\n".join(_safe(stack.install_commands, plan)))]
    plan.cell_env = {
        _normalize_version(toolchain, v): dict(values)
        for v, values in stack.matrix_env.items()
        if _normalize_version(toolchain, v) in versions
    }

    test_commands = _safe(stack.test_commands, plan)
    lint_commands = _safe(stack.lint_commands, plan)
    build_commands = _safe(stack.build_commands, plan)
    if toolchain == "go" and any(c.split()[:1] == ["golangci-lint"] for c in lint_commands):
        # golangci-lint is not installed on the runners: its own action installs, caches and runs it.
        plan.golangci = True
        lint_commands = [c for c in lint_commands if c.split()[:1] != ["golangci-lint"]]

    # Test.
    if test_commands:
        plan.test = [Command(f"Test ({stack.test_tool})", "\n".join(test_commands))]
    elif not stack.test_commands:
        plan.test = _default_test(stack, toolchain)
    if toolchain == "dotnet" and plan.test and dotnet_target is not None:
        plan.test.insert(0, Command("Build", f"dotnet build --no-restore{dotnet_target}"))
    configures = any(line.strip().startswith("cmake ") for c in plan.test for line in c.run.splitlines())
    if stack.package_manager == "cmake" and plan.test and not configures:
        # ctest runs what a configured build tree holds: configure and build first.
        if build_commands:
            plan.test.insert(0, Command("Configure and build", "\n".join(build_commands)))
        else:
            plan.test[:0] = [Command("Configure", "cmake -S . -B build"), Command("Build", "cmake --build build")]
    test_lines = [line.strip() for c in plan.test for line in c.run.splitlines()]
    if any(t.startswith("meson test") for t in test_lines) and not any(t.startswith("meson setup") for t in test_lines):
        # `meson test` runs in a configured build directory: set it up (and build) first.
        plan.test.insert(0, Command("Configure and build", "\n".join(build_commands) or "meson setup build"))
    if not plan.test:
        message = (
            f"No test runner was found for the {stack.language} stack at `{stack.path}`: nothing in this pipeline "
            "runs its tests. Add the project's test command."
        )
        plan.todos.append(message)
        new_findings.append(Finding(code="no-test-runner", severity="warning", message=message, stack=stack.path))

    # Lint: the project's own entry points first.
    if lint_commands:
        # A step per command: each check reports on its own, and the first failure names its tool.
        advisory = set(stack.lint_advisory)
        plan.lint = [Command(f"Lint ({tool_word(c)})", c, advisory=c in advisory) for c in lint_commands]
        ev = evidence_for(stack, "lint_commands")
        plan.lint_why.append(f"Lint entry point: {ev}" if ev else "Lint through the project's own entry point.")
    elif not stack.lint_commands:
        for tool in stack.lint_tools:
            if tool == "golangci-lint":
                plan.golangci = True
                continue
            cmd = _lint_default(toolchain, tool)
            if cmd:
                plan.lint.append(Command(tool, cmd))
    named = [t for t in stack.lint_tools if t != "other"]
    if named:
        ev = evidence_for(stack, "lint_tools", limit=3)
        plan.lint_why.append(f"Linters: {', '.join(named)}" + (f" ({ev})" if ev else ""))
    if "other" in stack.lint_tools:
        plan.lint_why.append("Other linters were found too; add their commands here if CI should run them.")
    plan.lint_apps = _split_apps(plan.lint, toolchain, stack.package_manager)
    plan.apps += [a for a in _split_apps(plan.test, toolchain, stack.package_manager) if a not in plan.apps]
    if (
        toolchain == "python"
        and stack.package_manager in ("pip", "none", "conda")
        and not (stack.extras or stack.dependency_groups)
    ):
        # Without a dev extra or group to install, tools run by bare name are installed next to the project.
        plan.py_tools = _pip_tools(plan.test, ["pytest"])
        plan.lint_py_tools = _pip_tools(plan.lint, list(PY_LINTERS))

    if toolchain == "rust":
        plan.test = _install_cargo_subcommands(plan.test)
        plan.lint = _install_cargo_subcommands(plan.lint)
        _rust_msrv(plan)

    # Build.
    if build_commands:
        plan.build = [Command("Build", "\n".join(build_commands))]
        ev = evidence_for(stack, "build_commands")
        plan.build_why.append(f"Build: {ev}" if ev else "Build: the project's build command.")
        plan.build_apps = _split_apps(plan.build, toolchain, stack.package_manager)
        if toolchain == "python" and stack.package_manager in ("pip", "none", "conda"):
            plan.build_py_tools = _pip_tools(plan.build, ["build", "twine"])
    if stack.package_manager == "conda":
        plan.todos.append("conda environments are installed with pip here; switch to the project's conda setup.")
    if toolchain == "dart":
        plan.todos.append("Dart is not set up by this pipeline yet: add the Dart SDK setup step.")

    if toolchain == "python" and stack.package_manager in PY_APPS:
        # A lint or build job that runs the package manager (`hatch build`, `pdm run ruff`, `poetry install`)
        # installs it too, as the test job does.
        manager = stack.package_manager
        for kind, apps in (("lint", plan.lint_apps), ("build", plan.build_apps)):
            job = [*plan.install_for(kind), *(plan.lint if kind == "lint" else plan.build)]
            runs = any(line.strip().split(" ", 1)[0] == manager for c in job for line in c.run.splitlines())
            if runs and manager not in apps:
                apps.insert(0, manager)

    for f in analysis.findings:
        if f.stack == stack.path and f.severity in ("warning", "error"):
            plan.todos.append(f"{f.code}: {f.message}")
    return plan


# A release line this new is tested in the matrix but not used for lint and build: linters, type checkers and
# compiled dependencies often publish support for it weeks after its release.
SETTLING_DAYS = 90


def _settled(toolchain: str, versions: list[str], today: dt.date) -> str | None:
    """The newest matrix line released at least SETTLING_DAYS before `today` (None when the runtimes table does
    not know the toolchain, or no line is that old)."""
    language = RUNTIME_LANGUAGE.get(toolchain)
    if language is None:
        return None
    settled = [
        v
        for v in versions
        if re.fullmatch(r"\d+(?:\.\d+)*(?:\.x)?", v)  # a regular build: not PyPy, not free-threaded
        and (release := runtimes.release(language, v)) is not None
        and (today - release.released).days >= SETTLING_DAYS
    ]
    return max(settled, key=version_key_tuple) if settled else None


def _place_on_runners(plan: StackPlan, new_findings: list[Finding]) -> None:
    """Run each version on an image that provides it: an older image where `ubuntu-latest` cannot, and no cell at
    all (with a finding) where no hosted image can; a cell whose setup step fails is red on every push."""
    kept: list[str] = []
    for version in plan.versions:
        runner = runners.linux_runner(plan.toolchain, version)
        if runner is None:
            message = (
                f"{plan.stack.language} {version} is not available on any GitHub-hosted runner: the {version} "
                f"cell is left out of the matrix of `{plan.stack.path}`."
            )
            plan.todos.append(message)
            new_findings.append(
                Finding(code="version-unavailable", severity="warning", message=message, stack=plan.stack.path)
            )
            continue
        if runner != runners.DEFAULT:
            plan.cell_runner[version] = runner
            plan.test_why.append(f"{version} runs on {runner}: {runners.DEFAULT} does not provide it.")
        kept.append(version)
    if kept:
        plan.versions = kept


def _rust_msrv(plan: StackPlan) -> None:
    """Beside release channels, a numeric version is the minimum supported Rust: check that the crates build on
    it, and test on the channels. `cargo test` on the MSRV also builds the dev-dependencies, which routinely need
    a newer compiler than the library promises (maintainers check the MSRV the same way)."""
    numeric = [v for v in plan.versions if v[:1].isdigit()]
    if not numeric or len(numeric) == len(plan.versions):
        return
    # A workspace builds as a whole only from its highest member minimum.
    plan.msrv = max(numeric, key=version_key_tuple)
    plan.versions = [v for v in plan.versions if v not in numeric]
    workspace = " --workspace" if plan.stack.workspace_members else ""
    plan.msrv_check = [Command("Check (MSRV)", f"cargo check{workspace}")]
    if not any(posixpath.basename(lock) == "Cargo.lock" for lock in plan.stack.lockfiles):
        # Without a committed lockfile, the MSRV's cargo would take each dependency's newest release, which may
        # need a newer compiler than the crate promises (cargo before 1.84 ignores `rust-version` when
        # resolving). Stable cargo resolves to releases the MSRV can build, and the MSRV checks exactly those.
        plan.msrv_check.insert(
            0,
            Command(
                "Resolve dependencies for the MSRV",
                "rustup toolchain install stable --profile minimal\n"
                "CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo +stable generate-lockfile",
            ),
        )
        plan.msrv_check[-1] = Command("Check (MSRV)", f"cargo check{workspace} --locked")
    plan.test_why.append(
        f"MSRV {plan.msrv}: the library is compile-checked in its own job; tests run on {', '.join(plan.versions)}."
    )


def _images(analysis: Analysis) -> list[DockerImage]:
    images: list[DockerImage] = []
    for df in sorted(analysis.docker.dockerfiles, key=lambda d: (d.path.count("/"), d.path)):
        parts = df.path.split("/")
        if any(p.lower() in NON_IMAGE_DIRS for p in parts[:-1]):
            continue
        context = posixpath.dirname(df.path) or "."
        name = parts[-1]
        suffix_parts = list(parts[:-1])
        variant = re.sub(r"(?i)^dockerfile[.-]?|[.-]?dockerfile$", "", name)
        if variant:
            suffix_parts.append(variant)
        suffix = slugify("-".join(suffix_parts)) if suffix_parts else ""
        images.append(DockerImage(df.path, context, slugify(f"image-{suffix}") if suffix else "image", suffix))
    return images[:8]


def build_plan(analysis: Analysis) -> Plan:
    """Decide every job of the pipeline for this analysis. Pure and deterministic."""
    new_findings: list[Finding] = []
    stacks = sorted(analysis.stacks, key=lambda s: (s.path != ".", s.path, s.language))
    used: set[str] = set()
    plans: list[StackPlan] = []
    for stack in stacks:
        base = toolchain_of(stack)
        slug = base if stack.path in ("", ".") else slugify(f"{stack.path}-{base}")
        n, candidate = 2, slug
        while candidate in used:
            candidate, n = f"{slug}-{n}", n + 1
        used.add(candidate)
        plans.append(_stack_plan(stack, candidate, analysis, new_findings))
    paths = {s.path for s in stacks}
    split = len(stacks) > 1 and len(paths) > 1
    if not stacks:
        new_findings.append(
            Finding(
                code="no-stack",
                severity="warning",
                message="No buildable project was recognised; the workflow only checks out the code.",
            )
        )
    return Plan(
        source=analysis.source,
        stacks=plans,
        images=_images(analysis),
        findings=new_findings,
        analysis=analysis,
        split=split,
    )
