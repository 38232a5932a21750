"""Categories as readers browse them: a category's approved tools and published comparisons, with counts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from services.core.db.models import Comparison, Tool, Verdict
from services.core.domain import ComparisonState, ToolState
from services.core.slugs import slugify
from services.review.search import ComparisonHit, ToolHit, comparison_hit, listed_comparisons, tool_hit

#: Tools listed on one page of a category.
PAGE_SIZE = 50
#: Comparisons listed on a category's page (the newest).
COMPARISONS_SHOWN = 20

#: Every distinct category, one probe of ``ix_tools_category`` each (a skip scan), not a pass over every tool.
_DISTINCT = text(
    "WITH RECURSIVE c(name) AS (SELECT min(category) FROM tools UNION ALL "
    "SELECT (SELECT min(category) FROM tools WHERE category > c.name) FROM c WHERE c.name IS NOT NULL) "
    "SELECT name FROM c WHERE name IS NOT NULL")


@dataclass(frozen=True)
class CategoryPage:
    slug: str
    name: str
    tool_count: int
    comparison_count: int
    tools: list[ToolHit]
    comparisons: list[ComparisonHit]
    page: int
    pages: int


def names_for(session: Session, slug: str) -> list[str]:
    """The category names written as ``slug`` (``services.core.slugs.slugify``): "AI Agents" and "AI agents"
    are one category."""
    return [name for name in session.scalars(_DISTINCT) if slugify(name) == slug]


def category_page(session: Session, slug: str, page: int = 1) -> CategoryPage | None:
    """Page ``page`` (from 1; past the end gives the last) of the category ``slug``: its approved tools by
    name, ``PAGE_SIZE`` a page, with their panel ship %, the ``COMPARISONS_SHOWN`` newest published
    comparisons, and how many of each there are. None when no approved tool and no published comparison
    has that category."""
    names = names_for(session, slug)
    if not names:
        return None
    tools_in = (Tool.category.in_(names), Tool.state == ToolState.APPROVED)
    comparisons_in = (Comparison.category.in_(names), Comparison.state == ComparisonState.PUBLISHED)
    tool_count = session.scalar(select(func.count()).select_from(Tool).where(*tools_in)) or 0
    comparison_count = session.scalar(select(func.count()).select_from(Comparison).where(*comparisons_in)) or 0
    if not tool_count and not comparison_count:
        return None
    pages = max(1, -(-tool_count // PAGE_SIZE))
    page = min(max(page, 1), pages)
    tools = [tool_hit(tool, ship) for tool, ship in session.execute(
        select(Tool, Verdict.ship_percent).outerjoin(Verdict, Verdict.tool_id == Tool.id).where(*tools_in)
        .order_by(Tool.name, Tool.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))]
    comparisons = [comparison_hit(c) for c in listed_comparisons(session, *comparisons_in, limit=COMPARISONS_SHOWN)]
    return CategoryPage(slug, names[0], tool_count, comparison_count, tools, comparisons, page, pages)
