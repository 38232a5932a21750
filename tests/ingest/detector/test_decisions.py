"""Editors' decisions teach the model: a refit replaces the current model only when it does at least
as well on held-back examples."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from services.core.db.models import Source, Tool
from services.core.domain import ParsedEntry, SourceFacts, SourceKind
from services.core.runtime import Runtime
from services.ingest.detector.decisions import HELD_BACK, decision_examples, refit
from services.ingest.detector.model import Model
from services.ingest.detector.training import Example, fit
from services.ingest.refresh import refresh_source
from services.ingest.sources import add_source
from services.review import queue
from tests.local_http import LocalServer, Reply

FEED = SourceFacts(kind="feed", url="https://news.example.org/rss.xml", title="News")
LAUNCH = ParsedEntry(guid="a", title="Introducing Nimbus 3", link="https://news.example.org/nimbus-3", summary="",
                     published_at=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))
INCIDENT = ParsedEntry(guid="b", title="Elevated errors on the API", link="https://news.example.org/incident",
                       summary="", published_at=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))


def _examples(held_back_launches_are_releases: bool, count: int = 20) -> list[Example]:
    """Launches and incidents in turn; the held-back positions say what launches are, the rest says the same
    or (when not) the opposite."""
    examples = []
    for n in range(count):
        held = n % HELD_BACK == HELD_BACK - 1
        entry = LAUNCH if n % 2 else INCIDENT
        launch_label = True if held else held_back_launches_are_releases
        examples.append(Example(entry, FEED, launch_label if entry is LAUNCH else not launch_label))
    return examples


def test_a_refit_that_agrees_with_the_held_back_labels_at_least_as_well_replaces_the_model() -> None:
    # Given a current model that calls nothing a release, and decisions that agree with the held-back ones
    silent = Model(version="m-silent", intercept=-20.0, weights={})
    # When it is refitted
    outcome = refit(silent, _examples(held_back_launches_are_releases=True))
    # Then the refit does better on the held-back examples and replaces it
    assert outcome.replaced and outcome.candidate_f1 > outcome.current_f1
    assert outcome.model.version != silent.version and outcome.held_back == 4


def test_a_refit_that_does_worse_on_the_held_back_labels_keeps_the_current_model() -> None:
    # Given a current model fitted on consistent labels, and new examples whose training part says the opposite
    current = fit(_examples(held_back_launches_are_releases=True))
    # When it is refitted
    outcome = refit(current, _examples(held_back_launches_are_releases=False))
    # Then the refit agrees less with the held-back labels and the current model stays
    assert not outcome.replaced and outcome.candidate_f1 < outcome.current_f1
    assert outcome.model is current


def test_approved_and_rejected_candidates_become_positive_and_negative_examples(rt: Runtime, http: LocalServer) -> None:
    # Given two candidates from one feed, one approved and one rejected by an editor
    http.routes["/news.rss"] = Reply(body=b"<rss version='2.0'><channel><title>News</title>"
                                          b"<item><title>Introducing Nimbus 3</title><link>https://n.example.org/3</link>"
                                          b"<guid>n3</guid></item><item><title>Introducing Cirrus 2</title>"
                                          b"<link>https://n.example.org/c2</link><guid>c2</guid></item></channel></rss>")
    with rt.sessions() as session, session.begin():
        source_id = add_source(session, http.url("/news.rss"), SourceKind.FEED).id
    refresh_source(rt.sessions, source_id, rt.settings)
    with rt.sessions() as session, session.begin():
        tools = {t.name: t.id for t in session.scalars(select(Tool))}
        queue.approve(session, tools["Nimbus 3"], None)
        queue.reject(session, tools["Cirrus 2"], None, "not AI")
    # When the decisions are read as training examples
    with rt.sessions() as session:
        examples = decision_examples(session)
        url = session.get(Source, source_id).url
    # Then each decided entry is one example, labelled by the decision, seen from its source
    assert sorted((e.entry.title, e.positive) for e in examples) == [("Introducing Cirrus 2", False),
                                                                     ("Introducing Nimbus 3", True)]
    assert {e.source.url for e in examples} == {url}
