"""Headless Chromium (Debian's chromium + chromium-driver) driven by selenium, for browser tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile

CHROMIUM = os.environ.get("COSBEAUTY_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("COSBEAUTY_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROME_ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
               "--disable-dev-shm-usage", "--disable-extensions", "--disable-default-apps",
               "--disable-features=Translate,MediaRouter,OptimizationHints", "--hide-scrollbars",
               "--window-size=1440,1000", "--force-device-scale-factor=1", "--lang=en-US")


def browser_missing() -> str | None:
    """Why browser tests cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            return f"{path} is not installed (run scripts/install-browser.sh)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    return None


@contextlib.contextmanager
def chromium(*, console_log: bool = False, timeout: float = 30):
    """A fresh headless Chromium (own profile dir), quit and cleaned up afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="cosbeauty-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={profile}")
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    drv.set_page_load_timeout(timeout)
    drv.set_script_timeout(timeout)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)
