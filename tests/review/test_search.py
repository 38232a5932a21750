"""Search over tools and comparisons: ranked, stemmed, public rows only, in step with edits, on both backends."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.core.db.models import Tool
from services.core.runtime import Runtime
from services.review import queue, search
from services.review.tool_edits import ToolEdits
from tests import factories


def _approved(session: Session, name: str, **facts: str) -> Tool:
    tool = factories.candidate(session, name)
    queue.approve(session, tool.id, None, ToolEdits(**facts))
    return tool


def test_a_name_or_tagline_match_ranks_above_a_description_match(any_runtime: Runtime) -> None:
    # Given one tool that mentions "sandbox" only in its description and one that has it in its name
    with any_runtime.sessions() as session, session.begin():
        _approved(session, "Quiet Tool", description="Runs your code in a sandbox for safety and more words here.")
        _approved(session, "Sandbox Pro", tagline="Isolated runs")
        _approved(session, "Loud Tool", tagline="A sandbox for agents")
    # When someone searches for it
    with any_runtime.sessions() as session:
        found = search.search(session, "sandbox")
    # Then the name and tagline matches come first, the description match last
    names = [hit.name for hit in found.tools]
    assert set(names[:2]) == {"Sandbox Pro", "Loud Tool"} and names[2] == "Quiet Tool"


def test_words_are_stemmed_and_the_last_word_matches_as_a_prefix(any_runtime: Runtime) -> None:
    with any_runtime.sessions() as session, session.begin():
        _approved(session, "Helper", tagline="A coding assistant for teams")
    with any_runtime.sessions() as session:
        assert [hit.name for hit in search.search(session, "assistants").tools] == ["Helper"]
        assert [hit.name for hit in search.search(session, "coding assis").tools] == ["Helper"]
        assert search.search(session, "assistants teams absent").tools == []


def test_only_approved_tools_and_published_comparisons_are_found(any_runtime: Runtime) -> None:
    # Given a published comparison, a candidate and a rejected tool, all named alike
    with any_runtime.sessions() as session, session.begin():
        factories.published_comparison(session, "Zephyr One", "Zephyr Two")
        factories.candidate(session, "Zephyr Candidate")
        rejected = factories.candidate(session, "Zephyr Rejected")
        queue.reject(session, rejected.id, None, "not a tool")
    # When someone searches for the shared word
    with any_runtime.sessions() as session:
        found = search.search(session, "zephyr")
    # Then only the public rows come back
    assert sorted(hit.name for hit in found.tools) == ["Zephyr One", "Zephyr Two"]
    assert [hit.title for hit in found.comparisons] == ["Zephyr One vs Zephyr Two"]


def test_an_edit_is_searchable_at_once(any_runtime: Runtime) -> None:
    # Given an approved tool
    with any_runtime.sessions() as session, session.begin():
        tool = _approved(session, "Renamed Soon")
    # When an editor renames it
    with any_runtime.sessions() as session, session.begin():
        session.get(Tool, tool.id).name = "Kestrel"  # type: ignore[union-attr]
    # Then the new name is found and the old one is not
    with any_runtime.sessions() as session:
        assert [hit.name for hit in search.search(session, "kestrel").tools] == ["Kestrel"]
        assert search.search(session, "renamed").tools == []


def test_search_syntax_in_a_query_is_plain_text(any_runtime: Runtime) -> None:
    # Given a tool, When queries carry quotes, operators and brackets of either backend's syntax
    # Then they are read as their words alone: no error, the same match
    with any_runtime.sessions() as session, session.begin():
        _approved(session, "Quoted Tool", tagline="Handles quotes")
    with any_runtime.sessions() as session:
        for query in ('"quoted', "(quoted", "quoted & !|:*", "quoted' --", "tool*)", "-quoted^tool{"):
            assert [hit.name for hit in search.search(session, query).tools] == ["Quoted Tool"], query
        assert search.search(session, "  ¡!  ").tools == []
