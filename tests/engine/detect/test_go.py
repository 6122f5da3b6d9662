"""Go detection on small fixture repositories: modules, workspaces, versions, linters, services."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from detect_fixtures import run_detector

from autodevops.engine.detect import go
from autodevops.engine.detect.base import Context
from autodevops.engine.model import Stack

TODAY = dt.date(2026, 11, 26)  # supported Go releases in the runtime table: 1.26 and 1.27


def analyze(root: Path, files: dict[str, str]) -> tuple[list[Stack], Context]:
    return run_detector(go.detect, root, files, TODAY)


GO_MOD = (
    "module example.com/app\n\ngo 1.24\n\nrequire (\n\tgithub.com/jackc/pgx/v5 v5.7.1\n"
    "\tgithub.com/redis/go-redis/v9 v9.7.0 // indirect\n)\n"
)


def test_module_versions_run_from_the_go_directive_through_the_newest_release(tmp_path: Path) -> None:
    (stack,), ctx = analyze(tmp_path, {"go.mod": GO_MOD, "go.sum": "", "main.go": "package main\n"})
    assert stack.path == "."
    assert stack.package_manager == "go"
    # The module claims to build with Go 1.24: the matrix tests that claim, end-of-life lines included.
    assert stack.versions == ["1.24", "1.25", "1.26", "1.27"]
    (finding,) = [f for f in ctx.findings if f.code == "eol-runtime"]
    assert "1.24, 1.25" in finding.message
    assert "go 1.26" in finding.message
    assert finding.evidence[0].file == "go.mod"
    prov = stack.provenance["versions"].evidence[0]
    assert (prov.file, prov.key, prov.line) == ("go.mod", "go", 3)
    assert stack.test_tool == "go-test"
    assert stack.test_commands == ["go test ./..."]
    assert stack.lockfiles == ["go.sum"]
    assert stack.build_commands == ["go build ./..."]


def test_direct_driver_requirements_give_services_and_indirect_ones_do_not(tmp_path: Path) -> None:
    (stack,), _ = analyze(tmp_path, {"go.mod": GO_MOD})
    assert stack.services == ["postgres"]
    assert stack.provenance["services"].evidence[0].key == "github.com/jackc/pgx/v5"


def test_a_client_library_module_needs_its_own_server(tmp_path: Path) -> None:
    (stack,), _ = analyze(tmp_path, {"go.mod": "module github.com/redis/go-redis/v9\n\ngo 1.25\n"})
    assert stack.services == ["redis"]


def test_golangci_config_replaces_the_toolchain_checks(tmp_path: Path) -> None:
    (plain,), _ = analyze(tmp_path / "a", {"go.mod": GO_MOD})
    assert plain.lint_tools == ["gofmt", "go-vet"]
    (linted,), _ = analyze(tmp_path / "b", {"go.mod": GO_MOD, ".golangci.yml": "linters: {}\n"})
    assert linted.lint_tools == ["golangci-lint"]
    assert linted.lint_commands == ["golangci-lint run"]
    assert linted.provenance["lint_tools"].evidence[0].file == ".golangci.yml"


def test_every_module_is_a_stack_but_fixtures_and_vendored_code_are_not(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "go.mod": "module example.com/lib\n\ngo 1.25\n",
            "example/demo/go.mod": "module example.com/lib/example/demo\n\ngo 1.25\n",
            "example/demo/main.go": "package main\n",
            "testdata/broken/go.mod": "module broken\n",
            "vendor/x/go.mod": "module x\n",
            "_tools/go.mod": "module tools\n",
        },
    )
    assert sorted(s.path for s in stacks) == [".", "example/demo"]
    demo = next(s for s in stacks if s.path == "example/demo")
    assert demo.build_commands == []  # an example program is not a deliverable


def test_sample_projects_in_test_and_documentation_directories_are_not_stacks(tmp_path: Path) -> None:
    # A language tool's tests read sample projects; none of them is built by CI on its own.
    stacks, _ = analyze(
        tmp_path,
        {
            "go.mod": "module example.com/tool\n\ngo 1.25\n",
            "tests/syntax-tests/source/Go/go.mod": "module hugeparam\n\ngo 1.25\n",
            "tests/syntax-tests/source/Go/main.go": "package main\n",
            "test/e2e/go.mod": "module e2e\n\ngo 1.25\n",
            "integration_test/go.mod": "module example.com/tool/integration\n\ngo 1.25\n",
            "integration_test/main_test.go": "package integration\n",
            # A documentation site built with Hugo modules, and a snippet project of the docs.
            "docs/go.mod": "module example.com/tool/docs\n\ngo 1.25\n",
            "website/snippets/demo/go.mod": "module demo\n\ngo 1.25\n",
            "website/snippets/demo/main.go": "package main\n",
        },
    )
    assert sorted(s.path for s in stacks) == [".", "integration_test"]


def test_an_integration_test_module_of_the_project_is_a_stack(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "go.mod": "module go.uber.org/log\n\ngo 1.25\n",
            # named under the root module: the project's own test module, which `go test ./...` does not reach
            "grpc/internal/test/go.mod": "module go.uber.org/log/grpc/internal/test\n\ngo 1.25\n",
            "grpc/internal/test/grpc_test.go": "package test\n",
            "test/e2e/go.mod": "module e2e\n\ngo 1.25\n",
        },
    )
    assert sorted(s.path for s in stacks) == [".", "grpc/internal/test"]


def test_go_work_makes_one_stack_of_the_modules_it_uses(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "go.work": "go 1.25\n\nuse (\n\t./api\n\t./worker\n)\n",
            "api/go.mod": "module example.com/api\n\ngo 1.24\n",
            "worker/go.mod": "module example.com/worker\n\ngo 1.25\n",
            "tools/go.mod": "module example.com/tools\n\ngo 1.25\n",
            "tools/gen/main.go": "package main\n",
        },
    )
    by_path = {s.path: s for s in stacks}
    assert sorted(by_path) == [".", "tools"]
    ws = by_path["."]
    assert ws.workspace_members == ["api", "worker"]
    assert ws.manifests[0] == "go.work"
    assert ws.test_commands == ["go test ./api/... ./worker/..."]
    assert ws.provenance["versions"].evidence[0].file == "go.work"


def test_pinned_toolchain_older_than_the_go_directive_is_a_finding(tmp_path: Path) -> None:
    (stack,), ctx = analyze(tmp_path, {"go.mod": "module m\n\ngo 1.25.0\n", ".tool-versions": "golang 1.23.4\n"})
    assert stack.versions == ["1.23"]
    codes = {f.code for f in ctx.findings}
    assert {"toolchain-below-go-directive", "eol-runtime"} <= codes


def test_a_go_directive_newer_than_the_table_is_tested_as_declared(tmp_path: Path) -> None:
    (stack,), _ = analyze(tmp_path, {"go.mod": "module m\n\ngo 1.30\n"})
    assert stack.versions == ["1.30"]


def test_missing_go_sum_with_requirements_is_reported(tmp_path: Path) -> None:
    _, ctx = analyze(tmp_path, {"go.mod": GO_MOD})
    assert any(f.code == "no-lockfile" and f.stack == "." for f in ctx.findings)


def test_garbage_go_mod_still_makes_a_stack_without_versions(tmp_path: Path) -> None:
    (stack,), _ = analyze(tmp_path, {"go.mod": "\x7f this is not a go.mod {{{\n"})
    assert stack.package_manager == "go"
    assert stack.versions == []


def test_an_end_of_life_toolchain_directive_is_reported(tmp_path: Path) -> None:
    (stack,), ctx = analyze(tmp_path, {"go.mod": "module m\n\ngo 1.22\n\ntoolchain go1.22.5\n"})
    assert stack.versions == ["1.22.5"]  # the toolchain the module builds with, however old
    lines = sorted(f.evidence[0].line for f in ctx.findings if f.code == "eol-runtime")
    assert lines == [5]  # the end-of-life toolchain, once


def test_a_supported_go_directive_has_no_end_of_life_finding(tmp_path: Path) -> None:
    (stack,), ctx = analyze(tmp_path, {"go.mod": "module m\n\ngo 1.26.0\n"})
    assert stack.versions == ["1.26", "1.27"]
    assert not [f for f in ctx.findings if f.code == "eol-runtime"]


def test_a_parent_golangci_config_applies_unless_the_parent_is_a_module(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            ".golangci.yml": "",
            "staticcheck.conf": "",
            "services/api/go.mod": "module api\n\ngo 1.26\n",
            "services/api/main.go": "package main\n",
            "lib/go.mod": "module lib\n\ngo 1.26\n",
            "lib/lib.go": "package lib\n",
            "lib/examples/demo/go.mod": "module demo\n\ngo 1.26\n",
            "lib/examples/demo/main.go": "package main\n",
        },
    )
    lint = {s.path: s.lint_tools for s in stacks}
    assert lint == {
        "services/api": ["golangci-lint", "staticcheck"],
        "lib": ["golangci-lint", "staticcheck"],
        "lib/examples/demo": ["gofmt", "go-vet", "staticcheck"],
    }


def test_a_makefile_test_target_is_the_entry_point(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "go.mod": "module m\n\ngo 1.26\n",
            "Makefile": "TEST := go test\n\ntest:\n\t$(TEST) -race ./...\n\nlint:\n\tgolangci-lint run\n",
        },
    )
    assert stack.test_tool == "go-test"
    assert stack.test_commands == ["make test"]
    assert "make lint" in stack.lint_commands
    assert stack.provenance["test_commands"].evidence[0].line == 3


def test_a_mise_tools_pin_is_read(tmp_path: Path) -> None:
    (stack,), _ = analyze(tmp_path, {"go.mod": "module m\n\ngo 1.26\n", "mise.toml": '[tools]\ngo = "1.27.1"\n'})
    assert stack.versions == ["1.27"]
    assert stack.provenance["versions"].evidence[0].key == "tools.go"


def test_platform_specific_sources_put_those_systems_in_the_test_matrix(tmp_path: Path) -> None:
    files = {
        "go.mod": "module example.com/tool\n\ngo 1.26\n",
        "main.go": "package main\n",
        "term_windows.go": "package main\n",
        "term_unix.go": "package main\n",
        "my_windows_helper.go": "package main\n",  # not a GOOS suffix: built everywhere
    }
    (stack,), _ = analyze(tmp_path, files)
    assert stack.operating_systems == ["linux", "windows"]
    assert stack.provenance["operating_systems"].evidence[0].file == "term_windows.go"


def test_a_matrix_inferred_from_the_go_directive_is_stated_for_review(tmp_path: Path) -> None:
    # Which releases from the minimum on CI really runs is the project's choice: below the confidence that
    # needs no review. A nested module's existence as a stack is also less sure than the root module's.
    stacks, _ = analyze(
        tmp_path,
        {
            "go.mod": "module example.com/lib\n\ngo 1.25\n",
            "tools/go.mod": "module example.com/lib/tools\n\ngo 1.25\n",
            "tools/gen/main.go": "package main\n",
        },
    )
    root, tools = sorted(stacks, key=lambda s: s.path)
    assert root.provenance["versions"].confidence < 0.8
    assert root.provenance["path"].confidence >= 0.8
    assert tools.provenance["path"].confidence < 0.8
    assert tools.provenance["language"].confidence >= 0.8


def test_the_linters_make_lint_runs_are_the_lint_tools(tmp_path: Path) -> None:
    makefile = "lint: staticcheck\n\t@golint -set_exit_status ./...\n\nstaticcheck:\n\tstaticcheck ./...\n"
    (stack,), ctx = analyze(tmp_path / "a", {"go.mod": GO_MOD, "Makefile": makefile, ".golangci.yaml": "version: 2\n"})
    assert stack.lint_tools == ["staticcheck", "other"]
    assert stack.lint_commands == ["make lint"]
    assert "unused-lint-config" in {f.code for f in ctx.findings}
    # Linters outside the toolchain are installed by the target the Makefile keeps for that.
    init = (
        "init:\n\tgo install golang.org/x/lint/golint@latest\n\tgo install honnef.co/go/tools/cmd/staticcheck@latest\n"
    )
    (stack,), _ = analyze(tmp_path / "init", {"go.mod": GO_MOD, "Makefile": init + "\n" + makefile})
    assert stack.lint_commands == ["make init", "make lint"]
    # A target that runs golangci-lint keeps it beside what else it runs.
    makefile = "lint:\n\tgolangci-lint run\n\tgo vet ./...\n"
    (stack,), _ = analyze(tmp_path / "b", {"go.mod": GO_MOD, "Makefile": makefile, ".golangci.yml": "version: 2\n"})
    assert stack.lint_tools == ["golangci-lint", "go-vet"]
    assert stack.lint_commands == ["golangci-lint run", "make lint"]


def test_a_nested_module_without_code_or_with_only_tool_pins_is_not_a_stack(tmp_path: Path) -> None:
    # A go.mod that fences assets off the main module, and one that pins developer tools, hold no package.
    tools = '//go:build tools\n\npackage tools\n\nimport _ "golang.org/x/vuln/cmd/govulncheck"\n'
    stacks, _ = analyze(
        tmp_path,
        {
            "go.mod": "module example.com/lib\n\ngo 1.25\n",
            "lib.go": "package lib\n",
            "assets/go.mod": "module example.com/lib/assets\n\ngo 1.25\n",
            "assets/logo.png": "",
            "tools/go.mod": "module example.com/lib/tools\n\ngo 1.25\n",
            "tools/tools.go": tools,
            "bench/go.mod": "module example.com/lib/bench\n\ngo 1.25\n",
            "bench/bench_test.go": "package bench\n",
            "bench/testdata/gen/main.go": "package main\n",
        },
    )
    assert sorted(s.path for s in stacks) == [".", "bench"]


def test_a_module_embedding_the_server_of_its_client_library_needs_no_service(tmp_path: Path) -> None:
    go_mod = (
        "module github.com/nats-io/nats-server/v2\n\ngo 1.25\n\n"
        "require (\n\tgithub.com/nats-io/nats.go v1.51.0\n\tgithub.com/jackc/pgx/v5 v5.7.1\n)\n"
    )
    (stack,), _ = analyze(tmp_path, {"go.mod": go_mod, "go.sum": "", "main.go": "package main\n"})
    assert stack.services == ["postgres"]


def test_nested_modules_the_root_lint_target_walks_take_its_linters(tmp_path: Path) -> None:
    makefile = (
        "MODULE_DIRS = . ./exp ./tools\n\nlint: golangci-lint\n\ngolangci-lint:\n"
        "\t@$(foreach mod,$(MODULE_DIRS), (cd $(mod) && golangci-lint run ./...) &&) true\n"
    )
    files = {
        "go.mod": GO_MOD,
        "Makefile": makefile,
        ".golangci.yml": "version: 2\n",
        "exp/go.mod": "module example.com/app/exp\n\ngo 1.24\n",
        "exp/exp.go": "package exp\n",
        "bench/go.mod": "module example.com/app/bench\n\ngo 1.24\n",
        "bench/bench_test.go": "package bench\n",
    }
    stacks, _ = analyze(tmp_path, files)
    by_path = {s.path: s for s in stacks}
    assert by_path["exp"].lint_tools == ["golangci-lint"]
    assert by_path["exp"].lint_commands == ["golangci-lint run"]
    # A module the target never names keeps the toolchain's baseline.
    assert by_path["bench"].lint_tools == ["gofmt", "go-vet"]


def test_a_supported_toolchain_directive_is_the_version_tested(tmp_path: Path) -> None:
    (stack,), ctx = analyze(tmp_path, {"go.mod": "module m\n\ngo 1.25.0\n\ntoolchain go1.26.5\n"})
    assert stack.versions == ["1.26.5"]
    assert stack.provenance["versions"].evidence[0].line == 5
    assert not [f for f in ctx.findings if f.code == "eol-runtime"]


def test_a_documentation_module_with_tests_is_tested_and_one_of_pages_is_not(tmp_path: Path) -> None:
    files = {
        "go.mod": GO_MOD,
        "main.go": "package main\n",
        # Documentation whose examples are compiled and tested: CI runs `go test` there too.
        "docs/go.mod": "module example.com/app/docs\n\ngo 1.24\n",
        "docs/ex/get-started/main.go": "package main\n",
        "docs/ex/get-started/main_test.go": "package main\n",
    }
    stacks, _ = analyze(tmp_path / "tested", files)
    assert sorted(s.path for s in stacks) == [".", "docs"]
    # A docs module holding a snippet that nothing tests is pages, not a project.
    untested = {k: v for k, v in files.items() if not k.endswith("_test.go")}
    stacks, _ = analyze(tmp_path / "pages", untested)
    assert [s.path for s in stacks] == ["."]
