"""The digest: deterministic, within its token budget, never the whole repository."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from autodevops.ai.digest import build_digest
from autodevops.engine.model import Analysis, Provenance, Stack
from autodevops.engine.source import LocalDir


def repo(tmp_path: Path) -> LocalDir:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\ndescription = "long words"\nclassifiers = ["A", "B"]\n'
        '[project.optional-dependencies]\ntest = ["pytest"]\n'
    )
    (tmp_path / "tox.ini").write_text("# comment\n[tox]\nenv_list = py312\n")
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "secret_logic.py").write_text("API_TOKEN = 'do-not-send'\n")
    return LocalDir(tmp_path)


def analysis(stacks: int = 1) -> Analysis:
    return Analysis(
        source="demo",
        analyzed_on=dt.date(2026, 1, 1),
        stacks=[
            Stack(
                path="." if i == 0 else f"pkg{i}",
                language="python",
                package_manager="pip",
                manifests=["pyproject.toml"] if i == 0 else [f"pkg{i}/pyproject.toml"],
                frameworks=[f"framework-{i}-{n}" for n in range(10)],
                provenance={"package_manager": Provenance(confidence=0.5)},
            )
            for i in range(stacks)
        ],
    )


def test_same_input_same_bytes_and_hash(tmp_path: Path) -> None:
    first = build_digest(analysis(), repo(tmp_path))
    second = build_digest(analysis(), repo(tmp_path))
    assert first.text == second.text
    assert first.sha256 == second.sha256


def test_holds_uncertain_fields_files_and_compact_excerpts_only(tmp_path: Path) -> None:
    digest = build_digest(analysis(), repo(tmp_path))
    [stack] = digest.data["stacks"]
    assert set(stack["uncertain"]) >= {"package_manager", "test_tool"}
    assert digest.data["files"] == ["pyproject.toml", "tox.ini"]
    excerpts = {e["path"]: e["text"] for e in digest.data["excerpts"]}
    assert set(excerpts) == {"pyproject.toml", "tox.ini"}
    assert "pytest" in excerpts["pyproject.toml"]
    assert "classifiers" not in excerpts["pyproject.toml"]
    assert "# comment" not in excerpts["tox.ini"]
    assert "do-not-send" not in digest.text


def test_stays_within_the_token_budget(tmp_path: Path) -> None:
    big = build_digest(analysis(stacks=60), repo(tmp_path), max_tokens=600)
    assert big.tokens <= 600
    assert big.data["stacks_omitted"] > 0
    assert big.data["stacks"][0]["path"] == "."
