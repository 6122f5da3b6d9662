"""Swift detection on small fixture repositories: SwiftPM packages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from detect_fixtures import run_detector

from autodevops.engine.detect import swift
from autodevops.engine.detect.base import Context
from autodevops.engine.model import Stack

TODAY = dt.date(2026, 11, 26)


def analyze(root: Path, files: dict[str, str]) -> tuple[list[Stack], Context]:
    return run_detector(swift.detect, root, files, TODAY)


def test_swift_package_with_tests(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "Package.swift": "// swift-tools-version:5.9\nimport PackageDescription\n",
            "Package.resolved": "{}",
            "Sources/Kit/Kit.swift": "public struct Kit {}\n",
            "Tests/KitTests/KitTests.swift": "import XCTest\n",
            ".swiftlint.yml": "disabled_rules: []\n",
        },
    )
    assert stack.package_manager == "swiftpm"
    assert stack.versions == ["5.9"]
    assert stack.provenance["versions"].evidence[0].key == "swift-tools-version"
    assert stack.test_tool == "swift-test"
    assert stack.test_commands == ["swift test"]
    assert stack.build_commands == ["swift build"]
    assert stack.lockfiles == ["Package.resolved"]
    assert stack.lint_tools == ["other"]


def test_a_manifest_wrapping_a_cpp_library_is_not_a_swift_project(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {"Package.swift": "// swift-tools-version: 5.6\n", "include/json.hpp": "", "CMakeLists.txt": ""},
    )
    assert stacks == []


def test_package_without_tests_has_no_test_runner(tmp_path: Path) -> None:
    (stack,), _ = analyze(tmp_path, {"Package.swift": "// swift-tools-version: 6.0\n", "Sources/App/main.swift": ""})
    assert stack.versions == ["6.0"]
    assert stack.test_tool == "none"
