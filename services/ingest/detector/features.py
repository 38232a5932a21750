"""The model's input: rule signals plus word and character n-grams of the title and summary.

Features are named strings with value 1 (present): ``rule:<signal>``, ``kind:<source kind>``,
``title:<word>`` and ``title:<word word>`` (title words and word pairs), ``summary:<word>`` (words of
the summary's first ``SUMMARY_CHARS`` characters) and ``chars:<3–4 characters>`` (of the title's
words). The same function feeds training (scikit-learn) and scoring (our own dot product), so the
two can never disagree about what a feature is.
"""

from __future__ import annotations

import re

from services.ingest.detector.signals import Reading, Signal, rule_signals

WORD = re.compile(r"\w+")
DIGITS = re.compile(r"\d+")
SUMMARY_CHARS = 300
TAGS = re.compile(r"<[^>]*>")
ALL_FAMILIES = ("rule", "kind", "title", "summary", "chars")


def _words(text: str) -> list[str]:
    """Lower-case words, every number as "0" (a version's value says nothing; having one does)."""
    return [DIGITS.sub("0", w) for w in WORD.findall(text.casefold())]


def features(reading: Reading, families: tuple[str, ...] = ALL_FAMILIES) -> tuple[set[str], list[Signal]]:
    """The feature names of an entry as ``signals.read`` read it from its source, in ``families``
    (only those are computed: scoring asks for what the model weighs), and the rule signals."""
    signals = rule_signals(reading)
    found = {f"rule:{s.name}" for s in signals}
    found.add(f"kind:{reading.source.kind}")
    title = _words(reading.title) if "title" in families or "chars" in families else []
    if "title" in families:
        found.update(f"title:{w}" for w in title)
        found.update(f"title:{a} {b}" for a, b in zip(title, title[1:], strict=False))
    if "summary" in families:
        summary = TAGS.sub(" ", reading.entry.summary[: SUMMARY_CHARS * 2])[:SUMMARY_CHARS]
        found.update(f"summary:{w}" for w in _words(summary))
    if "chars" in families:
        for word in title:
            padded = f" {word} "
            found.update(f"chars:{padded[i:i + n]}" for n in (3, 4) for i in range(len(padded) - n + 1))
    return found, signals
