"""The browser set-up works: Playwright drives Debian's Chromium against a live local server."""

from __future__ import annotations

from tests.browser import screenshot_path
from tests.local_http import Reply, serving


def test_chromium_renders_a_local_page(browser) -> None:  # noqa: ANN001
    with serving() as server:
        server.routes["/"] = Reply(body=b"<!doctype html><title>t</title><h1 id=h>Hello</h1>",
                                   headers={"Content-Type": "text/html"})
        page = browser.new_page(viewport={"width": 375, "height": 600})
        page.goto(server.url("/"))
        assert page.inner_text("#h") == "Hello"
        page.screenshot(path=str(screenshot_path("smoke.png")))
        page.close()
    assert screenshot_path("smoke.png").stat().st_size > 0
