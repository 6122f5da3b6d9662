"""Python detection on small fixture repositories."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from autodevops.engine.detect import python
from autodevops.engine.detect.base import Context
from autodevops.engine.model import Stack
from autodevops.engine.source import LocalDir

TODAY = dt.date(2026, 11, 26)  # 3.8 and 3.9 are end-of-life, 3.10 only just; 3.15 came out 2026-10-01


def detect(root: Path, files: dict[str, str]) -> tuple[list[Stack], Context]:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    ctx = Context(LocalDir(root), TODAY)
    return python.detect(ctx), ctx


def codes(ctx: Context) -> set[str]:
    return {f.code for f in ctx.findings}


UV_PROJECT = """
[project]
name = "app"
requires-python = ">=3.11"
dependencies = ["fastapi", "psycopg[binary]>=3"]

[dependency-groups]
dev = ["pytest>=8", "ruff", "mypy"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""


def test_uv_project(tmp_path: Path) -> None:
    (stack,), ctx = detect(tmp_path, {"pyproject.toml": UV_PROJECT, "uv.lock": "", "tests/test_app.py": ""})
    assert stack.path == "."
    assert stack.language == "python"
    assert stack.package_manager == "uv"
    assert stack.provenance["package_manager"].evidence[0].file == "uv.lock"
    assert stack.versions == ["3.11", "3.12", "3.13", "3.14"]  # 3.15 is too new for an open range
    assert stack.provenance["versions"].evidence[0].key == "project.requires-python"
    assert stack.test_tool == "pytest"
    assert stack.test_commands == ["uv run pytest"]
    assert stack.lint_tools == ["ruff", "mypy"]
    assert stack.build_commands == ["uv build"]
    assert stack.services == ["postgres"]
    assert stack.frameworks == ["fastapi"]
    assert stack.lockfiles == ["uv.lock"]
    assert "no-lockfile" not in codes(ctx)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": "[tool.poetry]\nname='x'\n", "poetry.lock": ""}, "poetry"),
        ({"Pipfile": "[packages]\nrequests = '*'\n", "Pipfile.lock": "{}"}, "pipenv"),
        ({"pyproject.toml": "[project]\nname='x'\n", "pdm.lock": ""}, "pdm"),
        ({"pyproject.toml": "[project]\nname='x'\n[tool.hatch.envs.default]\n"}, "hatch"),
        ({"environment.yml": "dependencies:\n  - python=3.12\n  - numpy\n"}, "conda"),
        ({"requirements.txt": "requests\n"}, "pip"),
        ({"setup.py": ""}, "pip"),
    ],
)
def test_package_managers(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    (stack,), _ = detect(tmp_path, files)
    assert stack.package_manager == expected


def test_two_lockfiles_are_a_finding(tmp_path: Path) -> None:
    (stack,), ctx = detect(tmp_path, {"pyproject.toml": "[project]\nname='x'\n", "uv.lock": "", "poetry.lock": ""})
    assert stack.package_manager == "uv"
    finding = next(f for f in ctx.findings if f.code == "multiple-lockfiles")
    assert {e.file for e in finding.evidence} == {"uv.lock", "poetry.lock"}


def test_a_stray_lockfile_does_not_outvote_the_configured_tool(tmp_path: Path) -> None:
    pyproject = (
        "[tool.poetry]\nname='x'\n[tool.poetry.dependencies]\npython='^3.9'\n"
        "[build-system]\nrequires=['poetry-core']\nbuild-backend='poetry.core.masonry.api'\n"
    )
    (stack,), ctx = detect(tmp_path, {"pyproject.toml": pyproject, "uv.lock": "", "poetry.lock": ""})
    assert stack.package_manager == "poetry"
    assert stack.provenance["package_manager"].evidence[0].file == "poetry.lock"
    assert "multiple-lockfiles" in codes(ctx)


def test_poetry_without_lockfile_is_a_finding(tmp_path: Path) -> None:
    (stack,), ctx = detect(tmp_path, {"pyproject.toml": "[tool.poetry]\nname='x'\n"})
    assert stack.package_manager == "poetry"
    assert "no-lockfile" in codes(ctx)


def test_classifiers_are_the_matrix_even_past_end_of_life(tmp_path: Path) -> None:
    pyproject = (
        "[project]\nname='x'\nrequires-python='>=3.9'\nclassifiers=[\n"
        + "".join(f"  'Programming Language :: Python :: 3.{m}',\n" for m in range(9, 14))
        + "  'Programming Language :: Python :: Implementation :: PyPy',\n]\n"
    )
    (stack,), ctx = detect(tmp_path, {"pyproject.toml": pyproject})
    assert stack.versions == ["3.9", "3.10", "3.11", "3.12", "3.13", "pypy3.11"]
    eol = next(f for f in ctx.findings if f.code == "eol-runtime")
    assert "3.9" in eol.message


def test_free_threading_classifier_adds_the_free_threaded_build(tmp_path: Path) -> None:
    pyproject = (
        "[project]\nname='x'\nrequires-python='>=3.12'\nclassifiers=[\n"
        + "".join(f"  'Programming Language :: Python :: 3.{m}',\n" for m in range(12, 16))
        + "  'Programming Language :: Python :: Free Threading :: 2 - Beta',\n]\n"
    )
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject})
    assert stack.versions == ["3.12", "3.13", "3.14", "3.15", "3.14t"]  # 3.15 is too new to be settled


@pytest.mark.parametrize(
    ("files", "where"),
    [
        (
            {"src/x/_speedups.c": "static PyModuleDef_Slot slots[] = {\n    {Py_mod_gil, Py_MOD_GIL_NOT_USED},\n};\n"},
            ("src/x/_speedups.c", 2),
        ),
        (
            {"src/x/_quoting.pyx": "# cython: language_level=3, freethreading_compatible=True\n"},
            ("src/x/_quoting.pyx", 1),
        ),
    ],
)
def test_an_extension_declared_gil_free_adds_the_free_threaded_build(
    tmp_path: Path, files: dict[str, str], where: tuple[str, int]
) -> None:
    pyproject = "[project]\nname='x'\nrequires-python='>=3.13'\n"
    setup = (
        "from setuptools import Extension, setup\n"
        "setup(ext_modules=[Extension('x._speedups', ['src/x/_speedups.c'])])\n"
    )
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "setup.py": setup, **files})
    assert stack.versions == ["3.13", "3.14", "3.14t"]
    evidence = stack.provenance["versions"].evidence[-1]
    assert (evidence.file, evidence.line) == where


@pytest.mark.parametrize(
    ("setup", "slot"),
    [
        ("setup(ext_modules=[Extension('x._speedups', ['src/x/_speedups.c'])])\n", "Py_MOD_GIL_USED"),
        # C sources the package does not build (a vendored tool, test data) declare nothing about it
        ("setup(name='x')\n", "Py_MOD_GIL_NOT_USED"),
    ],
)
def test_no_free_threaded_build_without_a_gil_free_extension_of_the_package(
    tmp_path: Path, setup: str, slot: str
) -> None:
    files = {
        "pyproject.toml": "[project]\nname='x'\nrequires-python='>=3.13'\n",
        "setup.py": "from setuptools import Extension, setup\n" + setup,
        "src/x/_speedups.c": f"static PyModuleDef_Slot slots[] = {{{{Py_mod_gil, {slot}}}}};\n",
    }
    (stack,), _ = detect(tmp_path, files)
    assert stack.versions == ["3.13", "3.14"]


