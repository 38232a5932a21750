"""schema.org JSON-LD for tool and comparison pages (https://schema.org/SoftwareApplication, /Offer, /Article).

Templates write it with Jinja's ``tojson`` filter, which escapes ``<``, ``>``, ``&`` and ``'`` as ``\\u003c``…,
so no text can close the ``<script>`` element or open an HTML comment in it.
"""

from __future__ import annotations

import re

from services.core import links
from services.core.settings import Settings
from services.review.comparisons import ComparisonView

#: Currency symbols an entry price may start with, and their ISO 4217 codes.
CURRENCIES = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
_PRICE = re.compile(r"(?P<symbol>[$€£¥₹])\s*(?P<amount>\d+(?:[.,]\d{1,2})?)|(?P<amount2>\d+(?:[.,]\d{1,2})?)\s*"
                    r"(?P<code>USD|EUR|GBP|JPY|INR)\b", re.IGNORECASE)
_FREE = re.compile(r"^\s*free\b", re.IGNORECASE)


def offer(entry_price: str | None) -> dict[str, str] | None:
    """The schema.org ``Offer`` of an entry price as editors write it: "Free" is 0 USD, "$20/mo" 20 USD,
    "€15 a month" and "15 EUR" 15 EUR; None for a price with no amount ("Contact sales") or none at all."""
    if not entry_price:
        return None
    if _FREE.match(entry_price):
        return {"@type": "Offer", "price": "0", "priceCurrency": "USD"}
    found = _PRICE.search(entry_price)
    if found is None:
        return None
    amount = (found["amount"] or found["amount2"]).replace(",", ".")
    currency = CURRENCIES[found["symbol"]] if found["symbol"] else found["code"].upper()
    return {"@type": "Offer", "price": amount, "priceCurrency": currency}


def software_application(settings: Settings, slug: str, name: str, category: str | None,
                         entry_price: str | None) -> dict[str, object]:
    """A tool as a ``SoftwareApplication``: name, applicationCategory, url, offers (when the price has an amount)."""
    data: dict[str, object] = {"@type": "SoftwareApplication", "name": name, "url": links.tool(settings, slug)}
    if category:
        data["applicationCategory"] = category
    priced = offer(entry_price)
    if priced:
        data["offers"] = priced
    return data


def tool_page(settings: Settings, slug: str, name: str, category: str | None,
              entry_price: str | None) -> dict[str, object]:
    """The JSON-LD document of a tool page."""
    return {"@context": "https://schema.org", **software_application(settings, slug, name, category, entry_price)}


def comparison_page(settings: Settings, view: ComparisonView) -> dict[str, object]:
    """The JSON-LD document of a comparison page: an ``Article`` about the two tools."""
    return {"@context": "https://schema.org", "@type": "Article", "headline": view.headline, "name": view.title,
            "url": links.comparison(settings, view.slug),
            "about": [software_application(settings, side.slug, side.name, side.category or view.category,
                                           side.entry_price) for side in (view.a, view.b)]}
