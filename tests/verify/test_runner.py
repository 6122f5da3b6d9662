"""Running workflows for real: file commands, conditions, needs, matrices, toolchains, services, timeouts."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from autodevops.engine.verify.actions import ActionFailed
from autodevops.engine.verify.report import BLOCKED, GREEN, RED, SKIPPED
from autodevops.engine.verify.runner import parse_env_file

from .support import PYTHON_VERSION, RunWorkflow


def test_env_file_forms() -> None:
    text = "A=1\nB=x=y\nMULTI<<EOF\nline one\nline two\nEOF\n\nEMPTY=\n"
    assert parse_env_file(text) == [("A", "1"), ("B", "x=y"), ("MULTI", "line one\nline two"), ("EMPTY", "")]
    with pytest.raises(ActionFailed, match="delimiter"):
        parse_env_file("X<<END\nno end\n")
    with pytest.raises(ActionFailed, match="invalid"):
        parse_env_file("no-equals-sign\n")


def test_file_commands_carry_between_steps(run_workflow: RunWorkflow) -> None:
    report = run_workflow(
        """
        on: push
        env:
          LEVEL: workflow
        jobs:
          build:
            runs-on: ubuntu-latest
            env:
              JOB_VAR: job
            steps:
              - id: produce
                run: |
                  echo "FROM_STEP=set by step 1" >> "$GITHUB_ENV"
                  { echo "NOTES<<DELIM"; echo "first"; echo "second"; echo "DELIM"; } >> "$GITHUB_ENV"
                  mkdir -p "$RUNNER_TEMP/bin1" "$RUNNER_TEMP/bin2"
                  printf '#!/bin/sh\\necho one\\n' > "$RUNNER_TEMP/bin1/tool"
                  printf '#!/bin/sh\\necho two\\n' > "$RUNNER_TEMP/bin2/tool"
                  chmod +x "$RUNNER_TEMP/bin1/tool" "$RUNNER_TEMP/bin2/tool"
                  echo "$RUNNER_TEMP/bin1" >> "$GITHUB_PATH"
                  echo "$RUNNER_TEMP/bin2" >> "$GITHUB_PATH"
                  echo "version=1.2.3" >> "$GITHUB_OUTPUT"
                  echo "## summary" >> "$GITHUB_STEP_SUMMARY"
              - name: Check what the runner passes on
                env:
                  STEP_VAR: ${{ steps.produce.outputs.version }}
                  LEVEL: step
                run: |
                  test "$FROM_STEP" = "set by step 1"
                  test "$NOTES" = "$(printf 'first\\nsecond')"
                  test "$(tool)" = "two"   # the later GITHUB_PATH line comes first
                  test "$STEP_VAR" = "1.2.3"
                  test "$LEVEL" = "step"
                  test "$JOB_VAR" = "job"
                  test "$CI" = "true" && test "$GITHUB_ACTIONS" = "true" && test "$RUNNER_OS" = "Linux"
                  test "$GITHUB_WORKSPACE" = "$PWD" && test "$HOME" != "$GITHUB_WORKSPACE"
                  git log --oneline | grep -q .   # a working copy with a commit
              - if: steps.produce.outputs.version == '1.2.3' && env.LEVEL == 'workflow'
                run: echo conditions see outputs and env
          nested:
            runs-on: ubuntu-latest
            defaults:
              run:
                working-directory: pkg
                shell: bash
            steps:
              - working-directory: .
                run: mkdir -p pkg/sub
              - run: test "$(basename "$PWD")" = pkg && false | true   # pipefail with an explicit bash
                continue-on-error: true
              - run: test "$(basename "$PWD")" = sub
                working-directory: pkg/sub
        """
    )
    job, nested = report.jobs
    assert job.status == GREEN, [(s.name, s.status, s.reason, s.tail) for s in job.steps]
    assert [s.status for s in job.steps] == [GREEN, GREEN, GREEN]
    assert (Path(report.logs_dir) / "ci-build" / "summary.md").read_text() == "## summary\n"
    assert [s.status for s in nested.steps] == [GREEN, RED, GREEN]


def test_failure_runs_only_failure_steps_and_reports_the_command(run_workflow: RunWorkflow) -> None:
    report = run_workflow(
        """
        on: push
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - name: Flaky but allowed
                continue-on-error: true
                run: exit 3
              - name: Tests
                run: |
                  echo "collecting"
                  echo "AssertionError: 1 != 2" >&2
                  exit 1
              - name: Not after a failure
                run: echo never
              - name: Diagnose
                if: failure()
                run: echo diagnosing
        """
    )
    [job] = report.jobs
    assert job.status == RED
    assert [s.status for s in job.steps] == [RED, RED, SKIPPED, GREEN]
    assert job.steps[0].continue_on_error
    failing = job.failing_step()
    assert failing is not None
    assert failing.name == "Tests"
    assert failing.exit_code == 1
    assert failing.command is not None
    assert "exit 1" in failing.command
    assert "AssertionError: 1 != 2" in failing.tail
    assert report.exit_code() == 1


def test_needs_chain_skips_dependents_of_a_red_job(run_workflow: RunWorkflow) -> None:
    report = run_workflow(
        """
        on: push
        jobs:
          lint:
            runs-on: ubuntu-latest
            steps:
              - run: exit 1
          test:
            needs: lint
            runs-on: ubuntu-latest
            steps:
              - run: echo test
          deploy:
            needs: [test]
            runs-on: ubuntu-latest
            steps:
              - run: echo deploy
          after-skip:
            needs: [test]
            if: always()
            runs-on: ubuntu-latest
            steps:
              - run: test "${{ needs.test.result }}" = skipped
          report:
            needs: [lint, test]
            if: always()
            runs-on: ubuntu-latest
            steps:
              - run: test "${{ needs.lint.result }}" = failure
        """
    )
    by_id = {j.job_id: j for j in report.jobs}
    assert by_id["lint"].status == RED
    assert by_id["test"].status == SKIPPED
    assert by_id["test"].reason == "needs lint, which is red"
    assert by_id["deploy"].status == SKIPPED
    assert by_id["deploy"].reason == "needs test, which was skipped"
    assert by_id["after-skip"].status == GREEN
    assert by_id["report"].status == GREEN


def test_matrix_cells_outputs_and_filter(run_workflow: RunWorkflow) -> None:
    workflow = """
        on: push
        jobs:
          build:
            runs-on: ${{ matrix.os }}
            strategy:
              matrix:
                os: [ubuntu-latest, windows-latest]
                flavor: [a, b]
                exclude:
                  - os: windows-latest
                    flavor: b
            outputs:
              flavor: ${{ steps.out.outputs.flavor }}
            steps:
              - id: out
                run: echo "flavor=${{ matrix.flavor }}" >> "$GITHUB_OUTPUT"
          use:
            needs: build
            runs-on: ubuntu-latest
            steps:
              - run: test "${{ needs.build.outputs.flavor }}" = b
        """
    report = run_workflow(workflow)
    statuses = [(j.name, j.status, j.cause) for j in report.jobs]
    assert statuses == [
        ("build (ubuntu-latest, a)", GREEN, None),
        ("build (ubuntu-latest, b)", GREEN, None),
        ("build (windows-latest, a)", BLOCKED, "os"),
        ("use", SKIPPED, None),  # a needed cell was blocked: its dependents cannot run
    ]
    filtered = run_workflow(workflow, matrix={"flavor": "b"}, jobs=("build",))
    assert [(j.name, j.status) for j in filtered.jobs] == [
        ("build (ubuntu-latest, a)", SKIPPED),
        ("build (ubuntu-latest, b)", GREEN),
        ("build (windows-latest, a)", SKIPPED),
    ]


def test_python_version_not_installed_blocks_the_cell(run_workflow: RunWorkflow) -> None:
    other = "3.12" if PYTHON_VERSION != "3.12" else "3.13"
    report = run_workflow(
        f"""
        on: push
        jobs:
          test:
            runs-on: ubuntu-latest
            strategy:
              matrix:
                python-version: ["{other}", "3.1"]
            steps:
              - uses: actions/setup-python@v5
                with:
                  python-version: ${{{{ matrix.python-version }}}}
              - run: python --version
        """
    )
    first, second = report.jobs
    assert (first.status, first.cause) == (BLOCKED, "toolchain")
    assert f"Python {other} is not installed" in first.reason
    # 3.1 (YAML's reading of an unquoted 3.10) does not exist: setup-python fails on GitHub too.
    assert second.status == RED
    assert "does not exist" in second.reason
    assert report.exit_code() == 1


def test_setup_python_gives_a_clean_private_interpreter(run_workflow: RunWorkflow) -> None:
    report = run_workflow(
        f"""
        on: push
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/setup-python@v5
                id: py
                with:
                  python-version: "{PYTHON_VERSION}"
              - shell: python
                run: |
                  import importlib.util, os, sys
                  assert sys.version.startswith("{PYTHON_VERSION}"), sys.version
                  assert sys.prefix == os.environ["pythonLocation"], (sys.prefix, os.environ["pythonLocation"])
                  assert sys.prefix.startswith(os.environ["HOME"].rsplit("/", 1)[0])
                  assert importlib.util.find_spec("pip") is not None
                  assert importlib.util.find_spec("pytest") is None, "site-packages must start empty"
              - run: test "${{{{ steps.py.outputs.python-version }}}}" != ""
        """
    )
    [job] = report.jobs
    assert job.status == GREEN, [(s.name, s.status, s.reason, s.tail) for s in job.steps]


def test_setup_uv_makes_its_python_findable_by_version_for_tools_that_ask_uv_again(
    run_workflow: RunWorkflow,
) -> None:
    # tox-uv runs `uv venv -p cpython3.12`: on a hosted runner uv downloads it, here it must find the local one.
    report = run_workflow(
        f"""
        on: push
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: astral-sh/setup-uv@v7
                with:
                  python-version: "{PYTHON_VERSION}"
              - run: case "$(command -v python{PYTHON_VERSION})" in */toolbin-uv-python/*) ;; *) exit 1 ;; esac
              - run: test "$UV_PYTHON" != ""
        """
    )
    [job] = report.jobs
    assert job.status == GREEN, [(s.name, s.status, s.reason, s.tail) for s in job.steps]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_service_without_a_local_server_blocks_the_job(run_workflow: RunWorkflow) -> None:
    port = _closed_port()
    report = run_workflow(
        """
        on: push
        jobs:
          test:
            runs-on: ubuntu-latest
            services:
              cache:
                image: redis:7
            steps:
              - run: echo never
        """,
        service_ports={"redis": port},
    )
    [job] = report.jobs
    assert (job.status, job.cause) == (BLOCKED, "service")
    assert f"127.0.0.1:{port}" in job.reason
    assert job.steps == []
    assert report.exit_code() == 3


def test_postgres_service_gets_the_database_its_image_would_create(run_workflow: RunWorkflow) -> None:
    database = f"verify_service_{os.getpid()}"
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-tAc"]
    try:
        report = run_workflow(
            f"""
            on: push
            jobs:
              test:
                runs-on: ubuntu-latest
                services:
                  db:
                    image: postgres:16
                    env:
                      POSTGRES_USER: postgres
                      POSTGRES_DB: {database}
                    ports: ["5432:5432"]
                env:
                  DATABASE_URL: postgresql://postgres@localhost:${{{{ job.services.db.ports['5432'] }}}}/{database}
                steps:
                  - run: psql "$DATABASE_URL" -tAc 'select current_database()' | grep -qx {database}
            """
        )
        [job] = report.jobs
        assert job.status == GREEN, [(s.name, s.status, s.reason, s.tail) for s in job.steps]
    finally:
        subprocess.run([*psql, f"DROP DATABASE IF EXISTS {database}"], check=False, capture_output=True)


def test_docker_and_unknown_actions_are_blocked_and_named(run_workflow: RunWorkflow) -> None:
    report = run_workflow(
        """
        on: push
        jobs:
          image:
            runs-on: ubuntu-latest
            steps:
              - run: docker build -t app .
          custom:
            runs-on: ubuntu-latest
            steps:
              - uses: someone/unknown-action@v1
          cache:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/cache@v4
                with:
                  path: ~/.cache
                  key: ${{ hashFiles('**/*.lock') }}
              - run: echo ok
        """
    )
    by_id = {j.job_id: j for j in report.jobs}
    assert (by_id["image"].status, by_id["image"].cause) == (BLOCKED, "docker")
    assert (by_id["custom"].status, by_id["custom"].cause) == (BLOCKED, "action")
    assert "someone/unknown-action" in by_id["custom"].reason
    assert by_id["cache"].status == GREEN
    assert [s.status for s in by_id["cache"].steps] == [SKIPPED, GREEN]


def test_network_failure_to_a_non_registry_host_is_the_machine(run_workflow: RunWorkflow) -> None:
    report = run_workflow(
        """
        on: push
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  echo "curl: (6) Could not resolve host: api.example.com"
                  exit 6
        """
    )
    [job] = report.jobs
    assert (job.status, job.cause) == (BLOCKED, "environment")
    assert "Could not resolve host: api.example.com" in job.reason


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state


def test_timeout_kills_the_whole_process_group(run_workflow: RunWorkflow, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    report = run_workflow(
        f"""
        on: push
        jobs:
          hang:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  python3 -c 'import os, signal, time
                  signal.signal(signal.SIGTERM, signal.SIG_IGN)
                  open("{pid_file}", "w").write(str(os.getpid()))
                  time.sleep(600)' &
                  while [ ! -s "{pid_file}" ]; do sleep 0.05; done
                  sleep 600
        """,
        timeout=2,
    )
    [job] = report.jobs
    assert (job.status, job.cause) == (BLOCKED, "timeout")
    assert "--timeout 2s" in job.reason
    child = int(pid_file.read_text())
    for _ in range(100):  # SIGKILL is delivered asynchronously; the process is gone within moments
        if not _alive(child):
            break
        time.sleep(0.05)
    assert not _alive(child)


def test_workflow_timeout_minutes_is_red(run_workflow: RunWorkflow) -> None:
    report = run_workflow(
        """
        on: push
        jobs:
          slow:
            runs-on: ubuntu-latest
            steps:
              - run: sleep 30
                timeout-minutes: 0.02
        """
    )
    [job] = report.jobs
    assert (job.status, job.steps[0].cause) == (RED, "timeout")


def test_untriggered_workflow_runs_nothing(run_workflow: RunWorkflow) -> None:
    report = run_workflow(
        """
        on:
          push:
            tags: ["v*"]
        jobs:
          release:
            runs-on: ubuntu-latest
            steps:
              - run: exit 1
        """
    )
    [job] = report.jobs
    assert job.status == SKIPPED
    assert "does not run on push" in job.reason
    assert report.exit_code() == 3


def test_artifacts_pass_between_jobs(run_workflow: RunWorkflow) -> None:
    report = run_workflow(
        """
        on: push
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - run: mkdir -p dist/sub && echo wheel > dist/sub/pkg.whl
              - uses: actions/upload-artifact@v4
                with:
                  name: dist
                  path: dist/
          check:
            needs: build
            runs-on: ubuntu-latest
            steps:
              - uses: actions/download-artifact@v4
                with:
                  name: dist
                  path: out
              - run: test "$(cat out/sub/pkg.whl)" = wheel
        """
    )
    assert [j.status for j in report.jobs] == [GREEN, GREEN], [
        (s.name, s.status, s.reason, s.tail) for j in report.jobs for s in j.steps
    ]


def test_history_checkout_clones_the_repository(run_workflow: RunWorkflow, tmp_path: Path) -> None:
    repo = tmp_path / "history"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@t"
    for args in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "one"], ["tag", "v1.0.0"]):
        subprocess.run(["git", *args], cwd=repo, check=True, env=env)
    (repo / "README").write_text("x\n")
    subprocess.run(["git", "add", "README"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", "two"], cwd=repo, check=True, env=env)
    workflow = """
        on: push
        jobs:
          version:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
                with:
                  fetch-depth: {depth}
              - run: test "$(git describe --tags)" != ""
        """
    deep = run_workflow(workflow.format(depth=0), repo=repo)
    assert deep.jobs[0].status == GREEN, [(s.name, s.status, s.tail) for s in deep.jobs[0].steps]
    shallow = run_workflow(workflow.format(depth=1), repo=repo)
    assert shallow.jobs[0].status == RED  # one commit, no tags: as after a default checkout


def test_a_unix_socket_that_fits_under_a_runners_workspace_fits_here(run_workflow: RunWorkflow) -> None:
    # A hosted runner's workspace for `repo` is /home/runner/work/repo/repo; a socket path there may be 107 bytes.
    # Tests bind sockets under it (a server's unix-socket mode), so a longer local root would be red here only.
    runner_workspace = "/home/runner/work/repo/repo/"
    name = "s" * (107 - len(runner_workspace) - 10)  # a path 10 bytes shorter than the limit on the runner
    report = run_workflow(
        f"""
        on: push
        jobs:
          serve:
            runs-on: ubuntu-latest
            steps:
              - run: python3 -c "import os, socket; socket.socket(socket.AF_UNIX).bind(os.path.abspath('{name}'))"
        """
    )
    assert [job.status for job in report.jobs] == [GREEN], report.jobs[0].steps[-1].tail
