"""Every field the compiled-language detectors set carries provenance that points into the repository."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from autodevops.engine.detect import cpp, dotnet, elixir, go, jvm, php, ruby, rust, swift
from autodevops.engine.detect.base import Context, Detector
from autodevops.engine.source import LocalDir

REPO = {
    "go.mod": "module example.com/m\n\ngo 1.26\n\nrequire github.com/lib/pq v1.10.9\n",
    "go.sum": "",
    ".golangci.yml": "linters: {}\n",
    "main.go": "package main\n",
    "Cargo.toml": '[package]\nname = "a"\nversion = "0.1.0"\nrust-version = "1.80"\n[dependencies]\nredis = "0.27"\n',
    "rustfmt.toml": "",
    "pom.xml": '<project xmlns="http://maven.apache.org/POM/4.0.0"><artifactId>a</artifactId>'
    "<properties><maven.compiler.release>21</maven.compiler.release></properties>"
    "<dependencies><dependency><groupId>org.postgresql</groupId><artifactId>postgresql</artifactId></dependency>"
    "</dependencies></project>",
    "settings.gradle.kts": "",
    "build.gradle.kts": "kotlin { jvmToolchain(21) }\n",
    "gradlew": "",
    "src/main/kotlin/A.kt": "class A\n",
    "Gemfile": "gem 'rspec'\ngem 'pg'\ngem 'rubocop'\n",
    ".ruby-version": "3.4.1\n",
    "Rakefile": "",
    "spec/a_spec.rb": "",
    "composer.json": '{"require": {"php": "^8.3"}, "require-dev": {"phpunit/phpunit": "^11", "phpstan/phpstan": "^2"}}',
    "phpunit.xml.dist": "<phpunit/>",
    "App.csproj": '<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFramework>net10.0</TargetFramework>'
    "<IsTestProject>true</IsTestProject></PropertyGroup></Project>",
    "mix.exs": 'defmodule A do\n  def project, do: [elixir: "~> 1.18",\n'
    '    deps: [{:credo, "~> 1.7"}, {:postgrex, "~> 0.19"}]]\nend\n',
    "CMakeLists.txt": "project(a CXX)\nset(CMAKE_CXX_STANDARD 20)\nenable_testing()\n",
    "src/a.cpp": "int main() {}\n",
    "Package.swift": "// swift-tools-version:5.10\n",
    "Sources/A/A.swift": "",
    "Tests/ATests/ATests.swift": "",
}
DETECTORS: dict[str, Detector] = {
    "go": go.detect,
    "rust": rust.detect,
    "jvm": jvm.detect,
    "ruby": ruby.detect,
    "php": php.detect,
    "dotnet": dotnet.detect,
    "elixir": elixir.detect,
    "cpp": cpp.detect,
    "swift": swift.detect,
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("polyglot")
    for rel, content in REPO.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_every_set_field_has_evidence_in_the_repository(repo: Path, name: str) -> None:
    ctx = Context(LocalDir(repo), dt.date(2026, 11, 26))
    stacks = DETECTORS[name](ctx)
    assert stacks, f"{name} found no stack in the polyglot fixture"
    for stack in stacks:
        values = stack.model_dump(exclude={"provenance"})
        set_fields = [f for f, v in values.items() if v not in ([], {}, "none", None) and v is not False]
        assert set_fields, stack
        for field in set_fields:
            prov = stack.provenance.get(field)
            assert prov is not None, f"{name}: {stack.path} {field} has no provenance"
            assert prov.evidence, f"{name}: {field} has no evidence"
            assert 0 < prov.confidence <= 1
            for e in prov.evidence:
                # evidence cites a file, or a directory of tests it counted
                assert (repo / e.file).exists(), f"{name}: {field} cites missing {e.file}"