def test_poetry_caret_python_constraint(tmp_path: Path) -> None:
    (stack,), _ = detect(
        tmp_path,
        {
            "pyproject.toml": "[tool.poetry]\nname='x'\n[tool.poetry.dependencies]\npython = '^3.11'\n",
            "poetry.lock": "",
        },
    )
    assert stack.versions == ["3.11", "3.12", "3.13", "3.14"]


def test_python_version_excluded_by_requires_python(tmp_path: Path) -> None:
    (stack,), ctx = detect(
        tmp_path,
        {"pyproject.toml": "[project]\nname='x'\nrequires-python='>=3.12'\n", ".python-version": "3.11.9\n"},
    )
    assert stack.versions == ["3.12", "3.13", "3.14"]
    finding = next(f for f in ctx.findings if f.code == "python-version-excluded")
    assert [e.file for e in finding.evidence] == [".python-version", "pyproject.toml"]


def test_pinned_eol_python_is_a_finding(tmp_path: Path) -> None:
    (stack,), ctx = detect(tmp_path, {"requirements.txt": "flask\n", ".python-version": "3.8\n"})
    assert stack.versions == ["3.8"]
    assert "eol-runtime" in codes(ctx)


def test_tool_versions_pin(tmp_path: Path) -> None:
    (stack,), _ = detect(tmp_path, {"requirements.txt": "flask\n", ".tool-versions": "nodejs 22.1.0\npython 3.12.3\n"})
    assert stack.versions == ["3.12"]
    assert stack.provenance["versions"].evidence[0].line == 2


def test_invalid_requires_python_is_a_finding(tmp_path: Path) -> None:
    (stack,), ctx = detect(tmp_path, {"pyproject.toml": "[project]\nname='x'\nrequires-python='>=three'\n"})
    assert "invalid-version-range" in codes(ctx)
    assert stack.versions == []


def test_tox_envlist_versions_and_tox_runner(tmp_path: Path) -> None:
    tox = (
        "[tox]\nenvlist = py{311,312}-django, lint\n"
        "[testenv]\ncommands = pytest\n[testenv:lint]\ncommands = ruff check .\n"
    )
    (stack,), _ = detect(tmp_path, {"setup.py": "", "tox.ini": tox})
    assert stack.versions == ["3.11", "3.12"]
    assert stack.test_tool == "tox"
    # Each cell runs its own interpreter's environments; the lint environment runs once, in the lint job.
    assert stack.test_commands == ['tox run -e "$TOX_ENV"']
    assert stack.matrix_env == {"3.11": {"TOX_ENV": "py311-django"}, "3.12": {"TOX_ENV": "py312-django"}}
    assert stack.lint_commands == ["tox run -e lint"]
    assert "ruff" in stack.lint_tools


def test_tox_without_interpreter_factors_runs_its_test_envs_in_each_cell(tmp_path: Path) -> None:
    tox = "[tox]\nenv_list = tests, docs, typing, format\n[testenv:format]\ncommands = black .\n"
    pyproject = "[project]\nname='x'\nrequires-python='>=3.12'\n[project.optional-dependencies]\ndev=['tox']\n"
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "tox.ini": tox})
    assert stack.test_commands == ["tox run -e tests"]
    assert stack.matrix_env == {}
    # `format` rewrites files: it is a developer's tool, not a check.
    assert stack.lint_commands == ["tox run -e typing"]


def test_tox_envlist_is_the_matrix_when_tox_runs_the_tests(tmp_path: Path) -> None:
    pyproject = (
        "[project]\nname='x'\nrequires-python='>=3.10'\n"
        "[dependency-groups]\ndev=['tox', 'tox-uv']\n"
        "[tool.tox]\nenv_list = ['py3.14', 'py3.14t', 'py3.13', 'pypy3.11', 'style', 'typing']\n"
    )
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "uv.lock": ""})
    assert stack.test_tool == "tox"
    assert stack.test_commands == ['uv run tox run -e "$TOX_ENV"']
    assert stack.matrix_env["3.14t"] == {"TOX_ENV": "py3.14t"}
    assert stack.matrix_env["pypy3.11"] == {"TOX_ENV": "pypy3.11"}
    assert stack.lint_commands == ["uv run tox run -e style,typing"]
    assert stack.versions == ["3.13", "3.14", "3.14t", "pypy3.11"]
    assert stack.provenance["versions"].evidence[0].key == "tool.tox.env_list"


def test_tox_toml_is_toxs_configuration(tmp_path: Path) -> None:
    tox_toml = (
        'env_list = ["3.14", "3.13", "type", "format"]\n'
        "[env_run_base]\ncommands = [['pytest', 'tests']]\n"
        "[env.type]\ndependency_groups = ['type']\ncommands = [['mypy', 'src']]\n"
        "[env.format]\ncommands = [['ruff', 'format', '.']]\n"
    )
    pyproject = "[project]\nname='x'\nrequires-python='>=3.10'\n[dependency-groups]\ntest=['pytest']\n"
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "tox.toml": tox_toml})
    assert stack.test_tool == "tox"
    assert stack.provenance["test_tool"].evidence[0].file == "tox.toml"
    assert stack.versions == ["3.13", "3.14"]
    assert stack.matrix_env["3.14"] == {"TOX_ENV": "3.14"}
    # `type` checks; `format` rewrites files, so it is no check
    assert stack.lint_commands == ["tox run -e type"]
    assert "mypy" in stack.lint_tools


def test_a_client_library_of_a_service_is_tested_against_that_service(tmp_path: Path) -> None:
    pyproject = "[project]\nname = 'pymongo'\ndependencies = ['dnspython']\n"
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject})
    assert stack.services == ["mongodb"]
    assert stack.provenance["services"].evidence[0].key == "project.name"
    # any other project: no service from its own name
    (other,), _ = detect(tmp_path, {"pyproject.toml": "[project]\nname = 'mongo-tools'\n"})
    assert other.services == []


def test_poetry_classifiers(tmp_path: Path) -> None:
    pyproject = (
        "[tool.poetry]\nname='x'\nclassifiers=['Programming Language :: Python :: 3.8', "
        "'Programming Language :: Python :: 3.12']\n[tool.poetry.dependencies]\npython='>=3.8'\n"
    )
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "poetry.lock": ""})
    assert stack.versions == ["3.8", "3.12"]


def test_tox_listed_in_dev_dependencies_wins_over_a_makefile(tmp_path: Path) -> None:
    pyproject = "[project]\nname='x'\n[project.optional-dependencies]\ndev = ['tox', 'pytest']\n"
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "tox.ini": "[tox]\nenvlist=py312\n", "Makefile": ""})
    assert stack.test_tool == "tox"


def test_makefile_without_tox_dependency_means_pytest(tmp_path: Path) -> None:
    pyproject = "[project]\nname='x'\n[project.optional-dependencies]\ntest = ['pytest']\n"
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "tox.ini": "[tox]\nenvlist=py312\n", "Makefile": ""})
    assert stack.test_tool == "pytest"
    assert stack.test_commands == ["python -m pytest"]


