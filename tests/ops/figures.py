"""Reading the figures of a queue row out of the ops page's HTML (cells carry ``data-figure``)."""

from __future__ import annotations

import re

ROW = re.compile(r'<tr data-queue="(?P<name>[^"]+)">(?P<body>.*?)</tr>', re.DOTALL)
FIGURE = re.compile(r'data-figure="(?P<name>\w+)">(?P<value>\d+)')


def page_figures(html: str) -> dict[str, dict[str, int]]:
    """Queue name → {ready, delayed, in_flight, dead, processed, failed} as the page shows them."""
    return {
        row["name"]: {figure["name"]: int(figure["value"]) for figure in FIGURE.finditer(row["body"])}
        for row in ROW.finditer(html)
    }
