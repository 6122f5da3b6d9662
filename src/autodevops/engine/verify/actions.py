"""What each `uses:` action does on this machine.

Known actions are emulated by what they amount to on a runner: checkout is the working copy itself, setup
actions select local toolchains (`toolchains.py`), caches are skipped (they only save time), artifacts pass
through a local directory, and a few thin actions (golangci-lint, pre-commit) become the command they run.
Anything needing Docker is blocked (docker); an action not listed here is blocked (action) and named.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from autodevops.engine.verify import toolchains
from autodevops.engine.verify.toolchains import ActionFailed, Blocked, JobPaths, Setup, ToolchainConfig


@dataclass
class ActionPlan:
    """The outcome of resolving an action: a setup to apply, a command to run, or a skip with a reason."""

    setup: Setup = field(default_factory=Setup)
    command: str | None = None  # a bash script run as the step
    skipped: str | None = None


@dataclass
class ActionContext:
    config: ToolchainConfig
    job: JobPaths
    env: Mapping[str, str]  # the job environment as the step sees it
    artifacts: Path  # shared by the jobs of one verify run


def action_name(uses: str) -> tuple[str, str]:
    """(`owner/repo[/path]` lowercased, ref) of a `uses:` value."""
    name, _, ref = uses.partition("@")
    return name.strip().lower(), ref.strip()


def resolve(uses: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    """Resolve one `uses:` step. Raises Blocked or ActionFailed."""
    if uses.startswith("docker://"):
        raise Blocked("docker", f"{uses} runs a container image")
    if uses.startswith("./") or uses.startswith("../"):
        raise Blocked("action", f"local action {uses} is not emulated")
    name, ref = action_name(uses)
    if name.startswith("docker/"):
        raise Blocked("docker", f"{name} needs a Docker engine")
    handler = _HANDLERS.get(name)
    if handler is None:
        raise Blocked("action", f"{name} is not an action verify can run here")
    return handler(ref, inputs, ctx)


def _truthy(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "1", "yes")


def _lines(text: str | None) -> list[str]:
    return [p.strip() for p in re.split(r"[\n,]", text or "") if p.strip()]


# ---- checkout, caches, reports ----------------------------------------------------------------------------


def _checkout(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    repository = inputs.get("repository", "").strip()
    if repository and repository.lower() != ctx.env.get("GITHUB_REPOSITORY", "").lower():
        raise Blocked("action", f"actions/checkout of another repository ({repository}) needs github.com")
    if inputs.get("path", "").strip() not in ("", "."):
        raise Blocked("action", "actions/checkout into a sub-directory (`path:`) is not emulated")
    return ActionPlan(setup=Setup(note="the job's working copy"))


def _cache(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    return ActionPlan(skipped="caches only save time; not emulated", setup=Setup(outputs={"cache-hit": "false"}))


def _external_report(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    return ActionPlan(skipped="uploads to an external service this machine cannot reach")


# ---- setup actions ----------------------------------------------------------------------------------------


def _setup_python(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    return ActionPlan(setup=toolchains.setup_python(inputs, ctx.config, ctx.job))


def _setup_node(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    return ActionPlan(setup=toolchains.setup_node(inputs, ctx.config, ctx.job))


def _setup_java(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    return ActionPlan(setup=toolchains.setup_java(inputs, ctx.config, ctx.job))


def _setup_go(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    request = toolchains.go_request(inputs, ctx.job)
    return ActionPlan(setup=toolchains.setup_from_path("go", request, ctx.config, ctx.job))


def _setup_ruby(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    request = inputs.get("ruby-version", "").strip()
    if not request and (ctx.job.workspace / ".ruby-version").is_file():
        request = (ctx.job.workspace / ".ruby-version").read_text(encoding="utf-8").strip()
    setup = toolchains.setup_from_path("ruby", request, ctx.config, ctx.job)
    plan = ActionPlan(setup=setup)
    if _truthy(inputs.get("bundler-cache")):
        plan.command = "bundle install --jobs 4"
    return plan


def _setup_php(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    return ActionPlan(setup=toolchains.setup_from_path("php", inputs.get("php-version", ""), ctx.config, ctx.job))


def _setup_dotnet(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    request = inputs.get("dotnet-version", "").strip().splitlines()
    return ActionPlan(setup=toolchains.setup_from_path("dotnet", request[-1] if request else "", ctx.config, ctx.job))


def _setup_beam(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    setup = toolchains.setup_from_path("erlang", inputs.get("otp-version", ""), ctx.config, ctx.job)
    if inputs.get("elixir-version", "").strip():
        elixir = toolchains.setup_from_path("elixir", inputs["elixir-version"], ctx.config, ctx.job)
        setup.path = elixir.path + setup.path
    return ActionPlan(setup=setup)


def _dtolnay_rust(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    toolchain = inputs.get("toolchain", "").strip()
    if not toolchain:
        if ref in ("master", "main", "v1") or re.fullmatch(r"[0-9a-f]{40}", ref):
            raise ActionFailed("dtolnay/rust-toolchain needs `toolchain:` when pinned to a commit or master")
        toolchain = ref
    setup = toolchains.setup_rust(
        toolchain, _lines(inputs.get("components")), _lines(inputs.get("targets")), ctx.job, ctx.env
    )
    return ActionPlan(setup=setup)


def _setup_rust_toolchain(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    toolchain = inputs.get("toolchain", "").strip() or toolchains.rust_toolchain_file(ctx.job.workspace) or "stable"
    targets = _lines(inputs.get("target"))
    setup = toolchains.setup_rust(toolchain, _lines(inputs.get("components")), targets, ctx.job, ctx.env)
    # The action's own default: warnings are errors unless the workflow passes `rustflags`.
    flags = inputs.get("rustflags")
    setup.env["RUSTFLAGS"] = "-D warnings" if flags is None else flags
    return ActionPlan(setup=setup)


def _setup_uv(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    version = inputs.get("version", "").strip()
    uv = toolchains.which("uv", ctx.job.host_path) if not version else None
    bin_dir = uv.parent if uv is not None else toolchains.pip_tool("uv", toolchains.uv_spec(version), ctx.config)
    tool_dir = ctx.job.toolbin.parent / "toolbin-uv"
    for name in ("uv", "uvx"):
        if (bin_dir / name).exists():
            toolchains._link(bin_dir / name, tool_dir / name)
    setup = Setup(path=[str(tool_dir)], outputs={"uv-path": str(tool_dir / "uv")}, note=f"uv ({bin_dir})")
    python = inputs.get("python-version", "").strip()
    if python:
        interp = toolchains.find_python(python, ctx.config)
        prefix = toolchains.python_prefix(
            interp, ctx.config, ctx.job.home.parent / "python" / ".".join(map(str, interp.version))
        )
        # uv would download a managed Python it cannot find; the local one is named by path instead, and is
        # findable by its versioned name (`python3.12`) for tools that ask uv for it again (tox-uv's
        # `uv venv -p cpython3.12`), without shadowing the runner's own `python` and `python3`.
        setup.env["UV_PYTHON"] = str(prefix / "bin" / "python")
        versioned = ctx.job.toolbin.parent / "toolbin-uv-python"
        toolchains._link(prefix / "bin" / "python", versioned / f"python{interp.version[0]}.{interp.version[1]}")
        setup.path.append(str(versioned))
        setup.note += f", {interp.label}"
    if _truthy(inputs.get("activate-environment")):
        setup.path.insert(0, str(ctx.job.workspace / ".venv" / "bin"))
        setup.env["VIRTUAL_ENV"] = str(ctx.job.workspace / ".venv")
        return ActionPlan(setup=setup, command=f'"{tool_dir / "uv"}" venv')
    return ActionPlan(setup=setup)


def _pnpm(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    version = inputs.get("version", "").strip()
    if not version:
        manifest = ctx.job.workspace / "package.json"
        if manifest.is_file():
            try:
                declared = json.loads(manifest.read_text(encoding="utf-8")).get("packageManager", "")
            except json.JSONDecodeError:
                declared = ""
            if isinstance(declared, str) and declared.startswith("pnpm@"):
                version = declared.removeprefix("pnpm@").split("+")[0]
    if not version:
        raise ActionFailed("pnpm/action-setup: no `version` and no packageManager field in package.json")
    bin_dir = toolchains.npm_tool("pnpm", version, ctx.config, ctx.job)
    tool_dir = ctx.job.toolbin.parent / "toolbin-pnpm"
    for name in ("pnpm", "pnpx"):
        if (bin_dir / name).exists():
            toolchains._link(bin_dir / name, tool_dir / name)
    plan = ActionPlan(setup=Setup(path=[str(tool_dir)], note=f"pnpm {version}"))
    if _truthy(inputs.get("run_install")):
        plan.command = "pnpm install"
    return plan


def _golangci_lint(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    binary = toolchains.which("golangci-lint", ctx.job.host_path)
    if binary is None:
        raise Blocked("toolchain", "golangci-lint is not installed here")
    args = inputs.get("args", "").strip()
    directory = inputs.get("working-directory", "").strip()
    prefix = f'cd "{directory}" && ' if directory else ""
    return ActionPlan(command=f"{prefix}{binary} run {args}".strip())


def _pre_commit(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    # pre-commit/action is composite: install pre-commit, run it over the repository.
    extra = inputs.get("extra_args", "--all-files").strip() or "--all-files"
    return ActionPlan(
        command=f"python -m pip install pre-commit\npre-commit run --show-diff-on-failure --color=always {extra}"
    )


# ---- artifacts --------------------------------------------------------------------------------------------


def _upload_artifact(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    name = inputs.get("name", "").strip() or "artifact"
    patterns = [p for p in _lines(inputs.get("path", "").replace(",", "\n")) if p]
    if not patterns:
        raise ActionFailed("upload-artifact needs `path:`")
    workspace = ctx.job.workspace
    files: list[tuple[Path, Path]] = []
    excluded: set[Path] = set()
    bases: list[Path] = []
    for pattern in patterns:
        negate = pattern.startswith("!")
        text = pattern[1:] if negate else pattern
        path = Path(text) if Path(text).is_absolute() else workspace / text
        wild = next((i for i, part in enumerate(path.parts) if any(c in part for c in "*?[")), None)
        base = Path(*path.parts[:wild]) if wild is not None else path
        if wild is not None:
            hits = [p for p in base.glob(str(Path(*path.parts[wild:]))) if p.is_file()]
        elif path.is_dir():
            hits = [p for p in path.rglob("*") if p.is_file()]
        else:
            hits = [path] if path.is_file() else []
            base = path.parent
        if negate:
            excluded.update(hits)
            continue
        bases.append(base if base.is_dir() else base.parent)
        files.extend((hit, base) for hit in hits)
    chosen = [f for f, _ in files if f not in excluded]
    if not chosen:
        mode = inputs.get("if-no-files-found", "warn").strip() or "warn"
        if mode == "error":
            raise ActionFailed(f"upload-artifact {name}: no files found at {', '.join(patterns)}")
        return ActionPlan(setup=Setup(note=f"no files for artifact {name} ({mode})"))
    root = Path(_common_dir(bases))
    target = ctx.artifacts / name
    if target.exists() and not _truthy(inputs.get("overwrite")):
        raise ActionFailed(f"an artifact named {name!r} was already uploaded in this run")
    shutil.rmtree(target, ignore_errors=True)
    for file in chosen:
        dest = target / file.relative_to(root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, dest)
    return ActionPlan(setup=Setup(outputs={"artifact-id": name}, note=f"{len(chosen)} file(s) as artifact {name}"))


def _common_dir(paths: list[Path]) -> str:
    return os.path.commonpath([str(p) for p in paths])


def _download_artifact(ref: str, inputs: Mapping[str, str], ctx: ActionContext) -> ActionPlan:
    name = inputs.get("name", "").strip()
    pattern = inputs.get("pattern", "").strip()
    path = inputs.get("path", "").strip()
    dest = Path(path) if path and Path(path).is_absolute() else ctx.job.workspace / path
    if name:
        source = ctx.artifacts / name
        if not source.is_dir():
            raise ActionFailed(f"download-artifact: no artifact named {name!r} was uploaded in this run")
        shutil.copytree(source, dest, dirs_exist_ok=True)
        return ActionPlan(setup=Setup(outputs={"download-path": str(dest)}))
    merge = _truthy(inputs.get("merge-multiple"))
    found = (
        [p for p in sorted(ctx.artifacts.iterdir()) if not pattern or fnmatch.fnmatch(p.name, pattern)]
        if ctx.artifacts.is_dir()
        else []
    )
    for artifact in found:
        shutil.copytree(artifact, dest if merge else dest / artifact.name, dirs_exist_ok=True)
    return ActionPlan(setup=Setup(outputs={"download-path": str(dest)}, note=f"{len(found)} artifact(s)"))


_Handler = Callable[[str, Mapping[str, str], ActionContext], ActionPlan]

_HANDLERS: dict[str, _Handler] = {
    "actions/checkout": _checkout,
    "actions/cache": _cache,
    "actions/cache/restore": _cache,
    "actions/cache/save": _cache,
    "swatinem/rust-cache": _cache,
    "gradle/actions/setup-gradle": _cache,
    "actions/setup-python": _setup_python,
    "actions/setup-node": _setup_node,
    "actions/setup-java": _setup_java,
    "actions/setup-go": _setup_go,
    "ruby/setup-ruby": _setup_ruby,
    "shivammathur/setup-php": _setup_php,
    "actions/setup-dotnet": _setup_dotnet,
    "erlef/setup-beam": _setup_beam,
    "dtolnay/rust-toolchain": _dtolnay_rust,
    "actions-rust-lang/setup-rust-toolchain": _setup_rust_toolchain,
    "astral-sh/setup-uv": _setup_uv,
    "pnpm/action-setup": _pnpm,
    "golangci/golangci-lint-action": _golangci_lint,
    "pre-commit/action": _pre_commit,
    "actions/upload-artifact": _upload_artifact,
    "actions/download-artifact": _download_artifact,
    "codecov/codecov-action": _external_report,
    "coverallsapp/github-action": _external_report,
}
