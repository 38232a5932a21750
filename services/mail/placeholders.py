"""Per-recipient parts of a digest, left as markers at render time and filled at delivery.

A digest is rendered once; the delivery step swaps these markers for one recipient's links
(by string replacement in the file mailer, by SendGrid substitutions in production).
"""

from __future__ import annotations

UNSUBSCRIBE = "[[unsubscribe_url]]"
PREFERENCES = "[[preferences_url]]"


def vote(tool_id: int, call: str) -> str:
    return f"[[vote_{tool_id}_{call}]]"


def fill(text: str, values: dict[str, str]) -> str:
    for marker, value in values.items():
        text = text.replace(marker, value)
    return text
