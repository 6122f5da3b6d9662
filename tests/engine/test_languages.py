"""Repository languages by bytes, with Linguist's exclusions and `.gitattributes` overrides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from autodevops.engine.detect.base import Context
from autodevops.engine.languages import STACK_LANGUAGE, find_language, language_shares
from autodevops.engine.source import LocalDir


def write(root: Path, files: dict[str, int | str]) -> None:
    """Create files: an int is a size in bytes (filled with 'x'), a str is the content."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x" * content if isinstance(content, int) else content)


def shares(root: Path) -> dict[str, int]:
    ctx = Context(LocalDir(root), dt.date(2026, 1, 1))
    return {s.name: s.bytes for s in language_shares(ctx)}


def test_counts_bytes_per_language_sorted_largest_first(tmp_path: Path) -> None:
    write(tmp_path, {"app/main.py": 300, "app/util.py": 200, "web/index.ts": 400, "run.sh": 50})
    ctx = Context(LocalDir(tmp_path), dt.date(2026, 1, 1))
    result = language_shares(ctx)
    assert [(s.name, s.bytes) for s in result] == [("Python", 500), ("TypeScript", 400), ("Shell", 50)]
    assert result[0].percent == pytest.approx(52.63, abs=0.01)
    assert sum(s.percent for s in result) == pytest.approx(100.0, abs=0.05)


def test_data_and_prose_languages_do_not_count(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"main.go": 100, "config.yaml": 5000, "data.json": 5000, "notes.txt": 5000, "guide.md": 5000},
    )
    assert shares(tmp_path) == {"Go": 100}


def test_file_names_and_compound_extensions(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": 10,
            "Makefile": 20,
            "Rakefile": 30,
            "CMakeLists.txt": 40,
            "views/home.blade.php": 50,
            "build.gradle.kts": 999,  # Gradle Kotlin DSL is data
            "lib/thing.kt": 60,
        },
    )
    assert shares(tmp_path) == {
        "Dockerfile": 10,
        "Makefile": 20,
        "Ruby": 30,
        "CMake": 40,
        "Blade": 50,
        "Kotlin": 60,
    }


def test_tsx_is_counted_as_typescript(tmp_path: Path) -> None:
    write(tmp_path, {"src/App.tsx": 70, "src/index.ts": 30, "src/legacy.jsx": 5})
    assert shares(tmp_path) == {"TypeScript": 100, "JavaScript": 5}


@pytest.mark.parametrize(
    "path",
    [
        "vendor/lib/x.py",
        "src/vendor/x.py",
        "third_party/x.py",
        "bower_components/x.js",
        "dist/bundle.py",
        "static/app.min.js",
        "static/app-min.css",
        "deps/x.py",
        "gradlew",
        "Carthage/x.m",
        ".github/workflows/scripts/check.py",
        "pkg/test/fixtures/app.py",
        "src/types/index.d.ts",
        "Jenkinsfile",
        "static/jquery-3.6.0.js",
        "web/lib/bootstrap.bundle.js",
        "assets/fontello-embedded.css",
    ],
)
def test_vendored_paths_are_excluded(tmp_path: Path, path: str) -> None:
    write(tmp_path, {"main.rb": 10, path: 1000})
    assert shares(tmp_path) == {"Ruby": 10}


@pytest.mark.parametrize(
    "path",
    [
        "api/service.pb.go",
        "proto/service_pb2.py",
        "proto/service_pb2_grpc.py",
        "models/user.generated.ts",
        "lib/model.g.dart",
        "Form1.Designer.cs",
        "web/__generated__/query.ts",
        "package-lock.json",
        "Cargo.lock",
        "src/zz_generated.deepcopy.go",
    ],
)
def test_generated_files_are_excluded(tmp_path: Path, path: str) -> None:
    write(tmp_path, {"main.rb": 10, path: 1000})
    assert shares(tmp_path) == {"Ruby": 10}


@pytest.mark.parametrize(
    "path",
    ["docs/conf.py", "Documentation/tool.py", "examples/demo.py", "README.py", "LICENSE.txt", "CHANGELOG.rb"],
)
def test_documentation_is_excluded(tmp_path: Path, path: str) -> None:
    write(tmp_path, {"main.rs": 10, path: 1000})
    assert shares(tmp_path) == {"Rust": 10}


def test_tools_and_scripts_directories_count(tmp_path: Path) -> None:
    write(tmp_path, {"tools/gen.py": 10, "scripts/run.sh": 20, "src/a.d.ts.py": 5})
    assert shares(tmp_path) == {"Python": 15, "Shell": 20}


