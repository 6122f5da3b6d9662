"""The runtime table and the version-matrix API detectors build on."""

from __future__ import annotations

import datetime as dt

import pytest
from packaging.specifiers import SpecifierSet

from autodevops.engine import runtimes

TODAY = dt.date(2026, 11, 26)


def test_table_is_dated_and_has_python_and_node() -> None:
    assert isinstance(runtimes.as_of(), dt.date)
    assert {"python", "node"} <= set(runtimes.languages())
    for lang in ("python", "node"):
        rows = runtimes.releases(lang)
        assert rows, lang
        assert all(r.eol is None or r.eol > r.released for r in rows)


def test_python_matrix_is_the_declared_range_minus_end_of_life_lines() -> None:
    # 3.8 and 3.9 are past end of life on this date; 3.15 is released.
    assert runtimes.supported_versions("python", ">=3.8", TODAY) == ["3.11", "3.12", "3.13", "3.14", "3.15"]
    assert runtimes.supported_versions("python", SpecifierSet(">=3.9,<3.14"), TODAY) == ["3.11", "3.12", "3.13"]
    assert "3.8" in runtimes.supported_versions("python", ">=3.8", TODAY, include_eol=True)


def test_a_line_is_included_when_any_of_its_releases_satisfies_the_spec() -> None:
    assert runtimes.matches("python", "3.8", ">=3.8.1")
    assert not runtimes.matches("python", "3.13", "<3.13")
    assert not runtimes.matches("python", "3.9", "!=3.9.*")


def test_lines_released_after_the_analysis_date_are_not_proposed() -> None:
    assert "3.15" not in runtimes.supported_versions("python", None, dt.date(2026, 6, 1))
    assert "3.15" in runtimes.supported_versions("python", None, TODAY)


def test_node_matrix_uses_even_lts_lines_only() -> None:
    assert runtimes.supported_versions("node", ">=18", TODAY) == ["22", "24", "26"]
    assert runtimes.supported_versions("node", "^22.12.0 || ^24.0.0 || >=26.0.0", TODAY) == ["22", "24", "26"]
    assert "25" in runtimes.supported_versions("node", ">=18", dt.date(2026, 1, 1), lts_only=False)


@pytest.mark.parametrize(
    ("spec", "flavor", "version", "ok"),
    [
        ("^18 || >=20", "npm", (19, 0, 0), False),
        ("^18 || >=20", "npm", (18, 9, 0), True),
        ("~1.2.3", "npm", (1, 3, 0), False),
        ("~1.2", "composer", (1, 9, 0), True),
        ("~>2.7", "gem", (3, 0, 0), False),
        ("~>2.7", "gem", (2, 9, 0), True),
        ("18.x", "npm", (18, 20, 1), True),
        ("1.2 - 2", "npm", (2, 9, 0), True),
        ("1.2 - 2", "npm", (3, 0, 0), False),
        (">= 14.17.0 <20", "npm", (19, 1, 0), True),
        (">1.2", "npm", (1, 2, 5), False),
        ("<=1.2", "npm", (1, 2, 9), True),
        ("^0.2.3", "npm", (0, 3, 0), False),
        ("^7.2.5 | ^8.0", "composer", (8, 3, 0), True),
    ],
)
def test_range_strings(spec: str, flavor: runtimes.RangeFlavor, version: tuple[int, int, int], ok: bool) -> None:
    assert runtimes.parse_range(spec, flavor)(version) is ok


def test_unreadable_range_raises_value_error() -> None:
    with pytest.raises(ValueError, match="invalid"):
        runtimes.supported_versions("node", ">=banana", TODAY)
    with pytest.raises(ValueError, match="invalid"):
        runtimes.supported_versions("python", ">=3.x.y", TODAY)


def test_eol_and_cycle_of() -> None:
    assert runtimes.cycle_of("python", "3.12.4") == "3.12"
    assert runtimes.cycle_of("node", "v20.11.0") == "20"
    assert runtimes.cycle_of("python", "3") is None
    assert runtimes.is_eol("python", "3.9.18", TODAY) is True
    assert runtimes.is_eol("node", "24", TODAY) is False
    assert runtimes.is_eol("python", "9.9", TODAY) is None
    assert runtimes.latest("node", TODAY) == "26"


def test_a_table_without_a_date_is_refused() -> None:
    with pytest.raises(ValueError, match="as_of"):
        runtimes._build_table({"python": [{"cycle": "3.12", "released": dt.date(2023, 10, 2)}]})


@pytest.mark.parametrize(
    ("spec", "floor"),
    [
        (">=22.22.0", "22.22.0"),
        (">= 20", "20"),
        ("^20.19.0 || >=22.12.0", "20.19.0"),
        ("^12.17.0 || ^14.13 || >=16.0.0", "12.17.0"),
        ("20.x", "20"),
        (">=18 <25", "18"),
        ("1.2 - 2", "1.2"),
        ("<24", None),  # no lower bound
        ("^22 || *", None),
    ],
)
def test_range_floor_is_the_lowest_version_as_written(spec: str, floor: str | None) -> None:
    assert runtimes.range_floor(spec) == floor


def test_range_floor_refuses_an_unreadable_range() -> None:
    with pytest.raises(ValueError, match="invalid version range"):
        runtimes.range_floor(">=banana")
