"""Sign-in and permissions in the console, in headless Chromium, with real sub-accounts and policies
(issue 15, points 4, 10 and 11): a bucket-scoped sub-account without cos:GetService signs in and
opens its bucket by name (remembered for the tab); buttons it may not use are disabled and explained
up front (the dry-run /console/api/permissions check); errors are sentences with the technical
detail behind "Details"; a refused upload is reported as failed; nothing chosen by one identity
(usage filter, page size) carries over to the next sign-in in the same tab."""

from __future__ import annotations

import pytest

from tests.conftest import APPID, SECRET_ID, SECRET_KEY
from tests.conftest import cos_client as make_cos
from tests.console.ui import UI
from tests.iam.conftest import allow, deny, make_user, objects, policy

pytestmark = pytest.mark.browser

SCOPED = f"scoped-{APPID}"
OTHER = f"other-{APPID}"


@pytest.fixture(scope="module")
def env(console_server, driver):
    cos = make_cos(console_server.port)
    for b in (SCOPED, OTHER):
        cos.create_bucket(Bucket=b)
    for key in ("readme.txt", "photos/a.jpg", "uploads/keep.txt"):
        cos.put_object(Bucket=SCOPED, Key=key, Body=b"hello")
    # read-only on one bucket, no cos:GetService: the way COS users are commonly scoped
    reader = make_user(console_server, policy(allow(["name/cos:GetObject", "name/cos:GetBucket", "name/cos:HeadObject"],
                                                    [objects(SCOPED)])))
    # lists buckets, reads this one, and may write under uploads/, except secret*
    writer = make_user(console_server, policy(
        allow(["name/cos:GetService"], ["*"]),
        allow(["name/cos:GetObject", "name/cos:GetBucket", "name/cos:HeadObject"], [objects(SCOPED)]),
        allow(["name/cos:PutObject", "name/cos:DeleteObject"], [objects(SCOPED, "uploads/")]),
        deny(["name/cos:PutObject"], [objects(SCOPED, "uploads/secret")]),
        deny(["name/cos:DeleteObject"], [objects(SCOPED, "uploads/keep")])))
    ui = UI(driver, console_server.endpoint)
    ui.open()
    return ui, cos, reader, writer


def test_bucket_scoped_user_signs_in_and_opens_its_bucket_by_name(env, artifacts_dir):
    ui, _, reader, _ = env
    ui.sign_in(reader.secret_id, reader.secret_key)
    form = ui.visible("#open-bucket")                     # no list (no cos:GetService), but a way in
    assert "Open a bucket by name" in form.text
    assert not ui.all("#bucket-table")
    assert ui.css("#create-bucket").get_attribute("disabled") is not None     # no cos:PutBucket either
    ui.visible("#open-bucket-name").send_keys("scoped")                        # the APPID suffix is added
    ui.click("#open-bucket-ok")
    ui.row("readme.txt")
    assert ui.d.current_url.endswith(f"#/b/{SCOPED}/")
    # remembered for the tab, also across a reload
    ui.d.refresh()
    ui.row("readme.txt")
    ui.click('a.nav-item[data-nav="buckets"]')
    pill = ui.visible(f'#open-bucket a.bucket-pill[href="#/b/{SCOPED}/"]')
    ui.assert_accessible("open a bucket by name")
    ui.screenshot(artifacts_dir, "18-scoped-sign-in.png")
    pill.click()
    ui.row("photos/")
    # a bucket it may not read says so in a sentence, with the technical detail behind "Details"
    ui.js("location.hash = arguments[0]", f"#/b/{OTHER}/")
    err = ui.visible(".table-host .error-state")
    assert "You don't have permission to list the objects in this bucket." in err.text
    details = err.find_element("css selector", "details.error-details")
    assert details.get_attribute("open") is None
    assert "AccessDenied" not in err.text                 # hidden until "Details" is opened
    details.find_element("css selector", "summary").click()
    assert "AccessDenied" in details.text
    assert ui.js_errors() == []


def test_actions_are_disabled_and_explained_up_front(env, artifacts_dir):
    ui, _, _, writer = env
    ui.sign_in(writer.secret_id, writer.secret_key)        # may write under uploads/ only
    ui.js("location.hash = arguments[0]", f"#/b/{SCOPED}/")
    ui.row("readme.txt")
    notice = ui.visible("#perm-notice")
    assert "may not upload or create folders" in notice.text and "delete" in notice.text
    for sel in ("#upload-button", "#new-folder", "#empty-bucket"):
        ui.until(lambda sel=sel: ui.css(sel).get_attribute("disabled") is not None, f"{sel} disabled")
        assert ui.css(sel).get_attribute("title"), f"{sel} explains why"
    row = ui.row("readme.txt")
    delete = row.find_element("css selector", 'button[data-action="delete"]')
    download = row.find_element("css selector", 'button[data-action="download"]')
    assert not delete.is_enabled() and "cos:DeleteObject" in delete.get_attribute("title")
    assert download.is_enabled()
    assert not row.find_elements("css selector", "input.row-check")              # nothing to select for
    ui.until(lambda: ui.attr("#ci-card", "data-denied"), "CI switches explained")
    assert not ui.css("#ci-bound").is_enabled()
    ui.assert_accessible("read-only objects page")
    ui.screenshot(artifacts_dir, "19-read-only.png")


