"""Fixtures for the console tests: a server, and headless Chromium driven by selenium."""

from __future__ import annotations

import os

import pytest

from tests.browser import browser_missing, chromium
from tests.conftest import ARTIFACTS, running_server

CONSOLE_ARTIFACTS = os.path.join(ARTIFACTS, "console")


@pytest.fixture(scope="module")
def console_server():
    with running_server("cosbeauty-console-") as srv:
        yield srv


@pytest.fixture(scope="module")
def driver():
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    with chromium(console_log=True) as drv:
        yield drv


@pytest.fixture(scope="session")
def artifacts_dir():
    os.makedirs(CONSOLE_ARTIFACTS, exist_ok=True)
    return CONSOLE_ARTIFACTS