@pytest.mark.parametrize(
    ("section", "line"),
    [("gh-actions", "3.12: py312"), ("gh", "3.12 = py312")],  # tox-gh-actions, tox-gh
)
def test_a_tox_mapping_of_ci_interpreters_means_ci_runs_tox_even_beside_a_makefile(
    tmp_path: Path, section: str, line: str
) -> None:
    pyproject = "[project]\nname='x'\n[project.optional-dependencies]\ndev = ['pytest']\n"
    tox = f"[tox]\nenvlist=py312,py313\n[testenv]\ncommands=make test\n[{section}]\npython =\n  {line}\n"
    files = {"pyproject.toml": pyproject, "Makefile": "test:\n\tpython -m pytest\n", "tox.ini": tox}
    (stack,), _ = detect(tmp_path, files)
    assert stack.test_tool == "tox"
    assert stack.versions == ["3.12", "3.13"]  # the envlist's interpreters
    assert [e.key for e in stack.provenance["test_tool"].evidence] == ["[tox]", f"[{section}]"]


def test_a_makefile_test_target_is_the_entry_point(tmp_path: Path) -> None:
    pyproject = "[project]\nname='x'\n[project.optional-dependencies]\ndev = ['pytest']\n"
    makefile = "BIN = .venv/bin\n\nsetup:\n\tpip install -e .\n\ntest: setup services\n\t$(BIN)/pytest -q\n"
    (stack,), _ = detect(tmp_path / "pytest", {"pyproject.toml": pyproject, "Makefile": makefile})
    assert (stack.test_tool, stack.test_commands) == ("pytest", ["make test"])
    assert (stack.provenance["test_tool"].evidence[0].file, stack.provenance["test_tool"].evidence[0].line) == (
        "Makefile",
        6,
    )
    # The runner may sit in a prerequisite's recipe; with uv the project's environment must be on PATH.
    makefile = ".PHONY: test unit\ntest: unit\nunit:\n\tpython runtests.py\n"
    files = {"pyproject.toml": "[project]\nname='x'\n", "uv.lock": "", "Makefile": makefile}
    (django_lib,), _ = detect(tmp_path / "uv", files)
    assert (django_lib.test_tool, django_lib.test_commands) == ("unittest", ["uv run make test"])


def test_a_makefile_test_target_running_something_else_is_not_taken(tmp_path: Path) -> None:
    pyproject = "[project]\nname='x'\n[project.optional-dependencies]\ndev = ['pytest']\n"
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "Makefile": "test:\n\t./scripts/check.sh\n"})
    assert (stack.test_tool, stack.test_commands) == ("pytest", ["python -m pytest"])


def test_a_runtests_script_is_a_django_library_entry_point(tmp_path: Path) -> None:
    (stack,), _ = detect(tmp_path, {"pyproject.toml": "[project]\nname='x'\n", "runtests.py": ""})
    assert (stack.test_tool, stack.test_commands) == ("unittest", ["python runtests.py"])


def test_a_django_project_template_is_not_a_project(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": "[project]\nname='cms'\n[project.optional-dependencies]\ntesting = ['pytest']\n",
        "cms/project_template/manage.py-tpl": "",
        "cms/project_template/requirements.txt": "cms>=7\n",
        "cms/project_template/home/tests.py": "",
    }
    (stack,), _ = detect(tmp_path, files)
    assert stack.path == "."


def test_a_requirements_file_of_tools_in_another_languages_repository_is_not_a_project(tmp_path: Path) -> None:
    files = {"go.mod": "module x\n\ngo 1.25\n", "main.go": "package main\n", "requirements.txt": "codespell==2.4\n"}
    stacks, _ = detect(tmp_path / "tools", files)
    assert stacks == []
    # With a real dependency, or with Python code to run, it is one.
    (app,), _ = detect(tmp_path / "app", {**files, "requirements.txt": "codespell==2.4\nrequests\n"})
    (script,), _ = detect(tmp_path / "script", {**files, "check.py": "import sys\n"})
    assert app.path == script.path == "."


def test_noxfile_means_nox(tmp_path: Path) -> None:
    (stack,), _ = detect(tmp_path, {"pyproject.toml": "[project]\nname='x'\n", "noxfile.py": ""})
    assert (stack.test_tool, stack.test_commands) == ("nox", ['nox --force-python "$NOX_PYTHON"'])


def test_django_manage_py(tmp_path: Path) -> None:
    (stack,), _ = detect(tmp_path, {"requirements.txt": "Django>=5\nmysqlclient\n", "manage.py": ""})
    assert stack.test_tool == "unittest"
    assert stack.test_commands == ["python manage.py test"]
    assert stack.frameworks == ["django"]
    assert stack.services == ["mysql"]
    assert stack.build_commands == []


def test_setup_cfg_metadata_is_a_packaged_library_like_a_project_table(tmp_path: Path) -> None:
    # An in-tree build backend with setuptools' declarative metadata in setup.cfg (no [project] table).
    pyproject = '[build-system]\nrequires = ["setuptools"]\nbackend-path = ["packaging"]\nbuild-backend = "be.hooks"\n'
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "setup.cfg": "[metadata]\nname = lib\n"})
    assert stack.build_commands == ["python -m build"]
    # Tool configuration alone packages nothing.
    (stack,), _ = detect(tmp_path / "b", {"pyproject.toml": pyproject, "setup.cfg": "[flake8]\nmax-line-length = 99\n"})
    assert stack.build_commands == []


def test_a_tox_environment_that_builds_the_dists_is_the_build_command(tmp_path: Path) -> None:
    tox = (
        "[tox]\nenv_list = py\n[testenv]\ncommands = pytest\n"
        "[testenv:metadata-validation]\ncommands = twine check --strict dist/*\n"
        "[testenv:build-dists]\npackage = skip\ndeps = build\n"
        "commands =\n  {envpython} -m build --outdir dist '{toxinidir}'\n"
    )
    (stack,), _ = detect(tmp_path, {"pyproject.toml": "[project]\nname = 'lib'\n", "tox.ini": tox})
    assert stack.build_commands == ["tox -e build-dists"]
    assert stack.provenance["build_commands"].evidence[0].key == "[testenv:build-dists]"


def test_poetry_runs_pytest_through_poetry(tmp_path: Path) -> None:
    pyproject = "[tool.poetry]\nname='x'\n[tool.poetry.group.dev.dependencies]\npytest='^8'\nblack='*'\n"
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "poetry.lock": ""})
    assert stack.test_commands == ["poetry run pytest"]
    assert stack.lint_tools == ["black"]


def test_plain_test_modules_fall_back_to_unittest_with_low_confidence(tmp_path: Path) -> None:
    (stack,), _ = detect(tmp_path, {"setup.py": "", "tests/test_x.py": ""})
    assert stack.test_tool == "unittest"
    assert stack.provenance["test_tool"].confidence < 0.6


def test_hatch_environment_dependencies_install_the_runner(tmp_path: Path) -> None:
    pyproject = (
        "[project]\nname='x'\n[tool.pytest.ini_options]\n[tool.hatch.envs.default]\ndependencies = ['pytest', 'mypy']\n"
    )
    (stack,), ctx = detect(tmp_path, {"pyproject.toml": pyproject})
    assert stack.package_manager == "hatch"
    assert stack.test_commands == ["hatch run pytest"]
    assert "mypy" in stack.lint_tools
    assert "test-runner-not-installed" not in codes(ctx)


