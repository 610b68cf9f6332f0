"""The studio never loses data and says what is going on (issue 15, points 1 and 5), in headless
Chromium: the default "save as" key never names an existing object (checked with HEAD), saving over
the edited image or any existing object needs an explicit "Replace", and a photo without a face, a
non-image, a missing object or a bucket without AI each get a clear state with Save switched off."""

from __future__ import annotations

import io

import pytest

from tests.conftest import APPID
from tests.conftest import cos_client as make_cos
from tests.console.ui import UI
from tests.iam.conftest import signed

pytestmark = pytest.mark.browser


def jpeg(array=None, size=(96, 96), color=(128, 128, 128)) -> bytes:
    from PIL import Image
    img = Image.fromarray(array) if array is not None else Image.new("RGB", size, color)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


@pytest.fixture(scope="module")
def setup(console_server, driver):
    from skimage import data
    cos = make_cos(console_server.port)
    bucket, plain = f"safe-{APPID}", f"noai-{APPID}"
    for b in (bucket, plain):
        cos.create_bucket(Bucket=b)
    r = signed(console_server, "PUT", f"/console/api/ci/{bucket}", data=b'{"bound": true, "ai": true}')
    assert r.status_code == 200, r.text
    face = jpeg(data.astronaut())
    cos.put_object(Bucket=bucket, Key="astronaut.jpg", Body=face)
    cos.put_object(Bucket=bucket, Key="astronaut_beauty_50.jpg", Body=b"an older result, must survive")
    cos.put_object(Bucket=bucket, Key="gray.jpg", Body=jpeg())
    cos.put_object(Bucket=bucket, Key="notes.jpg", Body=b"this is text, not a JPEG")
    cos.put_object(Bucket=plain, Key="astronaut.jpg", Body=face)
    ui = UI(driver, console_server.endpoint)
    ui.open()
    ui.sign_in()
    return ui, cos, bucket, plain


def etag(cos, bucket: str, key: str) -> str:
    return cos.head_object(Bucket=bucket, Key=key)["ETag"]


def open_studio(ui: UI, bucket: str, key: str) -> None:
    ui.js("location.hash = arguments[0]", f"#/beauty/{bucket}/{key}")
    ui.until(lambda: ui.attr("#compare", "data-state") in ("ready", "error", "not-image", "missing")
             or ui.all("#stage-message"), f"studio for {key}")


def set_key(ui: UI, value: str) -> None:
    field = ui.visible("#save-key")
    field.clear()
    field.send_keys(value)