def test_refused_upload_is_a_failure_with_a_sentence(env, tmp_path, artifacts_dir):
    ui, cos, _, writer = env
    ui.sign_in(writer.secret_id, writer.secret_key)
    ui.js("location.hash = arguments[0]", f"#/b/{SCOPED}/uploads%2F")
    ui.row("uploads/keep.txt")
    assert not ui.all("#perm-notice:not([hidden])")
    assert ui.css("#upload-button").is_enabled()
    ok, refused = tmp_path / "fine.txt", tmp_path / "secret.txt"
    ok.write_text("fine")
    refused.write_text("secret")
    ui.css("#file-input").send_keys(f"{ok}\n{refused}")
    ui.until(lambda: ui.attr("#upload-panel", "data-state") == "failed", "one upload refused")
    title = ui.css("#upload-title").text
    assert title == "1 file uploaded, 1 failed", title
    assert "complete" not in title.lower()
    failed = ui.visible('#upload-panel .upload-row.failed[data-name="secret.txt"]')
    assert "You don't have permission to upload here." in failed.text
    assert "AccessDenied" not in failed.text
    failed.find_element("css selector", "summary").click()
    assert "AccessDenied" in failed.find_element("css selector", "details").text
    ui.row("uploads/fine.txt")
    # the failed one stays on screen (no auto-hide) until dismissed
    assert ui.css("#upload-panel").is_displayed()
    ui.assert_accessible("upload panel with a failure")
    ui.screenshot(artifacts_dir, "20-upload-refused.png")
    ui.click("#upload-panel-close")
    cos.head_object(Bucket=SCOPED, Key="uploads/fine.txt")

    # a refused delete: a sentence in a toast at the bottom, never over the title, details folded
    ui.row("uploads/keep.txt").find_element("css selector", 'button[data-action="delete"]').click()
    ui.click("#confirm-ok")
    toast = ui.visible("#toasts .toast.error")
    assert "You don't have permission to delete this object." in toast.text and "AccessDenied" not in toast.text
    overlap = ui.js("""const t = arguments[0].getBoundingClientRect();
        return [...document.querySelectorAll('h1, .topbar')].some((e) => { const r = e.getBoundingClientRect();
          return !(t.bottom <= r.top || t.top >= r.bottom || t.right <= r.left || t.left >= r.right); });""", toast)
    assert not overlap, "the error toast covers the title"
    cos.head_object(Bucket=SCOPED, Key="uploads/keep.txt")
    assert ui.js_errors() == []


def test_ui_state_is_reset_between_sign_ins(env):
    from selenium.webdriver.support.ui import Select
    ui, _, _, writer = env
    ui.sign_in(SECRET_ID, SECRET_KEY)
    ui.click('a.nav-item[data-nav="usage"]')
    ui.until(lambda: len(ui.all(f'#usage-bucket option[value="{OTHER}"]')) == 1, "bucket filter options")
    Select(ui.css("#usage-bucket")).select_by_value(OTHER)
    Select(ui.css("#usage-period")).select_by_value("7d")
    ui.js("location.hash = arguments[0]", f"#/b/{SCOPED}/")
    ui.row("readme.txt")
    Select(ui.css("#page-size")).select_by_value("20")
    ui.until(lambda: ui.css("#page-size").get_attribute("value") == "20", "page size 20")
    ui.click("#sign-out")
    ui.visible("#secret-id")
    ui.sign_in(writer.secret_id, writer.secret_key)
    ui.click('a.nav-item[data-nav="usage"]')
    ui.visible("#usage-bucket")
    ui.until(lambda: len(ui.all(f'#usage-bucket option[value="{OTHER}"]')) == 1, "bucket options (it may list)")
    assert ui.css("#usage-bucket").get_attribute("value") == ""        # root's choice did not carry over
    assert ui.css("#usage-period").get_attribute("value") == "30d"
    ui.visible("#usage-error")                          # usage is root-only: said as a sentence
    assert "only available to the root account" in ui.css("#usage-error").text
    ui.js("location.hash = arguments[0]", f"#/b/{SCOPED}/")
    ui.row("readme.txt")
    assert ui.css("#page-size").get_attribute("value") == "50"


def test_sign_in_errors_are_sentences(env):
    ui, _, reader, _ = env
    ui.js("document.querySelectorAll('.backdrop').forEach((b) => b.remove()); location.hash = '#/login'")
    for secret_id, secret_key, sentence in ((reader.secret_id, "not-the-key", "Wrong SecretKey for this SecretId."),
                                            ("AKIDnobodyhasthiskey00000000000000", "x", "Unknown SecretId.")):
        ui.visible("#secret-id").clear()
        ui.css("#secret-id").send_keys(secret_id)
        ui.css("#secret-key").clear()
        ui.css("#secret-key").send_keys(secret_key)
        ui.click("#login-submit")
        ui.until(lambda s=sentence: ui.css("#login-error").is_displayed() and s in ui.css("#login-error").text, sentence)
        assert "Details" in ui.css("#login-error").text
    assert "not-the-key" not in (ui.js("return sessionStorage.getItem('cosbeauty.console.credentials')") or "")