def test_configured_but_not_installed_runner(tmp_path: Path) -> None:
    (stack,), ctx = detect(tmp_path, {"pyproject.toml": "[project]\nname='x'\n[tool.pytest.ini_options]\n"})
    assert stack.test_tool == "pytest"
    finding = next(f for f in ctx.findings if f.code == "test-runner-not-installed")
    assert finding.evidence[0].key == "tool.pytest"


PRE_COMMIT = """
repos:
  - repo: https://github.com/astral-sh/ruff-pre-commit
    hooks: [{id: ruff-check}, {id: ruff-format}]
  - repo: https://github.com/codespell-project/codespell
    hooks: [{id: codespell}]
  - repo: https://github.com/pre-commit/pre-commit-hooks
    hooks: [{id: trailing-whitespace}]
"""


def test_pre_commit_hooks_are_lint_tools(tmp_path: Path) -> None:
    (stack,), _ = detect(tmp_path, {"pyproject.toml": "[project]\nname='x'\n", ".pre-commit-config.yaml": PRE_COMMIT})
    assert stack.lint_tools == ["pre-commit", "ruff", "other"]
    assert stack.lint_commands == ["pre-commit run --all-files"]


def test_pre_commit_ci_hosted_hooks_are_not_the_projects_ci(tmp_path: Path) -> None:
    config = PRE_COMMIT + "ci:\n  autoupdate_schedule: monthly\n"
    (stack,), _ = detect(tmp_path, {"pyproject.toml": "[project]\nname='x'\n", ".pre-commit-config.yaml": config})
    assert stack.lint_tools == []


def test_linter_configuration_counts_with_low_confidence(tmp_path: Path) -> None:
    files = {"pyproject.toml": "[project]\nname='x'\n[tool.black]\n", "mypy.ini": "[mypy]\n", "setup.cfg": "[flake8]\n"}
    (stack,), _ = detect(tmp_path, files)
    assert stack.lint_tools == ["mypy", "black", "flake8"]
    assert stack.provenance["lint_tools"].confidence == 0.5
    assert stack.lint_commands == ["mypy", "black --check .", "flake8"]
    # Known only from their settings: offered without failing the pipeline.
    assert stack.lint_advisory == stack.lint_commands
    files["requirements-dev.txt"] = "mypy==1.13\n"
    (stack,), _ = detect(tmp_path / "pinned", files)
    assert stack.lint_advisory == ["black --check .", "flake8"]


def test_linter_configuration_for_pre_commit_ci_hooks_is_not_counted(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": "[project]\nname='x'\n[tool.ruff]\n",
        ".pre-commit-config.yaml": PRE_COMMIT + "ci:\n  autofix_prs: false\n",
    }
    (stack,), _ = detect(tmp_path, files)
    assert stack.lint_tools == []


def test_tox_envs_named_after_tools(tmp_path: Path) -> None:
    tox = "[tox]\nenv_list = lint-{ruff,pre-commit}, 3.1{2-3}-mypy, typing-pyright\n"
    config = PRE_COMMIT + "ci:\n  skip: [ruff]\n"
    (stack,), _ = detect(tmp_path, {"setup.py": "", "tox.ini": tox, ".pre-commit-config.yaml": config})
    assert set(stack.lint_tools) == {"ruff", "pre-commit", "mypy", "pyright", "other"}
    assert stack.versions == ["3.12", "3.13"]


def test_nested_projects(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": "[project]\nname='root'\n[tool.uv.workspace]\nmembers=['packages/*']\n",
        "uv.lock": "",
        "packages/core/pyproject.toml": "[project]\nname='core'\n",
        "packages/core/tests/test_core.py": "",
        "examples/demo/pyproject.toml": "[project]\nname='demo'\n",
        "examples/demo/tests/test_demo.py": "",
        "tools/plugin/pyproject.toml": "[project]\nname='plugin'\n",
        "service/pyproject.toml": "[project]\nname='service'\n",
        "service/tests/test_service.py": "",
        "untested/pyproject.toml": "[project]\nname='untested'\n",
    }
    stacks, _ = detect(tmp_path, files)
    assert [s.path for s in stacks] == [".", "service"]
    assert stacks[1].package_manager == "pip"


def test_backend_folder_with_app_tests_is_a_stack(tmp_path: Path) -> None:
    files = {
        "backend/requirements.txt": "django\npsycopg[binary]\n",
        "backend/manage.py": "",
        "backend/shop/tests.py": "",
        "frontend/package.json": "{}",
    }
    (stack,), _ = detect(tmp_path, files)
    assert stack.path == "backend"
    assert stack.test_commands == ["python manage.py test"]
    assert stack.services == ["postgres"]


def test_uv_workspace_root_carries_its_members_setup(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": "[tool.uv.workspace]\nmembers = ['backend']\n[dependency-groups]\ndev = ['pre-commit']\n",
        "uv.lock": "",
        ".python-version": "3.13\n",
        "backend/pyproject.toml": (
            "[project]\nname='app'\ndependencies=['fastapi', 'asyncpg']\n"
            "[dependency-groups]\ndev=['pytest', 'mypy']\n[tool.pytest.ini_options]\n"
        ),
        "backend/tests/test_api.py": "",
    }
    (stack,), _ = detect(tmp_path, files)
    assert stack.path == "."
    assert stack.workspace_members == ["backend"]
    assert stack.test_commands == ["uv run pytest"]
    assert stack.frameworks == ["fastapi"]
    assert stack.services == ["postgres"]
    assert stack.versions == ["3.13"]
    assert "mypy" in stack.lint_tools


def test_malformed_pyproject_is_a_parse_error_finding(tmp_path: Path) -> None:
    stacks, ctx = detect(tmp_path, {"pyproject.toml": "[project\nname=", "requirements.txt": "requests\n"})
    assert [s.path for s in stacks] == ["."]
    finding = next(f for f in ctx.findings if f.code == "parse-error")
    assert finding.evidence[0].file == "pyproject.toml"


def test_tool_only_pyproject_in_a_non_python_repo_is_not_a_stack(tmp_path: Path) -> None:
    stacks, _ = detect(tmp_path, {"pyproject.toml": "[tool.black]\nline-length = 100\n", "main.go": ""})
    assert stacks == []


def test_requirement_names() -> None:
    assert python.req_name("Django_Rest.Framework>=3; python_version>'3.8'") == "django-rest-framework"
    assert python.req_name("-r base.txt") is None
    assert python.req_name("# comment") is None


CHECK_SCRIPT = """#!/bin/sh -e
export SOURCE_FILES="pkg tests"
./scripts/sync-version
${PREFIX}ruff format $SOURCE_FILES --diff
${PREFIX}mypy $SOURCE_FILES
${PREFIX}ruff check $SOURCE_FILES
"""


