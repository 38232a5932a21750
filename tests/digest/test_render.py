"""Rendering: Jinja into MJML into HTML, with subject and plain text beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.core.settings import PROJECT_ROOT
from services.digest.render import EmailRenderer, TemplateRenderError

TEMPLATES = PROJECT_ROOT / "templates" / "email"


def test_the_confirmation_mail_renders_in_three_parts() -> None:
    rendered = EmailRenderer(TEMPLATES).render(
        "confirm_subscription", {"confirm_url": "https://verdicts.example.org/confirm/abc", "postal_address": "1 Street"})
    assert rendered.subject == "Confirm your Verdicts subscription"
    assert 'href="https://verdicts.example.org/confirm/abc"' in rendered.html
    assert "https://verdicts.example.org/confirm/abc" in rendered.text
    assert "<mj-" not in rendered.html


def test_an_mjml_error_names_the_template(tmp_path: Path) -> None:
    # Given a template with broken MJML
    (tmp_path / "broken.subject.txt").write_text("s")
    (tmp_path / "broken.txt").write_text("t")
    (tmp_path / "broken.mjml").write_text("<mjml><mj-body><mj-section></mj-body></mjml>")
    # Then rendering fails loudly, naming it
    with pytest.raises(TemplateRenderError, match="broken.mjml"):
        EmailRenderer(tmp_path).render("broken", {})


def test_a_missing_variable_fails_instead_of_rendering_blank() -> None:
    with pytest.raises(TemplateRenderError, match="confirm_subscription"):
        EmailRenderer(TEMPLATES).render("confirm_subscription", {"postal_address": "x"})
