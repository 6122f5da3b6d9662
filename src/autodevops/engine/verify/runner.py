"""Running workflow jobs on this machine, step by step, the way a GitHub-hosted Linux runner does.

Each job (each matrix cell) gets a fresh working copy, an isolated HOME and RUNNER_TEMP, the runner's variables
(CI, GITHUB_*, RUNNER_*), and per-step GITHUB_ENV / GITHUB_PATH / GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files read
back after the step exactly as the runner reads them. Steps run in their own process group, which is killed on
timeout and when the job ends, with every process that inherited the job's RUNNER_TRACKING_ID.

Only a step that ran and exited 0 is green. A step this machine cannot run faithfully (a missing toolchain,
service or Docker, an unknown action, a failure whose log shows the machine at fault) is blocked, and the job
stops there: what follows would run on the wrong foundation.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autodevops.engine.verify import actions, services
from autodevops.engine.verify.checkout import CheckoutError, current_branch, make_workspace
from autodevops.engine.verify.classify import classify
from autodevops.engine.verify.expressions import (
    ExpressionError,
    Scope,
    Value,
    condition,
    evaluate_value,
    substitute,
    to_string,
)
from autodevops.engine.verify.report import BLOCKED, GREEN, RED, SKIPPED, JobResult, Report, StepResult
from autodevops.engine.verify.toolchains import (
    ActionFailed,
    Blocked,
    JobPaths,
    Setup,
    ToolchainConfig,
    link_node,
    local_jdks,
    node_binaries,
    pipx_command,
    prepare_rust,
)
from autodevops.engine.verify.workflow import (
    Cell,
    Job,
    Step,
    Workflow,
    WorkflowError,
    cell_matches,
    expand_matrix,
    parse_workflow,
    triggered_by,
)

DEFAULT_JOB_TIMEOUT_MINUTES = 360
TAIL_LINES = 20

# Host variables that make the package registries reachable (proxies, certificate bundles, registry settings):
# a job needs them as the runner's network configuration; nothing else of the caller's environment leaks in.
_PASSTHROUGH = re.compile(
    r"^(?:https?_proxy|no_proxy|all_proxy|HTTPS?_PROXY|NO_PROXY|ALL_PROXY|SSL_CERT_FILE|SSL_CERT_DIR|"
    r"REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|NODE_EXTRA_CA_CERTS|PIP_CERT|PIP_INDEX_URL|PIP_EXTRA_INDEX_URL|"
    r"PIP_FIND_LINKS|PIP_TRUSTED_HOST|PIP_DEFAULT_TIMEOUT|PIP_DISABLE_PIP_VERSION_CHECK|UV_INDEX_URL|"
    r"UV_DEFAULT_INDEX|UV_EXTRA_INDEX_URL|UV_NATIVE_TLS|npm_config_registry|NPM_CONFIG_REGISTRY|"
    r"RUSTUP_AUTO_INSTALL|USER|LOGNAME|TZ)$"
)
_DOCKER_COMMAND = re.compile(
    r"^\s*(?:sudo\s+)?(?:docker(?:-compose)?|podman)\s+(?!--version|version|info\b)[a-z]", re.MULTILINE
)
_SHELLS: dict[str, tuple[list[str], str]] = {
    "bash": (["bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}"], ".sh"),
    "sh": (["sh", "-e", "{0}"], ".sh"),
    "python": (["python", "{0}"], ".py"),
    "pwsh": (["pwsh", "-command", ". '{0}'"], ".ps1"),
    "powershell": (["pwsh", "-command", ". '{0}'"], ".ps1"),
}


@dataclass
class VerifyOptions:
    logs_dir: Path
    toolchains: ToolchainConfig
    jobs: tuple[str, ...] = ()
    matrix: Mapping[str, str] = field(default_factory=dict)
    keep: bool = False
    timeout: float = 1800.0  # per step, seconds
    event: str = "push"
    branch: str | None = None
    work_dir: Path | None = None
    kill_grace: float = 5.0  # between SIGTERM and SIGKILL, as the runner's cancellation
    service_ports: Mapping[str, int] = field(default_factory=dict)  # image kind -> local port (--service)


def host_path() -> list[str]:
    """The caller's PATH without interpreter shims, virtualenvs or rustup's proxies (jobs get their own)."""
    drop = {str(Path(sys.executable).parent)} if sys.prefix != sys.base_prefix else set()
    if os.environ.get("VIRTUAL_ENV"):
        drop.add(str(Path(os.environ["VIRTUAL_ENV"]) / "bin"))
    entries = []
    for entry in os.environ.get("PATH", os.defpath).split(os.pathsep):
        if not entry or entry in drop or "/shims" in entry or entry.endswith("/.cargo/bin"):
            continue
        if "/.pyenv/" in entry or entry in entries:
            continue
        entries.append(entry)
    return entries


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:80] or "x"


def _default_branch(workflows: list[Workflow]) -> str | None:
    """The first literal branch a push trigger names: the branch the pipeline was written for."""
    for workflow in workflows:
        push = workflow.triggers.get("push") or {}
        for branch in push.get("branches") or []:
            text = to_string(branch)
            if text and not any(c in text for c in "*?[!"):
                return text
    return None


def verify_workflows(
    source: Path, workflows: list[tuple[str, str]], extra_files: Mapping[str, str], options: VerifyOptions
) -> Report:
    """Run every job of `workflows` (path, text) against a working copy of `source` plus `extra_files`."""
    parsed = [parse_workflow(path, text) for path, text in workflows]
    branch = options.branch or current_branch(source) or _default_branch(parsed) or "main"
    ref = f"refs/heads/{branch}"
    options.logs_dir.mkdir(parents=True, exist_ok=True)
    report = Report(
        source=str(source),
        workflows=[w.path for w in parsed],
        logs_dir=str(options.logs_dir),
        event=options.event,
        ref=ref,
    )
    own_work_dir = options.work_dir is None
    # Short on purpose: a hosted runner's workspace is /home/runner/work/NAME/NAME, and tests that bind a unix
    # socket under it (108 bytes at most) fail under a longer root while they pass on the runner.
    work_root = options.work_dir or Path(tempfile.mkdtemp(prefix="adv-"))
    work_root.mkdir(parents=True, exist_ok=True)
    try:
        for workflow in parsed:
            run = _WorkflowRun(source, workflow, extra_files, options, work_root, ref)
            report.jobs.extend(run.run())
    finally:
        if own_work_dir and not options.keep:
            shutil.rmtree(work_root, ignore_errors=True)
    (options.logs_dir / "report.json").write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
    return report


class _WorkflowRun:
    def __init__(
        self,
        source: Path,
        workflow: Workflow,
        extra_files: Mapping[str, str],
        options: VerifyOptions,
        work_root: Path,
        ref: str,
    ) -> None:
        self.source = source
        self.workflow = workflow
        self.extra_files = extra_files
        self.options = options
        self.work_root = work_root
        self.ref = ref
        self.results: dict[str, list[JobResult]] = {}
        self.repository = f"local/{_slug(source.resolve().name)}"
        self.job_names: set[str] = set()  # each job's name for its logs, unique within the run

    def github_context(self, job_id: str, workspace: Path | None = None, sha: str = "") -> dict[str, Value]:
        branch = self.ref.removeprefix("refs/heads/")
        owner = self.repository.split("/")[0]
        return {
            "event_name": self.options.event,
            "event": {"ref": self.ref, "repository": {"full_name": self.repository, "default_branch": branch}},
            "ref": self.ref,
            "ref_name": branch,
            "ref_type": "branch",
            "ref_protected": False,
            "sha": sha,
            "repository": self.repository,
            "repository_owner": owner,
            "repositoryUrl": f"git://github.com/{self.repository}.git",
            "workspace": str(workspace) if workspace else "",
            "job": job_id,
            "workflow": self.workflow.name,
            "workflow_ref": f"{self.repository}/{self.workflow.path}@{self.ref}",
            "run_id": "1",
            "run_number": "1",
            "run_attempt": "1",
            "actor": "verify",
            "triggering_actor": "verify",
            "server_url": "https://github.com",
            "api_url": "https://api.github.com",
            "graphql_url": "https://api.github.com/graphql",
            "base_ref": "",
            "head_ref": "",
            "token": "",
            "retention_days": "90",
            "action": "",
            "action_path": "",
        }

    def needs_context(self, job: Job) -> tuple[dict[str, Value], str, str]:
        """The `needs` context, the status it implies (success/failure) and why, for a job's conditions."""
        context: dict[str, Value] = {}
        status, why = "success", ""
        for need in job.needs:
            cells = self.results.get(need)
            if cells is None:  # not selected with --job: treated as succeeded, with no outputs
                context[need] = {"result": "success", "outputs": {}}
                continue
            outputs: dict[str, str] = {}
            for cell in cells:
                outputs.update(cell.outputs)
            statuses = {c.status for c in cells}
            if statuses & {RED, BLOCKED}:
                result = "failure"
                bad = next(c for c in cells if c.status in (RED, BLOCKED))
                status = "failure"
                why = why or f"needs {need}, which is {bad.status}" + (f" ({bad.cause})" if bad.cause else "")
            elif statuses == {SKIPPED}:
                result = "skipped"
                if status == "success":
                    why = why or f"needs {need}, which was skipped"
            else:
                result = "success"
            context[need] = {"result": result, "outputs": outputs}
        if why and status == "success":
            status = "skipped"
        return context, status, why

    def run(self) -> list[JobResult]:
        out: list[JobResult] = []
        triggered = triggered_by(self.workflow, self.options.event, self.ref)
        for job in self.workflow.jobs:
            if self.options.jobs and job.id not in self.options.jobs:
                continue
            results = self.run_job(job, triggered)
            self.results[job.id] = results
            out.extend(results)
        return out

    def _skipped(self, job: Job, name: str, reason: str, matrix: Mapping[str, Value] | None = None) -> JobResult:
        return JobResult(self.workflow.path, job.id, name, dict(matrix or {}), SKIPPED, reason=reason)

    def run_job(self, job: Job, triggered: bool) -> list[JobResult]:
        if not triggered:
            return [self._skipped(job, job.id, f"the workflow does not run on {self.options.event} to {self.ref}")]
        needs, need_status, why = self.needs_context(job)
        contexts: dict[str, Value] = {
            "github": self.github_context(job.id),
            "needs": needs,
            "vars": {},
            "inputs": {},
            "secrets": {},
        }
        # A skipped dependency makes success() and failure() both false: only always() still runs the job.
        scope = Scope(contexts, status=need_status)
        try:
            wanted = condition(job.raw.get("if"), scope)
        except ExpressionError as exc:
            result = self._skipped(job, job.id, "")
            result.status, result.reason = RED, f"job if: {exc}"
            return [result]
        if not wanted:
            reason = why or f"if: {to_string(job.raw.get('if'))} is false"
            return [self._skipped(job, job.id, reason)]
        try:
            cells = expand_matrix(job.raw.get("strategy"), scope)
        except (WorkflowError, ExpressionError) as exc:
            result = self._skipped(job, job.id, "")
            result.status, result.reason = RED, f"strategy: {exc}"
            return [result]
        strategy = job.raw.get("strategy") if isinstance(job.raw.get("strategy"), dict) else {}
        fail_fast = evaluate_value((strategy or {}).get("fail-fast", True), scope) not in (False, "false")
        results: list[JobResult] = []
        cancelled_by: str | None = None
        for index, cell in enumerate(cells):
            name = self.job_name(job, cell, scope)
            if self.options.matrix and not cell_matches(cell, self.options.matrix):
                results.append(self._skipped(job, name, "not selected by --matrix", cell.values))
                continue
            if cancelled_by is not None:
                reason = f"cancelled: fail-fast after {cancelled_by} failed"
                results.append(self._skipped(job, name, reason, cell.values))
                continue
            strategy_context = {
                "fail-fast": fail_fast,
                "job-index": index,
                "job-total": len(cells),
                "max-parallel": len(cells),
            }
            result = _JobRun(self, job, cell, name, needs, strategy_context).run()
            results.append(result)
            if result.status == RED and fail_fast and len(cells) > 1:
                cancelled_by = name
        return results

    def job_name(self, job: Job, cell: Cell, scope: Scope) -> str:
        template = job.name_template
        if template is None:
            return f"{job.id} ({cell.label()})" if cell.values else job.id
        cell_scope = Scope({**scope.contexts, "matrix": dict(cell.values)}, status=scope.status)
        try:
            name = substitute(template, cell_scope)
        except ExpressionError:
            name = template
        if cell.values and "${{" not in template:
            name = f"{name} ({cell.label()})"
        return name


