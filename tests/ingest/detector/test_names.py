"""The tool names a title announces, in the shapes vendors write them (issue 11's list of kinds)."""

from __future__ import annotations

import pytest

from services.ingest.detector.names import product_names, source_product


@pytest.mark.parametrize(("title", "names"), [
    # no launch verb
    ("Helix 2 brings whole-body control to robots", ["Helix 2"]),
    ("Remote agents in Loom. Powered by Stratus 3.5.", ["Stratus 3.5"]),
    ("Bring your data to life with Quill Canvas", ["Quill Canvas"]),
    ("Orion: a model for long documents", ["Orion"]),
    ("Sketches in web, iOS, and Android", ["Sketches"]),
    # passive launches whose name was cut wrong
    ("Vega and Lyra are now available in Loom", ["Vega", "Lyra"]),
    ("Quill Studio Is Now in Public Preview", ["Quill Studio"]),
    ("Atlas 2.0 Released: Higher Precision and Lower Cost", ["Atlas 2.0"]),
    # lead phrases, several tools, other languages
    ("Introducing Orion 2, Vega 1.5 and Lyra", ["Orion 2", "Vega 1.5", "Lyra"]),
    ("Introducing Muse Image and Muse Video", ["Muse Image", "Muse Video"]),
    ("Acme launches Nimbus 3", ["Nimbus 3"]),
    ("Представляем ГигаЧат 3", ["ГигаЧат 3"]),
    ("通义千问 3.5 正式发布", ["通义千问 3.5"]),
])
def test_each_title_shape_yields_the_names_it_announces(title: str, names: list[str]) -> None:
    # Given a title in one of the shapes vendors use, When its names are read, Then each announced name comes out
    assert product_names(title) == names


@pytest.mark.parametrize("title", ["", "   ", "—!?"])
def test_a_title_with_nothing_to_name_yields_no_name(title: str) -> None:
    assert product_names(title) == []


def test_a_changelog_source_is_about_the_product_its_title_names() -> None:
    assert source_product("Cursor Changelog") == "Cursor"
    assert source_product("Claude Code changelog") == "Claude Code"
    assert source_product(None) is None
