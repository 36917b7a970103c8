"""Debian's headless Chromium, driven by Playwright for Python (never Playwright's own builds).

Needs the `playwright` package (the `test` extra) and /usr/bin/chromium (Debian's `chromium`,
installed by .ci/provision-web.sh; TODO_TEST_CHROMIUM names another binary). Without either,
`launched_chromium` skips with the reason (CI turns that into a failure). Also the helpers the
page tests share: a fresh page that fails the test on any uncaught error, finding a row, loading
every page of the list, screenshots.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None  # type: ignore[assignment]

CHROMIUM: Final = Path(os.environ.get("TODO_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS: Final = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS: Final = 15_000
# No sandbox: CI runs as root, where Chromium's sandbox refuses to start. The rest keeps a
# headless browser from calling home, updating itself or needing a GPU.
CHROMIUM_ARGS: Final = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]


@contextlib.contextmanager
def launched_chromium() -> Iterator[Any]:
    """A Playwright Browser on Debian's Chromium, closed afterwards; or a skip with the reason."""
    if sync_playwright is None:
        pytest.skip("the browser tests need playwright: pip install -e '.[test]'")
    if not CHROMIUM.is_file():
        pytest.skip(
            f"the browser tests need Debian's chromium at {CHROMIUM}: "
            "run .ci/provision-web.sh (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def fresh_page(browser: Any) -> Iterator[Any]:
    """A page in a fresh browser context; the test fails on any uncaught error in the page."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


def load_all(page: Any) -> None:
    """Load more until the list has no more pages."""
    more = page.locator("#load-more")
    for _ in range(20):
        page.locator("#list[aria-busy='false']").wait_for()
        if not more.is_visible():
            return
        more.click()
    raise AssertionError("the page kept offering more todos")


def item(page: Any, text: str) -> Any:
    """The list item whose text is exactly `text`."""
    return page.locator("#list > li").filter(
        has=page.locator(".todo-text", has_text=re.compile(f"^{re.escape(text)}$"))
    )


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
