"""Listing at scale, selection and bulk deletes, and the upload panel, in headless Chromium (issue
15, points 3, 6 and 7): a folder of 1,050 objects shows its total and jumps to any page, the page
and filter live in the URL (a reload stays put), Next scrolls to the top, an empty folder and its
pager agree; selected objects, whole folders and whole buckets are deleted through multi-object
delete in batches of 1,000 with progress and a summary of failures; the upload panel gets out of
the way once everything is uploaded."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import APPID
from tests.conftest import cos_client as make_cos
from tests.console.ui import UI
from tests.iam.conftest import allow, deny, make_user, objects, policy

pytestmark = pytest.mark.browser

BIG = f"big-{APPID}"
SMALL = f"small-{APPID}"
N = 1050


def keys_under(cos, bucket: str, prefix: str = "") -> list[str]:
    out, marker = [], ""
    while True:
        r = cos.list_objects(Bucket=bucket, Prefix=prefix, Marker=marker, MaxKeys=1000)
        out += [c["Key"] for c in r.get("Contents", [])]
        if r.get("IsTruncated") != "true":
            return out
        marker = r.get("NextMarker") or out[-1]


@pytest.fixture(scope="module")
def env(console_server, driver):
    cos = make_cos(console_server.port)
    cos.create_bucket(Bucket=BIG)
    cos.create_bucket(Bucket=SMALL)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: cos.put_object(Bucket=BIG, Key=f"big/obj-{i:04d}.txt", Body=b"x"), range(N)))
    cos.put_object(Bucket=BIG, Key="empty/", Body=b"")
    for i in range(30):
        cos.put_object(Bucket=SMALL, Key=f"folder/f-{i:02d}.txt", Body=b"y")
    for k in ("a.txt", "b.txt", "c.txt", "locked/l1.txt", "locked/l2.txt"):
        cos.put_object(Bucket=SMALL, Key=k, Body=b"z")
    ui = UI(driver, console_server.endpoint)
    ui.open()
    ui.sign_in()
    return ui, cos


def goto(ui: UI, hash_: str) -> None:
    ui.js("location.hash = arguments[0]", hash_)


def test_listing_at_scale_total_jump_url_and_scroll(env, artifacts_dir):
    ui, _ = env
    goto(ui, f"#/b/{BIG}/big%2F")
    ui.row("big/obj-0000.txt")
    assert len(ui.rows()) == 50
    ui.until(lambda: ui.attr("#pager", "data-total") == str(N), "total counted")
    assert "1–50 of 1,050 items" in ui.css("#pager-summary").text
    assert ui.css("#page-input").get_attribute("max") == "21"

    # Next scrolls back to the top of the list
    ui.js("window.scrollTo(0, document.body.scrollHeight)")
    ui.until(lambda: ui.js("return window.scrollY") > 0, "scrolled down")
    ui.click("#page-next")
    ui.until(lambda: ui.rows()[:1] == ["big/obj-0050.txt"], "page 2")
    assert ui.js("return window.scrollY") == 0
    assert "page=2" in ui.d.current_url

    # jump straight to the last page; the URL keeps it, a reload stays there
    field = ui.css("#page-input")
    field.clear()
    field.send_keys("21\n")
    ui.until(lambda: ui.rows()[:1] == ["big/obj-1000.txt"], "page 21")
    assert len(ui.rows()) == 50 and "page=21" in ui.d.current_url
    assert not ui.css("#page-next").is_enabled()
    ui.d.refresh()
    ui.until(lambda: ui.rows()[:1] == ["big/obj-1000.txt"], "still page 21 after reload")
    ui.until(lambda: "of 1,050" in ui.css("#pager-summary").text, "total after reload")
    assert "1,001–1,050 of 1,050" in ui.css("#pager-summary").text
    ui.assert_accessible("page 21 with the page jump")
    ui.screenshot(artifacts_dir, "21-page-21-of-21.png")

    # a page past the end (an old link) lands on the last page, and says so in the URL
    goto(ui, f"#/b/{BIG}/big%2F?page=99")
    ui.until(lambda: ui.rows()[:1] == ["big/obj-1000.txt"], "clamped to page 21")
    ui.until(lambda: "page=21" in ui.d.current_url, "URL corrected")

    # the name filter (a prefix inside this folder), also in the URL
    box = ui.css("#object-filter")
    box.clear()
    box.send_keys("obj-104\n")
    ui.until(lambda: len(ui.rows()) == 10 and ui.rows()[0] == "big/obj-1040.txt", "filtered")
    assert "q=obj-104" in ui.d.current_url
    assert "1–10 of 10 items" in ui.css("#pager-summary").text
    ui.click("#filter-clear")
    ui.until(lambda: len(ui.rows()) == 50, "filter cleared")

    # an empty folder: the list and the pager agree
    goto(ui, f"#/b/{BIG}/empty%2F")
    ui.visible("#empty-state")
    assert "This folder is empty" in ui.css("#empty-state").text
    assert ui.css("#pager-summary").text == "0 items"
    assert ui.js_errors() == []


def test_select_and_delete_with_a_failure_summary(env, console_server, artifacts_dir):
    ui, cos = env
    # a sub-account that may delete anything but locked/*: the summary lists what was refused
    user = make_user(console_server, policy(
        allow(["name/cos:GetService"], ["*"]),
        allow(["name/cos:GetBucket", "name/cos:GetObject", "name/cos:DeleteObject", "name/cos:PutObject"], [objects(SMALL)]),
        deny(["name/cos:DeleteObject"], [objects(SMALL, "locked/")])))
    ui.sign_in(user.secret_id, user.secret_key)
    goto(ui, f"#/b/{SMALL}/")
    ui.row("a.txt")
    for key in ("a.txt", "b.txt", "locked/"):
        ui.row(key).find_element("css selector", "input.row-check").click()
    assert ui.visible("#selection-count").text == "2 objects and 1 folder selected"
    ui.click("#delete-selected")
    ui.click("#confirm-ok")
    ui.until(lambda: ui.attr("#bulk-dialog", "data-state") == "done", "bulk delete finished")
    summary = ui.visible("#bulk-summary").text
    assert "2 objects deleted." in summary
    failures = ui.css("#bulk-failures").text
    assert "2 could not be deleted" in failures
    assert "2 × You don't have permission to delete this object." in failures
    assert "locked/l1.txt" not in failures                 # keys and codes are behind "Details"
    ui.css("#bulk-failures summary").click()
    assert "locked/l1.txt: AccessDenied" in ui.css("#bulk-failures").text
    ui.assert_accessible("bulk delete summary")
    ui.screenshot(artifacts_dir, "22-bulk-failures.png")
    ui.click("#bulk-close")
    ui.until(lambda: "a.txt" not in ui.rows() and "locked/" in ui.rows(), "list refreshed")
    assert sorted(keys_under(cos, SMALL, "locked/")) == ["locked/l1.txt", "locked/l2.txt"]
    assert ui.js_errors() == []


def test_folder_delete_shows_progress(env):
    ui, cos = env
    ui.sign_in()
    goto(ui, f"#/b/{SMALL}/")
    ui.row("folder/").find_element("css selector", 'button[data-action="delete"]').click()
    ui.click("#confirm-ok")
    ui.visible("#bulk-progress")
    ui.until(lambda: ui.attr("#bulk-dialog", "data-state") == "done", "folder deleted")
    assert "Deleted 30 of 30" in ui.css("#bulk-status").text
    assert ui.attr("#bulk-progress", "aria-valuenow") == "100"
    ui.click("#bulk-close")
    assert keys_under(cos, SMALL, "folder/") == []


def test_a_bucket_of_1050_objects_is_emptied_and_deleted(env, artifacts_dir):
    ui, cos = env
    ui.sign_in()
    ui.click('a.nav-item[data-nav="buckets"]')
    ui.visible(f'#bucket-table tr[data-bucket="{BIG}"] button[data-action="delete"]').click()
    ui.click("#confirm-ok")
    # not empty: offered to empty it first, guarded by typing the name
    ui.visible("#confirm-name")
    assert not ui.css("#confirm-ok").is_enabled()
    ui.css("#confirm-name").send_keys(BIG)
    ui.click("#confirm-ok")
    ui.until(lambda: ui.attr("#bulk-dialog", "data-state") == "done", "emptied", timeout=120)
    assert ui.attr("#bulk-dialog", "data-batches") == "1000,51"          # 1,050 objects + the empty/ marker
    assert ui.attr("#bulk-dialog", "data-deleted") == str(N + 1)
    ui.screenshot(artifacts_dir, "23-emptied.png")
    ui.click("#bulk-close")
    ui.until(lambda: not ui.all(f'#bucket-table tr[data-bucket="{BIG}"]'), "bucket gone")
    from qcloud_cos.cos_exception import CosServiceError
    with pytest.raises(CosServiceError):
        cos.head_bucket(Bucket=BIG)


def test_a_versioned_bucket_is_emptied_of_every_version(env):
    ui, cos = env
    bucket = f"versioned-{APPID}"
    cos.create_bucket(Bucket=bucket)
    cos.put_bucket_versioning(Bucket=bucket, Status="Enabled")
    for body in (b"v1", b"v2", b"v3"):
        cos.put_object(Bucket=bucket, Key="doc.txt", Body=body)
    cos.put_object(Bucket=bucket, Key="gone.txt", Body=b"g")
    cos.delete_object(Bucket=bucket, Key="gone.txt")          # leaves a version and a delete marker
    ui.sign_in()
    ui.click('a.nav-item[data-nav="buckets"]')
    ui.visible(f'#bucket-table tr[data-bucket="{bucket}"] button[data-action="delete"]').click()
    ui.click("#confirm-ok")
    ui.visible("#confirm-name").send_keys(bucket)
    assert "every old version and delete marker" in ui.css(".dialog").text
    ui.click("#confirm-ok")
    ui.until(lambda: ui.attr("#bulk-dialog", "data-state") == "done", "emptied")
    assert ui.attr("#bulk-dialog", "data-deleted") == "5"        # 3 + 1 versions and 1 delete marker
    ui.click("#bulk-close")
    ui.until(lambda: not ui.all(f'#bucket-table tr[data-bucket="{bucket}"]'), "versioned bucket gone")


def test_empty_bucket_button(env):
    ui, cos = env
    ui.sign_in()
    goto(ui, f"#/b/{SMALL}/")
    ui.row("c.txt")
    ui.click("#empty-bucket")
    ui.visible("#confirm-name").send_keys(SMALL)
    ui.click("#confirm-ok")
    ui.until(lambda: ui.attr("#bulk-dialog", "data-state") == "done", "emptied")
    ui.click("#bulk-close")
    ui.visible("#empty-state")
    assert keys_under(cos, SMALL) == []
    cos.head_bucket(Bucket=SMALL)                      # the bucket itself stays


def test_upload_panel_gets_out_of_the_way(env, tmp_path):
    ui, cos = env
    bucket = f"uploads-{APPID}"
    cos.create_bucket(Bucket=bucket)
    ui.sign_in()
    goto(ui, f"#/b/{bucket}/")
    ui.visible("#empty-state")
    files = []
    for i in range(8):
        p = tmp_path / f"up-{i}.txt"
        p.write_text(f"upload {i}")
        files.append(str(p))
    ui.css("#file-input").send_keys("\n".join(files))
    ui.until(lambda: ui.attr("#upload-panel", "data-state") == "complete", "uploads done")
    assert ui.css("#upload-title").text == "8 files uploaded"
    ui.until(lambda: len(ui.rows()) == 8, "listed")
    # while the panel is up, the page scrolls far enough that the last row's buttons are not under it
    last = ui.row("up-7.txt").find_element("css selector", 'button[data-action="delete"]')
    ui.js("window.scrollTo(0, document.documentElement.scrollHeight)")
    if ui.css("#upload-panel").is_displayed():
        hit = ui.js("""const r = arguments[0].getBoundingClientRect();
                       return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)?.closest('button') === arguments[0]""", last)
        assert hit, "the upload panel covers the last row's Delete"
    # and it closes itself once everything succeeded
    ui.until(lambda: not ui.css("#upload-panel").is_displayed(), "panel hidden", timeout=10)
