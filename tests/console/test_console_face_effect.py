"""The studio's face-effect mode in headless Chromium (issue 15: "the studio exposes its controls
(the face-effect sliders) and shows, for a photo with no face, a clear 'no face found' state"):
a mode switch, four labelled sliders driven with the keyboard, a debounced preview through
``ci-process=face-effect`` whose values reach the server (its metering and the SDK agree on the
result), the portrait cut-out on a checkerboard, saving with the chosen rule (checked through
cos-python-sdk-v5), the no-face state in both modes and on the usage page, and controls disabled
with the reason when AI is off or the keys may not run face effects. axe-core on every state."""

from __future__ import annotations

import base64
import io

import pytest

from tests.conftest import APPID
from tests.conftest import cos_client as make_cos
from tests.console.ui import UI
from tests.iam.conftest import allow, make_user, objects, policy, signed

pytestmark = pytest.mark.browser

BUCKET = f"effect-{APPID}"
NOAI = f"effect-noai-{APPID}"
DEFAULT_RULE = "ci-process=face-effect&type=face-beautify&whitening=30&smoothing=10&faceLifting=70&eyeEnlarging=70"
CHOSEN = {"whitening": "100", "smoothing": "0", "faceLifting": "60", "eyeEnlarging": "65"}
CHOSEN_RULE = "ci-process=face-effect&type=face-beautify&" + "&".join(f"{k}={v}" for k, v in CHOSEN.items())


def jpeg(array=None, size=(96, 96), color=(128, 128, 128)) -> bytes:
    from PIL import Image
    img = Image.fromarray(array) if array is not None else Image.new("RGB", size, color)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def image_bytes(fmt: str) -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (96, 96), (128, 128, 128)).save(buf, fmt)
    return buf.getvalue()


@pytest.fixture(scope="module")
def env(console_server, driver):
    from skimage import data
    cos = make_cos(console_server.port)
    for b in (BUCKET, NOAI):
        cos.create_bucket(Bucket=b)
    r = signed(console_server, "PUT", f"/console/api/ci/{BUCKET}", data=b'{"bound": true, "ai": true}')
    assert r.status_code == 200, r.text
    face = jpeg(data.astronaut())
    cos.put_object(Bucket=BUCKET, Key="astronaut.jpg", Body=face)
    cos.put_object(Bucket=BUCKET, Key="gray.jpg", Body=jpeg())
    cos.put_object(Bucket=BUCKET, Key="wide.jpg", Body=jpeg(size=(2000, 400)))      # too wide to cut out
    cos.put_object(Bucket=BUCKET, Key="gray.webp", Body=image_bytes("WEBP"))       # face-effect: no WebP
    cos.put_object(Bucket=NOAI, Key="astronaut.jpg", Body=face)
    # may read, write and run AI face beauty here, but not face effects
    beauty_only = make_user(console_server, policy(
        allow(["name/cos:GetService"], ["*"]),
        allow(["name/cos:GetObject", "name/cos:HeadObject", "name/cos:GetBucket", "name/cos:HeadBucket",
               "name/cos:PutObject", "ci:CreateAIFaceBeautifyJob"], [objects(BUCKET)])))
    ui = UI(driver, console_server.endpoint)
    ui.open()
    ui.sign_in()
    return ui, cos, face, beauty_only


def open_studio(ui: UI, bucket: str, key: str) -> None:
    # the previous studio's stage must not be mistaken for the new one while the route re-renders
    ui.js("const c = document.getElementById('compare'); if (c) c.id = 'compare-leaving';"
          "location.hash = arguments[0]", f"#/beauty/{bucket}/{key}")
    ui.until(lambda: ui.attr("#compare", "data-state") in ("ready", "error", "blocked"), f"studio for {key}")


def effect_mode(ui: UI) -> None:
    """Switch to "Face effect" with the keyboard (the modes are a radio group: arrows move)."""
    from selenium.webdriver.common.keys import Keys
    ui.js("document.getElementById('mode-strength').focus()")
    ui.keys(Keys.ARROW_RIGHT)
    ui.until(lambda: ui.js("return document.getElementById('mode-effect').checked"), "face-effect mode chosen")
    assert ui.active_id() == "mode-effect"
    ui.visible("#effect-controls")


def ready(ui: UI, rule: str) -> None:
    ui.until(lambda: ui.attr("#compare", "data-rule") == rule and ui.attr("#compare", "data-state") == "ready",
             f"preview of {rule}")


