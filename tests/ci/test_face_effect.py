"""``ci-process=face-effect`` (Tencent's Face Effect API) through cos-python-sdk-v5: the SDK's own
``cos_ai_face_effect``, ``ci_process``, ``ci_put_object``, ``ci_image_process`` and pre-signed
URLs; the documented defaults, ranges, limits and reply; metering; signing scope."""

from __future__ import annotations

import base64
from urllib.parse import quote

import cv2
import numpy as np
import pytest

from tests.api.test_cos_sdk import plain, presigning_client
from tests.ci.conftest import decode, encode
from tests.ci.test_activation_metering import admin_usage, cli_json
from tests.ci.test_download import sdk_error
from tests.ci.test_pic_operations import body, exists, ops
from tests.imaging.corpus import hopper

LEVELS = {"whitening": "30", "smoothing": "10", "faceLifting": "70", "eyeEnlarging": "70"}


def b64image(data: dict, field: str = "ResultImage") -> bytes:
    return base64.b64decode(data[field])


def decode_any(data: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert img is not None, "not a decodable image"
    return img


@pytest.fixture(scope="module")
def hopper_png() -> bytes:
    return encode(hopper(), ".png")


@pytest.fixture(scope="module")
def hopper_jpeg() -> bytes:
    return encode(hopper(), ".jpg")


@pytest.fixture(scope="module")
def ai(cos):
    """cos-python-sdk-v5's AI client (cos_ai_face_effect lives there), on the same config."""
    from qcloud_cos import AIRecognitionClient
    return AIRecognitionClient(cos._conf)


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 2


# -- face-beautify ------------------------------------------------------------------------------


def test_sdk_cos_ai_face_effect_beautify(cos, ai, ci_bucket, hopper_jpeg):
    """The SDK's own face-effect call (it sends the documented defaults itself)."""
    cos.put_object(Bucket=ci_bucket, Key="f/h.jpg", Body=hopper_jpeg)
    headers, data = ai.cos_ai_face_effect(Bucket=ci_bucket, ObjectKey="f/h.jpg", Type="face-beautify")
    assert headers["Content-Type"] == "application/xml"
    assert headers["x-cos-request-id"]
    assert set(data) == {"ResultImage"}
    out = b64image(data)
    assert out[:3] == b"\xff\xd8\xff"              # the input's format
    src, img = decode(hopper_jpeg), decode(out)
    assert img.shape == src.shape
    assert changed(img, src)[130:330, 160:370].mean() > 0.2, "the face did not change"
    err = np.abs(img.astype(int) - src).mean(axis=2)
    assert err[:, :60].mean() < 1.5 and err[:100, 440:].mean() < 1.5, "the background changed (beyond JPEG noise)"


def test_defaults_are_the_documented_ones(cos, ci_bucket, hopper_png):
    """No level given == Tencent's documented defaults (30, 10, 70, 70), byte for byte."""
    cos.put_object(Bucket=ci_bucket, Key="d.png", Body=hopper_png)
    bare = cos.ci_process(Bucket=ci_bucket, Key="d.png", CiProcess="face-effect", Params={"type": "face-beautify"})
    explicit = cos.ci_process(Bucket=ci_bucket, Key="d.png", CiProcess="face-effect",
                              Params={"type": "face-beautify", **LEVELS})
    assert bare["ResultImage"] == explicit["ResultImage"]
    stronger = cos.ci_process(Bucket=ci_bucket, Key="d.png", CiProcess="face-effect",
                              Params={"type": "face-beautify", "whitening": "90", "smoothing": "80"})
    src = decode(hopper_png)
    face = (slice(150, 330), slice(170, 360))
    d_default = np.abs(decode(b64image(bare)).astype(int) - src)[face].mean()
    d_strong = np.abs(decode(b64image(stronger)).astype(int) - src)[face].mean()
    assert d_strong > d_default > 0.5


def test_all_levels_zero_is_the_input(cos, ci_bucket, hopper_png):
    cos.put_object(Bucket=ci_bucket, Key="z.png", Body=hopper_png)
    data = cos.ci_process(Bucket=ci_bucket, Key="z.png", CiProcess="face-effect",
                          Params={"type": "face-beautify", "whitening": "0", "smoothing": "0", "faceLifting": "0",
                                  "eyeEnlarging": "0"})
    assert b64image(data) == hopper_png


# -- face-segmentation ------------------------------------------------------------------------------


def composite() -> tuple[np.ndarray, tuple[int, int]]:
    """Grace Hopper's portrait (a real photo, with its own flag and blue backdrop) pasted at the
    bottom of a wider canvas with a real, busy background (scikit-image's coffee photo)."""
    from skimage import data as skdata
    photo = hopper()
    canvas = cv2.resize(skdata.coffee(), (1000, 700), interpolation=cv2.INTER_LINEAR)
    y0, x0 = 700 - photo.shape[0], 244
    canvas[y0:, x0:x0 + photo.shape[1]] = photo
    return canvas, (y0, x0)


def face_oval(img: np.ndarray) -> np.ndarray:
    from cosbeauty.imaging import detect_faces
    from cosbeauty.imaging.beauty import FACE_OVAL
    faces = detect_faces(img)
    assert len(faces) == 1
    mask = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(faces[0].landmarks[FACE_OVAL]).astype(np.int32)], 1)
    return mask.astype(bool)


