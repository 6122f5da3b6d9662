"""Rust detection on small fixture repositories: workspaces, fuzz crates, toolchains, lints, services."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from detect_fixtures import run_detector

from autodevops.engine.detect import rust
from autodevops.engine.detect.base import Context
from autodevops.engine.model import Stack

TODAY = dt.date(2026, 11, 26)


def analyze(root: Path, files: dict[str, str]) -> tuple[list[Stack], Context]:
    return run_detector(rust.detect, root, files, TODAY)


def crate(name: str, extra: str = "") -> str:
    return f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n{extra}'


WORKSPACE = {
    "Cargo.toml": crate("app", 'rust-version.workspace = true\n[[bin]]\nname = "app"\npath = "src/main.rs"\n')
    + '[workspace]\nmembers = ["crates/*"]\nexclude = ["crates/legacy"]\n[workspace.package]\nrust-version = "1.80"\n',
    "Cargo.lock": "",
    "crates/core/Cargo.toml": crate("core", '[dependencies]\nsqlx = "0.8"\ntokio-postgres = "0.7"\n'),
    "crates/cli/Cargo.toml": crate("cli", 'rust-version = "1.70"\n'),
    "crates/legacy/Cargo.toml": crate("legacy"),
    "fuzz/Cargo.toml": crate(
        "app-fuzz", '[package.metadata]\ncargo-fuzz = true\n[dependencies]\nlibfuzzer-sys = "0.4"\n'
    )
    + '[workspace]\nmembers = ["."]\n',
    "vendor/dep/Cargo.toml": crate("dep"),
}


def test_a_workspace_is_one_stack_and_excluded_or_self_contained_crates_are_their_own(tmp_path: Path) -> None:
    stacks, _ = analyze(tmp_path, WORKSPACE)
    by_path = {s.path: s for s in stacks}
    assert sorted(by_path) == [".", "crates/legacy", "fuzz"]
    root = by_path["."]
    assert root.workspace_members == ["crates/cli", "crates/core"]
    assert root.test_commands == ["cargo test --workspace"]
    assert root.build_commands == ["cargo build --workspace"]
    assert root.lockfiles == ["Cargo.lock"]
    # the workspace's MSRV governs the workspace build; a member's own value does not widen the matrix
    assert root.versions == ["1.80", "stable", "beta"]
    assert root.provenance["versions"].evidence[0].key == "workspace.package.rust-version"


def test_a_crate_inside_a_workspace_that_neither_includes_nor_excludes_it_is_not_a_stack(tmp_path: Path) -> None:
    # Cargo refuses to build it (it "believes it's in a workspace when it's not"), so CI does not; a path
    # dependency of a member is a member itself (Cargo adds it), built with the workspace.
    files = {
        **WORKSPACE,
        "deprecated-actors/Cargo.toml": crate("deprecated-actors", "edition.workspace = true\n"),
        "fuzz/afl/Cargo.toml": crate("afl-target", '[dependencies]\nafl = "0.4"\n'),
        "helpers/Cargo.toml": crate("helpers"),
        "crates/cli/Cargo.toml": crate("cli", '[dependencies]\nhelpers = { path = "../../helpers" }\n'),
    }
    stacks, _ = analyze(tmp_path, files)
    assert sorted(s.path for s in stacks) == [".", "crates/legacy", "fuzz"]
    root = next(s for s in stacks if s.path == ".")
    assert "helpers/Cargo.toml" in root.manifests


def test_a_crate_of_only_benchmarks_has_nothing_for_cargo_build(tmp_path: Path) -> None:
    benches = crate("benches", '[workspace]\n[dev-dependencies]\ncriterion = "0.5"\n[[bench]]\nname = "shuffle"\n')
    stacks, _ = analyze(
        tmp_path,
        {
            **WORKSPACE,
            "benches/Cargo.toml": benches,
            "benches/benches/shuffle.rs": "",
            "tool/Cargo.toml": crate("tool", "[workspace]\n"),
            "tool/src/bin/gen.rs": "fn main() {}\n",
        },
    )
    by_path = {s.path: s for s in stacks}
    assert by_path["benches"].build_commands == []
    assert by_path["tool"].build_commands == ["cargo build"]
    assert by_path["."].build_commands == ["cargo build --workspace"]


def test_a_crate_a_dotnet_project_builds_is_part_of_that_build(tmp_path: Path) -> None:
    csproj = (
        '<Project Sdk="Microsoft.NET.Sdk"><Target Name="BuildRust" BeforeTargets="Build">'
        '<Exec Command="cargo build --release" WorkingDirectory="$(ProjectDir)/rust" /></Target></Project>'
    )
    stacks, _ = analyze(
        tmp_path,
        {
            "util/Sdk/Sdk.csproj": csproj,
            "util/Sdk/rust/Cargo.toml": crate("sdk", '[lib]\ncrate-type = ["cdylib"]\n'),
            "util/Sdk/rust/src/lib.rs": "",
            "native/Cargo.toml": crate("native"),
            "native/src/lib.rs": "",
        },
    )
    assert [s.path for s in stacks] == ["native"]


def test_fuzz_crates_are_compile_checked_not_tested(tmp_path: Path) -> None:
    stacks, _ = analyze(tmp_path, WORKSPACE)
    fuzz = next(s for s in stacks if s.path == "fuzz")
    assert fuzz.test_tool == "none"
    assert fuzz.test_commands == []
    assert fuzz.build_commands == ["cargo check"]
    assert fuzz.lint_tools == []


def test_member_msrvs_are_the_matrix_when_the_workspace_declares_none(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "Cargo.toml": '[workspace]\nmembers = ["a", "b"]\n',
            "a/Cargo.toml": crate("a", 'rust-version = "1.56"\n'),
            "b/Cargo.toml": crate("b", 'rust-version = "1.71"\n'),
        },
    )
    assert stack.versions == ["1.56", "1.71", "stable", "beta"]


def test_an_unstable_feature_adds_nightly_to_the_matrix(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "Cargo.toml": '[workspace]\nmembers = ["a", "b"]\n',
            "a/Cargo.toml": crate("a", 'rust-version = "1.60"\n') + "\n[features]\nunstable = []\n",
            "b/Cargo.toml": crate("b", "") + "\n[features]\nunstable-api = []\n",
        },
    )
    assert stack.versions == ["1.60", "stable", "beta", "nightly"]
    assert stack.provenance["versions"].evidence[-1].file == "a/Cargo.toml"


def test_a_crate_root_with_a_feature_gate_adds_nightly(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": crate("h", 'rust-version = "1.63"\n'),
        "src/lib.rs": "#![cfg_attr(docsrs, feature(doc_cfg))]\npub fn f() {}\n",
        "benches/body.rs": "#![feature(test)]\nextern crate test;\n",
    }
    (stack,), _ = analyze(tmp_path / "gated", files)
    assert stack.versions == ["1.63", "stable", "beta", "nightly"]
    assert stack.provenance["versions"].evidence[-1].file == "benches/body.rs"
    # a feature only for docs.rs builds (cfg_attr) is no nightly-only code
    del files["benches/body.rs"]
    (stack,), _ = analyze(tmp_path / "docs", files)
    assert stack.versions == ["1.63", "stable", "beta"]


def test_an_unpublished_workspace_has_no_msrv_job(tmp_path: Path) -> None:
    # Examples and internal tools are never published: their rust-version is no promise to downstream users.
    (examples,), _ = analyze(
        tmp_path / "e",
        {
            "Cargo.toml": '[workspace]\nmembers = ["*"]\n\n[workspace.package]\nrust-version = "1.75"\n',
            "hello/Cargo.toml": crate("hello", "publish = false\nrust-version.workspace = true\n"),
            "sse/Cargo.toml": crate("sse", "publish = false\n"),
        },
    )
    assert examples.versions == ["stable", "beta"]
    # One published crate is enough for the minimum to be a promise.
    (library,), _ = analyze(
        tmp_path / "l",
        {
            "Cargo.toml": '[workspace]\nmembers = ["core", "demo"]\n',
            "core/Cargo.toml": crate("core", 'rust-version = "1.75"\n'),
            "demo/Cargo.toml": crate("demo", "publish = false\n"),
        },
    )
    assert library.versions == ["1.75", "stable", "beta"]


def test_a_toolchain_file_pins_the_version_and_must_not_be_older_than_the_msrv(tmp_path: Path) -> None:
    (stack,), ctx = analyze(
        tmp_path,
        {
            "Cargo.toml": crate("a", 'rust-version = "1.80"\n'),
            "rust-toolchain.toml": '[toolchain]\nchannel = "1.75.0"\n',
        },
    )
    assert stack.versions == ["1.75.0"]
    assert stack.provenance["versions"].evidence[0].file == "rust-toolchain.toml"
    finding = next(f for f in ctx.findings if f.code == "toolchain-below-msrv")
    assert finding.stack == "."


def test_plain_rust_toolchain_file_is_read(tmp_path: Path) -> None:
    (stack,), _ = analyze(tmp_path, {"Cargo.toml": crate("a"), "rust-toolchain": "nightly-2026-05-04\n"})
    assert stack.versions == ["nightly-2026-05-04"]


def test_nextest_config_selects_nextest(tmp_path: Path) -> None:
    (stack,), _ = analyze(tmp_path, {"Cargo.toml": crate("a"), ".config/nextest.toml": "[profile.ci]\n"})
    assert stack.test_tool == "cargo-nextest"
    assert stack.test_commands == ["cargo nextest run"]


def test_lint_confidence_reflects_whether_the_project_configures_the_tool(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path / "a", {"Cargo.toml": crate("a", '[lints.clippy]\npedantic = "warn"\n'), "rustfmt.toml": ""}
    )
    assert stack.lint_tools == ["rustfmt", "clippy"]
    assert stack.provenance["lint_tools"].confidence == 0.9
    (bare,), _ = analyze(tmp_path / "b", {"Cargo.toml": crate("a")})
    assert bare.lint_tools == ["rustfmt", "clippy"]
    assert bare.provenance["lint_tools"].confidence < 0.9


def test_services_come_from_drivers_but_not_from_example_crates(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "Cargo.toml": crate("a", '[dev-dependencies]\nredis = "0.27"\n')
            + '[workspace]\nmembers = ["examples/*"]\n',
            "examples/mongo/Cargo.toml": crate("mongo-example", '[dependencies]\nmongodb = "3"\n'),
        },
    )
    assert stack.services == ["redis"]


def test_a_binary_without_a_lockfile_is_reported(tmp_path: Path) -> None:
    _, ctx = analyze(tmp_path, {"Cargo.toml": crate("a"), "src/main.rs": "fn main() {}\n"})
    assert any(f.code == "no-lockfile" for f in ctx.findings)


def test_malformed_manifest_is_a_finding_and_detection_continues(tmp_path: Path) -> None:
    stacks, ctx = analyze(tmp_path, {"Cargo.toml": "[package\nname = ", "other/Cargo.toml": crate("other")})
    assert sorted(s.path for s in stacks) == [".", "other"]
    assert any(f.code == "parse-error" and "Cargo.toml" in f.message for f in ctx.findings)


def test_cargo_deny_config_applies_to_every_workspace_below_it(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "Cargo.toml": '[workspace]\nmembers = ["core"]\n',
            "core/Cargo.toml": crate("core"),
            "examples/Cargo.toml": '[workspace]\nmembers = ["*"]\n',
            "examples/hello/Cargo.toml": crate("hello"),
            "deny.toml": "[advisories]\n",
        },
    )
    assert {s.path: s.lint_tools for s in stacks} == {
        ".": ["rustfmt", "clippy", "other"],
        "examples": ["rustfmt", "clippy", "other"],
    }
    assert all("cargo deny check" in s.lint_commands for s in stacks)


def test_an_explicit_package_workspace_key_names_the_root(tmp_path: Path) -> None:
    stacks, _ = analyze(
        tmp_path,
        {
            "Cargo.toml": '[workspace]\nmembers = ["tools/*"]\n',
            "tools/Cargo.toml": "[workspace]\nmembers = []\n",
            "tools/gen/Cargo.toml": crate("gen", 'workspace = "../.."\n'),
        },
    )
    by_path = {s.path: s for s in stacks}
    assert by_path["."].workspace_members == ["tools/gen"]


def test_database_toolkit_features_select_the_service(tmp_path: Path) -> None:
    (stack,), _ = analyze(
        tmp_path,
        {
            "Cargo.toml": crate(
                "a", '[dependencies]\nsqlx = { version = "0.8", features = ["runtime-tokio", "postgres"] }\n'
            )
        },
    )
    assert stack.services == ["postgres"]
    assert stack.provenance["services"].evidence[0].key == "sqlx.features"


def test_clippy_warnings_fail_only_where_the_project_denies_them(tmp_path: Path) -> None:
    (plain,), _ = analyze(tmp_path / "plain", {"Cargo.toml": crate("a"), "src/lib.rs": "pub fn f() {}\n"})
    assert "cargo clippy --all-targets" in plain.lint_commands
    files = {"Cargo.toml": crate("b"), "src/lib.rs": "#![deny(missing_docs, warnings)]\npub fn f() {}\n"}
    (denied,), _ = analyze(tmp_path / "attr", files)
    assert "cargo clippy --all-targets -- -D warnings" in denied.lint_commands
    assert denied.provenance["lint_commands"].evidence[-1].file == "src/lib.rs"
    files = {"Cargo.toml": crate("c"), ".cargo/config.toml": '[build]\nrustflags = ["-D", "warnings"]\n'}
    (flags,), _ = analyze(tmp_path / "flags", files)
    assert "cargo clippy --all-targets -- -D warnings" in flags.lint_commands
    (lints,), _ = analyze(tmp_path / "lints", {"Cargo.toml": crate("d", '[lints.rust]\nwarnings = "deny"\n')})
    assert "cargo clippy --all-targets -- -D warnings" in lints.lint_commands


def test_a_helper_crate_without_tests_is_built_not_tested(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": crate("log"),
        "src/lib.rs": "#[cfg(test)]\nmod tests {}\n",
        "test_max_level_features/Cargo.toml": crate("optimized", '[dependencies]\nlog = { path = ".." }\n'),
        "test_max_level_features/src/main.rs": "fn main() {}\n",
    }
    stacks, _ = analyze(tmp_path, files)
    by_path = {s.path: s for s in stacks}
    assert by_path["."].test_tool == "cargo-test"
    helper = by_path["test_max_level_features"]
    assert (helper.test_tool, helper.test_commands) == ("none", [])
    assert helper.build_commands == ["cargo build"]


def test_a_program_with_windows_only_code_is_tested_on_windows_and_macos_too(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": crate("cli"),
        "src/main.rs": "fn main() {}\n#[cfg(windows)]\nfn console() {}\n#[cfg(test)]\nmod tests {}\n",
    }
    (stack,), _ = analyze(tmp_path / "cli", files)
    assert stack.operating_systems == ["linux", "macos", "windows"]
    assert stack.provenance["operating_systems"].evidence[0].file == "src/main.rs"
    library = {"Cargo.toml": crate("lib"), "src/lib.rs": "#[cfg(windows)]\npub fn f() {}\n"}
    (lib,), _ = analyze(tmp_path / "lib", library)
    assert lib.operating_systems == []  # a library's platform code is its users' to test


def test_a_test_task_running_nextest_means_nextest(tmp_path: Path) -> None:
    justfile = "toolchain := ''\n\n# Test workspace code.\ntest:\n    cargo {{ toolchain }} nextest run --workspace\n"
    files = {"Cargo.toml": crate("w", ""), "src/lib.rs": "#[test]\nfn t() {}\n", "justfile": justfile}
    (stack,), _ = analyze(tmp_path / "just", files)
    assert stack.test_tool == "cargo-nextest"
    assert stack.test_commands == ["cargo nextest run"]
    assert stack.provenance["test_tool"].evidence[0].file == "justfile"
    # a test task that runs cargo test keeps cargo test
    files["justfile"] = "test:\n    cargo test --all-features\n"
    (stack,), _ = analyze(tmp_path / "plain", files)
    assert stack.test_tool == "cargo-test"


def test_crates_a_member_depends_on_by_path_are_members_too(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": (
            '[workspace]\nmembers = [".", "examples/multi-db"]\n\n[workspace.package]\nedition = "2021"\n\n'
            '[package]\nname = "lib"\nversion = "0.1.0"\nrust-version = "1.80"\n'
        ),
        "src/lib.rs": "",
        "examples/multi-db/Cargo.toml": (
            '[package]\nname = "multi-db"\nversion = "0.1.0"\nedition.workspace = true\n\n'
            '[dependencies]\naccounts = { path = "accounts" }\n'
        ),
        "examples/multi-db/src/main.rs": "fn main() {}\n",
        # Not listed in `members`, yet a member: Cargo adds the path dependencies of members inside the workspace.
        "examples/multi-db/accounts/Cargo.toml": '[package]\nname = "accounts"\nversion = "0.1.0"\nedition = "2021"\n',
        "examples/multi-db/accounts/src/lib.rs": "",
    }
    (stack,), _ = analyze(tmp_path, files)
    assert stack.path == "."
    assert "examples/multi-db/accounts/Cargo.toml" in stack.manifests
