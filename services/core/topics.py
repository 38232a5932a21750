"""Topics: what a subscriber picks to hear about, and which digest sections each pick matches.

A topic is the slug of a tool category (``services.core.slugs.slugify``: "Developer Tools" is
``developer-tools``), so the categories editors give tools are the topics readers choose from. A
digest section carries the topics of the tools it shows (``Section["topics"]``, a sorted list); a
subscriber's ``topics`` is a sorted list too, empty for "everything".

The rule, shared by the digest (which renders a variant per distinct pick) and delivery (which
groups recipients by it):

- a subscriber with no topic gets every section;
- otherwise a section goes to them when it shares a topic with their pick, or when it has no topic
  at all (its tools have no category, so no pick could ever reach it: it is for everyone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from services.core.slugs import slugify

#: Longest topic kept (a category name is at most ``limits.CATEGORY`` characters; its slug no longer).
TOPIC_LENGTH = 100
#: Most topics one subscriber may pick (a bound on what a form, an API call or an import row may store).
MAX_TOPICS = 50


class TooManyTopics(ValueError):
    """More than ``MAX_TOPICS`` distinct topics were given for one subscriber."""


def topic_of(category: str | None) -> str | None:
    """The topic a tool ``category`` belongs to (its slug); None for no category or one with no letter or digit."""
    if not category or not any(c.isascii() and c.isalnum() for c in category):
        return None  # slugify would call it "item"
    return slugify(category)[:TOPIC_LENGTH].strip("-")


def normalized(values: Iterable[str]) -> list[str]:
    """Distinct topics of ``values`` (names or slugs, slugified), sorted; empty ones dropped.

    Raises ``TooManyTopics`` past ``MAX_TOPICS``.
    """
    topics = sorted({topic for topic in map(topic_of, values) if topic})
    if len(topics) > MAX_TOPICS:
        raise TooManyTopics(f"at most {MAX_TOPICS} topics, not {len(topics)}")
    return topics


def section_topics(categories: Iterable[str | None]) -> list[str]:
    """A section's topics from the categories of the tools (or the comparison) it shows: sorted, distinct."""
    return sorted({topic for topic in map(topic_of, categories) if topic})


def matching_sections(sections: Sequence[Mapping[str, Any]], topics: Sequence[str]) -> tuple[str, ...]:
    """The ids of the ``sections`` a subscriber with ``topics`` gets, in the digest's order (the module's rule).

    A section stored before sections carried topics has none, so it goes to everyone.
    """
    if not topics:
        return tuple(str(section["id"]) for section in sections)
    wanted = set(topics)
    return tuple(str(section["id"]) for section in sections
                 if not section.get("topics") or wanted.intersection(section["topics"]))