def test_segmentation_cuts_out_the_person(cos, ai, ci_bucket):
    img, (y0, x0) = composite()
    png = encode(img, ".png")
    cos.put_object(Bucket=ci_bucket, Key="seg/c.png", Body=png)
    headers, data = ai.cos_ai_face_effect(Bucket=ci_bucket, ObjectKey="seg/c.png", Type="face-segmentation")
    assert headers["Content-Type"] == "application/xml"
    assert set(data) == {"ResultImage", "ResultMask"}
    cut, mask = decode_any(b64image(data)), decode_any(b64image(data, "ResultMask"))
    assert cut.shape == (*img.shape[:2], 4) and cut.dtype == np.uint8        # BGRA: RGBA PNG
    assert mask.shape == img.shape[:2] and mask.dtype == np.uint8            # greyscale PNG
    alpha = cut[..., 3]
    assert np.array_equal(alpha, mask)
    person = mask.astype(float) / 255
    oval = face_oval(img)
    assert person[oval].mean() > 0.97, "the face is not inside the cut-out"
    assert person[y0 + 450:, x0 + 100:x0 + 400].mean() > 0.95, "the torso is not inside the cut-out"
    outside = np.ones(img.shape[:2], bool)
    outside[y0:, x0:x0 + 512] = False
    assert person[outside].mean() < 0.01, "the canvas background is in the cut-out"
    assert person[y0:y0 + 100, x0 + 430:x0 + 512].mean() < 0.02, "Hopper's blue backdrop is in the cut-out"
    assert person[y0:y0 + 150, x0:x0 + 60].mean() < 0.02, "the flag is in the cut-out"
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    assert (cut[..., :3][alpha == 0] == 0).all(), "background pixels survive under alpha 0"
    assert np.array_equal(cut[..., :3][alpha > 0], bgr[alpha > 0]), "person pixels were altered"


def test_segmentation_resolution_limit(cos, ci_bucket):
    """Documented: under 2000 x 2000 px."""
    wide = encode(np.full((100, 2000, 3), 128, np.uint8), ".png")
    cos.put_object(Bucket=ci_bucket, Key="wide.png", Body=wide)
    err = sdk_error(cos.ci_process, Bucket=ci_bucket, Key="wide.png", CiProcess="face-effect",
                    Params={"type": "face-segmentation"})
    assert (err.get_status_code(), err.get_error_code()) == (400, "ImageTooLarge")
    assert "2000" in err.get_error_msg()
    ok = encode(np.full((100, 1999, 3), 128, np.uint8), ".png")
    cos.put_object(Bucket=ci_bucket, Key="ok.png", Body=ok)
    data = cos.ci_process(Bucket=ci_bucket, Key="ok.png", CiProcess="face-effect", Params={"type": "face-segmentation"})
    assert decode_any(b64image(data, "ResultMask")).max() == 0       # nobody there: an empty mask