def test_the_projects_scripts_are_its_entry_points(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": "[project]\nname='pkg'\n[build-system]\nbuild-backend='hatchling.build'\n",
        "requirements.txt": "-e .\npytest\nmypy\nruff\ncoverage\n",
        "scripts/test": '#!/bin/sh\nset -ex\n${PREFIX}coverage run -m pytest "$@"\n',
        "scripts/check": CHECK_SCRIPT,
        "scripts/sync-version": "#!/bin/sh -e\ngrep -q version pkg/__init__.py\n",
        # A fixer for developers: it would pass in CI whatever the code looks like.
        "scripts/lint": "#!/bin/sh -e\nruff check --fix pkg\nruff format pkg\n",
        "scripts/install": '#!/bin/sh -e\nPIP="pip"\n"$PIP" install -U pip\n"$PIP" install -r requirements.txt\n',
        "scripts/build": "#!/bin/sh -e\npython -m build\ntwine check dist/*\n",
        "pkg/__init__.py": "",
        "tests/test_pkg.py": "",
    }
    for name in ("test", "check", "sync-version", "install", "build"):
        path = tmp_path / "scripts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files.pop(f"scripts/{name}"))
        path.chmod(0o755)
    (stack,), _ = detect(tmp_path, files)
    assert (stack.test_tool, stack.test_commands) == ("pytest", ["scripts/test"])
    assert stack.lint_commands == ["scripts/check"]
    assert stack.lint_tools == ["ruff", "mypy"]
    assert stack.install_commands == ["scripts/install"]
    assert stack.build_commands == ["scripts/build"]
    assert stack.provenance["lint_commands"].evidence[0].file == "scripts/check"


def test_a_script_that_is_not_executable_runs_through_its_shebang_with_its_flags(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": "[project]\nname='pkg'\n",
        "scripts/check": CHECK_SCRIPT,  # `-e`: stop at the first failing check, as the script expects
        "scripts/test.sh": "pytest tests\n",
    }
    (stack,), _ = detect(tmp_path, files)
    assert stack.lint_commands == ["sh -e scripts/check"]
    assert stack.test_commands == ["sh scripts/test.sh"]


@pytest.mark.parametrize(
    ("files", "mypy"),
    [
        # No target in the configuration: the package, not `.` (docs/conf.py, scripts) and never bare `mypy`.
        (
            {"pyproject.toml": "[project]\nname='my-pkg'\n[tool.mypy]\nstrict=true\n", "src/my_pkg/__init__.py": ""},
            "mypy src/my_pkg",
        ),
        # Settings for the tests' modules mean the project type-checks its tests too.
        (
            {
                "pyproject.toml": "[project]\nname='pkg'\n[tool.mypy]\n[[tool.mypy.overrides]]\nmodule='tests.*'\n",
                "pkg/__init__.py": "",
                "tests/test_a.py": "",
            },
            "mypy pkg tests",
        ),
        # The configuration names its files: mypy reads them itself.
        ({"pyproject.toml": "[project]\nname='pkg'\n[tool.mypy]\nfiles=['pkg']\n", "pkg/__init__.py": ""}, "mypy"),
        ({"setup.py": "", "mypy.ini": "[mypy]\nfiles = lib\n", "lib/__init__.py": ""}, "mypy"),
    ],
)
def test_mypy_gets_the_projects_targets(tmp_path: Path, files: dict[str, str], mypy: str) -> None:
    (stack,), _ = detect(tmp_path, files)
    assert mypy in stack.lint_commands


@pytest.mark.parametrize(
    "pyproject",
    [
        "[build-system]\nrequires = ['setuptools>=64', 'setuptools-scm>=8']\n",
        "[build-system]\nrequires = ['hatchling', 'hatch-vcs']\n[tool.hatch.version]\nsource = 'vcs'\n",
        "[tool.hatch.version]\nsource = 'vcs'\n",
    ],
)
def test_a_version_read_from_git_tags_is_noticed(tmp_path: Path, pyproject: str) -> None:
    (stack,), _ = detect(tmp_path, {"pyproject.toml": "[project]\nname='x'\ndynamic=['version']\n" + pyproject})
    assert stack.version_from_git is True
    (plain,), _ = detect(tmp_path / "plain", {"pyproject.toml": "[project]\nname='x'\nversion='1.0'\n"})
    assert plain.version_from_git is False


def test_a_matrix_version_the_env_list_does_not_name_runs_toxs_generated_environment(tmp_path: Path) -> None:
    pyproject = "[project]\nname='x'\nclassifiers=['Programming Language :: Python :: Implementation :: PyPy']\n"
    tox = "[tox]\nenvlist = py313-{a,b},pypy3\n"
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "tox.ini": tox, "requirements-dev.txt": "tox\n"})
    assert stack.matrix_env == {"3.13": {"TOX_ENV": "py313-a,py313-b"}, "pypy3.11": {"TOX_ENV": "pypy3"}}
    # tox generates an environment for any interpreter, spelled as the env_list spells them.
    by_version = {"3.13": ["py313"]}
    assert python._tox_envs_for("3.14", by_version, "py313") == ["py314"]
    assert python._tox_envs_for("3.14", by_version, "py3.13") == ["py3.14"]
    assert python._tox_envs_for("3.14", by_version, "3.13") == ["3.14"]


def test_nox_runs_the_test_sessions_on_each_cells_interpreter(tmp_path: Path) -> None:
    noxfile = (
        "import nox\n\n"
        "@nox.session(python=['3.12', '3.13'], default=False)\ndef tests(session): ...\n\n"
        "@nox.session(python='3.12')\ndef lint(session): ...\n\n"
        "@nox.session(name='docs-build')\ndef docs(session): ...\n"
    )
    pyproject = "[project]\nname='x'\nrequires-python='>=3.12'\n"
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "noxfile.py": noxfile})
    assert stack.test_commands == ['nox -s tests --force-python "$NOX_PYTHON"']
    assert stack.matrix_env["3.13"] == {"NOX_PYTHON": "3.13"}
    assert python.nox_sessions(noxfile) == [("tests", False), ("lint", True), ("docs-build", True)]


@pytest.mark.parametrize(
    "decorators",
    [
        "@nox.session(python=PYTHONS)\n",
        "@nox.session\n@nox.parametrize('python', PYTHONS)\n",
    ],
)
def test_the_interpreters_the_nox_test_session_names_are_the_matrix(tmp_path: Path, decorators: str) -> None:
    noxfile = (
        "import nox\n\nPYTHONS = ['3.13', '3.14t', '3.12', 'pypy3.11']\n\n"
        f"{decorators}def tests(session): ...\n\n"
        "@nox.session(python='3.14')\ndef lint(session): ...\n"
    )
    pyproject = "[project]\nname='x'\nrequires-python='>=3.10'\n"
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "noxfile.py": noxfile})
    # the project's own matrix, ordered as tox's: CPython lines, free-threaded builds, PyPy
    assert stack.versions == ["3.12", "3.13", "3.14t", "pypy3.11"]
    assert stack.provenance["versions"].evidence[0].file == "noxfile.py"
    assert stack.matrix_env["3.14t"] == {"NOX_PYTHON": "3.14t"}


def test_a_computed_nox_interpreter_list_leaves_the_matrix_to_the_metadata(tmp_path: Path) -> None:
    noxfile = "import nox\n\n@nox.session(python=nox.project.python_versions(PYPROJECT))\ndef tests(session): ...\n"
    pyproject = "[project]\nname='x'\nrequires-python='>=3.13'\n"
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "noxfile.py": noxfile})
    assert stack.versions == ["3.13", "3.14"]  # requires-python on the analysis date


def test_windows_and_macos_classifiers_are_platforms_the_tests_run_on(tmp_path: Path) -> None:
    pyproject = (
        "[project]\nname='x'\nclassifiers=['Programming Language :: Python :: 3.13', "
        "'Operating System :: Microsoft :: Windows', 'Operating System :: MacOS :: MacOS X']\n"
    )
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "tests/test_x.py": ""})
    assert stack.operating_systems == ["linux", "macos", "windows"]
    (independent,), _ = detect(
        tmp_path / "any",
        {"pyproject.toml": "[project]\nname='x'\nclassifiers=['Operating System :: OS Independent']\n"},
    )
    assert independent.operating_systems == []