class _JobRun:
    """One matrix cell of one job: its directories, environment and steps."""

    def __init__(
        self,
        parent: _WorkflowRun,
        job: Job,
        cell: Cell,
        name: str,
        needs: dict[str, Value],
        strategy: dict[str, Value],
    ) -> None:
        self.parent = parent
        self.options = parent.options
        self.job = job
        self.cell = cell
        self.result = JobResult(parent.workflow.path, job.id, name, dict(cell.values), GREEN)
        self.needs = needs
        self.strategy = strategy
        slug = unique = _slug(f"{Path(parent.workflow.path).stem}-{name}")
        suffix = 1
        while unique in parent.job_names:
            suffix += 1
            unique = f"{slug}-{suffix}"
        parent.job_names.add(unique)
        self.log_dir = self.options.logs_dir / unique
        # The job's directory is as short as a runner's (see `verify_workflows`); the logs carry the readable name.
        self.dir = Path(tempfile.mkdtemp(prefix="j", dir=parent.work_root))
        self.workspace = self.dir / "w" / _slug(parent.source.resolve().name)
        self.paths = JobPaths(
            workspace=self.workspace,
            home=self.dir / "home",
            temp=self.dir / "temp",
            toolbin=self.dir / "toolbin",
            host_path=host_path(),
        )
        self.env: dict[str, str] = {}
        self.prepend_path: list[str] = []
        self.steps_context: dict[str, Value] = {}
        self.services: list[services.Service] = []
        self.failed = False
        self.tracking_id = f"verify_{uuid.uuid4().hex}"
        self.process_groups: list[int] = []
        self.sha = ""
        self.started = time.monotonic()
        self.job_timeout = DEFAULT_JOB_TIMEOUT_MINUTES * 60.0

    # ---- contexts ----

    def scope(self, env: Mapping[str, str] | None = None) -> Scope:
        contexts: dict[str, Value] = {
            "github": self.parent.github_context(self.job.id, self.workspace, self.sha),
            "env": dict(env if env is not None else self.env),
            "matrix": dict(self.cell.values),
            "strategy": self.strategy,
            "needs": self.needs,
            "steps": self.steps_context,
            "runner": {
                "os": "Linux",
                "arch": "X64",
                "name": "autodevops-verify",
                "environment": "github-hosted",
                "temp": str(self.paths.temp),
                "tool_cache": str(self.options.toolchains.cache_dir),
                "debug": "",
            },
            "job": {
                "status": "failure" if self.failed else "success",
                "services": {s.id: s.context() for s in self.services},
                "container": {"id": "", "network": ""},
            },
            "vars": {},
            "secrets": {"GITHUB_TOKEN": ""},
            "inputs": {},
        }
        return Scope(contexts, status="failure" if self.failed else "success", workspace=self.workspace)

    # ---- job ----

    def run(self) -> JobResult:
        try:
            self._run()
        except Blocked as exc:
            self.result.status, self.result.cause, self.result.reason = BLOCKED, exc.cause, exc.reason
        except (ExpressionError, ActionFailed, CheckoutError, WorkflowError) as exc:
            self.result.status, self.result.reason = RED, str(exc)
        finally:
            self._kill_leftovers()
            self.result.seconds = time.monotonic() - self.started
            if self.options.keep:
                self.result.workdir = str(self.dir)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)
        return self.result

    def _run(self) -> None:
        raw = self.job.raw
        if raw.get("uses"):
            raise Blocked("action", f"reusable workflow {to_string(raw['uses'])} is not run by verify")
        scope = self.scope(env={})
        runs_on = evaluate_value(raw.get("runs-on", ""), scope)
        labels = _labels(runs_on)
        if any(label.startswith(("windows", "macos")) or label in ("windows", "macos") for label in labels):
            raise Blocked("os", f"runs-on {', '.join(labels)}: this machine is Linux")
        if raw.get("container"):
            raise Blocked("docker", "a container job needs a Docker engine")
        if raw.get("timeout-minutes") is not None:
            self.job_timeout = float(to_string(evaluate_value(raw["timeout-minutes"], scope)) or 0) * 60
        self.services = services.resolve_services(
            evaluate_value(raw.get("services") or {}, scope), self.options.service_ports
        )
        for service in self.services:
            services.emulate_env(service)
        self._prepare()
        workflow_env = _env_mapping(evaluate_value(self.parent.workflow.env, self.scope(env=self.env)))
        self.env.update(workflow_env)
        job_env = _env_mapping(evaluate_value(raw.get("env") or {}, self.scope()))
        self.env.update(job_env)
        for step in self.job.steps:
            result = self._step(step)
            self.result.steps.append(result)
            if result.status == BLOCKED:
                self.result.status, self.result.cause, self.result.reason = BLOCKED, result.cause, result.reason
                for rest in self.job.steps[step.index + 1 :]:
                    self.result.steps.append(
                        StepResult(rest.index + 1, rest.display_name, SKIPPED, reason="after a blocked step")
                    )
                return
            if result.status == RED and not result.continue_on_error:
                self.failed = True
        if self.failed:
            failing = self.result.failing_step()
            self.result.status = RED
            self.result.reason = f"step {failing.number} {failing.name!r}: {failing.reason}" if failing else ""
        self._job_outputs()

    def _prepare(self) -> None:
        for directory in (self.paths.home, self.paths.temp, self.paths.toolbin, self.workspace.parent, self.log_dir):
            directory.mkdir(parents=True, exist_ok=True)
        history = any(
            (s.uses or "").lower().startswith("actions/checkout")
            and to_string((s.raw.get("with") or {}).get("fetch-depth", "1")).strip() == "0"
            for s in self.job.steps
        )
        branch = self.parent.ref.removeprefix("refs/heads/")
        self.sha = make_workspace(
            self.parent.source,
            self.workspace,
            self.parent.extra_files,
            branch=branch,
            history=history,
            home=self.paths.home,
        )
        cache = self.options.toolchains.cache_dir
        for name in ("pip", "uv", "npm", "go-build", "go-mod"):
            (cache / "downloads" / name).mkdir(parents=True, exist_ok=True)
        event_path = self.paths.temp / "_github_workflow" / "event.json"
        event_path.parent.mkdir(parents=True, exist_ok=True)
        event_path.write_text(json.dumps(self.parent.github_context(self.job.id)["event"]), encoding="utf-8")
        # What GitHub's ubuntu image provides: node and its tools, pipx, ~/.local/bin, a JDK, rustup.
        for binary in node_binaries(self.options.toolchains, self.paths)[-1:]:
            link_node(binary, self.paths.toolbin)
        npm_global = self.dir / "npm-global"
        branch_name = branch
        self.env.update(
            {
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "HOME": str(self.paths.home),
                "LANG": os.environ.get("LANG", "C.UTF-8"),
                "GITHUB_WORKSPACE": str(self.workspace),
                "GITHUB_REPOSITORY": self.parent.repository,
                "GITHUB_REPOSITORY_OWNER": self.parent.repository.split("/")[0],
                "GITHUB_SHA": self.sha,
                "GITHUB_REF": self.parent.ref,
                "GITHUB_REF_NAME": branch_name,
                "GITHUB_REF_TYPE": "branch",
                "GITHUB_EVENT_NAME": self.options.event,
                "GITHUB_EVENT_PATH": str(event_path),
                "GITHUB_JOB": self.job.id,
                "GITHUB_WORKFLOW": self.parent.workflow.name,
                "GITHUB_RUN_ID": "1",
                "GITHUB_RUN_NUMBER": "1",
                "GITHUB_RUN_ATTEMPT": "1",
                "GITHUB_ACTOR": "verify",
                "GITHUB_SERVER_URL": "https://github.com",
                "GITHUB_API_URL": "https://api.github.com",
                "GITHUB_GRAPHQL_URL": "https://api.github.com/graphql",
                "GITHUB_BASE_REF": "",
                "GITHUB_HEAD_REF": "",
                "RUNNER_OS": "Linux",
                "RUNNER_ARCH": "X64",
                "RUNNER_NAME": "autodevops-verify",
                "RUNNER_ENVIRONMENT": "github-hosted",
                "RUNNER_TEMP": str(self.paths.temp),
                "RUNNER_TOOL_CACHE": str(cache),
                "RUNNER_WORKSPACE": str(self.workspace.parent),
                "RUNNER_TRACKING_ID": self.tracking_id,
                "ImageOS": "ubuntu24",
                "PIP_CACHE_DIR": str(cache / "downloads" / "pip"),
                "UV_CACHE_DIR": str(cache / "downloads" / "uv"),
                "npm_config_cache": str(cache / "downloads" / "npm"),
                "npm_config_prefix": str(npm_global),
                "GOCACHE": str(cache / "downloads" / "go-build"),
                "GOMODCACHE": str(cache / "downloads" / "go-mod"),
            }
        )
        for name, value in os.environ.items():
            if _PASSTHROUGH.match(name):
                self.env.setdefault(name, value)
        jdk = local_jdks(self.options.toolchains).get(17)
        if jdk is not None:
            self.env["JAVA_HOME"] = str(jdk)
        rust = prepare_rust(self.paths, cache)
        self.env.update(rust)
        base = [str(self.paths.home / ".local" / "bin"), str(self.paths.toolbin), str(npm_global / "bin")]
        if rust:
            base.append(str(Path(rust["CARGO_HOME"]) / "bin"))
        self.base_path = [*base, *self.paths.host_path]

    def _path(self) -> str:
        return os.pathsep.join([*self.prepend_path, *self.base_path])

    def _apply_setup(self, setup: Setup) -> None:
        for entry in reversed(setup.path):
            with contextlib.suppress(ValueError):
                self.prepend_path.remove(entry)
            self.prepend_path.insert(0, entry)
        self.env.update(setup.env)

    def _run_default(self, key: str) -> Any:
        """`defaults.run.<key>` of the job, else of the workflow."""
        value = _run_defaults(self.job.raw.get("defaults")).get(key)
        return value if value is not None else _run_defaults(self.parent.workflow.defaults).get(key)

    def _job_outputs(self) -> None:
        raw = self.job.raw.get("outputs") or {}
        scope = self.scope()
        for key, value in raw.items():
            try:
                self.result.outputs[str(key)] = to_string(evaluate_value(value, scope))
            except ExpressionError:
                self.result.outputs[str(key)] = ""

    # ---- steps ----

    def _step(self, step: Step) -> StepResult:
        number = step.index + 1
        result = StepResult(number, step.display_name, GREEN)
        started = time.monotonic()
        try:
            own_env = _env_mapping(evaluate_value(step.raw.get("env") or {}, self.scope()))
            scope = self.scope(env={**self.env, **own_env})
            if step.raw.get("name") is not None:
                result.name = substitute(to_string(step.raw["name"]), scope)
            result.continue_on_error = truthy_value(evaluate_value(step.raw.get("continue-on-error", False), scope))
            if not condition(step.raw.get("if"), scope):
                result.status = SKIPPED
                result.reason = "an earlier step failed" if self.failed else "if: condition is false"
                self._record(step, "skipped", {})
                return result
            if step.uses is not None:
                self._action_step(step, result, scope, own_env)
            else:
                self._run_step(step, result, scope, {**self.env, **own_env}, step.run or "")
        except Blocked as exc:
            result.status, result.cause, result.reason = BLOCKED, exc.cause, exc.reason
        except (ExpressionError, ActionFailed) as exc:
            result.status, result.reason = RED, str(exc)
        result.seconds = time.monotonic() - started
        outcome = {GREEN: "success", RED: "failure", SKIPPED: "skipped", BLOCKED: "failure"}[result.status]
        if result.status != SKIPPED:
            self._record(step, outcome, self.steps_context.get(step.id or "", {}).get("outputs", {}))
            if result.continue_on_error and outcome == "failure" and step.id:
                self.steps_context[step.id]["conclusion"] = "success"
        return result

    def _record(self, step: Step, outcome: str, outputs: Mapping[str, str]) -> None:
        if step.id:
            self.steps_context[step.id] = {"outcome": outcome, "conclusion": outcome, "outputs": dict(outputs)}

    def _action_step(self, step: Step, result: StepResult, scope: Scope, own_env: dict[str, str]) -> None:
        inputs = {str(k): to_string(evaluate_value(v, scope)) for k, v in (step.raw.get("with") or {}).items()}
        uses = step.uses or ""
        ctx = actions.ActionContext(
            config=self.options.toolchains,
            job=self.paths,
            env={**self.env, **own_env, "PATH": self._path()},
            artifacts=self.parent.work_root / "artifacts",
        )
        plan = actions.resolve(uses, inputs, ctx)
        if step.id and plan.setup.outputs:
            self.steps_context[step.id] = {
                "outcome": "success",
                "conclusion": "success",
                "outputs": dict(plan.setup.outputs),
            }
        self._apply_setup(plan.setup)
        if plan.skipped:
            result.status, result.reason = SKIPPED, plan.skipped
            return
        result.reason = plan.setup.note
        if plan.command is not None:
            self._run_step(step, result, scope, {**self.env, **own_env}, plan.command, shell_override="bash")
            if result.status == GREEN:
                result.reason = plan.setup.note

    def _shell(self, step: Step, override: str | None) -> tuple[list[str], str, str]:
        """(argv template, script suffix, label) for the step's shell."""
        shell = override or step.raw.get("shell") or self._run_default("shell")
        if shell is None:
            # The runner's own default when no shell is named: bash -e, without pipefail or --noprofile.
            return ["bash", "-e", "{0}"], ".sh", "bash -e {0}"
        text = to_string(shell).strip()
        if text in _SHELLS:
            argv, suffix = _SHELLS[text]
            return list(argv), suffix, " ".join(argv)
        if text == "cmd":
            raise Blocked("os", "shell: cmd needs Windows")
        if "{0}" not in text:
            raise ActionFailed(f"shell {text!r} has no {{0}} placeholder for the script")
        argv = shlex.split(text)
        suffix = ".py" if argv and argv[0].startswith("python") else ".sh"
        return argv, suffix, text

    def _run_step(
        self,
        step: Step,
        result: StepResult,
        scope: Scope,
        step_env: dict[str, str],
        script_template: str,
        shell_override: str | None = None,
    ) -> None:
        script = substitute(script_template, scope)
        result.command = script.strip()
        if _DOCKER_COMMAND.search(script):
            raise Blocked("docker", "the step runs docker, and this machine has no Docker engine")
        self._provide_pipx(script)
        argv_template, suffix, shell_label = self._shell(step, shell_override)
        directory = step.raw.get("working-directory")
        if directory is None and step.run is not None:
            directory = self._run_default("working-directory")
        cwd = self.workspace
        if directory is not None:
            text = substitute(to_string(directory), scope)
            cwd = Path(text) if Path(text).is_absolute() else self.workspace / text
        files = self._file_commands(step.index)
        env = {**step_env, **{k: str(v) for k, v in files.items()}, "PATH": self._path()}
        env["GITHUB_ACTION"] = step.id or f"__run_{step.index}"
        program = shutil.which(argv_template[0], path=env["PATH"])
        if program is None:
            if argv_template[0] == "pwsh":
                raise Blocked("toolchain", "PowerShell (pwsh) is not installed here")
            raise ActionFailed(f"shell {argv_template[0]!r} was not found on PATH")
        script_path = self.paths.temp / f"step-{step.index + 1}-{uuid.uuid4().hex[:8]}{suffix}"
        script_path.write_text(script if script.endswith("\n") else script + "\n", encoding="utf-8")
        argv = [program, *[a.replace("{0}", str(script_path)) for a in argv_template[1:]]]
        log_path = self.log_dir / f"{step.index + 1:02d}-{_slug(result.name)}.log"
        result.log = str(log_path)
        limit, limit_is_workflows = self._step_limit(step, scope)
        header = (
            f"# {result.name}\n# shell: {shell_label}\n# working-directory: {cwd}\n# script:\n"
            + "".join(f"#   {line}\n" for line in script.splitlines())
            + "# ---- output ----\n"
        )
        if not cwd.is_dir():
            log_path.write_text(header + f"working directory {cwd} does not exist\n", encoding="utf-8")
            result.status, result.reason = RED, f"working-directory {directory} does not exist"
            return
        exit_code, timed_out = _execute(argv, cwd, env, log_path, header, limit, self.options.kill_grace, self)
        self._read_file_commands(step, files)
        output = log_path.read_text(encoding="utf-8", errors="replace").split("# ---- output ----\n", 1)[-1]
        result.exit_code = exit_code
        if timed_out:
            result.tail = output.splitlines()[-TAIL_LINES:]
            if limit_is_workflows:
                result.status, result.cause = RED, "timeout"
                result.reason = f"timed out after {limit:.0f}s (the workflow's timeout-minutes)"
            else:
                result.status, result.cause = BLOCKED, "timeout"
                result.reason = f"still running after --timeout {limit:.0f}s; killed"
            return
        if exit_code == 0:
            return
        result.tail = output.splitlines()[-TAIL_LINES:]
        evidence = classify(output)
        if evidence is not None:
            result.status, result.cause = BLOCKED, evidence.cause
            result.reason = f"exit code {exit_code}; the machine, not the pipeline: {evidence.line}"
        else:
            result.status, result.reason = RED, f"exit code {exit_code}"

    def _provide_pipx(self, script: str) -> None:
        """pipx, which GitHub's ubuntu image ships, installed on first use when this machine lacks it."""
        link = self.paths.toolbin / "pipx"
        if "pipx" not in script or link.exists() or shutil.which("pipx", path=os.pathsep.join(self.paths.host_path)):
            return
        link.symlink_to(pipx_command(self.options.toolchains))

    def _step_limit(self, step: Step, scope: Scope) -> tuple[float, bool]:
        limits: list[tuple[float, bool]] = [(self.options.timeout, False)]
        if step.raw.get("timeout-minutes") is not None:
            minutes = float(to_string(evaluate_value(step.raw["timeout-minutes"], scope)) or 0)
            limits.append((minutes * 60, True))
        remaining = self.job_timeout - (time.monotonic() - self.started)
        limits.append((max(remaining, 1.0), True))
        return min(limits, key=lambda item: (item[0], not item[1]))

    def _file_commands(self, index: int) -> dict[str, Path]:
        directory = self.paths.temp / "_runner_file_commands"
        directory.mkdir(parents=True, exist_ok=True)
        names = {
            "GITHUB_ENV": "set_env",
            "GITHUB_PATH": "add_path",
            "GITHUB_OUTPUT": "set_output",
            "GITHUB_STATE": "save_state",
            "GITHUB_STEP_SUMMARY": "step_summary",
        }
        files = {}
        for variable, prefix in names.items():
            path = directory / f"{prefix}_{index + 1}_{uuid.uuid4().hex[:8]}"
            path.write_text("", encoding="utf-8")
            files[variable] = path
        return files

    def _read_file_commands(self, step: Step, files: Mapping[str, Path]) -> None:
        """Apply what the step wrote to its command files, as the runner does after every step."""
        for name, value in parse_env_file(files["GITHUB_ENV"].read_text(encoding="utf-8", errors="replace")):
            self.env[name] = value
        for line in files["GITHUB_PATH"].read_text(encoding="utf-8", errors="replace").splitlines():
            entry = line.strip()
            if entry:
                self._apply_setup(Setup(path=[entry]))
        outputs = dict(parse_env_file(files["GITHUB_OUTPUT"].read_text(encoding="utf-8", errors="replace")))
        if step.id:
            self.steps_context[step.id] = {"outcome": "success", "conclusion": "success", "outputs": outputs}
        summary = files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8", errors="replace")
        if summary:
            with (self.log_dir / "summary.md").open("a", encoding="utf-8") as fh:
                fh.write(summary)

    def _kill_leftovers(self) -> None:
        """End every process the job left behind: its step process groups and anything carrying its tracking id."""
        for pgid in self.process_groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        marker = f"RUNNER_TRACKING_ID={self.tracking_id}".encode()
        proc = Path("/proc")
        if not proc.is_dir():
            return
        for entry in proc.iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if marker in environ.split(b"\0"):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(int(entry.name), signal.SIGKILL)


