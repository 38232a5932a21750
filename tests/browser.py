"""Playwright on Debian's Chromium (Playwright's own browser download does not work here), and axe-core
(installed into .tools/axe by scripts/ensure-browser.sh) to check pages for accessibility."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services_check import unavailable

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).with_name("artifacts")
AXE_SCRIPT = Path(__file__).resolve().parents[1] / ".tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
#: The axe impacts a page must not have (axe's scale: minor, moderate, serious, critical).
BLOCKING_IMPACTS = ("serious", "critical")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the run; tests open their own pages (and contexts)."""
    if not CHROMIUM.exists():
        unavailable("Chromium", CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def screenshot_path(name: str) -> Path:
    """Where a test writes the screenshot ``name`` (may hold a sub-folder): under tests/artifacts/, not committed."""
    path = ARTIFACTS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def axe_source() -> str:
    """The text of axe.min.js; fails under CI (skips elsewhere) when scripts/ensure-browser.sh has not run."""
    if not AXE_SCRIPT.exists():
        unavailable("axe-core", f"{AXE_SCRIPT} is missing: run scripts/ensure-browser.sh")
    return AXE_SCRIPT.read_text(encoding="utf-8")


def blocking_violations(page: object, source: str) -> list[str]:
    """Run axe-core on the loaded ``page`` (a Playwright page; ``source`` the text of axe.min.js, put into
    every frame so iframes are checked too) with its default WCAG 2 A/AA and best-practice rules.

    Returns one line per serious or critical violation: ``rule-id (impact): help -- CSS targets``, empty
    when none. Evaluated through the DevTools protocol, so the page's own CSP does not block it.
    """
    for frame in page.frames:  # type: ignore[attr-defined]
        frame.evaluate(source)
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")  # type: ignore[attr-defined]
    return [f"{v['id']} ({v['impact']}): {v['help']} -- " + "; ".join(_target(n["target"]) for n in v["nodes"])
            for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]


def _target(selectors: list[object]) -> str:
    """axe's node target: CSS selectors from the top frame down, a list within for a shadow DOM path."""
    return " >> ".join(s if isinstance(s, str) else " / ".join(map(str, s)) for s in selectors)  # type: ignore[arg-type]