def test_development_requirement_files_are_installed_and_feature_extras_are_not(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": (
            "[project]\nname='client'\n[project.optional-dependencies]\n"
            "circuit_breaker = ['pybreaker']\ntest = ['pytest']\n"
        ),
        "dev_requirements.txt": "pytest\npytest-asyncio\n",
        "requirements/docs.txt": "sphinx\n",
        "requirements/test.txt": "hypothesis\n",
        "tests/test_client.py": "",
    }
    (stack,), _ = detect(tmp_path, files)
    assert stack.extras == ["test"]  # `circuit_breaker` holds `ci` only inside a word
    assert stack.manifests == ["pyproject.toml", "dev_requirements.txt", "requirements/test.txt"]


def test_a_justfile_recipe_is_the_entry_point_when_it_runs_without_arguments(tmp_path: Path) -> None:
    pyproject = "[project]\nname='x'\n[dependency-groups]\ndev = ['pytest']\n"
    justfile = (
        'set shell := ["bash", "-uc"]\nalias t := test\n\n'
        "# the suite\ntest *args='': install\n    uv run pytest tests {{args}}\n\ninstall:\n    uv sync\n"
    )
    (stack,), _ = detect(tmp_path / "runs", {"pyproject.toml": pyproject, "uv.lock": "", "justfile": justfile})
    assert (stack.test_tool, stack.test_commands) == ("pytest", ["uv run just test"])
    assert (stack.provenance["test_tool"].evidence[0].file, stack.provenance["test_tool"].evidence[0].line) == (
        "justfile",
        5,
    )
    # A recipe that needs an argument would stop at "got 0 arguments": the conventional command instead.
    needs_argument = "test target:\n    pytest {{target}}\n"
    (stack,), _ = detect(tmp_path / "argument", {"pyproject.toml": pyproject, "Justfile": needs_argument})
    assert stack.test_commands == ["python -m pytest"]


def test_make_targets_that_activate_a_developers_virtualenv_are_not_entry_points(tmp_path: Path) -> None:
    makefile = (
        "build312:\n\tpython3.12 -m venv venv\n\t. venv/bin/activate; pip install -r requirements-tests.txt\n\n"
        "test:\n\trm -f .coverage\n\t. venv/bin/activate; \\\n\tpytest\n\n"
        "lint:\n\t. venv/bin/activate; pre-commit run --all-files\n"
    )
    files = {"pyproject.toml": "[project]\nname='x'\n[tool.pytest.ini_options]\n", "Makefile": makefile}
    (stack,), _ = detect(tmp_path / "activates", files)
    # The job installs into the runner's Python: `. venv/bin/activate` would fail before pytest runs.
    assert stack.test_commands == ["python -m pytest"]
    assert not any("make" in c for c in stack.lint_commands)
    # A target that makes the environment it uses runs as it is.
    creates = "test:\n\tpython3 -m venv .venv\n\t.venv/bin/pip install -e . pytest\n\t.venv/bin/pytest\n"
    (stack,), _ = detect(tmp_path / "creates", {**files, "Makefile": creates})
    assert stack.test_commands == ["make test"]


def test_hatch_runs_the_linters_in_the_environment_that_installs_them(tmp_path: Path) -> None:
    pyproject = """[project]
name = "x"
[tool.hatch.envs.default]
installer = "uv"
[tool.hatch.envs.docs]
dependencies = ["mkdocs", "ruff"]
[tool.hatch.envs.test]
dependencies = ["pytest", "ruff", "mypy"]
"""
    files = {"pyproject.toml": pyproject, "Makefile": "lint:\n\truff check x tests\n"}
    (stack,), _ = detect(tmp_path / "env", files)
    # The default environment has no ruff: `hatch run make lint` would stop at "ruff: No such file".
    assert stack.package_manager == "hatch"
    assert stack.lint_commands == ["hatch run test:make lint"]
    with_default = pyproject.replace('installer = "uv"', 'dependencies = ["ruff"]')
    (stack,), _ = detect(tmp_path / "default", {**files, "pyproject.toml": with_default})
    assert stack.lint_commands == ["hatch run make lint"]


def test_an_invoke_lint_task_is_the_entry_point_with_the_targets_it_lints(tmp_path: Path) -> None:
    tasks = """from invoke import run, task

@task
def linters(c):
    \"\"\"Run code linters\"\"\"
    run("ruff check tests pkg")
    run("ruff format --check --diff tests pkg")

@task
def linters_fix(c):
    run("ruff check --fix tests pkg")

@task
def tests(c, uvloop=False):
    cmd = f"pytest --uvloop={uvloop} -m cluster"
    run(cmd)

@task(pre=[linters])
def check(c):
    c.run("mypy pkg")
"""
    requirements = "invoke==2.2.0\nruff\npytest\nmypy\n"
    files = {"pyproject.toml": "[project]\nname='pkg'\n", "tasks.py": tasks, "dev_requirements.txt": requirements}
    (stack,), _ = detect(tmp_path / "dev", files)
    # `check` runs `linters` first: one command covers both, and `linters` is not run again.
    assert stack.lint_commands == ["invoke check"]
    assert stack.lint_tools == ["ruff", "mypy"]
    evidence = stack.provenance["lint_commands"].evidence[0]
    assert (evidence.file, evidence.line) == ("tasks.py", 19)
    # The test task composes suites with environments of its own: the runner, not `invoke tests`.
    assert stack.test_commands == ["python -m pytest"]
    # Without invoke among the project's dependencies nothing would install it: the conventional commands.
    (stack,), _ = detect(tmp_path / "none", {**files, "dev_requirements.txt": "ruff\npytest\nmypy\n"})
    assert not any(c.startswith("invoke") for c in stack.lint_commands)


def test_the_noxfile_lint_sessions_run_once_in_the_lint_job_and_a_formatter_session_does_not(tmp_path: Path) -> None:
    noxfile = """import nox

@nox.session(python=["3.11", "3.12"])
def tests(session):
    session.install("-e", ".", "pytest")
    session.run("pytest", *session.posargs)

@nox.session(python="3.11")
def lint(session):
    session.install("ruff")
    session.run("ruff", "check", "src")

@nox.session(name="type-check")
def typing(session):
    session.run("mypy", "src/pkg")

@nox.session
def format(session):
    session.run("ruff", "format", ".")

@nox.session
def check(session):
    session.run("pre-commit", "run", "--all-files")
    typing(session)
"""
    (stack,), _ = detect(tmp_path, {"pyproject.toml": "[project]\nname='x'\n", "noxfile.py": noxfile})
    assert stack.test_tool == "nox"
    # `check` runs `typing` itself: that session is not named twice.
    assert stack.lint_commands == ["nox -s lint check --force-python python3"]
    assert stack.lint_tools == ["ruff", "mypy", "pre-commit"]


