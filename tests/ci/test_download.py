"""Method 1: processing on download (``GET /<key>?ci-process=AIFaceBeauty``), through the
unmodified cos-python-sdk-v5 and pre-signed URLs; ``detect-url`` against a loopback image server."""

from __future__ import annotations

from urllib.parse import quote

import numpy as np
import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.api.test_cos_sdk import plain, presigning_client
from tests.ci.conftest import decode

FACE = (slice(40, 260), slice(120, 330))     # rows, cols around the astronaut's face (512 x 512)


def background_mask(shape) -> np.ndarray:
    mask = np.ones(shape[:2], bool)
    mask[FACE] = False
    return mask


def assert_beautified(out: bytes, src: np.ndarray, *, lossless: bool) -> None:
    img = decode(out)
    assert img.shape == src.shape
    diff = np.abs(img.astype(int) - src.astype(int)).max(axis=2)
    assert (diff[FACE] > 1).sum() > 1000, "the face region did not change"
    bg = diff[background_mask(src.shape)]
    if lossless:
        assert bg.max() == 0, "background pixels changed"
    else:   # JPEG re-encoding noise only
        assert bg.mean() < 1.5


def sdk_error(fn, *args, **kwargs) -> CosServiceError:
    with pytest.raises(CosServiceError) as e:
        fn(*args, **kwargs)
    return e.value


def test_sdk_ci_process_png_background_identical(cos, ci_bucket, face_png, astronaut):
    cos.put_object(Bucket=ci_bucket, Key="faces/a.png", Body=face_png)
    headers, body = cos.ci_process(Bucket=ci_bucket, Key="faces/a.png", CiProcess="AIFaceBeauty",
                                   Params={"strength": "0.8"}, NeedHeader=True)
    assert headers["Content-Type"] == "image/png"
    assert int(headers["Content-Length"]) == len(body)
    assert headers["x-cos-request-id"]
    assert_beautified(body, astronaut, lossless=True)


def test_sdk_ci_process_jpeg_default_strength(cos, ci_bucket, face_jpeg, astronaut):
    cos.put_object(Bucket=ci_bucket, Key="a.jpg", Body=face_jpeg)
    body = cos.ci_process(Bucket=ci_bucket, Key="a.jpg", CiProcess="AIFaceBeauty")
    assert body[:3] == b"\xff\xd8\xff"
    assert_beautified(body, decode(face_jpeg), lossless=False)


