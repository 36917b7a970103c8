"""Debian's headless Chromium, driven by Playwright for Python (never Playwright's own builds).

Needs the `playwright` package (the `test` extra) and /usr/bin/chromium (Debian's `chromium`,
installed by .ci/provision-web.sh; TODO_TEST_CHROMIUM names another binary). Without either,
`launched_chromium` skips with the reason (CI turns that into a failure).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None  # type: ignore[assignment]

CHROMIUM: Final = Path(os.environ.get("TODO_TEST_CHROMIUM", "/usr/bin/chromium"))
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