def test_a_nox_session_running_the_hooks_runs_their_tools_even_with_pre_commit_ci(tmp_path: Path) -> None:
    noxfile = """import nox

@nox.session(python=["3.12", "3.13"])
def tests(session):
    session.run("pytest")

@nox.session(python="3.12")
def lint(session):
    session.install("prek")
    session.run("prek", "run", "--all-files")
"""
    hooks = (
        "ci:\n  autoupdate_schedule: weekly\n"
        "repos:\n- repo: https://github.com/astral-sh/ruff-pre-commit\n  rev: v0.9.0\n"
        "  hooks:\n  - id: ruff-check\n  - id: ruff-format\n"
        "- repo: https://github.com/codespell-project/codespell\n  rev: v2.4.1\n  hooks:\n  - id: codespell\n"
    )
    files = {"pyproject.toml": "[project]\nname='x'\n", "noxfile.py": noxfile, ".pre-commit-config.yaml": hooks}
    (stack,), _ = detect(tmp_path, files)
    assert stack.lint_commands == ["nox -s lint --force-python python3"]
    # prek is a runner of the same hooks: pre-commit, and the hooks' tools, although pre-commit.ci runs them too
    assert stack.lint_tools == ["pre-commit", "ruff", "other"]


def test_a_format_check_target_is_a_lint_entry_point_and_the_formatting_target_is_not(tmp_path: Path) -> None:
    makefile = (
        "run := poetry run\n\n.PHONY: typecheck\ntypecheck:\n\t$(run) mypy src/pkg\n\n"
        ".PHONY: format\nformat:\n\t$(run) black src\n\n"
        ".PHONY: format-check\nformat-check:\n\t$(run) black --check src\n"
    )
    pyproject = "[tool.poetry]\nname='pkg'\n[tool.poetry.group.dev.dependencies]\nblack='*'\nmypy='*'\n"
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "poetry.lock": "", "Makefile": makefile})
    assert stack.lint_commands == ["poetry run make typecheck", "poetry run make format-check"]
    assert stack.lint_tools == ["mypy", "black"]


def test_setup_py_and_setup_cfg_classifiers_are_read_like_project_classifiers(tmp_path: Path) -> None:
    setup_py = """from setuptools import setup
setup(
    name="pkg",
    python_requires=">=3.12",
    classifiers=[
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        'Programming Language :: Python :: Implementation :: PyPy',
        "Operating System :: Microsoft :: Windows",
    ],
)
"""
    (stack,), _ = detect(tmp_path / "py", {"setup.py": setup_py})
    assert stack.versions == ["3.12", "3.13", "pypy3.11"]
    assert stack.provenance["versions"].evidence[0].file == "setup.py"
    assert "windows" in stack.operating_systems
    setup_cfg = "[metadata]\nname = pkg\nclassifiers =\n    Programming Language :: Python :: 3.13\n"
    (stack,), _ = detect(tmp_path / "cfg", {"setup.cfg": setup_cfg, "setup.py": "from setuptools import setup\n"})
    assert stack.versions == ["3.13"]


def test_a_check_entry_point_that_runs_the_hooks_lints_with_their_tools_and_recipes_it_calls(tmp_path: Path) -> None:
    justfile = (
        "lint:\n    uvx pre-commit run --all-files\n\n"
        "typing:\n    just typing-mypy\n\ntyping-mypy:\n    uv run python -m mypy src\n"
    )
    hooks = "repos:\n- repo: https://github.com/astral-sh/ruff-pre-commit\n  rev: v0.9.0\n  hooks:\n  - id: ruff\n"
    files = {"pyproject.toml": "[project]\nname='x'\n", "uv.lock": "", "justfile": justfile}
    (stack,), _ = detect(tmp_path, {**files, ".pre-commit-config.yaml": hooks})
    assert stack.lint_commands == ["uv run just lint", "uv run just typing"]
    assert stack.lint_tools == ["pre-commit", "ruff", "mypy"]


def test_a_tox_lint_environment_that_calls_an_external_tool_runs_the_tool_itself(tmp_path: Path) -> None:
    pyproject = """[project]
name = "x"
[dependency-groups]
test = ["pytest"]
[tool.tox]
env_list = ["pre-commit", "typing", "py312"]
[tool.tox.env_run_base]
commands = [["pytest", { replace = "posargs", extend = true }]]
dependency_groups = ["test"]
[tool.tox.env.pre-commit]
commands = [["pre-commit", "run", "--all-files"]]
allowlist_externals = ["pre-commit"]
package = "skip"
[tool.tox.env.typing]
deps = ["mypy"]
commands = [["mypy", "src"]]
"""
    (stack,), _ = detect(tmp_path / "toml", {"pyproject.toml": pyproject})
    # tox installs mypy for `typing`; nobody installs pre-commit for `pre-commit`: the job runs (and installs) it.
    assert stack.lint_commands == ["tox run -e typing", "pre-commit run --all-files"]
    tox = (
        "[tox]\nenv_list = lint, py312\n[testenv]\ndeps = pytest\ncommands = pytest\n"
        "[testenv:lint]\nskip_install = true\nallowlist_externals = pre-commit\n"
        "commands = pre-commit run --all-files {posargs}\n"
    )
    (stack,), _ = detect(tmp_path / "ini", {"pyproject.toml": "[project]\nname='x'\n", "tox.ini": tox})
    assert stack.lint_commands == ["pre-commit run --all-files"]
    installs = tox.replace("skip_install = true", "deps = pre-commit")
    (stack,), _ = detect(tmp_path / "installs", {"pyproject.toml": "[project]\nname='x'\n", "tox.ini": installs})
    assert stack.lint_commands == ["tox run -e lint"]


def test_tox_configured_in_setup_cfg_gets_one_selection_per_cell(tmp_path: Path) -> None:
    setup_cfg = """[metadata]
name = x
[options]
install_requires = redis>=4
[tox:tox]
envlist =
    ruff
    mypy
    # released versions
    py{311,312}-dj{42,52}
[testenv]
commands = {envpython} -m pytest -n 4 {posargs}
deps =
    dj42: Django>=4.2,<5.0
    dj52: Django>=5.2,<6.0
    pytest
[testenv:{pre-commit,mypy}]
basepython = python3
commands =
    pre-commit: pre-commit run --all-files
    mypy: mypy django_x tests
deps = mypy
"""
    (stack,), _ = detect(tmp_path, {"setup.cfg": setup_cfg, "setup.py": "from setuptools import setup\nsetup()\n"})
    assert stack.test_tool == "tox"
    assert stack.versions == ["3.11", "3.12"]
    # Each cell runs its own interpreter's environments, never the whole envlist.
    assert stack.test_commands == ['tox run -e "$TOX_ENV"']
    assert stack.matrix_env["3.12"] == {"TOX_ENV": "py312-dj42,py312-dj52"}
    # `ruff` has no section: it inherits `[testenv]`'s pytest, a test run, so only `mypy` lints; its generative
    # section's `basepython = python3` is already the job's interpreter.
    assert stack.lint_commands == ["tox run -e mypy"]
    assert "mypy" in stack.lint_tools


def test_a_tox_lint_environment_pinned_to_an_interpreter_runs_on_the_lint_jobs(tmp_path: Path) -> None:
    tox = (
        "[tox]\nenv_list = lint, typing, py312\n[testenv]\ndeps = pytest\ncommands = pytest\n"
        "[testenv:lint]\nbasepython = python3.10\ndeps = pre-commit\ncommands = pre-commit run --all-files\n"
        "[testenv:typing]\ndeps = mypy\ncommands = mypy src\n"
    )
    pyproject = "[project]\nname='x'\n[dependency-groups]\ndev = ['tox']\n"
    (stack,), _ = detect(tmp_path, {"pyproject.toml": pyproject, "tox.ini": tox})
    assert stack.lint_commands == ["tox run -e lint,typing -x testenv:lint.basepython=python3"]


