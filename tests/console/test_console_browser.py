"""End to end in headless Chromium (selenium + Debian's chromium/chromedriver): sign in, create a
bucket, upload the astronaut through the file input, switch AI face beauty on, use the
before/after studio (drag the split, move the strength slider), save the result as a new
object and find it listed -- and in the bucket, through the SDK. Screenshots go to
test-artifacts/console/."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from tests.conftest import APPID, SECRET_ID, SECRET_KEY, cos_client
from tests.console.ui import UI

pytestmark = pytest.mark.browser

@pytest.fixture(scope="module")
def astronaut_jpeg(tmp_path_factory) -> str:
    from PIL import Image
    from skimage import data

    path = tmp_path_factory.mktemp("photos") / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(path, "JPEG", quality=92)
    return str(path)


@pytest.fixture(scope="module")
def ui(driver, console_server):
    return UI(driver, console_server.endpoint)


def test_console_end_to_end(ui, console_server, astronaut_jpeg, artifacts_dir):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    cos = cos_client(console_server.port)
    bucket = f"studio-{APPID}"

    # sign in ---------------------------------------------------------------------------------
    ui.d.get(ui.endpoint + "/console/")
    ui.visible("#secret-id").send_keys(SECRET_ID)
    ui.css("#secret-key").send_keys(SECRET_KEY)
    ui.screenshot(artifacts_dir, "01-login.png")
    ui.click("#login-submit")
    ui.visible("#create-bucket")
    stored = ui.d.execute_script("return sessionStorage.getItem('cosbeauty.console.credentials')")
    assert SECRET_KEY in stored
    assert ui.d.execute_script("return localStorage.length") == 0
    assert ui.d.get_cookies() == []

    # create a bucket -------------------------------------------------------------------------
    ui.click("#create-bucket")
    ui.visible("#bucket-name").send_keys("studio")
    ui.click("#create-bucket-ok")
    ui.until(lambda: ui.d.current_url.endswith(f"#/b/{bucket}/"), "objects view of the new bucket")
    cos.head_bucket(Bucket=bucket)          # exists (list_buckets: see the service-listing tests)

    # upload through the file input ----------------------------------------------------------------
    ui.visible(".empty")                                   # a new bucket is empty
    ui.css("#file-input").send_keys(astronaut_jpeg)
    ui.until(lambda: ui.all("#upload-panel .upload-row.done"), "upload finished")
    ui.row("astronaut.jpg")
    with open(astronaut_jpeg, "rb") as f:
        original = f.read()
    assert cos.get_object(Bucket=bucket, Key="astronaut.jpg")["Body"].get_raw_stream().read() == original

    # switch AI face beauty on for the bucket ------------------------------------------------------
    ui.until(lambda: ui.attr("#ci-card", "data-ai") == "false", "CI state loaded")
    ui.css("#ci-card label.switch:last-child").click()
    ui.until(lambda: ui.attr("#ci-card", "data-ai") == "true" and ui.attr("#ci-card", "data-bound") == "true",
             "AI enabled")
    ui.screenshot(artifacts_dir, "02-bucket.png")

    # the before/after studio ---------------------------------------------------------------------
    ui.row("astronaut.jpg").find_element("css selector", 'a[data-action="beauty"]').click()
    ui.until(lambda: ui.attr("#compare", "data-state") == "ready", "first beautified image")
    assert ui.attr("#compare", "data-strength") == "0.50"
    ui.until(lambda: ui.attr("#compare", "data-faces") not in (None, "error"), "face boxes")
    assert int(ui.attr("#compare", "data-faces")) == 1
    assert len(ui.all(".face-layer .face-box")) == 1
    first_src = ui.attr("#after-img", "src")

    # drag the split to the left
    handle = ui.visible("#split-handle")
    ActionChains(ui.d).click_and_hold(handle).move_by_offset(-120, 0).move_by_offset(-40, 0).release().perform()
    split = int(ui.attr("#compare", "data-split"))
    assert 10 < split < 45, split
    handle.send_keys(*[Keys.ARROW_RIGHT] * ((50 - split) // 2))      # keyboard too: back to the middle
    assert abs(int(ui.attr("#compare", "data-split")) - 50) <= 2

    # move the strength slider with the keyboard: 0.50 -> 0.80 (step 0.05), one debounced request
    slider = ui.visible("#strength")
    slider.send_keys(*[Keys.ARROW_RIGHT] * 6)
    assert ui.css("#strength-value").text == "0.80"
    ui.until(lambda: ui.attr("#compare", "data-strength") == "0.80" and ui.attr("#compare", "data-state") == "ready",
             "re-processed at 0.80")
    assert ui.attr("#after-img", "src") != first_src
    ui.screenshot(artifacts_dir, "03-studio.png")

    # save the result as a new object (image_process) ------------------------------------------------
    save_key = ui.css("#save-key")
    assert save_key.get_attribute("value") == "astronaut_beauty_80.jpg"
    ui.click("#save-result")
    ui.visible("#saved-ok")
    ui.screenshot(artifacts_dir, "04-saved.png")
    ui.click("#saved-open")
    ui.row("astronaut_beauty_80.jpg")
    ui.screenshot(artifacts_dir, "05-listed.png")

    saved = cos.get_object(Bucket=bucket, Key="astronaut_beauty_80.jpg")
    data = saved["Body"].get_raw_stream().read()
    assert data[:3] == b"\xff\xd8\xff" and data != original
    from PIL import Image
    assert Image.open(io.BytesIO(data)).size == (512, 512)
    assert hashlib.md5(data).hexdigest() != hashlib.md5(original).hexdigest()

    # usage: the studio's calls were metered -----------------------------------------------------------
    ui.click('a.nav-item[data-nav="usage"]')
    ui.visible("#usage-chart")
    calls = int(ui.css("#kpi-calls .kpi-value").text)
    assert calls >= 3                          # 0.50, 0.80 previews and the saved result
    bars = [b for b in ui.all("#usage-chart .bar") if int(b.get_attribute("data-ok")) > 0]
    assert len(bars) == 1 and int(bars[0].get_attribute("data-ok")) == calls
    assert ui.all("#usage-records tbody tr")
    ui.screenshot(artifacts_dir, "06-usage.png")

    assert ui.js_errors() == []


def test_paging_multipart_download_delete(ui, console_server, artifacts_dir, tmp_path):
    """Marker paging, a multipart upload (> 16 MiB) with progress, download, delete, drag and drop,
    breadcrumbs, sign out."""
    cos = cos_client(console_server.port)
    bucket = f"bulk-{APPID}"
    cos.create_bucket(Bucket=bucket)
    for i in range(25):
        cos.put_object(Bucket=bucket, Key=f"many/item-{i:02d}.txt", Body=f"item {i}".encode())

    if "#/" not in ui.d.current_url:           # signed in by the previous test, or sign in now
        ui.d.get(ui.endpoint + "/console/")
    if ui.all("#secret-id"):
        ui.visible("#secret-id").send_keys(SECRET_ID)
        ui.css("#secret-key").send_keys(SECRET_KEY)
        ui.click("#login-submit")
        ui.visible("#create-bucket")

    ui.d.get(ui.endpoint + f"/console/#/b/{bucket}/")
    ui.visible('#object-table tr[data-key="many/"] a.folder-link').click()
    ui.until(lambda: ui.d.current_url.endswith("many%2F"), "into many/")
    ui.row("many/item-00.txt")

    # page size 20 -> two pages (marker paging)
    from selenium.webdriver.support.ui import Select
    Select(ui.visible("#page-size")).select_by_value("20")
    ui.until(lambda: len(ui.all("#object-table tbody tr[data-key]")) == 20, "20 rows")
    ui.click("#page-next")
    ui.until(lambda: len(ui.all("#object-table tbody tr[data-key]")) == 5, "page 2: 5 rows")
    ui.row("many/item-24.txt")
    assert not ui.css("#page-next").is_enabled()
    ui.click("#page-prev")
    ui.until(lambda: len(ui.all("#object-table tbody tr[data-key]")) == 20, "back to page 1")

    # multipart upload of an 18 MiB file through the file input
    big = tmp_path / "big.bin"
    payload = os.urandom(18 * 1024 * 1024)
    big.write_bytes(payload)
    ui.css("#file-input").send_keys(str(big))
    ui.until(lambda: any("3 parts" in r.text for r in ui.all("#upload-panel .upload-row.done")), "multipart done",)
    head = cos.head_object(Bucket=bucket, Key="many/big.bin")
    assert int(head["Content-Length"]) == len(payload)
    body = cos.get_object(Bucket=bucket, Key="many/big.bin")["Body"].get_raw_stream().read()
    assert hashlib.md5(body).digest() == hashlib.md5(payload).digest()
    ui.screenshot(artifacts_dir, "07-multipart.png")

    # the download link is a pre-signed GET with an attachment disposition
    url = ui.d.execute_script("""
        const mod = await import('/console/js/main.js');
        return await mod.getClient().presignedUrl(arguments[0], 'many/item-03.txt',
          {'response-content-disposition': 'attachment'}, 60);""", bucket)
    import httpx
    r = httpx.get(url)
    assert r.status_code == 200 and r.content == b"item 3" and r.headers["content-disposition"] == "attachment"

    # delete one object through the confirm dialog
    ui.row("many/item-03.txt").find_element("css selector", 'button[data-action="delete"]').click()
    ui.click("#confirm-ok")
    ui.until(lambda: not ui.all('#object-table tr[data-key="many/item-03.txt"]'), "row gone")
    from qcloud_cos.cos_exception import CosServiceError
    with pytest.raises(CosServiceError):
        cos.head_object(Bucket=bucket, Key="many/item-03.txt")

    # drag and drop: a synthetic drop of two files on the list uploads them into the current folder
    ui.d.execute_script("""
        const dt = new DataTransfer();
        dt.items.add(new File(['dropped one'], 'drop-1.txt', {type: 'text/plain'}));
        dt.items.add(new File(['dropped two'], 'drop-2.txt', {type: 'text/plain'}));
        const zone = document.getElementById('dropzone');
        for (const type of ['dragenter', 'dragover', 'drop'])
          zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));""")
    ui.until(lambda: ui.all('#object-table tr[data-key="many/drop-1.txt"]')
             and ui.all('#object-table tr[data-key="many/drop-2.txt"]'), "dropped files listed")
    assert cos.get_object(Bucket=bucket, Key="many/drop-2.txt")["Body"].get_raw_stream().read() == b"dropped two"

    # breadcrumb back to the bucket root
    ui.visible(f'#crumbs a.crumb[href="#/b/{bucket}/"]').click()
    ui.row("many/")
    assert ui.js_errors() == []

    # sign out forgets the keys
    ui.click("#sign-out")
    ui.visible("#secret-id")
    assert ui.d.execute_script("return sessionStorage.length") == 0
