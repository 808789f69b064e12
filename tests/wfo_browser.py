"""Headless Chromium for the UI tests: Debian's ``chromium`` (``scripts/system-deps`` installs it; a
machine that reaches only package registries cannot download Playwright's own), driven by Playwright."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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