def usage(console_server) -> list[dict]:
    r = signed(console_server, "GET", "/-/usage", params={"bucket": BUCKET})
    assert r.status_code == 200, r.text
    return r.json()["records"]


def result_image(cos, key: str, params: dict) -> bytes:
    reply = cos.ci_process(Bucket=BUCKET, Key=key, CiProcess="face-effect", Params=params)
    return base64.b64decode(reply["ResultImage"])


def test_sliders_keyboard_preview_save_and_cutout(env, console_server, artifacts_dir):
    from PIL import Image
    from selenium.webdriver.common.keys import Keys
    ui, cos, face, _ = env
    open_studio(ui, BUCKET, "astronaut.jpg")
    ui.until(lambda: ui.attr("#compare", "data-state") == "ready", "AI beauty (strength) first")
    assert ui.attr("#compare", "data-kind") == "strength"
    assert not ui.css("#effect-controls").is_displayed()

    effect_mode(ui)
    ready(ui, DEFAULT_RULE)                       # the API's defaults, straight away
    assert not ui.css("#strength-controls").is_displayed()
    # four labelled sliders, 0..100, the API's defaults, spoken values
    sliders = ui.js("""return [...document.querySelectorAll('#effect-controls input[type=range]')].map((s) => ({
        id: s.id, label: s.labels[0] && s.labels[0].textContent, min: s.min, max: s.max, value: s.value,
        text: s.getAttribute('aria-valuetext'), shown: document.getElementById(s.id + '-value').textContent}))""")
    assert [(s["label"], s["min"], s["max"], s["value"]) for s in sliders] == [
        ("Whitening", "0", "100", "30"), ("Smoothing", "0", "100", "10"),
        ("Face slimming", "0", "100", "70"), ("Eye enlarging", "0", "100", "70")]
    assert sliders[0]["text"] == "30 of 100 (default)" and sliders[0]["shown"] == "30"
    ui.assert_accessible("studio, face-effect mode")

    # the keyboard alone: Tab between the sliders, End / Home / arrows on each
    ui.keys(Keys.TAB, Keys.TAB)                   # from the mode switch, past "Defaults", to Whitening
    assert ui.active_id() == "fx-whitening"
    ui.keys(Keys.END)
    ui.keys(Keys.TAB, Keys.HOME)
    ui.keys(Keys.TAB, *[Keys.ARROW_LEFT] * 10)
    ui.keys(Keys.TAB, *[Keys.ARROW_LEFT] * 5)
    assert ui.active_id() == "fx-eyeEnlarging"
    values = ui.js("return [...document.querySelectorAll('#effect-controls input[type=range]')].map((s) => s.value)")
    assert values == list(CHOSEN.values())
    assert ui.attr("#fx-smoothing", "aria-valuetext") == "0 of 100, off"
    assert ui.css("#fx-whitening-value").text == "100"
    ready(ui, CHOSEN_RULE)
    assert ui.css("#save-rule").text == f"Rule: {CHOSEN_RULE}"

    # the preview request carried the chosen values: the server metered a face-beautify call whose
    # output is the SDK's result for exactly these values (and not the defaults' one)
    chosen = result_image(cos, "astronaut.jpg", {"type": "face-beautify", **CHOSEN})
    defaults = result_image(cos, "astronaut.jpg", {"type": "face-beautify"})
    assert len(chosen) != len(defaults)
    assert int(ui.attr("#compare", "data-result-bytes")) == len(chosen)
    beautify_calls = [r for r in usage(console_server) if r["process"] == "face-effect/face-beautify"]
    assert any(r["method"] == "download" and r["output_bytes"] == len(chosen) and r["faces"] == 1 for r in beautify_calls)
    ui.screenshot(artifacts_dir, "20-studio-face-effect.png")

    # save with the chosen rule, as a new object; the SDK sees exactly the previewed result
    ui.until(lambda: ui.attr("#save-key", "data-checked") == "free", "default key checked")
    assert ui.css("#save-key").get_attribute("value") == "astronaut_effect_100-0-60-65.jpg"
    ui.click("#save-result")
    ui.visible("#saved-ok")
    assert ui.attr("#saved-ok", "data-rule") == CHOSEN_RULE
    saved = cos.get_object(Bucket=BUCKET, Key="astronaut_effect_100-0-60-65.jpg")["Body"].get_raw_stream().read()
    assert saved[:3] == b"\xff\xd8\xff" and saved != face
    assert saved == chosen
    assert Image.open(io.BytesIO(saved)).size == (512, 512)

    # the cut-out (portrait segmentation), by keyboard, on a checkerboard
    ui.css("#fx-cutout").send_keys(Keys.ENTER)
    ready(ui, "ci-process=face-effect&type=face-segmentation")
    assert ui.attr("#fx-cutout", "aria-pressed") == "true"
    assert "cutout" in ui.css("#compare").get_attribute("class")
    assert ui.css("#after-tag").text == "Cut-out"
    assert ui.attr("#compare", "data-person") == "true"
    assert "linear-gradient" in ui.js(
        "return getComputedStyle(document.querySelector('#compare .after-clip')).backgroundImage")
    ui.assert_accessible("studio, cut-out")
    ui.js("window.scrollTo(0, 0)")
    ui.screenshot(artifacts_dir, "21-studio-cutout.png")
    ui.until(lambda: ui.attr("#save-key", "data-checked") == "free", "cut-out key checked")
    assert ui.css("#save-key").get_attribute("value") == "astronaut_cutout.png"
    ui.click("#save-result")
    ui.until(lambda: ui.attr("#saved-ok", "data-rule") == "ci-process=face-effect&type=face-segmentation", "cut-out saved")
    cut = Image.open(io.BytesIO(cos.get_object(Bucket=BUCKET, Key="astronaut_cutout.png")["Body"].get_raw_stream().read()))
    assert cut.format == "PNG" and cut.mode == "RGBA" and cut.size == (512, 512)
    alpha = cut.getchannel("A")
    assert alpha.getextrema() == (0, 255)         # a person, and a transparent background

    # moving a slider leaves the cut-out for the beautified preview again
    ui.css("#fx-eyeEnlarging").send_keys(Keys.ARROW_RIGHT)
    ready(ui, CHOSEN_RULE.replace("eyeEnlarging=65", "eyeEnlarging=66"))
    assert ui.attr("#fx-cutout", "aria-pressed") == "false"
    assert "cutout" not in ui.css("#compare").get_attribute("class")

    # usage: the face-effect calls with their process
    ui.click('a.nav-item[data-nav="usage"]')
    ui.visible("#usage-records")
    processes = ui.js("return [...document.querySelectorAll('#usage-records tbody tr')].map((r) => r.dataset.process)")
    assert {"AIFaceBeauty", "face-effect/face-beautify", "face-effect/face-segmentation"} <= set(processes)
    assert "face-effect/face-segmentation" in ui.css("#usage-records").text
    assert ui.all('#usage-totals tr[data-process="face-effect/face-beautify"]')
    assert ui.js_errors() == []


