"""Headless Chromium for the UI tests: Debian's ``chromium`` (``scripts/system-deps`` installs it; a
machine that reaches only package registries cannot download Playwright's own), driven by Playwright."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Playwright's default (30 s) is too short for Airflow's UI on a loaded 2-core machine; a wait that
#: has a reason to be longer still says so itself.
UI_TIMEOUT_MS = 90_000


def new_page(browser: Browser, **kwargs: Any) -> Page:
    """A page in a context of its own, with the UI tests' default timeout."""
    page = browser.new_page(**kwargs)
    page.set_default_timeout(UI_TIMEOUT_MS)
    return page


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """A launched headless browser, closed afterwards; a clear failure when Chromium is missing."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: scripts/system-deps installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
