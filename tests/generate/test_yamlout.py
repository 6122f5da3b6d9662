"""The YAML writer: whatever string a repository feeds it reads back as exactly that string."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from autodevops.engine.generate.yamlout import Block, Flow, Map, Seq, dump

_yaml = YAML(typ="safe", pure=True)
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x85\u2028\u2029\ufeff"))


@settings(max_examples=300, deadline=None)
@given(value=text, item=text)
def test_any_string_round_trips(value: str, item: str) -> None:
    doc = Map().add("key", value).add("list", Flow([item, "a"])).add("seq", Seq().add(value))
    assert _yaml.load(dump(doc)) == {"key": value, "list": [item, "a"], "seq": [value]}


def test_look_alikes_stay_strings() -> None:
    values = ["3.10", "on", "yes", "null", "~", "1e3", ".5", "-1", "0x1f", "@x", "*a", "a: b", "a #b", "[x]", ""]
    doc = Map()
    for i, v in enumerate(values):
        doc.add(f"k{i}", v)
    assert list(_yaml.load(dump(doc)).values()) == values


def test_comments_and_blocks_are_kept_in_place() -> None:
    job = Map().add("run", Block("echo one\necho two\n"), comments=["why this step exists"])
    out = dump(Map().add("jobs", Map(spaced=True).add("a", job).add("b", Map().add("x", 1))), ["header"])
    assert out == (
        "# header\n\njobs:\n  a:\n    # why this step exists\n    run: |\n"
        "      echo one\n      echo two\n\n  b:\n    x: 1\n"
    )


def test_indented_scripts_keep_their_indentation() -> None:
    script = "  cd sub\nmake test\n    echo deep"
    doc = Map().add("run", Block(script)).add("steps", Seq().add(Block(script)))
    assert _yaml.load(dump(doc)) == {"run": script + "\n", "steps": [script + "\n"]}