def test_no_face_found_in_both_modes_and_on_the_usage_page(env, artifacts_dir):
    ui, _, _, _ = env
    open_studio(ui, BUCKET, "gray.jpg")
    ui.until(lambda: ui.attr("#compare", "data-faces") == "0", "faces counted")
    ui.until(lambda: ui.attr("#compare", "data-state") == "ready", "AI beauty (strength) answered")
    assert "AI face beauty only changes faces" in ui.visible("#no-face").text
    effect_mode(ui)
    ready(ui, DEFAULT_RULE)
    note = ui.visible("#no-face")
    assert "No face found" in note.text and "Face effects only change faces" in note.text
    assert not ui.css("#save-result").is_enabled()
    assert "No face was found" in ui.css("#save-hint").text
    ui.assert_accessible("studio, face effect, no face found")
    ui.screenshot(artifacts_dir, "22-studio-face-effect-no-face.png")
    # at 390 px the mode switch and the sliders fit, nothing scrolls sideways
    ui.viewport(390, 844, mobile=True)
    try:
        ui.until(lambda: ui.js("return document.documentElement.scrollWidth") <= 390, "no sideways scroll at 390 px")
        for sel in ("#mode-strength + span", "#mode-effect + span", "#fx-eyeEnlarging", "#fx-cutout", "#save-result"):
            r = ui.js("const r = document.querySelector(arguments[0]).getBoundingClientRect(); return [r.left, r.right]", sel)
            assert 0 <= r[0] and r[1] <= 390, (sel, r)
        ui.js("document.getElementById('effect-controls').scrollIntoView()")
        ui.screenshot(artifacts_dir, "25-mobile-face-effect.png")
    finally:
        ui.reset_viewport()
    # a cut-out of nobody is fully transparent: said so, and not saved
    ui.click("#fx-cutout")
    ready(ui, "ci-process=face-effect&type=face-segmentation")
    ui.until(lambda: ui.attr("#compare", "data-person") == "false", "mask looked at")
    assert "Nobody found" in ui.visible("#no-person").text
    assert not ui.all("#no-face") or not ui.css("#no-face").is_displayed()
    assert not ui.css("#save-result").is_enabled()
    assert "Nobody was found" in ui.css("#save-hint").text

    # the usage page: calls that found no face are marked and counted, with their process
    ui.click('a.nav-item[data-nav="usage"]')
    ui.visible("#usage-records")
    row = ui.visible('#usage-records tr[data-process="face-effect/face-beautify"][data-no-face="true"]')
    assert "no face" in row.text
    assert ui.all('#usage-records tr[data-process="AIFaceBeauty"][data-no-face="true"]')
    assert "found no face" in ui.css("#kpi-faces").text
    assert int(ui.css('#usage-totals tr[data-process="face-effect/face-beautify"]').get_attribute("data-no-face")) >= 1
    ui.assert_accessible("usage with no-face calls")
    ui.js("document.getElementById('usage-records').scrollIntoView()")
    ui.screenshot(artifacts_dir, "23-usage-face-effect.png")


