"""Keyboard and screen-reader use of the console, in headless Chromium (issue 15, points 8 and 9):
axe-core finds no serious or critical violation on any page or dialog; focus stays inside an open
dialog and Esc gives it back to the button that opened it; a skip link, strong focus rings,
aria-current on the nav, named usage filters; and the Create-bucket dialog's `pattern` compiles
(Chromium uses the `v` flag), so the browser's own validation works and no error is logged."""

from __future__ import annotations

import io
import re

import pytest

from tests.conftest import APPID
from tests.conftest import cos_client as make_cos
from tests.console.ui import UI
from tests.iam.conftest import signed

pytestmark = pytest.mark.browser

BUCKET = f"access-{APPID}"
TAB, SHIFT, ESC, ENTER = "\ue004", "\ue008", "\ue00c", "\ue007"


@pytest.fixture(scope="module")
def ui(console_server, driver):
    from PIL import Image
    from skimage import data
    cos = make_cos(console_server.port)
    cos.create_bucket(Bucket=BUCKET)
    assert signed(console_server, "PUT", f"/console/api/ci/{BUCKET}", data=b'{"bound": true, "ai": true}').ok
    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buf, "JPEG")
    cos.put_object(Bucket=BUCKET, Key="astronaut.jpg", Body=buf.getvalue())
    cos.put_object(Bucket=BUCKET, Key="docs/readme.txt", Body=b"r")
    ui = UI(driver, console_server.endpoint)
    ui.open()
    ui.d.get_log("browser")                  # start with a clean console log
    return ui


def no_violations(ui: UI, where: str) -> None:
    ui.assert_accessible(where)


def console_errors(ui: UI) -> list[str]:
    return [e["message"] for e in ui.d.get_log("browser") if e.get("level") == "SEVERE"]