def test_checkers_outside_the_vocabulary_that_lint_entry_points_and_tox_envs_run_are_other(tmp_path: Path) -> None:
    pyproject = "[project]\nname='x'\n[dependency-groups]\ndev = ['pytest']\n"
    justfile = "lint: spelling\n    uv run ruff check .\n\nspelling:\n    uv run codespell src\n"
    (stack,), _ = detect(tmp_path / "just", {"pyproject.toml": pyproject, "uv.lock": "", "justfile": justfile})
    assert stack.lint_tools == ["ruff", "other"]
    assert stack.lint_commands == ["uv run just lint"]
    tox = (
        "[tox]\nenv_list = py312, flake8, checkmanifest\n[testenv]\ndeps = pytest\ncommands = pytest\n"
        "[testenv:flake8]\ndeps = flake8\ncommands = flake8\n"
        "[testenv:checkmanifest]\ndeps = check-manifest\ncommands = check-manifest\n"
    )
    (stack,), _ = detect(tmp_path / "tox", {"setup.py": "", "tox.ini": tox})
    assert stack.lint_tools == ["flake8", "other"]


def test_a_make_recipe_reads_across_makes_own_conditionals(tmp_path: Path) -> None:
    # `lint: fmt`, whose recipe picks pre-commit's flags under `ifdef CI`: the hooks run in CI, pre-commit.ci or not.
    makefile = (
        "fmt:\nifdef CI\n\tpre-commit run --all-files --show-diff-on-failure\nelse\n"
        "\tpre-commit run --all-files\nendif\n\nlint: fmt\n\ntest:\n\tpytest\n"
    )
    precommit = "ci:\n  autoupdate_schedule: quarterly\nrepos:\n- repo: local\n  hooks:\n  - id: mypy\n"
    files = {"pyproject.toml": "[project]\nname='x'\n", "Makefile": makefile, ".pre-commit-config.yaml": precommit}
    (stack,), _ = detect(tmp_path, files)
    assert stack.lint_tools == ["pre-commit", "mypy"]
    assert stack.lint_commands == ["make lint"]


def test_hooks_that_only_a_tox_fix_environment_runs_are_not_ci_checks(tmp_path: Path) -> None:
    tox = (
        'env_list = ["3.13", "type"]\n[env_run_base]\ncommands = [["pytest"]]\n'
        '[env.fix]\ncommands = [["pre-commit", "run", "--all-files"]]\n'
        '[env.type]\ncommands = [["mypy", "src"]]\n'
    )
    precommit = "repos:\n- repo: https://github.com/astral-sh/ruff-pre-commit\n  hooks:\n  - id: ruff-check\n"
    files = {"pyproject.toml": "[project]\nname='x'\n", "tox.toml": tox, ".pre-commit-config.yaml": precommit}
    (stack,), _ = detect(tmp_path / "fix", files)
    assert stack.lint_tools == ["mypy"]
    assert stack.lint_commands == ["tox run -e type"]
    # A check environment running the same hooks makes them CI's.
    checked = tox.replace("[env.fix]", "[env.lint]").replace('"type"]', '"type", "lint"]')
    (stack,), _ = detect(tmp_path / "lint", {**files, "tox.toml": checked})
    assert stack.lint_tools[:2] == ["pre-commit", "ruff"]


def test_nox_sessions_that_keep_their_commands_in_lists_are_read_and_are_the_lint_tools(tmp_path: Path) -> None:
    noxfile = """import nox

@nox.session(python=["3.12", "3.13"])
def tests(session):
    session.run("pytest")

@nox.session(name="pep484")
def typing(session):
    cmd = ["mypy", "./src/pkg"]
    session.run(*cmd, *session.posargs)

@nox.session(name="pep8")
def style(session):
    for cmd in ["flake8p ./src", "black --check ./src", "slotscheck -m pkg"]:
        session.run(*cmd.split())
"""
    # Hooks and configured linters no session runs are not the lint job's.
    precommit = "repos:\n- repo: https://github.com/pycqa/isort\n  hooks:\n  - id: isort\n"
    pyproject = "[project]\nname='x'\n[tool.pyright]\ninclude = ['src']\n"
    files = {"pyproject.toml": pyproject, "noxfile.py": noxfile, ".pre-commit-config.yaml": precommit}
    (stack,), _ = detect(tmp_path, files)
    assert stack.lint_commands == ["nox -s pep484 pep8 --force-python python3"]
    assert sorted(stack.lint_tools) == ["black", "flake8", "mypy", "other"]


def test_local_hooks_that_only_fix_files_are_not_ci_checks_and_dev_checkers_are_other(tmp_path: Path) -> None:
    precommit = (
        "repos:\n- repo: local\n  hooks:\n  - id: linter\n    entry: ruff check --fix .\n    language: system\n"
        "  - id: format\n    entry: autopep8 --in-place .\n    language: system\n"
    )
    pyproject = "[project]\nname='x'\n[dependency-groups]\nlint = ['ruff', 'autopep8']\n"
    (stack,), _ = detect(tmp_path / "fix", {"pyproject.toml": pyproject, ".pre-commit-config.yaml": precommit})
    assert stack.lint_tools == ["ruff", "other"]
    assert not any("pre-commit" in c for c in stack.lint_commands)
    # One hook that checks makes the hooks a check.
    checking = precommit + "- repo: https://github.com/pycqa/flake8\n  hooks:\n  - id: flake8\n"
    (stack,), _ = detect(tmp_path / "check", {"pyproject.toml": pyproject, ".pre-commit-config.yaml": checking})
    assert "pre-commit" in stack.lint_tools


def test_formatters_and_checkers_outside_the_vocabulary_that_hooks_run_are_other(tmp_path: Path) -> None:
    hooks = (
        "repos:\n- repo: https://github.com/pre-commit/pre-commit-hooks\n  hooks:\n  - id: end-of-file-fixer\n"
        "- repo: https://github.com/hukkin/mdformat\n  hooks:\n  - id: mdformat\n"
    )
    (stack,), _ = detect(tmp_path, {"pyproject.toml": "[project]\nname='x'\n", ".pre-commit-config.yaml": hooks})
    assert stack.lint_tools == ["pre-commit", "other"]


def test_unittest_modules_inside_the_package_are_discovered_where_they_are(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": "[project]\nname='certs'\nrequires-python='>=3.10'\n",
        "certs/__init__.py": "",
        "certs/tests/__init__.py": "",
        "certs/tests/test_bundle.py": "import unittest\n",
        "vendor/lib/tests/test_vendored.py": "",
    }
    (stack,), _ = detect(tmp_path / "inside", files)
    # No runner declared: unittest, started in the package's own tests/ (discovery only descends into packages).
    assert stack.test_tool == "unittest"
    assert stack.test_commands == ["python -m unittest discover -s certs/tests -t ."]
    at_root = {"pyproject.toml": files["pyproject.toml"], "certs/__init__.py": "", "tests/test_bundle.py": ""}
    (stack,), _ = detect(tmp_path / "root", at_root)
    assert stack.test_commands == ["python -m unittest discover -s tests"]
