"""Free text in a right-to-left script is shown isolated: every place a page or the digest mail shows a tool's name,
tagline, category, a lens, a quote, a headline or a note holds it in ``<bdi>`` or an element with ``dir``, so
it cannot reorder the text around it ("A vs B" stays A, vs, B)."""

from __future__ import annotations

from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core import links
from services.core.db.models import Tool
from services.core.domain import Call
from services.core.runtime import Runtime
from services.digest import compose
from services.review import comparisons, panel, queue
from services.review.tool_edits import ToolEdits
from services.web.rendering import versus
from tests import factories
from tests.web.conftest import add_user, sign_in

#: Hebrew and Arabic names, a Hebrew category ("tools"), an Arabic tool waiting for its verdict, a Hebrew lens.
RTL_A, RTL_B, RTL_CATEGORY, RTL_OPEN, RTL_LENS = "עוזר קוד", "مساعد البرمجة", "כלים", "أداة جديدة", "עורכת"
#: Elements that carry text inline: an isolating element may sit around them.
INLINE = {"a", "abbr", "b", "code", "em", "i", "label", "mark", "s", "small", "span", "strong", "time", "u"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
#: Text no element can isolate: the window title, scripts (JSON-LD), styles.
UNSHOWN = {"title", "script", "style"}


class _Isolation(HTMLParser):
    """Collects each text node containing one of ``needles`` that no isolating element holds: walking up from the
    text through inline elements, a ``<bdi>`` or an element with ``dir`` must come before any block element."""

    def __init__(self, needles: tuple[str, ...]) -> None:
        super().__init__(convert_charrefs=True)
        self.needles, self.stack, self.bare, self.seen = needles, [], [], 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append((tag, "dir" in dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not any(needle in data for needle in self.needles) or any(t in UNSHOWN for t, _ in self.stack):
            return
        self.seen += 1
        for tag, has_dir in reversed(self.stack):
            if tag == "bdi" or has_dir:
                return
            if tag not in INLINE:
                break
        self.bare.append(f"{' > '.join(t for t, _ in self.stack[-4:])}: {data.strip()[:80]}")


def _bare(html: str) -> tuple[list[str], int]:
    """(the right-to-left texts of ``html`` no isolating element holds, how many such texts it shows)."""
    parser = _Isolation((RTL_A, RTL_B, RTL_CATEGORY, RTL_OPEN, RTL_LENS))
    parser.feed(html)
    return parser.bare, parser.seen


def _published(rt: Runtime) -> tuple[int, str, str]:
    """A published comparison of two right-to-left named tools in a right-to-left category, an approved tool
    waiting for the panel and a seat with a right-to-left lens: the comparison's id and slug, the first tool's
    slug."""
    with rt.sessions() as session, session.begin():
        waiting = factories.candidate(session, RTL_OPEN)
        queue.approve(session, waiting.id, None, ToolEdits(category=RTL_CATEGORY, tagline=f"{RTL_OPEN} {RTL_LENS}"))
        a = factories.judged_tool(session, RTL_A, (Call.SHIP, Call.SHIP, Call.SHIP, Call.SKIP), category=RTL_CATEGORY)
        b = factories.judged_tool(session, RTL_B, (Call.SHIP, Call.SKIP, Call.SKIP, Call.SKIP), category=RTL_CATEGORY)
        comparison = comparisons.create(session, a.id, b.id, editor_note=f"{RTL_A} או {RTL_B}")
        comparisons.publish(session, comparison.id)
        panel.add_seat(session, RTL_LENS)
        return comparison.id, comparison.slug, session.scalars(select(Tool.slug).where(Tool.id == a.id)).one()


def test_every_page_holds_right_to_left_names_in_an_isolating_element(rt: Runtime, client: TestClient) -> None:
    # Given a published comparison of two tools with Hebrew and Arabic names, taglines and category
    comparison_id, slug, tool_slug = _published(rt)
    sign_in(client, add_user(rt, "admin@example.org", "admin").email)
    week = "2026-W48"
    with rt.sessions() as session, session.begin():
        compose.compile_week(session, rt.settings, week)
    pages = ["/", f"/c/{slug}", f"/t/{tool_slug}", links.category_path(RTL_CATEGORY), "/editor/queue?state=approved",
             "/editor/panel", "/editor/comparisons", f"/editor/comparisons/{comparison_id}",
             f"/editor/comparisons/{comparison_id}/preview", f"/editor/digests/{week}", "/editor/digests"]
    for path in pages:
        # When each page is shown
        response = client.get(path)
        assert response.status_code == 200, path
        bare, seen = _bare(response.text)
        # Then it shows the names, each inside <bdi> or an element with dir
        assert seen > 0, f"{path} shows the right-to-left names"
        assert bare == [], path


def test_a_comparison_title_isolates_each_name_apart() -> None:
    # Given a right-to-left first name, When "A vs B" is written, Then each name has its own <bdi> and "vs" stays out
    assert str(versus(RTL_A, "Beta")) == f"<bdi>{RTL_A}</bdi> vs <bdi>Beta</bdi>"
    assert str(versus("<b>", "x")) == "<bdi>&lt;b&gt;</bdi> vs <bdi>x</bdi>"


def test_the_digest_mail_holds_right_to_left_names_in_an_isolating_element(rt: Runtime) -> None:
    # Given this week's digest of a comparison of right-to-left named tools
    _published(rt)
    with rt.sessions() as session, session.begin():
        digest = compose.compile_week(session, rt.settings, "2026-W48")
        # When it is rendered as subscribers get it
        html = compose.render(rt.settings, digest).html
    # Then every name, tagline and category it shows is isolated
    bare, seen = _bare(html)
    assert seen >= 4
    assert bare == []
