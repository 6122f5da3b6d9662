""".NET detection on small fixture repositories: solutions, test projects, target frameworks, SDK pins."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from detect_fixtures import run_detector

from autodevops.engine.detect import dotnet
from autodevops.engine.detect.base import Context
from autodevops.engine.model import Stack

TODAY = dt.date(2026, 11, 26)  # .NET 8 and 9 ended on 2026-11-10; 10 is supported


def analyze(root: Path, files: dict[str, str]) -> tuple[list[Stack], Context]:
    return run_detector(dotnet.detect, root, files, TODAY)


def csproj(tfm: str, refs: str = "", sdk: str = "Microsoft.NET.Sdk") -> str:
    return f'<Project Sdk="{sdk}"><PropertyGroup>{tfm}</PropertyGroup><ItemGroup>{refs}</ItemGroup></Project>'


SLN = """
Microsoft Visual Studio Solution File, Format Version 12.00
Project("{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}") = "Api", "Api\\Api.csproj", "{1}"
EndProject
Project("{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}") = "Api.Tests", "Api.Tests\\Api.Tests.csproj", "{2}"
EndProject
"""


def test_solution_with_a_test_project(tmp_path: Path) -> None:
    stacks, ctx = analyze(
        tmp_path,
        {
            "src/Shop.sln": SLN,
            "src/Api/Api.csproj": csproj(
                "<TargetFramework>net10.0</TargetFramework>",
                '<PackageReference Include="Npgsql.EntityFrameworkCore.PostgreSQL" Version="9.0.0" />',
                sdk="Microsoft.NET.Sdk.Web",
            ),
            "src/Api.Tests/Api.Tests.csproj": csproj(
                "<TargetFrameworks>net8.0;net10.0</TargetFrameworks>",
                '<PackageReference Include="Microsoft.NET.Test.Sdk" Version="17.0.0" />',
            ),
            "src/global.json": '{"sdk": {"version": "10.0.100"}}',
            "fuzz/Api.FuzzTests/Api.FuzzTests.csproj": csproj("<TargetFramework>net6.0</TargetFramework>"),
        },
    )
    stack, fuzz = stacks
    assert fuzz.path == "fuzz/Api.FuzzTests"
    assert fuzz.test_tool == "none"
    assert stack.path == "src"
    assert stack.language == "csharp"
    assert stack.package_manager == "dotnet"
    # the fuzzing harness is in no solution: its own stack, and not a test project
    assert stack.manifests == ["src/Shop.sln", "src/Api/Api.csproj", "src/Api.Tests/Api.Tests.csproj"]
    assert stack.test_tool == "dotnet-test"
    assert stack.test_commands == ["dotnet test"]
    assert stack.build_commands == ["dotnet build --configuration Release"]
    # the test project's targets are the matrix; the one that ended on 2026-11-10 is reported
    assert stack.versions == ["8.0", "10.0"]
    eol = next(f for f in ctx.findings if f.code == "eol-runtime")
    assert "net8.0" in eol.message
    assert stack.services == ["postgres"]
    assert stack.frameworks == ["aspnetcore"]


def test_sdk_pin_older_than_a_target_is_an_error(tmp_path: Path) -> None:
    _, ctx = analyze(
        tmp_path,
        {
            "App/App.csproj": csproj("<TargetFramework>net10.0</TargetFramework>"),
            "global.json": '{"sdk": {"version": "8.0.400"}}',
        },
    )
    assert any(f.code == "sdk-older-than-target" and f.severity == "error" for f in ctx.findings)


def test_slnx_lists_projects_and_directory_build_props_sets_targets(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "Lib.slnx": (
                '<Solution><Project Path="Lib/Lib.csproj" /><Project Path="Lib.Tests/Lib.Tests.csproj" /></Solution>'
            ),
            "Directory.Build.props": (
                "<Project><PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup></Project>"
            ),
            "Lib/Lib.csproj": csproj(""),
            "Lib.Tests/Lib.Tests.csproj": csproj("", '<PackageReference Include="xunit" Version="2.9.0" />'),
            "samples/Demo/Demo.csproj": csproj("<TargetFramework>net10.0</TargetFramework>"),
        },
    )
    by_path = {s.path: s for s in stacks}
    # the sample is below the solution, which leaves it out: the maintainers do not build it
    assert sorted(by_path) == ["."]
    stack = by_path["."]
    assert stack.workspace_members == ["Lib", "Lib.Tests"]
    assert stack.versions == ["10.0"]
    # a .slnx needs naming explicitly
    assert stack.test_commands == ["dotnet test Lib.slnx"]


def test_projects_without_a_solution_form_one_stack(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "src/App/App.csproj": csproj("<TargetFramework>net10.0</TargetFramework>"),
            "tests/App.Tests/App.Tests.csproj": csproj(
                "<TargetFramework>net10.0</TargetFramework><IsTestProject>true</IsTestProject>"
            ),
        },
    )
    assert stack.path == "."
    assert stack.test_commands == ["dotnet test tests/App.Tests/App.Tests.csproj"]
    assert stack.build_commands == ["dotnet build src/App/App.csproj --configuration Release"]


def test_a_project_outside_every_solution_dir_is_built_on_its_own(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "src/Lib.slnx": '<Solution><Project Path="Lib/Lib.csproj" /></Solution>',
            "src/Lib/Lib.csproj": csproj("<TargetFramework>net10.0</TargetFramework>"),
            "src/Probe/Probe.csproj": csproj("<TargetFramework>net48</TargetFramework>"),
            "samples/Demo/Demo.csproj": csproj("<TargetFramework>net10.0</TargetFramework>"),
        },
    )
    assert sorted(s.path for s in stacks) == ["samples/Demo", "src"]


def test_a_sample_solution_in_a_test_directory_is_test_data(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "tests/syntax-tests/source/XML/console.csproj": csproj("<TargetFramework>net9.0</TargetFramework>"),
            "tests/syntax-tests/source/XML/solution.slnx": '<Solution><Project Path="console.csproj" /></Solution>',
        },
    )
    assert stacks == []


def test_local_tools_declare_the_formatter(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "App.csproj": csproj("<TargetFramework>net10.0</TargetFramework>"),
            ".config/dotnet-tools.json": '{"version": 1, "tools": {"dotnet-format": {"version": "5.1.0"}}}',
        },
    )
    assert stack.lint_tools == ["dotnet-format"]
    assert stack.test_tool == "none"


def test_malformed_project_file_is_a_finding(tmp_path: Path) -> None:
    (stack,), ctx = analyze(tmp_path, {"App/App.csproj": "<Project Sdk=", "App.Tests/App.Tests.csproj": csproj("")})
    assert stack.test_tool == "dotnet-test"  # the other project is still read
    assert any(f.code == "parse-error" and "App.csproj" in f.message for f in ctx.findings)


def test_net_framework_targets_run_on_windows(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "Lib.Tests/Lib.Tests.csproj": csproj(
                "<TargetFrameworks>net48;net10.0</TargetFrameworks>",
                '<PackageReference Include="NUnit" Version="4.0.0" />',
            )
        },
    )
    assert stack.operating_systems == ["windows"]
    assert stack.provenance["operating_systems"].evidence[0].excerpt == "net48"
    assert stack.versions == ["10.0"]
    (portable,), _ = analyze(tmp_path / "b", {"App.csproj": csproj("<TargetFramework>net10.0</TargetFramework>")})
    assert portable.operating_systems == []


def test_csharp_editorconfig_rules_the_project_runs_mean_dotnet_format(tmp_path: Path) -> None:
    files = {"src/App/App.csproj": csproj("<TargetFramework>net10.0</TargetFramework>")}
    hook = {".git-hooks/pre-commit": "#!/bin/sh\ndotnet format ./App.slnx --no-restore\n"}
    plain_rules = {".editorconfig": "[*.md]\ntrim_trailing_whitespace = false\n"}
    (plain,), _ = analyze(tmp_path / "a", {**files, **plain_rules, **hook})
    assert plain.lint_tools == []
    csharp_rules = {".editorconfig": "[*.{cs,vb}]\ndotnet_sort_system_directives_first = true\n"}
    (styled,), _ = analyze(tmp_path / "b", {**files, **csharp_rules, **hook})
    assert styled.lint_tools == ["dotnet-format"]
    assert styled.lint_commands == ["dotnet format --verify-no-changes"]
    assert styled.provenance["lint_tools"].evidence[1].file == ".git-hooks/pre-commit"
    # rules kept for editors only: nothing runs dotnet format, so it is not a check CI should block on
    (editor_only,), _ = analyze(tmp_path / "c", {**files, **csharp_rules})
    assert editor_only.lint_tools == []
    guide = {"CONTRIBUTING.md": "Before a pull request, run `dotnet format --verify-no-changes`.\n"}
    (guided,), _ = analyze(tmp_path / "d", {**files, **csharp_rules, **guide})
    assert guided.lint_tools == ["dotnet-format"]


def test_a_solution_below_the_sdk_pin_is_built_from_the_pins_directory(tmp_path: Path) -> None:
    files = {
        "global.json": '{"sdk": {"version": "10.0.300"}}',
        "build.cs": "",
        "src/Lib.slnx": (
            '<Solution><Project Path="Lib/Lib.csproj" /><Project Path="Lib.Tests/Lib.Tests.csproj" /></Solution>'
        ),
        "src/Lib/Lib.csproj": csproj("<TargetFramework>net10.0</TargetFramework>"),
        "src/Lib.Tests/Lib.Tests.csproj": csproj(
            "<TargetFramework>net10.0</TargetFramework>", '<PackageReference Include="xunit" Version="2.9.0" />'
        ),
    }
    (stack,), _ = analyze(tmp_path / "one", files)
    # where the SDK pin and the build script are, with the solution named (the root holds none)
    assert stack.path == "."
    assert stack.test_commands == ["dotnet test src/Lib.slnx"]
    assert stack.build_commands == ["dotnet build src/Lib.slnx --configuration Release"]
    # a second stack below the pin keeps each where its solution is
    two = files | {"samples/Demo/Demo.csproj": csproj("<TargetFramework>net10.0</TargetFramework>")}
    stacks, _ = analyze(tmp_path / "two", two)
    assert sorted(s.path for s in stacks) == ["samples/Demo", "src"]


def test_a_database_client_library_tests_against_its_server(tmp_path: Path) -> None:
    test_ref = '<PackageReference Include="Microsoft.NET.Test.Sdk" Version="17.0.0" />'
    (stack,), _ = analyze(
        tmp_path / "driver",
        {
            "Npgsql.slnx": '<Solution><Project Path="src/Npgsql/Npgsql.csproj" />'
            '<Project Path="test/Npgsql.Tests/Npgsql.Tests.csproj" /></Solution>',
            "src/Npgsql/Npgsql.csproj": csproj("<TargetFramework>net10.0</TargetFramework>"),
            "test/Npgsql.Tests/Npgsql.Tests.csproj": csproj("<TargetFramework>net10.0</TargetFramework>", test_ref),
        },
    )
    assert stack.services == ["postgres"]
    # an application of the same name without tests of its own says nothing about a server
    app_files = {"Npgsql/Npgsql.csproj": csproj("<TargetFramework>net10.0</TargetFramework>")}
    (app,), _ = analyze(tmp_path / "app", app_files)
    assert app.services == []


def test_a_web_project_without_tests_is_still_aspnetcore(tmp_path: Path) -> None:
    web = csproj("<TargetFramework>net10.0</TargetFramework>", sdk="Microsoft.NET.Sdk.Web")
    (stack,), _ = analyze(tmp_path, {"Api/Api.csproj": web})
    assert stack.frameworks == ["aspnetcore"]


def test_a_project_nested_beside_the_main_solution_is_stated_for_review(tmp_path: Path) -> None:
    files = {
        "Shop.sln": SLN,
        "Api/Api.csproj": csproj("<TargetFramework>net10.0</TargetFramework>"),
        "Api.Tests/Api.Tests.csproj": csproj(
            "<TargetFramework>net10.0</TargetFramework>",
            '<PackageReference Include="Microsoft.NET.Test.Sdk" Version="17.0.0" />',
        ),
        # A maintainer's tool with a solution of its own: as often never built by CI as built.
        "Tools/LicenseUpdater/LicenseUpdater.sln": (
            'Project("{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}") = "LicenseUpdater", "LicenseUpdater.csproj", "{3}"\n'
            "EndProject\n"
        ),
        "Tools/LicenseUpdater/LicenseUpdater.csproj": csproj("<TargetFramework>net10.0</TargetFramework>"),
    }
    stacks, _ = analyze(tmp_path, files)
    confidence = {s.path: s.provenance["path"].confidence for s in stacks}
    assert confidence["."] == 0.9
    assert confidence["Tools/LicenseUpdater"] == 0.7