def truthy_value(value: Value) -> bool:
    return value is True or to_string(value).strip().lower() == "true"


def _labels(runs_on: Value) -> list[str]:
    if isinstance(runs_on, dict):
        runs_on = runs_on.get("labels") or runs_on.get("group") or ""
    if isinstance(runs_on, list):
        return [to_string(v).lower() for v in runs_on]
    return [to_string(runs_on).lower()] if runs_on else []


def _env_mapping(value: Value) -> dict[str, str]:
    if not value:
        return {}
    if not isinstance(value, dict):
        raise ActionFailed(f"env must be a mapping, got {to_string(value)!r}")
    return {str(k): to_string(v) for k, v in value.items()}


def _run_defaults(defaults: Any) -> Mapping[str, Any]:
    if isinstance(defaults, dict) and isinstance(defaults.get("run"), dict):
        run: Mapping[str, Any] = defaults["run"]
        return run
    return {}


def parse_env_file(text: str) -> list[tuple[str, str]]:
    """Entries of a GITHUB_ENV / GITHUB_OUTPUT file: `NAME=value` lines and `NAME<<DELIMITER` blocks.

    Raises ActionFailed on a block whose delimiter never comes, as the runner fails the step then.
    """
    entries: list[tuple[str, str]] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r")
        i += 1
        if not line.strip():
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if heredoc > 0 and (equals < 0 or heredoc < equals):
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            if not name or not delimiter:
                raise ActionFailed(f"invalid file command line {line!r}")
            body: list[str] = []
            while i < len(lines) and lines[i].rstrip("\r") != delimiter:
                body.append(lines[i].rstrip("\r"))
                i += 1
            if i >= len(lines):
                raise ActionFailed(f"matching delimiter {delimiter!r} not found for {name}")
            i += 1
            entries.append((name, "\n".join(body)))
        elif equals > 0:
            entries.append((line[:equals], line[equals + 1 :]))
        else:
            raise ActionFailed(f"invalid file command line {line!r}")
    return entries


def _execute(
    argv: list[str],
    cwd: Path,
    env: Mapping[str, str],
    log_path: Path,
    header: str,
    limit: float,
    grace: float,
    job: _JobRun,
) -> tuple[int | None, bool]:
    """Run a step in its own process group, output to its log; (exit code, timed out)."""
    with log_path.open("w", encoding="utf-8") as log:
        log.write(header)
        log.flush()
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        job.process_groups.append(process.pid)
        try:
            return process.wait(timeout=limit), False
        except subprocess.TimeoutExpired:
            _terminate_group(process, grace)
            with log_path.open("a", encoding="utf-8") as tail:
                tail.write(f"\n##[error] verify: the step ran past {limit:.0f}s and was killed\n")
            return None, True


def _terminate_group(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the step's process group, SIGKILL whatever is left after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _group_alive(process.pid):
            break
        time.sleep(0.05)
        process.poll()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
