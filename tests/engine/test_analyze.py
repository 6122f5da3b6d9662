"""The analyzer's repository-level passes and its resilience to bad input."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autodevops.engine import analyze as analyze_module
from autodevops.engine.analyze import analyze
from autodevops.engine.detect.base import Context
from autodevops.engine.model import Analysis, Stack
from autodevops.engine.source import LocalDir

TODAY = dt.date(2026, 11, 26)


def run(root: Path, files: dict[str, str]) -> Analysis:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return analyze(LocalDir(root), TODAY)


def codes(a: Analysis) -> set[str]:
    return {f.code for f in a.findings}


PYPROJECT = "[project]\nname='app'\nrequires-python='>=3.12'\ndependencies=['django']\n"
WORKFLOW = "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: tox -e py39\n"


def test_existing_ci_is_reported_but_never_used_for_stack_fields(tmp_path: Path) -> None:
    files = {"pyproject.toml": PYPROJECT, "uv.lock": ""}
    without = run(tmp_path / "a", files)
    with_ci = run(
        tmp_path / "b",
        {
            **files,
            ".github/workflows/ci.yml": WORKFLOW,
            ".gitlab-ci.yml": "test:\n  script: [nox]\n",
            "Jenkinsfile": "",
        },
    )
    assert [(c.provider, c.path) for c in with_ci.existing_ci] == [
        ("github-actions", ".github/workflows/ci.yml"),
        ("gitlab-ci", ".gitlab-ci.yml"),
        ("jenkins", "Jenkinsfile"),
    ]
    strip = {"provenance"}
    assert [s.model_dump(exclude=strip) for s in with_ci.stacks] == [
        s.model_dump(exclude=strip) for s in without.stacks
    ]


def test_docker_and_compose(tmp_path: Path) -> None:
    dockerfile = (
        "FROM python:3.12-slim AS build\nRUN pip wheel .\n"
        "FROM gcr.io/distroless/python3\nCOPY --from=build /w /w\nEXPOSE 8000 9000/udp\n"
    )
    compose = (
        "services:\n  web:\n    build: .\n  db:\n    image: postgres:16\n  cache:\n    image: redis:7-alpine\n"
        "  mail:\n    image: mailhog/mailhog\n"
    )
    a = run(tmp_path, {"pyproject.toml": PYPROJECT, "Dockerfile": dockerfile, "docker-compose.yml": compose})
    (df,) = a.docker.dockerfiles
    assert df.base_images == ["python:3.12-slim", "gcr.io/distroless/python3"]
    assert df.exposed_ports == [8000, 9000]
    assert df.multi_stage
    (cf,) = a.docker.compose_files
    assert [(s.name, s.kind, s.build) for s in cf.services] == [
        ("web", None, True),
        ("db", "postgres", False),
        ("cache", "redis", False),
        ("mail", None, False),
    ]
    (stack,) = a.stacks
    assert stack.services == ["postgres", "redis"]
    assert stack.provenance["services"].evidence[0].file == "docker-compose.yml"


def test_services_from_env_example_and_devcontainer(tmp_path: Path) -> None:
    a = run(
        tmp_path,
        {
            "pyproject.toml": PYPROJECT,
            ".env.example": "DATABASE_URL=postgres://localhost/app\n",
            ".devcontainer/docker-compose.yml": "services:\n  q:\n    image: rabbitmq:3-management\n",
        },
    )
    assert a.stacks[0].services == ["rabbitmq", "postgres"]


def test_the_compose_file_of_a_test_suite_names_the_services_its_tests_use(tmp_path: Path) -> None:
    a = run(
        tmp_path,
        {
            "pyproject.toml": PYPROJECT,
            "integration-tests/docker-compose.yml": "services:\n  db:\n    image: postgres:17\n",
            # a demo's compose file is not the tests'
            "examples/demo/docker-compose.yml": "services:\n  cache:\n    image: redis:7\n",
            # a suite that is a project of its own keeps its compose file's services
            "system-tests/go.mod": "module example.com/system-tests\n\ngo 1.25\n",
            "system-tests/queue_test.go": "package systemtests\n",
            "system-tests/docker-compose.yml": "services:\n  q:\n    image: rabbitmq:4\n",
        },
    )
    by_path = {s.path: s.services for s in a.stacks}
    assert by_path == {".": ["postgres"], "system-tests": ["rabbitmq"]}
    assert a.stacks[0].provenance["services"].evidence[0].file == "integration-tests/docker-compose.yml"


def test_the_env_example_of_a_test_suite_names_the_services_its_tests_use(tmp_path: Path) -> None:
    a = run(
        tmp_path,
        {
            "pyproject.toml": PYPROJECT,
            "integration-tests/.env.example": 'PG_URL="postgres://localhost:55432/t"\nMYSQL_URL="mysql://127.0.0.1/t"\n',
            # an example application's settings are not the test suite's
            "examples/shop/.env.example": "REDIS_URL=redis://localhost:6379\n",
        },
    )
    assert a.stacks[0].services == ["postgres", "mysql"]
    assert a.stacks[0].provenance["services"].evidence[0].file == "integration-tests/.env.example"


def test_a_front_end_beside_a_back_end_does_not_get_its_database(tmp_path: Path) -> None:
    package = {"private": True, "scripts": {"test": "jest", "build": "webpack"}, "devDependencies": {"jest": "29"}}
    a = run(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname='app'\ndependencies=['psycopg2', 'flask']\n",
            "package.json": json.dumps(package),
            "package-lock.json": "{}",
            "docker-compose.yml": "services:\n  db:\n    image: postgres:17\n  cache:\n    image: redis:7\n",
        },
    )
    services = {s.language: s.services for s in a.stacks}
    assert services == {"python": ["postgres", "redis"], "javascript": []}


def test_the_analysis_is_the_same_whatever_the_hash_seed(tmp_path: Path) -> None:
    # Sets of names must never decide an order: generated pipelines are compared byte for byte.
    package = {
        "scripts": {"test": "jest"},
        "dependencies": {"pg": "8", "ioredis": "5", "kafkajs": "2", "mongodb": "6", "amqplib": "0.10"},
        "devDependencies": {"jest": "29"},
    }
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\ndependencies=['psycopg', 'redis', 'pymongo']\n")
    outputs = {
        subprocess.run(
            [sys.executable, "-m", "autodevops", "analyze", "--json", str(tmp_path)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(outputs) == 1
    (node,) = [s for s in json.loads(outputs.pop())["stacks"] if s["language"] == "javascript"]
    assert node["services"] == ["rabbitmq", "redis", "kafka", "mongodb", "postgres"]


def test_deploy_hints_and_monorepo(tmp_path: Path) -> None:
    a = run(
        tmp_path,
        {
            "package.json": json.dumps({"workspaces": ["packages/*"], "scripts": {"test": "jest"}}),
            "turbo.json": "{}",
            "Procfile": "web: node server.js\n",
            "fly.toml": "app = 'x'\n",
            "vercel.json": "{}",
            "charts/app/Chart.yaml": "name: app\n",
            "k8s/deploy.yaml": "kind: Deployment\n---\nkind: Service\n",
            "app.yaml": "name: not-app-engine\n",
        },
    )
    assert sorted((d.kind, d.path) for d in a.deploy) == [
        ("fly", "fly.toml"),
        ("helm", "charts/app/Chart.yaml"),
        ("heroku", "Procfile"),
        ("kubernetes", "k8s/deploy.yaml"),
        ("vercel", "vercel.json"),
    ]
    assert a.monorepo is not None
    assert a.monorepo.tools == ["npm-workspaces", "turbo"]


def test_malformed_manifests_are_findings_and_the_rest_continues(tmp_path: Path) -> None:
    a = run(
        tmp_path,
        {
            "pyproject.toml": PYPROJECT,
            "web/package.json": "{not json",
            "web/package-lock.json": "{}",
            "docker-compose.yml": "services: [unclosed\n",
        },
    )
    parse_errors = {f.evidence[0].file for f in a.findings if f.code == "parse-error"}
    assert parse_errors == {"web/package.json", "docker-compose.yml"}
    assert {s.path for s in a.stacks} == {".", "web"}
    assert a.stacks[0].frameworks == ["django"]


def test_yaml_bomb_is_refused_with_a_finding(tmp_path: Path) -> None:
    # Nine levels of ten aliases each: a few hundred bytes that expand to 10**9 nodes.
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        prev, name = chr(96 + i), chr(97 + i)
        bomb += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]\n"
    a = run(tmp_path, {"pyproject.toml": PYPROJECT, "docker-compose.yml": bomb})
    assert any(f.code == "parse-error" and f.evidence[0].file == "docker-compose.yml" for f in a.findings)
    assert a.docker.compose_files == []


def test_a_failing_detector_is_a_finding_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: Context) -> list[Stack]:
        raise RuntimeError("boom")

    monkeypatch.setattr(analyze_module, "DETECTORS", [broken, *analyze_module.DETECTORS])
    a = run(tmp_path, {"pyproject.toml": PYPROJECT})
    assert "detector-error" in codes(a)
    assert [s.path for s in a.stacks] == ["."]


def test_empty_repository(tmp_path: Path) -> None:
    a = analyze(LocalDir(tmp_path), TODAY)
    assert a.stacks == []
    assert a.findings == []
    assert a.analyzed_on == TODAY


def test_stats_count_files_and_reads(tmp_path: Path) -> None:
    a = run(tmp_path, {"pyproject.toml": PYPROJECT, "src/app/__init__.py": "", "README.md": "x" * 100})
    assert a.stats.files == 3
    assert a.stats.bytes >= 100
    assert 1 <= a.stats.files_read < 3  # manifests only, never every file


def test_analysis_round_trips_through_json(tmp_path: Path) -> None:
    a = run(tmp_path, {"pyproject.toml": PYPROJECT, "Dockerfile": "FROM python:3.12\n"})
    again = Analysis.model_validate_json(a.model_dump_json())
    assert again == a


def test_binary_huge_and_non_utf8_manifests_are_findings(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "package.json").write_bytes(b'{"name": "x"\x00\x01\x02}')
    (tmp_path / "web" / "package-lock.json").write_text("{}")
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n# " + "x" * (3 * 1024 * 1024) + "\n")
    (tmp_path / "requirements.txt").write_bytes("# caf\xe9\nredis\n".encode("latin-1"))
    a = analyze(LocalDir(tmp_path), TODAY)
    by_code = {f.code: f.evidence[0].file for f in a.findings if f.evidence}
    assert by_code["binary-file"] == "web/package.json"
    assert by_code["file-too-large"] == "pyproject.toml"
    assert by_code["not-utf8"] == "requirements.txt"
    python = a.stack(".")
    assert python is not None
    assert python.services == ["redis"]  # the non-UTF-8 file was still read


@pytest.mark.parametrize(
    "files",
    [
        {"package.json": '{"scripts": ["test"], "engines": "node 20", "workspaces": {"packages": "a"}}'},
        {"package.json": '{"scripts": {"test": 1}, "devDependencies": [], "packageManager": 3, "volta": "x"}'},
        {"package.json": "[1, 2, 3]", "pnpm-workspace.yaml": "packages: yes\n"},
        {"pyproject.toml": "project = 'x'\ntool = 3\n", "setup.py": ""},
        {"pyproject.toml": "[project]\ndependencies = 'requests'\nclassifiers = 'x'\nrequires-python = 3\n"},
        {"pyproject.toml": "[project]\nname='x'\n[tool.tox]\nenv_list = 5\n[tool.poetry]\ndependencies = []\n"},
        {"pyproject.toml": "[project]\nname='x'\n[tool.hatch.envs]\ndefault = 'x'\n", "tox.ini": "[tox\n"},
        {"requirements.txt": "", ".pre-commit-config.yaml": "repos: {a: 1}\n", "environment.yml": "- x\n"},
        {"deno.json": '{"tasks": ["x"], "workspace": "a"}'},
        {"docker-compose.yml": "services:\n  db: [1]\n  cache:\n    image: [redis]\n", "Dockerfile": "FROM\n"},
    ],
)
def test_unexpected_manifest_shapes_never_break_a_detector(tmp_path: Path, files: dict[str, str]) -> None:
    a = run(tmp_path, files)
    assert "detector-error" not in codes(a), [f.message for f in a.findings]


def test_every_inferred_field_has_provenance(tmp_path: Path) -> None:
    a = run(
        tmp_path,
        {
            "pyproject.toml": PYPROJECT + "[dependency-groups]\ndev=['pytest', 'ruff']\n",
            "uv.lock": "",
            "docker-compose.yml": "services:\n  db:\n    image: postgres:16\n",
            "web/package.json": json.dumps({"scripts": {"test": "vitest", "lint": "eslint .", "build": "vite build"}}),
            "web/package-lock.json": "{}",
            "deno/deno.json": json.dumps({"tasks": {"test": "deno test", "build": "deno run b.ts"}}),
        },
    )
    fields = ("package_manager", "versions", "test_tool", "test_commands", "lint_tools", "lint_commands",
              "build_commands", "services", "frameworks")  # fmt: skip
    assert len(a.stacks) == 3
    for stack in a.stacks:
        for name in fields:
            value = getattr(stack, name)
            if value and value != "none":
                prov = stack.provenance.get(name)
                assert prov is not None, (stack.path, name)
                assert prov.evidence, (stack.path, name)
                assert 0 < prov.confidence <= 1


def test_a_result_keeps_bounded_lists_and_counts_what_it_left_out(tmp_path: Path) -> None:
    # The assessment: 100,000 identical Dockerfiles (a 168 KB repository) made a 9.6 MB result.
    from autodevops.engine.bounds import MAX_LIST_ITEMS

    count = MAX_LIST_ITEMS + 300
    for i in range(count):
        (tmp_path / f"svc{i:04d}").mkdir()
        (tmp_path / f"svc{i:04d}" / "Dockerfile").write_text("FROM python:3.12-slim\nEXPOSE 8000\n")
    result = analyze(LocalDir(tmp_path), dt.date(2026, 1, 1))
    assert len(result.docker.dockerfiles) == MAX_LIST_ITEMS
    assert result.docker.dockerfiles[0].path == "svc0000/Dockerfile"  # the first ones, in path order
    truncated = [f.message for f in result.findings if f.code == "result-truncated"]
    assert f"docker.dockerfiles: 300 more entries than the {MAX_LIST_ITEMS} a result keeps were left out" in truncated
    assert len(result.findings) <= MAX_LIST_ITEMS
    assert len(result.model_dump_json()) < 200_000
