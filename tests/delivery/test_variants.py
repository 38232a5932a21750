"""Topics decide what each subscriber gets: one rendered variant per distinct pick, none for a pick that matches nothing."""

from __future__ import annotations

import email
from email import policy

from sqlalchemy import select

from services.core.db.models import DeliveryBatch, DigestVariant
from services.core.domain import Call
from services.core.runtime import Runtime
from services.delivery.send import RetryPolicy, deliverable, send_batch, start_send
from services.delivery.variants import variant_figures
from services.digest import compose
from services.mail.mailers import FileMailer
from services.review import comparisons
from tests import factories

NO_WAIT = RetryPolicy(attempts=1, min_wait=0, max_wait=0, sleep=lambda _seconds: None)
CODING = "Alpha vs Beta"
IMAGES = "Painter vs Sketcher"


def _digest_with_two_topics(rt: Runtime, readers: dict[str, list[str]]) -> int:
    """A digest with a Developer Tools comparison, an Image Generation one and the new tools of both, and
    confirmed ``readers`` with their topics; compiled and approved."""
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)  # Alpha vs Beta, both "Developer Tools"
        painter = factories.judged_tool(session, "Painter", (Call.SHIP,) * 4, category="Image Generation")
        sketcher = factories.judged_tool(session, "Sketcher", (Call.SKIP,) * 4, category="Image Generation")
        comparisons.publish(session, comparisons.create(session, painter.id, sketcher.id).id)
        for address, topics in readers.items():
            factories.confirmed_subscriber(session, address).topics = topics
        digest = compose.compile_week(session, rt.settings, "2026-W48")
        compose.approve(session, digest.id)
        return digest.id


def _mails(rt: Runtime) -> dict[str, email.message.EmailMessage]:
    found = {}
    for path in rt.settings.outbox_dir.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        found[str(message["To"])] = message
    return found


def _text(message: email.message.EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_three_subscribers_with_different_topics_get_exactly_their_sections(rt: Runtime) -> None:
    # Given readers with no topic, with images (two of them), with coding, and with a topic nothing matches
    digest_id = _digest_with_two_topics(rt, {
        "all@example.org": [], "images@example.org": ["image-generation"], "images2@example.org": ["image-generation"],
        "coding@example.org": ["developer-tools"], "audio@example.org": ["audio"]})
    with rt.sessions() as session:
        sections = {s["id"]: s for s in compose.by_week(session, "2026-W48").sections}
    assert sorted(s["topics"] for s in sections.values()) == [
        ["developer-tools"], ["developer-tools", "image-generation"], ["image-generation"]]
    # When the send is cut and every batch goes out through the file outbox
    with rt.sessions() as session, session.begin():
        batch_ids = start_send(session, digest_id, settings=rt.settings)
    mailer = FileMailer(rt.settings.outbox_dir, rt.settings.mail_from)
    for batch_id in batch_ids:
        assert send_batch(rt.sessions, rt.settings, mailer, batch_id, f"m{batch_id}", NO_WAIT) == "sent"
    # Then each reader got exactly the sections their topics match, and the one whose topic matches nothing got no mail
    mails = _mails(rt)
    assert sorted(mails) == ["all@example.org", "coding@example.org", "images2@example.org", "images@example.org"]
    url = {s["title"]: s["url"] for s in sections.values() if s["kind"] == "comparison"}  # each comparison's page
    for address, shown, left_out in [("all@example.org", [CODING, IMAGES], []),
                                     ("images@example.org", [IMAGES], [CODING]),
                                     ("images2@example.org", [IMAGES], [CODING]),
                                     ("coding@example.org", [CODING], [IMAGES])]:
        message = mails[address]
        html, text = message.get_body(("html",)).get_content(), _text(message)  # type: ignore[union-attr]
        assert all(url[title] in html and title in text for title in shown), address
        assert not any(url[title] in html or title in text for title in left_out), address
        assert "New this week" in text and "[[" not in html and "[[" not in text, address
    # And a subject never names a comparison its mail leaves out
    assert CODING not in str(mails["images@example.org"]["Subject"])
    # And each distinct pick was rendered once: four variants (one of them empty and unsent), the two
    # image readers in one batch
    with rt.sessions() as session:
        variants = {tuple(v.section_ids): v.recipient_count for v in session.scalars(
            select(DigestVariant).where(DigestVariant.digest_id == digest_id))}
        batches = session.execute(select(DeliveryBatch.variant_id, DeliveryBatch.recipient_count)
                                  .where(DeliveryBatch.id.in_(batch_ids))).all()
    assert len(variants) == 4 and variants[()] == 1 and sorted(variants.values()) == [1, 1, 1, 2]
    assert len(batches) == 3 and sorted(count for _variant, count in batches) == [1, 1, 2]


def test_the_send_page_figures_count_recipients_per_variant_before_and_after_the_cut(rt: Runtime) -> None:
    # Given readers with three different picks
    digest_id = _digest_with_two_topics(rt, {"a@example.org": [], "b@example.org": ["image-generation"],
                                             "c@example.org": ["audio"], "d@example.org": ["audio"]})
    with rt.sessions() as session, session.begin():
        digest = compose.by_week(session, "2026-W48")
        # When the figures are read before the send, and again once it is cut
        before = variant_figures(session, digest, deliverable())
        start_send(session, digest_id, settings=rt.settings)
        after = variant_figures(session, digest, deliverable())
    # Then both say the same: two readers for no section (not sent), one each for the other two versions
    assert before == after
    assert [(figure.sent, figure.recipients) for figure in after] == [(False, 2), (True, 1), (True, 1)]
    assert [IMAGES, "New this week"] in [figure.titles for figure in after]


def test_a_resent_ambiguous_batch_goes_out_as_the_same_variant(rt: Runtime) -> None:
    # Given a send cut for an image reader, whose batch turned ambiguous
    from services.core.domain import BatchState
    from services.delivery.controls import resend

    digest_id = _digest_with_two_topics(rt, {"images@example.org": ["image-generation"]})
    with rt.sessions() as session, session.begin():
        [batch_id] = start_send(session, digest_id, settings=rt.settings)
        batch = session.get(DeliveryBatch, batch_id)
        batch.state = BatchState.AMBIGUOUS
    # When ops resend it and the new batch goes out
    with rt.sessions() as session, session.begin():
        again = resend(session, batch_id)
    mailer = FileMailer(rt.settings.outbox_dir, rt.settings.mail_from)
    assert send_batch(rt.sessions, rt.settings, mailer, again, "m-again", NO_WAIT) == "sent"
    # Then it carries the same variant: the image comparison without the coding one
    with rt.sessions() as session:
        assert session.get(DeliveryBatch, again).variant_id == session.get(DeliveryBatch, batch_id).variant_id
    text = _text(_mails(rt)["images@example.org"])
    assert IMAGES in text and CODING not in text
