"""C/C++ detection on small fixture repositories: CMake, Meson and Make builds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from detect_fixtures import run_detector

from autodevops.engine.detect import cpp
from autodevops.engine.detect.base import Context
from autodevops.engine.model import Stack

TODAY = dt.date(2026, 11, 26)


def analyze(root: Path, files: dict[str, str]) -> tuple[list[Stack], Context]:
    return run_detector(cpp.detect, root, files, TODAY)


def test_top_level_cmake_project_with_ctest(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "CMakeLists.txt": "cmake_minimum_required(VERSION 3.20)\nproject(json CXX)\n"
            "set(CMAKE_CXX_STANDARD 17)\nadd_subdirectory(tests)\n",
            "tests/CMakeLists.txt": "enable_testing()\nadd_test(NAME unit COMMAND unit)\n",
            "include/json.hpp": "#pragma once\n" * 50,
            "third_party/gtest/CMakeLists.txt": "project(gtest)\n",
            # Meson and Bazel files for consumers (no Meson tests, no Bazel module): not builds CI keeps
            "meson.build": "project('json', 'cpp')\n",
            "BUILD.bazel": "cc_library(name = 'json')\n",
            "WORKSPACE.bazel": "workspace(name = 'json')\n",
            ".clang-tidy": "Checks: '*'\n",
        },
    )
    assert stack.path == "."
    assert stack.language == "cpp"
    assert stack.package_manager == "cmake"
    assert stack.versions == ["17"]
    assert stack.provenance["versions"].evidence[0].line == 3
    assert stack.test_tool == "ctest"
    assert stack.provenance["test_tool"].evidence[0].file == "tests/CMakeLists.txt"
    assert stack.test_commands == ["ctest --test-dir build --output-on-failure"]
    assert stack.build_commands[0].startswith("cmake -S . -B build")
    assert stack.lint_tools == ["other"]


def test_meson_and_bazel_beside_cmake_are_a_second_stack(tmp_path: Path) -> None:
    cmake, second = analyze(
        tmp_path,
        {
            "CMakeLists.txt": "project(cli CXX)\nset(CMAKE_CXX_STANDARD 17)\nenable_testing()\n",
            "meson.build": "project('cli', 'cpp')\nsubdir('tests')\n",
            "tests/meson.build": "test('unit', executable('unit', 'unit.cpp'))\n",
            "MODULE.bazel": "module(name = 'cli')\n",
            "BUILD.bazel": "cc_library(name = 'cli')\n",
            "src/cli.cpp": "int main() {}\n" * 20,
        },
    )[0]
    assert (cmake.package_manager, cmake.test_tool) == ("cmake", "ctest")
    # one stack for the other build systems at the root, built and tested by each
    assert (second.path, second.language, second.package_manager) == (".", "cpp", "none")
    assert second.test_tool == "other"
    assert second.test_commands == [
        "meson test -C build-meson --print-errorlogs",
        "bazel test //... --test_output=errors",
    ]
    assert "bazel build //..." in second.build_commands
    assert second.manifests == ["meson.build", "MODULE.bazel"]
    # the C++ standard is each build's own choice: the CMake one is not copied
    assert second.versions == []


def test_target_compile_features_standard_and_c_language(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "CMakeLists.txt": "project(z C)\nadd_library(z z.c)\ntarget_compile_features(z PUBLIC c_std_11)\n",
            "z.c": "int z;\n" * 100,
            "z.h": "int z;\n",
        },
    )
    assert stack.language == "c"
    # a library's PUBLIC requirement is a minimum for its users: every C standard from it on
    assert stack.versions == ["11", "17", "23"]
    assert stack.test_tool == "none"


def test_meson_project(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {"meson.build": "project('x', 'cpp', default_options: ['cpp_std=c++20'])\n", "src/x.cpp": "int main(){}\n"},
    )
    assert stack.versions == ["20"]
    assert stack.test_commands == ["meson test -C build --print-errorlogs"]


def test_makefile_with_c_sources_and_a_check_target(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path, {"Makefile": "all:\n\tcc -o x x.c\n\ncheck: all\n\t./x --self-test\n", "x.c": "int main(){}\n"}
    )
    assert stack.package_manager == "make"
    assert stack.test_tool == "make"
    assert stack.test_commands == ["make check"]
    assert stack.provenance["test_tool"].evidence[0].line == 4


def test_a_makefile_of_another_ecosystem_is_not_a_c_project(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {"Makefile": "test:\n\tgo test ./...\n", "go.mod": "module m\n", "internal/cgo/shim.c": "int x;\n"},
    )
    assert stacks == []


def test_a_makefile_without_sources_is_not_a_stack(tmp_path: Path) -> None:
    stacks, _ = analyze(tmp_path, {"docs/Makefile": "html:\n\tsphinx-build . _build\n"})
    assert stacks == []


def test_a_native_build_driven_by_a_python_backend_is_part_of_the_python_package(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "pyproject.toml": (
                '[build-system]\nrequires = ["scikit-build-core"]\nbuild-backend = "scikit_build_core.build"\n'
            ),
            "CMakeLists.txt": "project(ext CXX)\n",
            "src/ext.cpp": "int f() { return 1; }\n",
        },
    )
    assert stacks == []


def test_header_heavy_cpp_is_cpp_and_cmake_without_c_sources_is_not_a_stack(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path / "fmt", {"CMakeLists.txt": "project(fmt CXX)\n", "include/fmt/core.h": "x" * 5000, "src/fmt.cc": "x"}
    )
    assert stack.language == "cpp"
    stacks, _ = analyze(
        tmp_path / "swift", {"CMakeLists.txt": "project(P LANGUAGES Swift)\n", "Sources/P/P.swift": "struct P {}"}
    )
    assert stacks == []


def test_a_header_only_library_is_tested_under_every_standard_from_its_minimum(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "CMakeLists.txt": "project(json CXX)\nadd_library(${TARGET} INTERFACE)\n"
            "target_compile_features(${TARGET}\n  INTERFACE cxx_std_11)\nenable_testing()\n",
            "include/json.hpp": "#pragma once\n",
        },
    )
    assert stack.versions == ["11", "14", "17", "20", "23"]
    assert stack.provenance["versions"].evidence[0].line == 3


def test_an_executable_requirement_is_the_one_standard_it_compiles_with(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "CMakeLists.txt": "project(app CXX)\nadd_executable(app main.cpp)\n"
            "target_compile_features(app PUBLIC cxx_std_20)\n",
            "main.cpp": "int main() {}\n",
        },
    )
    assert stack.versions == ["20"]


def test_a_clang_format_config_alone_is_a_finding_not_a_lint_job(tmp_path: Path) -> None:
    cmake = "cmake_minimum_required(VERSION 3.20)\nproject(lib CXX)\nenable_testing()\nadd_test(NAME t COMMAND t)\n"
    files = {"CMakeLists.txt": cmake, "src/lib.cpp": "int f() { return 1; }\n", ".clang-format": "BasedOnStyle: LLVM\n"}
    (stack,), ctx = analyze(tmp_path / "format", files)
    assert (stack.lint_tools, stack.lint_commands) == ([], [])
    assert "formatter-not-enforced" in {f.code for f in ctx.findings}
    (stack,), _ = analyze(tmp_path / "tidy", {**files, ".clang-tidy": "Checks: '-*,bugprone-*'\n"})
    assert stack.lint_tools == ["other"]


def test_c_examples_linked_against_the_enclosing_crate_are_not_a_stack(tmp_path: Path) -> None:
    makefile = (
        "RPATH=$(PWD)/../../target/debug\nLDFLAGS = -L$(RPATH)\nclient: client.o\n\t$(CC) -o client client.o -lhyper\n"
    )
    stacks, _ = analyze(
        tmp_path,
        {
            "Cargo.toml": '[package]\nname = "hyper"\n',
            "capi/examples/Makefile": makefile,
            "capi/examples/client.c": "int main(void) { return 0; }\n",
            "tools/bench/Makefile": "bench: bench.o\n\t$(CC) -o bench bench.o\n",
            "tools/bench/bench.c": "int main(void) { return 0; }\n",
        },
    )
    assert [s.path for s in stacks] == ["tools/bench"]


def test_alternative_builds_under_build_and_a_swiftpm_manifest_beside_the_makefile(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "Makefile": "test:\n\t$(MAKE) -C tests test\n",
            # SwiftPM users get the C library through this manifest: no Swift sources, so the Makefile builds it
            "Package.swift": "// swift-tools-version:5.0\n",
            "lib/zstd.c": "int x;\n",
            "build/cmake/CMakeLists.txt": (
                'set(SRC "${CMAKE_CURRENT_SOURCE_DIR}/../..")\nenable_testing()\nadd_test(NAME t COMMAND t)\n'
            ),
            "build/meson/meson.build": "project('z', 'c')\nsrc = files('../../lib/zstd.c')\n",
            # a CMake cache directory someone committed builds nothing of its own
            "build/release/CMakeLists.txt": "project(x)\n",
        },
    )
    by_path = {s.path: s for s in stacks}
    assert sorted(by_path) == [".", "build/cmake", "build/meson"]
    assert by_path["."].package_manager == "make"
    assert by_path["build/cmake"].language == "c"
    assert by_path["build/cmake"].test_tool == "ctest"
    assert by_path["build/meson"].test_commands == ["meson test -C build --print-errorlogs"]
