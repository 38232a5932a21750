"""A comparison's Open Graph image: /c/{slug}/og.png, the share card drawn once and then served
from the cache under the var dir (see services.review.share_card)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from services.core import links
from services.core.domain import ComparisonState
from services.core.settings import Settings
from services.review import comparisons, share_card
from services.review.comparisons import ComparisonView
from services.web.db import DbSession

router = APIRouter()
#: The image's address carries its content key, so it may be cached for a year without going stale.
CACHE_CONTROL = "public, max-age=31536000, immutable"


def image_url(settings: Settings, view: ComparisonView) -> str:
    """The absolute address of ``view``'s card, versioned by what it shows (for ``og:image``)."""
    return f"{links.comparison(settings, view.slug)}/og.png?v={share_card.card_key(view)[:16]}"


@router.get(links.COMPARISON_PATH + "{slug}/og.png", response_model=None)
def comparison_image(request: Request, slug: str, session: DbSession) -> Response:
    """The PNG card (1200 × 630 px) of a published comparison; 404 for any other slug."""
    found = comparisons.by_slug(session, slug)
    if found is None or found.state != ComparisonState.PUBLISHED:
        return Response("No comparison by that name.", status_code=404, media_type="text/plain")
    settings = request.app.state.runtime.settings
    path = share_card.card_png(comparisons.view(session, found), settings.var_dir / "og")
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": CACHE_CONTROL})
