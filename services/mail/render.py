"""Email rendering: Jinja fills the MJML, mjml-python turns it into HTML; subject and text beside it.

Each mail has three templates sharing one name: ``NAME.subject.txt``, ``NAME.mjml`` and ``NAME.txt``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from mjml import mjml2html

from services.core.text import CONTROLS, without_controls

#: Template tags leave blank lines behind; the plain-text part keeps at most one in a row.
BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")


class TemplateRenderError(RuntimeError):
    """A template failed to render; the message names it."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def _printable(value: Any) -> Any:
    """A template value without control characters (``services.core.text.CONTROLS``): text that missed the
    cleaning at its entry (a feed's, an old row's) still renders, since MJML, being XML, refuses them."""
    if not isinstance(value, str) or not CONTROLS.search(value):
        return value
    return Markup(without_controls(value)) if isinstance(value, Markup) else without_controls(value)


class EmailRenderer:
    def __init__(self, templates_dir: Path):
        loader = jinja2.FileSystemLoader(str(templates_dir))
        self._markup = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                                          finalize=_printable)
        self._plain = jinja2.Environment(loader=loader, autoescape=False, undefined=jinja2.StrictUndefined,
                                         keep_trailing_newline=True, finalize=_printable)

    def render(self, name: str, context: dict[str, Any]) -> RenderedEmail:
        try:
            subject = self._plain.get_template(f"{name}.subject.txt").render(context)
            mjml_source = self._markup.get_template(f"{name}.mjml").render(context)
            text = self._plain.get_template(f"{name}.txt").render(context)
        except jinja2.TemplateError as exc:
            raise TemplateRenderError(f"{name}: {type(exc).__name__}: {exc}") from exc
        try:
            html = mjml2html(mjml_source, disable_comments=True)
        except Exception as exc:  # mjml-python raises ValueError; anything else is as fatal
            raise TemplateRenderError(f"{name}.mjml: MJML error: {exc}") from exc
        text = BLANK_RUNS.sub("\n\n", text).strip() + "\n"
        return RenderedEmail(subject=" ".join(subject.split()), html=html, text=text)


@functools.lru_cache(maxsize=8)
def renderer_for(templates_dir: Path) -> EmailRenderer:
    """One renderer per templates folder, so Jinja compiles each template once per process."""
    return EmailRenderer(templates_dir)
