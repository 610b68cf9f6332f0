"""The console on a phone (issue 15, point 2): at 390x844 every page fits the width (no sideways
scroll), every row's Download / Delete / beauty button is on screen and clickable (the tables turn
into cards), Sign out is reachable, and the breadcrumb shows full names. Screenshots go to
test-artifacts/console/mobile-*.png."""

from __future__ import annotations

import io

import pytest

from tests.conftest import APPID
from tests.conftest import cos_client as make_cos
from tests.console.ui import UI

pytestmark = pytest.mark.browser

W, H = 390, 844
BUCKET = f"a-bucket-with-a-long-name-{APPID}"
FOLDER = "holiday-photos-from-the-mountains/day-two-at-the-lake/"


@pytest.fixture(scope="module")
def ui(console_server, driver):
    from PIL import Image
    cos = make_cos(console_server.port)
    cos.create_bucket(Bucket=BUCKET)
    cos.create_bucket(Bucket=f"second-{APPID}")
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 140, 120)).save(buf, "JPEG")
    cos.put_object(Bucket=BUCKET, Key="IMG_20240611_183512_a_quite_long_camera_file_name.jpg", Body=buf.getvalue())
    cos.put_object(Bucket=BUCKET, Key="notes.txt", Body=b"n")
    cos.put_object(Bucket=BUCKET, Key=FOLDER + "lake-panorama-stitched-from-twelve-frames.jpg", Body=buf.getvalue())
    cos.put_object(Bucket=BUCKET, Key=FOLDER + "readme.txt", Body=b"r")
    ui = UI(driver, console_server.endpoint)
    ui.viewport(W, H, mobile=True)
    ui.open()
    ui.sign_in()
    yield ui
    ui.reset_viewport()