def test_axe_on_every_page_and_dialog(ui, artifacts_dir):
    ui.js("location.hash = '#/login'")
    ui.visible("#secret-id")
    no_violations(ui, "login")
    ui.sign_in()
    ui.visible("#bucket-table")
    no_violations(ui, "buckets")
    ui.click("#create-bucket")
    ui.visible("#bucket-name")
    no_violations(ui, "create-bucket dialog")
    ui.keys(ESC)
    ui.js("location.hash = arguments[0]", f"#/b/{BUCKET}/")
    ui.row("astronaut.jpg").find_element("css selector", "input.row-check").click()
    ui.visible("#selection-bar")
    no_violations(ui, "objects with a selection")
    ui.click("#delete-selected")
    ui.visible("#confirm-ok")
    no_violations(ui, "confirm dialog")
    ui.click("#confirm-cancel")
    ui.click("#empty-bucket")
    ui.visible("#confirm-name")
    no_violations(ui, "typed confirmation dialog")
    ui.click("#confirm-cancel")
    ui.js("location.hash = arguments[0]", f"#/b/{BUCKET}/docs%2F")
    ui.row("docs/readme.txt")
    no_violations(ui, "folder")
    ui.js("location.hash = arguments[0]", f"#/b/{BUCKET}/?q=zzz")
    ui.visible("#empty-state")
    no_violations(ui, "empty filter result")
    ui.js("location.hash = arguments[0]", f"#/beauty/{BUCKET}/astronaut.jpg")
    ui.until(lambda: ui.attr("#compare", "data-state") == "ready", "studio ready")
    no_violations(ui, "studio")
    ui.js("location.hash = arguments[0]", f"#/beauty/{BUCKET}/missing.jpg")
    ui.visible("#stage-message")
    no_violations(ui, "studio, missing object")
    ui.click('a.nav-item[data-nav="usage"]')
    ui.visible("#usage-chart")
    no_violations(ui, "usage")
    ui.screenshot(artifacts_dir, "24-usage-a11y.png")
    # and every request of this session went to this server only (no CDN, fonts or trackers)
    urls = ui.js("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert urls and all(u.startswith(ui.endpoint + "/") for u in urls), [u for u in urls if not u.startswith(ui.endpoint)]


def test_dialog_traps_focus_and_esc_returns_it(ui):
    ui.sign_in()
    ui.visible("#bucket-table")
    opener = ui.css("#create-bucket")
    ui.js("arguments[0].focus()", opener)
    ui.keys(ENTER)
    ui.visible("#bucket-name")
    assert ui.active_id() == "bucket-name"
    seen = set()
    for _ in range(8):
        ui.keys(TAB)
        assert ui.js("return !!document.activeElement.closest('.dialog')"), f"Tab left the dialog for {ui.active_id()}"
        seen.add(ui.active_id())
    assert {"bucket-name", "create-bucket-ok"} <= seen
    for _ in range(4):
        ui.keys(SHIFT + TAB)
        assert ui.js("return !!document.activeElement.closest('.dialog')")
    ui.keys(ESC)
    ui.until(lambda: not ui.all(".dialog"), "dialog closed")
    assert ui.active_id() == "create-bucket"

    # the same for a confirmation opened from a row button
    row_delete = ui.visible(f'#bucket-table tr[data-bucket="{BUCKET}"] button[data-action="delete"]')
    ui.js("arguments[0].focus()", row_delete)
    ui.keys(ENTER)
    ui.visible("#confirm-ok")
    for _ in range(5):
        ui.keys(TAB)
        assert ui.js("return !!document.activeElement.closest('.dialog')")
    ui.keys(ESC)
    ui.until(lambda: not ui.all(".dialog"), "confirm closed")
    assert ui.js("return document.activeElement") == row_delete


def test_skip_link_focus_ring_and_current_page(ui):
    ui.sign_in()
    ui.visible("#bucket-table")
    ui.d.refresh()
    ui.visible("#bucket-table")
    ui.keys(TAB)
    assert ui.active_id() == "skip-link"
    assert ui.css("#skip-link").is_displayed()
    ui.keys(ENTER)
    assert ui.active_id() == "content"

    # a strong, opaque focus ring on keyboard focus
    ui.keys(TAB)
    style = ui.js("const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth, s.outlineColor]")
    assert style[0] == "solid" and float(style[1].rstrip("px")) >= 3, style
    assert not re.match(r"rgba\(.*, 0?\.\d+\)$", style[2]), f"faint focus ring {style[2]}"

    # the nav marks the current page
    assert ui.attr('a.nav-item[data-nav="buckets"]', "aria-current") == "page"
    assert ui.attr('a.nav-item[data-nav="usage"]', "aria-current") is None
    ui.click('a.nav-item[data-nav="usage"]')
    ui.visible("#usage-bucket")
    assert ui.attr('a.nav-item[data-nav="usage"]', "aria-current") == "page"
    assert ui.attr('a.nav-item[data-nav="buckets"]', "aria-current") is None
    # the usage filters have accessible names
    assert ui.css("#usage-bucket").accessible_name.startswith("Bucket")
    assert ui.css("#usage-period").accessible_name.startswith("Period")


def test_create_bucket_pattern_compiles_and_validates(ui):
    ui.sign_in()
    ui.visible("#bucket-table")
    console_errors(ui)
    ui.click("#create-bucket")
    field = ui.visible("#bucket-name")
    errors = console_errors(ui)
    assert not [e for e in errors if "pattern" in e.lower()], errors
    field.send_keys("Bad_Name")
    assert ui.js("return arguments[0].validity.patternMismatch", field) is True
    ui.click("#create-bucket-ok")                    # the browser's own validation stops it
    assert ui.all(".dialog") and ui.active_id() == "bucket-name"
    field.clear()
    field.send_keys("good-name-2")
    assert ui.js("return arguments[0].validity.valid", field) is True
    ui.keys(ESC)
    assert console_errors(ui) == []
