"""Elixir detection on small fixture repositories: Mix projects, umbrellas, versions, credo, services."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from detect_fixtures import run_detector

from autodevops.engine.detect import elixir
from autodevops.engine.detect.base import Context
from autodevops.engine.model import Stack

TODAY = dt.date(2026, 11, 26)  # Elixir 1.16-1.20 receive security fixes


def analyze(root: Path, files: dict[str, str]) -> tuple[list[Stack], Context]:
    return run_detector(elixir.detect, root, files, TODAY)


MIX = """defmodule Shop.MixProject do
  use Mix.Project

  def project do
    [app: :shop, version: "0.1.0", elixir: "~> 1.17", deps: deps()]
  end

  defp deps do
    [{:phoenix, "~> 1.7"}, {:postgrex, ">= 0.0.0"}, {:credo, "~> 1.7", only: [:dev, :test]}]
  end
end
"""


def test_mix_project(tmp_path: Path) -> None:
    (stack,), _ = analyze(tmp_path, {"mix.exs": MIX, "mix.lock": "%{}", ".formatter.exs": "[]"})
    assert stack.package_manager == "mix"
    assert stack.versions == ["1.17", "1.18", "1.19", "1.20"]
    assert stack.provenance["versions"].evidence[0].key == "elixir"
    assert stack.test_tool == "mix-test"
    assert stack.test_commands == ["mix test"]
    assert stack.lint_tools == ["credo"]
    assert stack.lint_commands == ["mix credo --strict", "mix format --check-formatted"]
    assert stack.services == ["postgres"]
    assert stack.frameworks == ["phoenix"]
    assert stack.lockfiles == ["mix.lock"]


def test_umbrella_apps_are_members_and_other_nested_projects_are_stacks(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "mix.exs": 'defmodule U.MixProject do\n  def project, do: [apps_path: "apps"]\nend\n',
            "apps/core/mix.exs": MIX,
            "apps/web/mix.exs": "",
            "installer/mix.exs": "",
            "deps/jason/mix.exs": "",
        },
    )
    by_path = {s.path: s for s in stacks}
    assert sorted(by_path) == [".", "installer"]
    assert by_path["."].workspace_members == ["apps/core", "apps/web"]
    assert by_path["."].services == ["postgres"]
    # the repository's own project is compiled warning-free; a nested installer is only tested
    assert by_path["."].build_commands == ["mix compile --warnings-as-errors"]
    assert by_path["installer"].build_commands == []


def test_a_client_library_of_a_service_is_tested_against_that_service(tmp_path: Path) -> None:
    driver = 'defmodule Postgrex.MixProject do\n  def project do\n    [app: :postgrex, deps: [{:jason, "~> 1.0"}]]\n'
    (stack,), _ = analyze(tmp_path, {"mix.exs": driver + "  end\nend\n"})
    assert stack.services == ["postgres"]
    assert stack.provenance["services"].evidence[0].key == "app"


def test_an_end_of_life_elixir_requirement_is_tested_and_reported(tmp_path: Path) -> None:
    (stack,), ctx = analyze(tmp_path, {"mix.exs": MIX.replace('"~> 1.17"', '"~> 1.14"')})
    assert stack.versions == ["1.14", "1.15", "1.16", "1.17", "1.18", "1.19", "1.20"]
    (finding,) = [f for f in ctx.findings if f.code == "eol-runtime"]
    assert "1.14, 1.15" in finding.message
    assert finding.evidence[0].key == "elixir"


def test_no_elixir_requirement_gets_the_supported_releases(tmp_path: Path) -> None:
    (stack,), ctx = analyze(tmp_path, {"mix.exs": MIX.replace('elixir: "~> 1.17", ', "")})
    assert stack.versions == ["1.16", "1.17", "1.18", "1.19", "1.20"]
    assert not [f for f in ctx.findings if f.code == "eol-runtime"]


def test_tool_versions_pin_wins(tmp_path: Path) -> None:
    (stack,), ctx = analyze(tmp_path, {"mix.exs": MIX, ".tool-versions": "erlang 27.1\nelixir 1.14.5-otp-25\n"})
    assert stack.versions == ["1.14.5"]
    codes = {f.code for f in ctx.findings}
    # 1.14 has ended, and mix.exs asks for ~> 1.17
    assert {"eol-runtime", "version-conflict"} <= codes


def test_dialyxir_is_another_checker_stated_without_a_command(tmp_path: Path) -> None:
    mix = MIX.replace("only: [:dev, :test]}]", 'only: [:dev, :test]}, {:dialyxir, "~> 1.4", runtime: false}]')
    (stack,), _ = analyze(tmp_path, {"mix.exs": mix, "mix.lock": "%{}"})
    assert stack.lint_tools == ["credo", "other"]
    assert stack.lint_commands == ["mix credo --strict"]
