"""The README's settings table stays in sync with `Settings`: every variable documented, none invented."""

from __future__ import annotations

import re
from pathlib import Path

from autodevops.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def documented_variables() -> set[str]:
    section = README.read_text().split("## Settings", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(AUTODEVOPS_[A-Z0-9_]+)` \|", section, re.MULTILINE))


def test_every_setting_is_documented_and_nothing_else() -> None:
    expected = {f"AUTODEVOPS_{name.upper()}" for name in Settings.model_fields}
    documented = documented_variables()
    assert sorted(expected - documented) == [], "settings missing from the README table"
    assert sorted(documented - expected) == [], "README documents settings that do not exist"


def test_readme_leads_with_the_two_commands() -> None:
    text = README.read_text()
    assert text.index("make demo") < text.index("## The engine")
    assert text.index("make test") < text.index("## The engine")