def test_presigned_url(server, cos, ci_bucket, face_png, astronaut):
    cos.put_object(Bucket=ci_bucket, Key="p.png", Body=face_png)
    url = presigning_client(server.port).get_presigned_url(
        Bucket=ci_bucket, Key="p.png", Method="GET", Params={"ci-process": "AIFaceBeauty", "strength": "0.6"})
    r = plain("GET", url, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "image/png"
    assert_beautified(r.content, astronaut, lossless=True)


@pytest.mark.parametrize("strength", ["abc", "1.5", "-0.1", "nan", "1e-1", ""])
def test_strength_validation(cos, ci_bucket, face_jpeg, strength):
    cos.put_object(Bucket=ci_bucket, Key="s.jpg", Body=face_jpeg)
    err = sdk_error(cos.ci_process, Bucket=ci_bucket, Key="s.jpg", CiProcess="AIFaceBeauty",
                    Params={"strength": strength})
    assert (err.get_status_code(), err.get_error_code()) == (400, "InvalidArgument")
    assert "strength" in err.get_error_msg()


def test_strength_zero_returns_input(cos, ci_bucket, face_jpeg):
    cos.put_object(Bucket=ci_bucket, Key="z.jpg", Body=face_jpeg)
    assert cos.ci_process(Bucket=ci_bucket, Key="z.jpg", CiProcess="AIFaceBeauty",
                          Params={"strength": "0"}) == face_jpeg


def test_unknown_ci_process(cos, ci_bucket, face_jpeg):
    cos.put_object(Bucket=ci_bucket, Key="u.jpg", Body=face_jpeg)
    err = sdk_error(cos.ci_process, Bucket=ci_bucket, Key="u.jpg", CiProcess="AIFaceBeautyX")
    assert (err.get_status_code(), err.get_error_code()) == (400, "InvalidArgument")
    assert "AIFaceBeauty" in err.get_error_msg()


def test_ignore_error_returns_original(cos, ci_bucket):
    junk = b"\xff\xd8\xff\xe0 this is not really a JPEG" * 10
    cos.put_object(Bucket=ci_bucket, Key="bad.jpg", Body=junk, ContentType="image/jpeg")
    err = sdk_error(cos.ci_process, Bucket=ci_bucket, Key="bad.jpg", CiProcess="AIFaceBeauty")
    assert err.get_status_code() == 400
    assert err.get_error_code() in ("UndecodableImage", "InvalidImageFormat")
    headers, body = cos.ci_process(Bucket=ci_bucket, Key="bad.jpg", CiProcess="AIFaceBeauty",
                                   Params={"ignore-error": "1"}, NeedHeader=True)
    assert body == junk and headers["Content-Type"] == "image/jpeg"


def test_ignore_error_does_not_hide_bad_parameters(cos, ci_bucket, face_jpeg):
    cos.put_object(Bucket=ci_bucket, Key="i.jpg", Body=face_jpeg)
    err = sdk_error(cos.ci_process, Bucket=ci_bucket, Key="i.jpg", CiProcess="AIFaceBeauty",
                    Params={"ignore-error": "1", "strength": "2"})
    assert err.get_error_code() == "InvalidArgument"


def test_missing_key(cos, ci_bucket):
    err = sdk_error(cos.ci_process, Bucket=ci_bucket, Key="nope.jpg", CiProcess="AIFaceBeauty")
    assert (err.get_status_code(), err.get_error_code()) == (404, "NoSuchKey")


# -- detect-url --------------------------------------------------------------------------------
def detect(cos, bucket, url, **params):
    return cos.ci_process(Bucket=bucket, Key="/", CiProcess="AIFaceBeauty", Params={"detect-url": url, **params},
                          NeedHeader=True)


@pytest.mark.parametrize("encodings", [0, 1, 2])
def test_detect_url_allowed_loopback(aux_cos, aux_bucket, image_server, face_jpeg, encodings):
    url = image_server.url("/face.jpg")
    for _ in range(encodings):
        url = quote(url, safe="")
    headers, body = detect(aux_cos, aux_bucket, url, strength="0.7")
    assert headers["Content-Type"] == "image/jpeg"
    assert_beautified(body, decode(face_jpeg), lossless=False)


def test_detect_url_follows_allowed_redirect(aux_cos, aux_bucket, image_server):
    _, body = detect(aux_cos, aux_bucket, image_server.url("/to-face"))
    assert body[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize("path", ["/to-other-loopback", "/to-mapped-loopback"])
def test_detect_url_redirect_to_disallowed_address(aux_cos, aux_bucket, image_server, path):
    err = sdk_error(detect, aux_cos, aux_bucket, image_server.url(path))
    assert (err.get_status_code(), err.get_error_code()) == (403, "DetectUrlForbidden")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/face.jpg", "http://localhost:{port}/face.jpg", "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/x.jpg", "http://0.0.0.0:{port}/face.jpg", "http://[::1]:{port}/face.jpg",
    "http://[::ffff:127.0.0.1]:{port}/face.jpg", "http://100.64.0.1/x.jpg", "http://2130706433:{port}/face.jpg",
])
def test_detect_url_refused_by_default(cos, ci_bucket, image_server, url):
    url = url.format(port=image_server.port)
    for encoded in (url, quote(url, safe=""), quote(quote(url, safe=""), safe="")):
        err = sdk_error(detect, cos, ci_bucket, encoded)
        assert (err.get_status_code(), err.get_error_code()) == (403, "DetectUrlForbidden"), encoded


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/a.jpg", "gopher://x", "not a url"])
def test_detect_url_bad_scheme(cos, ci_bucket, url):
    err = sdk_error(detect, cos, ci_bucket, url)
    assert err.get_status_code() in (400, 403)
    assert err.get_error_code() in ("InvalidArgument", "DetectUrlForbidden")


def test_detect_url_required_at_bucket_level(cos, ci_bucket):
    err = sdk_error(cos.ci_process, Bucket=ci_bucket, Key="/", CiProcess="AIFaceBeauty")
    assert err.get_error_code() == "InvalidArgument" and "detect-url" in err.get_error_msg()