def test_input_limits(cos, ci_bucket, astronaut):
    """PNG, JPEG, BMP only; at most 5 MB once base64 encoded (3,932,160 raw bytes)."""
    webp = encode(astronaut, ".webp")
    cos.put_object(Bucket=ci_bucket, Key="a.webp", Body=webp)
    err = sdk_error(cos.ci_process, Bucket=ci_bucket, Key="a.webp", CiProcess="face-effect",
                    Params={"type": "face-beautify"})
    assert (err.get_status_code(), err.get_error_code()) == (400, "InvalidImageFormat")
    noise = np.random.default_rng(1).integers(0, 256, (1200, 1200, 3), dtype=np.uint8)
    big = encode(noise, ".png")
    assert len(big) > 3_932_160
    cos.put_object(Bucket=ci_bucket, Key="big.png", Body=big)
    err = sdk_error(cos.ci_process, Bucket=ci_bucket, Key="big.png", CiProcess="face-effect",
                    Params={"type": "face-segmentation"})
    assert (err.get_status_code(), err.get_error_code()) == (400, "ImageTooLarge")


# -- parameters --------------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [
    {"type": "face-beautify", "whitening": "101"},
    {"type": "face-beautify", "smoothing": "-1"},
    {"type": "face-beautify", "faceLifting": "1.5"},
    {"type": "face-beautify", "eyeEnlarging": "abc"},
    {"type": "face-beautify", "whitening": ""},
    {"type": "face-beautify", "whitening": " 30"},
    {"type": "face-segmentation", "whitening": "200"},     # checked for every type (the SDK sends them)
    {},                                                     # type is required
    {"type": "face-swap"},
    {"type": "face-age-transformation"},                    # age is required for that type
    {"type": "face-age-transformation", "age": "5"},
    {"type": "face-gender-transformation", "gender": "2"},
    {"type": "face-beautify", "strength": "0.5"},           # AIFaceBeauty's parameter
    {"type": "face-beautify", "ignore-error": "1"},         # not documented for face-effect
])
def test_invalid_parameters(cos, ci_bucket, face_jpeg, params):
    cos.put_object(Bucket=ci_bucket, Key="v.jpg", Body=face_jpeg)
    err = sdk_error(cos.ci_process, Bucket=ci_bucket, Key="v.jpg", CiProcess="face-effect", Params=params)
    assert (err.get_status_code(), err.get_error_code()) == (400, "InvalidArgument"), err.get_error_msg()


def test_face_effect_parameter_on_ai_face_beauty(cos, ci_bucket, face_jpeg):
    cos.put_object(Bucket=ci_bucket, Key="w.jpg", Body=face_jpeg)
    err = sdk_error(cos.ci_process, Bucket=ci_bucket, Key="w.jpg", CiProcess="AIFaceBeauty",
                    Params={"whitening": "50"})
    assert (err.get_status_code(), err.get_error_code()) == (400, "InvalidArgument")
    assert "whitening" in err.get_error_msg()


@pytest.mark.parametrize("params", [{"type": "face-gender-transformation", "gender": "0"},
                                    {"type": "face-age-transformation", "age": "60"}])
def test_generative_types_not_implemented(cos, ci_bucket, face_jpeg, params):
    cos.put_object(Bucket=ci_bucket, Key="g.jpg", Body=face_jpeg)
    err = sdk_error(cos.ci_process, Bucket=ci_bucket, Key="g.jpg", CiProcess="face-effect", Params=params)
    assert (err.get_status_code(), err.get_error_code()) == (501, "NotImplemented")
    assert params["type"] in err.get_error_msg()


