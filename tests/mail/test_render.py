"""Rendering: Jinja into MJML into HTML, with subject and plain text beside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.core.settings import PROJECT_ROOT
from services.mail.render import EmailRenderer, TemplateRenderError

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


def test_the_welcome_mail_has_the_shared_footer_with_personal_links_and_the_address() -> None:
    # Given the welcome mail's links
    context = {"index_url": "https://v.example/", "unsubscribe_url": "https://v.example/unsubscribe/t",
               "preferences_url": "https://v.example/prefs/t", "postal_address": "1 Example Street"}
    # When it renders
    rendered = EmailRenderer(TEMPLATES).render("welcome", context)
    # Then the footer partial carries unsubscribe, preferences and the postal address in both parts
    for part in (rendered.html, rendered.text):
        assert "https://v.example/unsubscribe/t" in part and "https://v.example/prefs/t" in part
        assert "1 Example Street" in part


def test_the_confirmation_mail_has_no_unsubscribe_link_before_there_is_a_subscription() -> None:
    rendered = EmailRenderer(TEMPLATES).render(
        "confirm_subscription", {"confirm_url": "https://v.example/confirm/abc", "postal_address": "1 Example Street"})
    assert "Unsubscribe" not in rendered.html and "Unsubscribe" not in rendered.text
    assert "1 Example Street" in rendered.html and "1 Example Street" in rendered.text


def test_a_logo_is_shown_only_when_configured_and_always_with_alt_and_width() -> None:
    base = {"confirm_url": "https://v.example/c", "postal_address": "x"}
    assert "<img" not in EmailRenderer(TEMPLATES).render("confirm_subscription", base).html
    with_logo = EmailRenderer(TEMPLATES).render("confirm_subscription", {**base, "logo_url": "https://v.example/l.png"})
    assert re.search(r'<img alt="Verdicts"[^>]* src="https://v.example/l.png" width="120"', with_logo.html)


def test_the_mail_loads_no_web_font_from_a_third_party() -> None:
    rendered = EmailRenderer(TEMPLATES).render("confirm_subscription",
                                               {"confirm_url": "https://v", "postal_address": "x"})
    assert "fonts.googleapis.com" not in rendered.html


def test_the_plain_text_keeps_at_most_one_blank_line_in_a_row(tmp_path: Path) -> None:
    # Given a text template whose tags leave blank lines behind
    (tmp_path / "t.subject.txt").write_text("s")
    (tmp_path / "t.mjml").write_text("<mjml><mj-body></mj-body></mjml>")
    (tmp_path / "t.txt").write_text("a\n{% if x %}\n{% endif %}\n\n\n  \nb\n")
    # Then the blank run is folded into one blank line
    assert EmailRenderer(tmp_path).render("t", {"x": False}).text == "a\n\nb\n"


def test_a_plain_http_logo_is_refused_at_start() -> None:
    from services.core.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="VERDICTS_EMAIL_LOGO_URL"):
        load_settings({}, secret_key="k", email_logo_url="http://cdn.example.org/logo.png")


def test_a_value_with_control_characters_renders_without_them() -> None:
    # Given a value holding a vertical tab, a form feed, NUL and a C1 control, which MJML (XML) cannot carry
    context = {"confirm_url": "https://v.example/confirm/abc", "postal_address": "1 Example\x0b\x0c\x00\x9b Street"}
    # When the mail renders, Then both parts have the value without them
    rendered = EmailRenderer(TEMPLATES).render("confirm_subscription", context)
    for part in (rendered.html, rendered.text):
        assert "1 Example Street" in part
        assert not re.search("[\x00\x0b\x0c\x9b]", part)