def test_default_key_never_collides_and_overwrites_need_confirmation(setup, artifacts_dir):
    ui, cos, bucket, _ = setup
    original, older = etag(cos, bucket, "astronaut.jpg"), etag(cos, bucket, "astronaut_beauty_50.jpg")
    open_studio(ui, bucket, "astronaut.jpg")
    ui.until(lambda: ui.attr("#compare", "data-state") == "ready", "beautified")
    # astronaut_beauty_50.jpg exists: the suggested key skips it (HEAD), instead of silently replacing it
    ui.until(lambda: ui.attr("#save-key", "data-checked") == "free", "default key checked")
    assert ui.css("#save-key").get_attribute("value") == "astronaut_beauty_50-2.jpg"

    # saving over the image being edited asks first; "Keep the original" keeps it
    set_key(ui, "astronaut.jpg")
    ui.click("#save-result")
    ui.visible("#confirm-ok")
    assert "Replace the original" in ui.css("#confirm-ok").text
    ui.click("#confirm-cancel")
    ui.visible("#save-cancelled")
    assert etag(cos, bucket, "astronaut.jpg") == original

    # any other existing key asks too
    set_key(ui, "astronaut_beauty_50.jpg")
    ui.click("#save-result")
    ui.visible("#confirm-ok")
    assert ui.css("#confirm-ok").text == "Replace"
    ui.assert_accessible("replace confirmation")
    ui.screenshot(artifacts_dir, "15-studio-replace-confirm.png")
    ui.click("#confirm-cancel")
    ui.visible("#save-cancelled")
    assert cos.get_object(Bucket=bucket, Key="astronaut_beauty_50.jpg")["Body"].get_raw_stream().read() \
        == b"an older result, must survive"

    # a new key saves straight away; then the suggestion is free again, and saving it twice never overwrites
    set_key(ui, "fresh/result.jpg")
    ui.click("#save-result")
    ui.visible("#saved-ok")
    assert not ui.all(".dialog")
    first = etag(cos, bucket, "fresh/result.jpg")
    ui.until(lambda: ui.attr("#save-key", "data-checked") == "free", "default key again")
    assert ui.css("#save-key").get_attribute("value") == "astronaut_beauty_50-2.jpg"
    ui.click("#save-result")
    ui.until(lambda: ui.all("#saved-ok") and "astronaut_beauty_50-2.jpg" in ui.css("#saved-ok").text, "saved -2")
    ui.until(lambda: ui.attr("#save-key", "data-checked") == "free", "next default key")
    assert ui.css("#save-key").get_attribute("value") == "astronaut_beauty_50-3.jpg"

    # replacing is possible, but only explicitly (another strength, so the bytes differ)
    from selenium.webdriver.common.keys import Keys
    ui.visible("#strength").send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    ui.until(lambda: ui.attr("#compare", "data-strength") == "0.70" and ui.attr("#compare", "data-state") == "ready",
             "re-processed at 0.70")
    set_key(ui, "fresh/result.jpg")
    ui.until(lambda: not ui.css("#save-result").get_attribute("disabled"), "save enabled")
    ui.click("#save-result")
    ui.click("#confirm-ok")
    ui.visible("#saved-ok")
    ui.until(lambda: etag(cos, bucket, "fresh/result.jpg") != first, "replaced after confirmation")
    assert etag(cos, bucket, "astronaut.jpg") == original
    assert etag(cos, bucket, "astronaut_beauty_50.jpg") == older
    assert ui.js_errors() == []


def test_no_face_found_is_explained_and_not_saved(setup, artifacts_dir):
    ui, _, bucket, _ = setup
    open_studio(ui, bucket, "gray.jpg")
    ui.until(lambda: ui.attr("#compare", "data-faces") == "0", "faces counted")
    note = ui.visible("#no-face")
    assert "No face found" in note.text
    ui.until(lambda: ui.attr("#compare", "data-state") == "ready", "processed")
    assert not ui.css("#save-result").is_enabled()
    assert "No face was found" in ui.css("#save-hint").text
    ui.assert_accessible("studio, no face found")
    ui.screenshot(artifacts_dir, "16-studio-no-face.png")


def test_non_image_and_missing_object_states(setup, artifacts_dir):
    ui, _, bucket, _ = setup
    for key, state, words in (("notes.jpg", "not-image", "not an image"), ("gone.jpg", "missing", "does not exist")):
        open_studio(ui, bucket, key)
        msg = ui.visible("#stage-message")
        assert msg.get_attribute("data-state") == state
        assert words in msg.text
        # readable: dark text on a light card, not on the dark stage
        bg, fg = ui.js("const s = getComputedStyle(arguments[0]); return [s.backgroundColor, s.color]", msg)
        assert bg == "rgb(255, 255, 255)" and fg != bg, (bg, fg)
        assert not ui.css("#save-result").is_enabled()
        assert ui.css("#save-hint").text
        assert "0 × 0" not in ui.css("#image-size").text
    ui.screenshot(artifacts_dir, "17-studio-missing.png")
    assert ui.js_errors() == []


def test_save_is_off_while_ai_is_off(setup):
    ui, _, _, plain = setup
    open_studio(ui, plain, "astronaut.jpg")
    ui.until(lambda: ui.attr("#compare", "data-state") == "error", "refused: AI off")
    assert "AI face beauty is off" in ui.visible(".cmp-notice").text
    assert not ui.css("#save-result").is_enabled()
    assert "AI face beauty is off" in ui.css("#save-hint").text
