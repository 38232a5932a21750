"""A comparison's share card: the Open Graph image ("A vs B" and each tool's panel ship %), rendered
once to PNG with Pillow and kept on disk under a name made from what it shows, so an edit of a name
or a verdict renders a new one and an unchanged comparison is never rendered twice.

Size from the Open Graph guidance most sites follow (1200 × 630 px, 1.91:1; https://ogp.me and
https://developers.facebook.com/docs/sharing/webmasters/images). The font is the scalable one
Pillow ships (``ImageFont.load_default(size=...)``, Pillow ≥ 10.1): nothing is fetched.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.db.models import Comparison, Tool, Verdict
from services.review.comparisons import ComparisonView

#: Width and height of the card, in px.
SIZE = (1200, 630)
#: Bumped when the drawing changes, so every card is drawn again in the new look.
LOOK = 1
MARGIN = 72
BACKGROUND, INK, MUTED, SHIP = "#111418", "#f4f5f7", "#9aa3ad", "#3ecf8e"


@dataclass(frozen=True)
class Side:
    """One tool as its card shows it: the name and the panel ship % (None before a verdict)."""

    name: str
    panel_ship_percent: int | None


@dataclass(frozen=True)
class Card:
    """What a comparison's card shows: tool A and tool B."""

    a: Side
    b: Side


def of_view(view: ComparisonView) -> Card:
    """The card of a comparison already viewed (``services.review.comparisons.view``)."""
    return Card(Side(view.a.name, view.a.panel_ship_percent), Side(view.b.name, view.b.panel_ship_percent))


def of_comparison(session: Session, comparison: Comparison) -> Card:
    """The card of ``comparison``, read in one query (its tools' names and panel ship %)."""
    sides = {tool_id: Side(name, ship) for tool_id, name, ship in session.execute(
        select(Tool.id, Tool.name, Verdict.ship_percent).outerjoin(Verdict, Verdict.tool_id == Tool.id)
        .where(Tool.id.in_((comparison.tool_a_id, comparison.tool_b_id))))}
    return Card(sides[comparison.tool_a_id], sides[comparison.tool_b_id])


def card_key(card: Card) -> str:
    """A hex digest (64 chars) of what ``card`` shows: the two names and ship percents."""
    shown = [LOOK, card.a.name, card.a.panel_ship_percent, card.b.name, card.b.panel_ship_percent]
    return hashlib.sha256(json.dumps(shown).encode()).hexdigest()


def card_png(card: Card, directory: Path) -> Path:
    """The PNG file of ``card`` (SIZE px) in ``directory``, drawn only when no file of its
    ``card_key`` is there yet; written to a temporary file and renamed, so a reader never sees half
    a file and two requests drawing at once leave one whole file. Raises OSError when
    ``directory`` cannot be written."""
    path = directory / f"{card_key(card)}.png"
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            draw_card(card).save(out, format="PNG", optimize=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def draw_card(card: Card) -> Image.Image:
    """``card`` as an RGB image of SIZE px: "A vs B" across the top, then each tool's
    name over its panel ship % ("-" before a verdict: Pillow's font has no em dash)."""
    image = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    width = SIZE[0] - 2 * MARGIN
    _text(draw, (MARGIN, 48), "Verdicts", 30, width, MUTED)
    _text(draw, (MARGIN, 110), f"{card.a.name} vs {card.b.name}", 76, width, INK)
    column = (width - MARGIN) // 2
    for index, side in enumerate((card.a, card.b)):
        left = MARGIN + index * (column + MARGIN)
        _text(draw, (left, 290), side.name, 48, column, INK)
        percent = "-" if side.panel_ship_percent is None else f"{side.panel_ship_percent}%"
        _text(draw, (left, 355), percent, 120, column, SHIP)
        _text(draw, (left, 495), "panel ship", 36, column, MUTED)
    return image


def _text(draw: ImageDraw.ImageDraw, at: tuple[int, int], text: str, size: int, width: int, fill: str) -> None:
    """Draw ``text`` at ``at`` in Pillow's font of ``size`` px, cut with "…" to fit ``width`` px."""
    font = ImageFont.load_default(size=size)
    shown = text
    while len(shown) > 1 and draw.textlength(shown, font=font) > width:
        shown = shown[:-2] + "…"
    draw.text(at, shown, font=font, fill=fill)