def test_presigned_url_and_unsigned_parameters(server, cos, ci_bucket, hopper_png):
    cos.put_object(Bucket=ci_bucket, Key="p.png", Body=hopper_png)
    url = presigning_client(server.port).get_presigned_url(
        Bucket=ci_bucket, Key="p.png", Method="GET",
        Params={"ci-process": "face-effect", "type": "face-beautify", "whitening": "40"})
    r = plain("GET", url, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/xml"
    assert r.text.startswith("<?xml") and "<ResultImage>" in r.text
    # a level the signature does not cover is refused, never applied or ignored
    for extra in ("&smoothing=100", "&eyeEnlarging=0", "&type=face-segmentation"):
        r = plain("GET", url + extra, timeout=30)
        if extra.startswith("&type="):      # a second type: repeated parameters are 400
            assert r.status_code == 400 and "<Code>InvalidArgument</Code>" in r.text, r.text
        else:
            assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text, r.text
            assert extra[1:].split("=")[0] in r.text
    r = plain("GET", url + "&whitening=41", timeout=30)       # the signed one, given twice
    assert r.status_code == 400 and "<Code>InvalidArgument</Code>" in r.text


def test_detect_url(aux_cos, aux_bucket, image_server):
    data = aux_cos.ci_process(Bucket=aux_bucket, Key="/", CiProcess="face-effect",
                              Params={"type": "face-segmentation", "detect-url": quote(image_server.url("/face.jpg"))})
    assert decode_any(b64image(data, "ResultMask")).mean() > 50


# -- Pic-Operations: upload and cloud processing ------------------------------------------------------


def fe_rule(fileid: str, rule: str) -> dict:
    return {"fileid": fileid, "rule": f"ci-process=face-effect&{rule}"}


def test_upload_and_cloud(cos, ci_bucket, hopper_png, hopper_jpeg):
    headers, data = cos.ci_put_object(
        Bucket=ci_bucket, Body=hopper_jpeg, Key="up/h.jpg",
        PicOperations=ops(fe_rule("h.cut.png", "type=face-segmentation"),
                          fe_rule("h.beauty.jpg", "type=face-beautify&whitening=60&faceLifting=0")))
    results = data["ProcessResults"]["Object"]
    assert [(r["Key"], r["Format"]) for r in results] == [("up/h.cut.png", "PNG"), ("up/h.beauty.jpg", "JPEG")]
    assert body(cos, ci_bucket, "up/h.jpg") == hopper_jpeg
    cut = decode_any(body(cos, ci_bucket, "up/h.cut.png"))
    assert cut.shape == (600, 512, 4) and cut[..., 3].min() == 0 and cut[..., 3].max() == 255
    assert cos.head_object(Bucket=ci_bucket, Key="up/h.cut.png")["Content-Type"] == "image/png"
    assert decode(body(cos, ci_bucket, "up/h.beauty.jpg")).shape == (600, 512, 3)

    cos.put_object(Bucket=ci_bucket, Key="cl/h.png", Body=hopper_png)
    _, data = cos.ci_image_process(Bucket=ci_bucket, Key="cl/h.png",
                                   PicOperations=ops(fe_rule("/cl/out.png", "type=face-beautify")))
    result = data["ProcessResults"]["Object"]        # one rule: the SDK gives a dict
    assert (result["Key"], result["Format"]) == ("cl/out.png", "PNG")
    direct = cos.ci_process(Bucket=ci_bucket, Key="cl/h.png", CiProcess="face-effect",
                            Params={"type": "face-beautify"})
    assert body(cos, ci_bucket, "cl/out.png") == b64image(direct)   # same bytes as on download


@pytest.mark.parametrize("rule,status,code", [
    ("type=face-beautify&whitening=300", 400, "InvalidArgument"),
    ("type=face-beautify&strength=0.5", 400, "InvalidArgument"),
    ("whitening=30", 400, "InvalidArgument"),
    ("type=face-gender-transformation&gender=1", 501, "NotImplemented"),
])
def test_bad_rules_store_nothing(cos, ci_bucket, face_jpeg, rule, status, code):
    err = sdk_error(cos.ci_put_object, Bucket=ci_bucket, Body=face_jpeg, Key="bad/x.jpg",
                    PicOperations=ops(fe_rule("y.jpg", rule)))
    assert (err.get_status_code(), err.get_error_code()) == (status, code)
    assert err.get_error_msg().startswith("Pic-Operations:")
    assert not exists(cos, ci_bucket, "bad/x.jpg") and not exists(cos, ci_bucket, "bad/y.jpg")


# -- metering ----------------------------------------------------------------------------------------


def test_metering(cos, server, ci_bucket, face_jpeg, capsys):
    cos.put_object(Bucket=ci_bucket, Key="m.jpg", Body=face_jpeg)
    cos.ci_process(Bucket=ci_bucket, Key="m.jpg", CiProcess="AIFaceBeauty")
    out = cos.ci_process(Bucket=ci_bucket, Key="m.jpg", CiProcess="face-effect", Params={"type": "face-beautify"})
    seg = cos.ci_process(Bucket=ci_bucket, Key="m.jpg", CiProcess="face-effect", Params={"type": "face-segmentation"})
    cos.ci_image_process(Bucket=ci_bucket, Key="m.jpg", PicOperations=ops(fe_rule("m2.png", "type=face-segmentation")))
    sdk_error(cos.ci_process, Bucket=ci_bucket, Key="m.jpg", CiProcess="face-effect",
              Params={"type": "face-age-transformation", "age": "30"})          # refused before any work
    usage = cli_json(capsys, "usage", "--json", "--bucket", ci_bucket, "--data-dir", server.data_dir)
    rows = usage["records"]
    assert [(r["method"], r["process"], r["outcome"]) for r in rows] == [
        ("download", "AIFaceBeauty", "ok"), ("download", "face-effect/face-beautify", "ok"),
        ("download", "face-effect/face-segmentation", "ok"), ("cloud", "face-effect/face-segmentation", "ok")]
    assert (rows[1]["input_bytes"], rows[1]["output_bytes"], rows[1]["faces"]) == (
        len(face_jpeg), len(b64image(out)), 1)
    assert rows[2]["output_bytes"] == len(b64image(seg)) + len(b64image(seg, "ResultMask"))
    totals = {(t["method"], t["process"]): t["calls"] for t in usage["totals"]}
    assert totals == {("download", "AIFaceBeauty"): 1, ("download", "face-effect/face-beautify"): 1,
                      ("download", "face-effect/face-segmentation"): 1, ("cloud", "face-effect/face-segmentation"): 1}
    api = admin_usage(server.port, bucket=ci_bucket).json()
    assert api["records"] == rows and api["totals"] == usage["totals"]
    capsys.readouterr()
    from cosbeauty.cli import main as cli_main
    assert cli_main(["usage", "--bucket", ci_bucket, "--data-dir", server.data_dir]) == 0
    assert "face-effect/face-segmentation" in capsys.readouterr().out


def test_activation_required(cos, server, face_jpeg):
    """CI bound and AI recognition enabled, as the English page asks (the stricter reading)."""
    from tests.ci.conftest import activate, new_bucket
    bucket = new_bucket(cos)
    cos.put_object(Bucket=bucket, Key="a.jpg", Body=face_jpeg)

    def call():
        return cos.ci_process(Bucket=bucket, Key="a.jpg", CiProcess="face-effect", Params={"type": "face-segmentation"})
    assert sdk_error(call).get_error_code() == "NoSuchCIBucket"
    activate(server.data_dir, bucket, "bind")
    assert sdk_error(call).get_error_code() == "AIRecognitionNotEnabled"
    activate(server.data_dir, bucket, "enable-ai")
    assert "ResultMask" in call()
