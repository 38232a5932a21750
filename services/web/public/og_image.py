"""A comparison's Open Graph image: /c/{slug}/og.png, the share card drawn once and then served
from the cache under the var dir (see services.review.share_card)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from services.core import links
from services.core.settings import Settings
from services.review import comparisons, share_card
from services.review.comparisons import ComparisonView
from services.review.errors import ComparisonNotFound
from services.web.db import DbSession

router = APIRouter()
#: The image's address carries its content key, so it may be cached for a year without going stale.
CACHE_CONTROL = "public, max-age=31536000, immutable"


def image_url(settings: Settings, view: ComparisonView) -> str:
    """The absolute address of ``view``'s card, versioned by what it shows (for ``og:image``)."""
    key = share_card.card_key(share_card.of_view(view))
    return f"{links.comparison(settings, view.slug)}/og.png?v={key[:16]}"


@router.get(links.COMPARISON_PATH + "{slug}/og.png", response_model=None)
def comparison_image(request: Request, slug: str, session: DbSession) -> Response:
    """The PNG card (1200 × 630 px) of a published comparison; a plain-text 404 for any other slug."""
    try:
        found = comparisons.published_by_slug(session, slug)
    except ComparisonNotFound as exc:
        return Response(str(exc), status_code=404, media_type="text/plain")
    card = share_card.of_comparison(session, found)
    path = share_card.card_png(card, request.app.state.runtime.settings.var_dir / "og")
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": CACHE_CONTROL})