def test_docs_and_examples_only_at_the_root(tmp_path: Path) -> None:
    # Linguist treats docs/ and examples/ as documentation only at the top level.
    write(tmp_path, {"pkg/docs/gen.py": 10, "pkg/examples/run.py": 20})
    assert shares(tmp_path) == {"Python": 30}


def test_header_files_follow_the_repository_mix(tmp_path: Path) -> None:
    write(tmp_path / "cpp", {"a.cpp": 100, "a.h": 40})
    write(tmp_path / "c", {"a.c": 100, "a.h": 40})
    write(tmp_path / "only", {"a.h": 40})
    assert shares(tmp_path / "cpp") == {"C++": 140}
    assert shares(tmp_path / "c") == {"C": 140}
    assert shares(tmp_path / "only") == {"C": 40}


def test_dot_m_is_objective_c_with_headers_else_matlab(tmp_path: Path) -> None:
    write(tmp_path / "objc", {"View.m": 100, "View.h": 10})
    write(tmp_path / "matlab", {"solve.m": 100})
    assert shares(tmp_path / "objc") == {"Objective-C": 110}
    assert shares(tmp_path / "matlab") == {"MATLAB": 100}


def test_gitattributes_vendored_generated_documentation(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".gitattributes": (
                "# overrides\n"
                "* text=auto eol=lf\n"
                "special/** linguist-vendored\n"
                "*.gen.rb linguist-generated=true\n"
                "guides/* linguist-documentation\n"
            ),
            "main.py": 10,
            "special/deep/lib.py": 1000,
            "models.gen.rb": 1000,
            "guides/tutorial.py": 1000,
            "guides/sub/kept.py": 5,  # `*` does not cross directories
        },
    )
    assert shares(tmp_path) == {"Python": 15}


def test_gitattributes_can_unset_default_exclusions(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".gitattributes": "vendor/** -linguist-vendored\ndocs/** linguist-documentation=false\n",
            "vendor/own.go": 100,
            "docs/site.js": 50,
        },
    )
    assert shares(tmp_path) == {"Go": 100, "JavaScript": 50}


def test_gitattributes_language_and_detectable(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".gitattributes": (
                "*.rb linguist-language=Java\n"
                "*.inc linguist-language=c++\n"
                "*.sql linguist-detectable\n"
                "scripts/*.sh -linguist-detectable\n"
            ),
            "a.rb": 100,
            "b.inc": 30,
            "schema.sql": 20,
            "scripts/run.sh": 500,
        },
    )
    assert shares(tmp_path) == {"Java": 100, "C++": 30, "SQL": 20}


def test_anchored_and_any_depth_patterns(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".gitattributes": (
                "/site/** -linguist-detectable\n"
                "/test/**/samples/** -linguist-detectable\n"
                "/**/*.svelte linguist-detectable\n"
            ),
            "src/App.svelte": 40,
            "src/deep/er/Card.svelte": 10,
            "src/main.js": 30,
            "site/app.js": 500,
            "test/unit/samples/a/input.js": 700,
            "lib/site/kept.js": 5,  # "/site/**" is anchored at the root
        },
    )
    assert shares(tmp_path) == {"Svelte": 50, "JavaScript": 35}


def test_nested_gitattributes_apply_below_their_directory(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "lib/.gitattributes": "*.py linguist-generated\n",
            "lib/x.py": 100,
            "app/y.py": 7,
        },
    )
    assert shares(tmp_path) == {"Python": 7}


def test_directory_patterns_do_not_match_files_inside(tmp_path: Path) -> None:
    # As in git: "out/" or "out" names the directory, and attributes are not inherited by its files.
    write(tmp_path, {".gitattributes": "out/ linguist-vendored\nout linguist-vendored\n", "out/a.py": 9})
    assert shares(tmp_path) == {"Python": 9}


def test_only_gitattributes_is_read(tmp_path: Path) -> None:
    write(tmp_path, {".gitattributes": "*.x linguist-vendored\n", "a.py": 10, "b.go": 10, "c.ts": 10})
    ctx = Context(LocalDir(tmp_path), dt.date(2026, 1, 1))
    language_shares(ctx)
    assert ctx.files_read == 1


def test_empty_repository_has_no_languages(tmp_path: Path) -> None:
    write(tmp_path, {"README.md": 100, "empty.py": 0})
    assert shares(tmp_path) == {}


def test_language_names_and_aliases() -> None:
    assert find_language("java") == "Java"
    assert find_language("C++") == "C++"
    assert find_language("cpp") == "C++"
    assert find_language("Vim-Script") == "Vim Script"
    assert find_language("no-such-language") is None
    assert STACK_LANGUAGE["C#"] == "csharp"
