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


def documented_error_codes() -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+)` \| \d{3} \|", README.read_text(), re.MULTILINE))


def test_every_error_code_is_documented() -> None:
    """Each `AppError` code the platform can answer, plus the ones its edge writes itself, is in the README."""
    import importlib
    import pkgutil

    import autodevops
    from autodevops.errors import AppError

    for module in pkgutil.walk_packages(autodevops.__path__, "autodevops."):
        if not module.name.startswith(("autodevops.engine", "autodevops.__main__")):
            importlib.import_module(module.name)
    codes = {AppError.error}
    pending: list[type[AppError]] = [AppError]
    while pending:
        for subclass in pending.pop().__subclasses__():
            codes.add(subclass.error)
            pending.append(subclass)
    # The error middleware (a crash, a database outage) and routing write these themselves.
    codes |= {"internal_error", "database_unavailable", "method_not_allowed"}
    assert sorted(codes - documented_error_codes()) == []
    assert sorted(documented_error_codes() - codes) == []
