"""The tool names a title announces, in the shapes vendors write them.

- a lead phrase: "Introducing X", "Meet X", "We're launching X in Y, with …", "Представляем X";
- a passive launch after the name: "X is now available", "X Is Now in Public Preview",
  "X 2.0 Released: Higher Precision …", "X 3.5 正式发布";
- an active launch before the name: "Acme launches X", "Perplexity Is Open-Sourcing X";
- no launch verb: "X 2 brings …", "… Powered by X 3.5.", "Bring your data to life with X",
  "X: a model for …", "X in web, iOS, and Android";
- several tools: "A and B are now available in App", "Introducing A, B and C" yield each.

Then the place and the owner are cut away ("… on GroqCloud", "in Google Flow Music", "Canopy
Labs' X"). The rules are the shapes above, read off vendors' feeds; nothing here decides whether
the entry is a launch (that is the scorer's job).
"""

from __future__ import annotations

import re

from services.core import limits

GLUED_DATE = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}(?:[A-Z][a-z]+(?: [A-Z][a-z]+)*(?=[A-Z][a-z]))?")
LEAD = re.compile(
    r"^(?:(?:we(?:'|’)re|we are)\s+(?:launching|releasing|introducing|announcing|unveiling)|introducing|announcing"
    r"|meet|welcome(?!\s+to\b)|welcoming|launching|releasing|unveiling|say hello to|представляем|знакомьтесь с"
    r"|presentamos|présentation de|nous présentons|wir stellen vor|推出|发布|隆重推出|παρουσιάζουμε)\s*[:,]?\s+",
    re.IGNORECASE,
)
#: A launch told after the name: the name is what comes before it.
PASSIVE = re.compile(
    r"\s+(?:(?:is|are)\s+)?(?:now\s+)?(?:(?:generally\s+)?available|here|live|out|in (?:public |private )?(?:preview|beta)"
    r"|released|launched|open[- ]sourced|shipped|rolling out)\b|\s*(?:正式)?(?:发布|上线|推出)$"
    r"|\s+(?:уже\s+)?доступ(?:ен|на|ны)\b|\s+(?:είναι\s+)?(?:πλέον\s+)?διαθέσιμ\w*",
    re.IGNORECASE,
)
#: A launch told before the name: the name is what comes after it.
ACTIVE = re.compile(
    r"\b(?:(?:is|are)\s+)?(?:launch(?:es|ing)|releas(?:es|ing)|open[- ]sourc(?:es|ing)|debuts|unveils|introduces"
    r"|announces|ships|rolls out)\s+",
    re.IGNORECASE,
)
POWERED_BY = re.compile(r"\bpowered by\s+(.+?)\s*\.?$", re.IGNORECASE)
WITH_AT_END = re.compile(r"\bwith\s+(?!(?:the|a|an|our|your|new|more|less)\b)([A-Z][^,:;]*?)\s*\.?$")
#: Where the name stops when no phrase says: a clause, a colon, a dash, a sentence end.
CLAUSE_END = re.compile(r"\s*[:|–—]\s*|\s+-\s+|[,!?](?:\s|$)|\.(?:\s|$)")
PLACE = re.compile(
    r"\s+(?:in|on|for|to|across|via|inside)\s+(?:the\s+)?(?:(?:public|private)\s+)?(?:beta|preview|[A-Z0-9][\w.+-]*"
    r"|hub|api|everyone|developers|enterprises?|all\b|web\b|mobile|desktop|iOS|browsers?)(?:\s+[\w.+-]+)*$"
)
OWNER = re.compile(r"^[\w.&-]+(?:\s+[\w.&-]+){0,2}(?:'|’)s?\s+(?=\S)")
ARTICLE = re.compile(r"^(?:the|our|a|an|new|το|η|ο)\s+", re.IGNORECASE)
LIST_TAIL = re.compile(r"(?:\s*,\s*[A-Z0-9][^,:;]*?)*,?\s+(?:and|&)\s+[A-Z0-9][^,:;!?]*?(?=$|[,:;!?]|\.(?:\s|$))")
SEVERAL = re.compile(r"\s*,\s*(?:and\s+)?|\s+(?:and|&|и|和|与|και)\s+", re.IGNORECASE)


def product_names(title: str) -> list[str]:
    """The names ``title`` announces, in order; [] when it names nothing (empty or only punctuation)."""
    text = GLUED_DATE.sub("", title).strip()
    if not text:
        return []
    span = _with_listed(_span(text), text)
    span = OWNER.sub("", ARTICLE.sub("", span.strip(" \"'“”"))) or span
    parts = [p for p in SEVERAL.split(span) if p.strip()]
    if len(parts) > 1 and all(_looks_like_a_name(p) for p in parts):
        names = [_tidy(p) for p in parts]
    else:
        names = [_tidy(span)]
    return [limits.clip(n, limits.TOOL_NAME) for n in dict.fromkeys(names) if any(c.isalnum() for c in n)]


def _span(text: str) -> str:
    """The part of the title that holds the name(s)."""
    lead = LEAD.match(text)
    if lead:
        return _first_clause(_cut_place(text[lead.end():]))
    powered = POWERED_BY.search(text)
    if powered:
        return _first_clause(powered.group(1))
    passive = PASSIVE.search(text)
    if passive and passive.start() > 0:
        return _cut_place(_first_clause(text[: passive.start()]))
    active = ACTIVE.search(text)
    if active and active.end() < len(text):
        return _first_clause(_cut_place(text[active.end():]))
    head = _first_clause(text)
    if head != text:  # "X: a model for …", "X 2.0 - notes", "X in web, iOS, and Android"
        return _cut_place(head)
    ending = WITH_AT_END.search(text)
    if ending:
        return ending.group(1)
    return _capitalised_run(text)


def _with_listed(span: str, text: str) -> str:
    """The span with the rest of a list it opens ("Orion 2" of "Introducing Orion 2, Vega 1.5 and Lyra")."""
    at = text.find(span)
    tail = LIST_TAIL.match(text[at + len(span):]) if span and at >= 0 else None
    return span + tail.group(0) if tail else span


def _first_clause(text: str) -> str:
    return CLAUSE_END.split(text.strip(), maxsplit=1)[0].strip()


def _cut_place(text: str) -> str:
    head = _first_clause(text)
    cut = PLACE.sub("", head)
    return cut if cut.strip() else head


def _capitalised_run(text: str) -> str:
    """The leading proper-noun phrase: words that start upper-case or hold a digit ("Gemini Robotics 2 brings…")."""
    words = text.split()
    run = []
    for word in words:
        if run and not (word[:1].isupper() or any(c.isdigit() for c in word) or not word[:1].isalpha()):
            break
        run.append(word)
    return " ".join(run) or text


def _looks_like_a_name(part: str) -> bool:
    part = part.strip()
    return bool(part) and (part[:1].isupper() or any(c.isdigit() for c in part) or not part[:1].isascii())


def _tidy(name: str) -> str:
    return ARTICLE.sub("", name.strip(" .,:;!?\"'“”")).strip()


def source_product(source_title: str | None) -> str | None:
    """The product a changelog source is about, from its title ("Cursor Changelog" → "Cursor")."""
    if not source_title:
        return None
    name = re.sub(r"(?i)\b(?:change ?log|release notes|releases|updates|what'?s new|news|blog|docs)\b", "", source_title)
    name = name.strip(" -–—:|")
    return name or None
