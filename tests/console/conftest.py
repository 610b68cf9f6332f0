"""Fixtures for the console tests: a server, and headless Chromium driven by selenium."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from tests.conftest import ARTIFACTS, running_server

CHROMIUM = os.environ.get("COSBEAUTY_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("COSBEAUTY_CHROMEDRIVER", "/usr/bin/chromedriver")
CONSOLE_ARTIFACTS = os.path.join(ARTIFACTS, "console")
CHROME_ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
               "--disable-dev-shm-usage", "--disable-extensions", "--disable-default-apps",
               "--disable-features=Translate,MediaRouter,OptimizationHints", "--hide-scrollbars",
               "--window-size=1440,1000", "--force-device-scale-factor=1", "--lang=en-US")


def browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            return f"{path} is not installed (run scripts/install-browser.sh)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    return None


@pytest.fixture(scope="module")
def console_server():
    with running_server("cosbeauty-console-") as srv:
        yield srv


@pytest.fixture(scope="module")
def driver():
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="cosbeauty-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    drv.set_page_load_timeout(30)
    drv.set_script_timeout(30)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def artifacts_dir():
    os.makedirs(CONSOLE_ARTIFACTS, exist_ok=True)
    return CONSOLE_ARTIFACTS