def assert_fits(ui: UI, where: str) -> None:
    width = ui.js("return [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]")
    culprits = ui.js("""return [...document.body.querySelectorAll('*')].filter((e) => e.scrollWidth > innerWidth + 1
        && !['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX)).slice(0, 8)
        .map((e) => `${e.tagName}#${e.id}.${e.className} ${e.scrollWidth}`)""")
    assert width[2] == W and max(width[:2]) <= W, f"{where}: scrolls sideways {width} {culprits}"
    # nothing visible sticks out to the right
    wide = ui.js("""return [...document.querySelectorAll('#app *')].filter((e) => {
        const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
        return r.width && r.height && s.visibility !== 'hidden' && r.right > innerWidth + 1
          && !e.closest('.table-card table.compact, #usage-totals, #usage-records');
      }).slice(0, 5).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert wide == [], f"{where}: {wide}"


def reachable(ui: UI, el) -> bool:
    """On screen after scrolling to it, inside the viewport's width, and the topmost element there."""
    return ui.js("""const el = arguments[0]; el.scrollIntoView({block: 'center'});
        const r = el.getBoundingClientRect();
        if (!r.width || r.left < 0 || r.right > innerWidth || r.top < 0 || r.bottom > innerHeight) return false;
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return hit === el || el.contains(hit);""", el)


def sign_out_reachable(ui: UI) -> None:
    ui.js("window.scrollTo(0, 0)")
    assert reachable(ui, ui.css("#sign-out")), "Sign out is not reachable"
    assert ui.css("#sign-out").text == "Sign out"


def test_buckets_fit_a_phone(ui, artifacts_dir):
    ui.click('a.nav-item[data-nav="buckets"]')
    row = ui.visible(f'#bucket-table tr[data-bucket="{BUCKET}"]')
    assert_fits(ui, "buckets")
    assert reachable(ui, row.find_element("css selector", 'button[data-action="delete"]'))
    assert reachable(ui, row.find_element("css selector", "a.bucket-link"))
    sign_out_reachable(ui)
    ui.screenshot(artifacts_dir, "mobile-buckets.png")


def test_objects_fit_a_phone_with_every_action(ui, artifacts_dir):
    ui.js("location.hash = arguments[0]", f"#/b/{BUCKET}/")
    ui.row("notes.txt")
    assert_fits(ui, "objects")
    for key in ("IMG_20240611_183512_a_quite_long_camera_file_name.jpg", "notes.txt"):
        row = ui.row(key)
        for action in ("download", "delete"):
            assert reachable(ui, row.find_element("css selector", f'[data-action="{action}"]')), (key, action)
        assert reachable(ui, row.find_element("css selector", "input.row-check")), key
    assert reachable(ui, ui.row("IMG_20240611_183512_a_quite_long_camera_file_name.jpg")
                     .find_element("css selector", '[data-action="beauty"]'))
    for sel in ("#upload-button", "#new-folder", "#empty-bucket", "#object-filter", "#page-size"):
        assert reachable(ui, ui.css(sel)), sel
    sign_out_reachable(ui)
    ui.js("window.scrollTo(0, 0)")
    ui.assert_accessible("objects at 390 px")
    ui.screenshot(artifacts_dir, "mobile-objects.png")


def test_nested_folder_breadcrumb_shows_full_names(ui, artifacts_dir):
    ui.js("location.hash = arguments[0]", f"#/b/{BUCKET}/{FOLDER.replace('/', '%2F')}")
    row = ui.row(FOLDER + "readme.txt")
    assert_fits(ui, "folder")
    crumbs = ui.js("""return [...document.querySelectorAll('#crumbs .crumb')].map((c) => {
        const r = c.getBoundingClientRect();
        return {text: c.textContent, clipped: c.scrollWidth > c.clientWidth + 1, right: r.right}; })""")
    assert [c["text"] for c in crumbs] == ["Buckets", BUCKET, "holiday-photos-from-the-mountains", "day-two-at-the-lake"]
    for c in crumbs:
        assert not c["clipped"] and c["right"] <= W, c
    assert reachable(ui, row.find_element("css selector", '[data-action="delete"]'))
    ui.js("window.scrollTo(0, 0)")
    ui.screenshot(artifacts_dir, "mobile-folder.png")


def test_studio_and_usage_fit_a_phone(ui, artifacts_dir):
    ui.js("location.hash = arguments[0]", f"#/beauty/{BUCKET}/{FOLDER}lake-panorama-stitched-from-twelve-frames.jpg")
    ui.until(lambda: ui.attr("#compare", "data-state") in ("ready", "error"), "studio loaded")
    assert_fits(ui, "studio")
    assert reachable(ui, ui.css("#strength"))
    assert reachable(ui, ui.css("#save-key"))
    sign_out_reachable(ui)
    ui.assert_accessible("studio at 390 px")
    ui.screenshot(artifacts_dir, "mobile-studio.png")
    ui.click('a.nav-item[data-nav="usage"]')
    ui.visible("#usage-chart")
    assert_fits(ui, "usage")
    sign_out_reachable(ui)
    ui.screenshot(artifacts_dir, "mobile-usage.png")


def test_dialog_fits_a_phone(ui, artifacts_dir):
    ui.click('a.nav-item[data-nav="buckets"]')
    ui.click("#create-bucket")
    box = ui.visible(".dialog")
    r = ui.js("const r = arguments[0].getBoundingClientRect(); return [r.left, r.right]", box)
    assert r[0] >= 0 and r[1] <= W
    assert reachable(ui, ui.css("#create-bucket-ok"))
    ui.screenshot(artifacts_dir, "mobile-dialog.png")
    ui.keys("\ue00c")          # Escape
    ui.until(lambda: not ui.all(".dialog"), "closed")
    assert ui.js_errors() == []


def test_sign_out_and_sign_in_on_a_phone(ui, artifacts_dir):
    ui.js("document.querySelectorAll('.backdrop').forEach((b) => b.remove()); location.hash = '#/buckets'")
    ui.click("#sign-out")
    ui.visible("#secret-id")
    assert_fits(ui, "sign-in")
    assert reachable(ui, ui.css("#login-submit"))
    ui.assert_accessible("sign-in at 390 px")
    ui.screenshot(artifacts_dir, "mobile-sign-in.png")
    ui.sign_in()
    ui.visible("#bucket-table")