def test_controls_disabled_with_a_reason_when_ai_is_off_or_not_allowed(env, artifacts_dir):
    ui, _, _, beauty_only = env
    # AI off for the bucket: the first call says so, and every processing control is off, with why
    open_studio(ui, NOAI, "astronaut.jpg")
    ui.until(lambda: ui.attr("#compare", "data-state") == "error", "refused: AI off")
    assert ui.visible("#enable-ai")
    ui.until(lambda: not ui.css("#strength").is_enabled(), "strength off")
    assert "AI is switched off" in ui.visible("#strength-hint").text
    effect_mode(ui)
    for n in ("whitening", "smoothing", "faceLifting", "eyeEnlarging"):
        assert not ui.css(f"#fx-{n}").is_enabled()
        assert ui.attr(f"#fx-{n}", "aria-describedby") == "effect-hint"
    assert not ui.css("#fx-cutout").is_enabled()
    assert "AI is switched off" in ui.visible("#effect-hint").text
    assert not ui.css("#save-result").is_enabled()
    ui.assert_accessible("studio, face effect, AI off")

    # what face-effect refuses is said before asking: WebP (AI beauty takes it), a side of 2000 px for the cut-out
    open_studio(ui, BUCKET, "gray.webp")
    effect_mode(ui)
    ui.until(lambda: ui.attr("#compare", "data-state") == "blocked", "face effect not asked for")
    assert not ui.css("#fx-whitening").is_enabled()
    assert "JPEG, PNG or BMP" in ui.visible("#effect-hint").text and "WEBP" in ui.css("#effect-hint").text
    open_studio(ui, BUCKET, "wide.jpg")
    effect_mode(ui)
    ready(ui, DEFAULT_RULE)
    assert ui.css("#fx-whitening").is_enabled() and not ui.css("#fx-cutout").is_enabled()
    assert "under 2000 px" in ui.visible("#effect-hint").text and "2000 × 400" in ui.css("#effect-hint").text

    # keys that may run AI face beauty but not face effects (ci:FaceEffect)
    ui.sign_in(beauty_only.secret_id, beauty_only.secret_key)
    try:
        open_studio(ui, BUCKET, "astronaut.jpg")
        ui.until(lambda: ui.attr("#compare", "data-perm"), "permissions checked")
        ui.until(lambda: ui.attr("#compare", "data-state") == "ready", "AI beauty works")
        assert ui.css("#strength").is_enabled()
        effect_mode(ui)
        ui.until(lambda: ui.attr("#compare", "data-state") == "blocked", "face effect blocked")
        assert not ui.css("#fx-whitening").is_enabled() and not ui.css("#fx-cutout").is_enabled()
        hint = ui.visible("#effect-hint").text
        assert "may not run face effects" in hint and "ci:FaceEffect" in hint
        assert not ui.css("#save-result").is_enabled()
        assert "ci:FaceEffect" in ui.css("#save-hint").text
        ui.assert_accessible("studio, face effect not allowed")
        ui.screenshot(artifacts_dir, "24-studio-face-effect-not-allowed.png")
    finally:
        ui.sign_in()
    assert ui.js_errors() == []
