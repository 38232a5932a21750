"""The tool page's release timeline, alternatives and "last updated"."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from services.core.db.base import utcnow
from services.core.db.models import Evidence
from services.core.domain import Call, EvidenceKind
from services.core.runtime import Runtime
from tests import factories


def test_the_tool_page_shows_its_timeline_alternatives_and_last_update(rt: Runtime, client: TestClient) -> None:
    # Given a judged tool with two releases (one with a hostile title and link) and a judged rival
    with rt.sessions() as session, session.begin():
        tool = factories.judged_tool(session, "Alpha", (Call.SHIP,) * 4)
        factories.judged_tool(session, "Rival", (Call.SHIP, Call.SKIP, Call.SKIP, Call.SKIP))
        session.add_all([
            Evidence(tool_id=tool.id, source_url="https://github.com/acme/alpha/releases.atom", version="1.0",
                     url="https://github.com/acme/alpha/releases/tag/1.0", title="Alpha 1.0", kind=EvidenceKind.UPDATE,
                     created_at=utcnow() - dt.timedelta(days=30)),
            Evidence(tool_id=tool.id, source_url="https://blog.example/feed", version="2.0",
                     url="javascript:alert(1)", title="<img src=x onerror=alert(1)>", kind=EvidenceKind.UPDATE)])
    # When a reader opens the tool page
    html = client.get("/t/alpha").text
    # Then the releases are listed newest first with their sources, hostile text inert
    timeline = html.split('class="card releases"', 1)[1]
    assert timeline.index("2.0") < timeline.index("1.0")
    assert "(github.com)" in timeline and "(blog.example)" in timeline
    assert 'href="https://github.com/acme/alpha/releases/tag/1.0"' in timeline
    assert "javascript:" not in html and "<img src=x" not in html and "&lt;img src=x" in timeline
    # And the rival is an alternative with its panel ship %, and the page says when it last changed
    alternatives = html.split('class="card alternatives"', 1)[1].split("</section>", 1)[0]
    assert 'href="/t/rival"' in alternatives and "25% ship" in alternatives
    assert 'class="muted last-updated">Last updated <time datetime="' in html
