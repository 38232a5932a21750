"""A comparison's Open Graph image: a 1200 × 630 PNG drawn once, cached under the var dir, served
with a long cache header, referenced by og:image, and drawn again when what it shows changes."""

from __future__ import annotations

import io
import re

from fastapi.testclient import TestClient
from PIL import Image

from services.core.db.models import Tool
from services.core.domain import ComparisonState
from services.core.runtime import Runtime
from tests import factories


def _og_image(client: TestClient, slug: str) -> str:
    match = re.search(r'<meta property="og:image" content="([^"]+)">', client.get(f"/c/{slug}").text)
    assert match, "the comparison page has no og:image"
    return match.group(1)


def test_the_comparison_page_points_og_image_at_a_1200_by_630_png(rt: Runtime, client: TestClient) -> None:
    # Given a published comparison
    with rt.sessions() as session, session.begin():
        slug = factories.published_comparison(session, "Alpha", "Beta").slug
    # When its page is read and the og:image fetched
    url = _og_image(client, slug)
    response = client.get(url.removeprefix(rt.settings.public_url))
    # Then og:image is the absolute address of the comparison's image, a PNG of 1200 × 630 px, cached long
    assert url.startswith(f"{rt.settings.public_url}/c/{slug}/og.png?v=")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert "max-age=31536000" in response.headers["cache-control"]
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("PNG", (1200, 630))
    assert '<meta name="twitter:card" content="summary_large_image">' in client.get(f"/c/{slug}").text


def test_a_second_request_serves_the_cached_file_and_an_edit_draws_a_new_one(rt: Runtime, client: TestClient) -> None:
    # Given a comparison whose image was fetched once
    with rt.sessions() as session, session.begin():
        comparison = factories.published_comparison(session, "Alpha", "Beta")
        slug, tool_id = comparison.slug, comparison.tool_a_id
    first = client.get(f"/c/{slug}/og.png")
    [cached] = (rt.settings.var_dir / "og").glob("*.png")
    drawn = (cached.stat().st_mtime_ns, cached.stat().st_ino)
    # When it is fetched again
    second = client.get(f"/c/{slug}/og.png")
    # Then the same file is served, not drawn again
    assert second.content == first.content
    assert (cached.stat().st_mtime_ns, cached.stat().st_ino) == drawn
    assert list((rt.settings.var_dir / "og").glob("*")) == [cached]
    # And when a tool's name is corrected, the page points at a new image, drawn once more
    before = _og_image(client, slug)
    with rt.sessions() as session, session.begin():
        session.get(Tool, tool_id).name = "Alpha Prime"
    after = _og_image(client, slug)
    assert after != before
    assert client.get(after.removeprefix(rt.settings.public_url)).content != first.content
    assert len(list((rt.settings.var_dir / "og").glob("*.png"))) == 2


def test_an_unpublished_or_unknown_comparison_has_no_image(rt: Runtime, client: TestClient) -> None:
    # Given a comparison taken back to draft
    with rt.sessions() as session, session.begin():
        comparison = factories.published_comparison(session)
        comparison.state = ComparisonState.DRAFT
        slug = comparison.slug
    # When images are asked for, Then both are 404 and nothing is drawn
    assert client.get(f"/c/{slug}/og.png").status_code == 404
    assert client.get("/c/nothing-here/og.png").status_code == 404
    assert not (rt.settings.var_dir / "og").exists()
