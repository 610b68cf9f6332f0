"""Methods 2 and 3: ``Pic-Operations`` on upload (``ci_put_object``, ``ci_put_object_from_local_file``)
and on a stored object (``ci_image_process``); validation and the "nothing half-written" rule."""

from __future__ import annotations

import json

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.ci.conftest import decode, new_bucket
from tests.ci.test_download import assert_beautified, sdk_error


def ops(*rules: dict, info: int = 1) -> str:
    return json.dumps({"is_pic_info": info, "rules": list(rules)})


def rule(fileid: str, strength: str | None = None, **extra) -> dict:
    r = "ci-process=AIFaceBeauty" + (f"&strength={strength}" if strength else "")
    return {"fileid": fileid, "rule": r, **extra}


def exists(cos, bucket: str, key: str) -> bool:
    try:
        cos.head_object(Bucket=bucket, Key=key)
        return True
    except CosServiceError as e:
        assert e.get_status_code() == 404
        return False


def body(cos, bucket: str, key: str) -> bytes:
    return cos.get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream().read()


def test_ci_put_object(cos, ci_bucket, face_png, astronaut):
    headers, data = cos.ci_put_object(Bucket=ci_bucket, Body=face_png, Key="in/a.png",
                                      PicOperations=ops(rule("b.png", "0.7"), rule("/out/c.png")))
    assert headers["x-cos-request-id"]
    original = data["OriginalInfo"]
    assert original["Key"] == "in/a.png"
    assert original["Location"] == f"{ci_bucket}.cos.ap-guangzhou.myqcloud.com/in/a.png"
    assert original["ImageInfo"]["Format"] == "PNG"
    assert (original["ImageInfo"]["Width"], original["ImageInfo"]["Height"]) == ("512", "512")
    assert original["ImageInfo"]["Ave"].startswith("0x")
    assert {"Quality", "Orientation"} <= set(original["ImageInfo"])
    results = data["ProcessResults"]["Object"]
    assert [r["Key"] for r in results] == ["in/b.png", "out/c.png"]
    for r in results:
        assert (r["Format"], r["Width"], r["Height"]) == ("PNG", "512", "512")
        stored = body(cos, ci_bucket, r["Key"])
        assert int(r["Size"]) == len(stored)
        assert r["ETag"] == cos.head_object(Bucket=ci_bucket, Key=r["Key"])["ETag"]
        assert_beautified(stored, astronaut, lossless=True)
    assert body(cos, ci_bucket, "in/a.png") == face_png
    assert original["ETag"] == cos.head_object(Bucket=ci_bucket, Key="in/a.png")["ETag"]


def test_ci_put_object_from_local_file_other_bucket(cos, server, ci_bucket, face_jpeg, tmp_path):
    target = new_bucket(cos, "out")
    path = tmp_path / "local.jpg"
    path.write_bytes(face_jpeg)
    _, data = cos.ci_put_object_from_local_file(
        Bucket=ci_bucket, LocalFilePath=str(path), Key="l.jpg",
        PicOperations=ops(rule("/beauty/l.jpg", bucket=target), info=0))
    assert "ImageInfo" not in data["OriginalInfo"]
    result = data["ProcessResults"]["Object"]
    assert result["Key"] == "beauty/l.jpg" and result["Format"] == "JPEG"
    assert result["Location"].startswith(f"{target}.cos.")
    assert_beautified(body(cos, target, "beauty/l.jpg"), decode(face_jpeg), lossless=False)


def test_overwrite_source(cos, ci_bucket, face_png, astronaut):
    _, data = cos.ci_put_object(Bucket=ci_bucket, Body=face_png, Key="same.png", PicOperations=ops(rule("same.png")))
    assert data["ProcessResults"]["Object"]["Key"] == "same.png"
    assert_beautified(body(cos, ci_bucket, "same.png"), astronaut, lossless=True)


def test_ci_image_process(cos, ci_bucket, face_png, astronaut):
    cos.put_object(Bucket=ci_bucket, Key="stored/x.png", Body=face_png)
    _, data = cos.ci_image_process(Bucket=ci_bucket, Key="stored/x.png",
                                   PicOperations=ops(rule("x-beauty.png", "0.9")))
    assert data["OriginalInfo"]["Key"] == "stored/x.png"
    assert data["OriginalInfo"]["ImageInfo"]["Format"] == "PNG"
    assert data["ProcessResults"]["Object"]["Key"] == "stored/x-beauty.png"
    assert_beautified(body(cos, ci_bucket, "stored/x-beauty.png"), astronaut, lossless=True)
    assert body(cos, ci_bucket, "stored/x.png") == face_png


BAD = {
    "bad json": "{not json",
    "not an object": "[1]",
    "no rules": json.dumps({"is_pic_info": 1, "rules": []}),
    "missing fileid": ops({"rule": "ci-process=AIFaceBeauty"}),
    "trailing slash": ops(rule("dir/")),
    "unknown rule": ops({"fileid": "x.jpg", "rule": "imageMogr2/thumbnail/100x"}),
    "unknown ci-process": ops({"fileid": "x.jpg", "rule": "ci-process=Nope"}),
    "bad strength": ops(rule("x.jpg", "7")),
    "escapes bucket": ops(rule("../../etc/passwd")),
    "dot segment": ops(rule("/a/./b.jpg")),
    "six rules": ops(*(rule(f"r{i}.jpg") for i in range(6))),
    "bad is_pic_info": json.dumps({"is_pic_info": 5, "rules": [rule("x.jpg")]}),
    "bad bucket name": ops(rule("x.jpg", bucket="Not_A_Bucket")),
    "duplicate targets": ops(rule("x.jpg"), rule("x.jpg")),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_pic_operations_store_nothing(cos, ci_bucket, face_jpeg, case):
    err = sdk_error(cos.ci_put_object, Bucket=ci_bucket, Body=face_jpeg, Key="bad/src.jpg", PicOperations=BAD[case])
    assert (err.get_status_code(), err.get_error_code()) == (400, "InvalidArgument"), err.get_error_msg()
    assert "Pic-Operations" in err.get_error_msg()
    assert not exists(cos, ci_bucket, "bad/src.jpg")
    cos.put_object(Bucket=ci_bucket, Key="bad/stored.jpg", Body=face_jpeg)
    err = sdk_error(cos.ci_image_process, Bucket=ci_bucket, Key="bad/stored.jpg", PicOperations=BAD[case])
    assert err.get_error_code() == "InvalidArgument"


def test_missing_target_bucket(cos, ci_bucket, face_jpeg):
    err = sdk_error(cos.ci_put_object, Bucket=ci_bucket, Body=face_jpeg, Key="t.jpg",
                    PicOperations=ops(rule("x.jpg", bucket="missing-1250000000")))
    assert (err.get_status_code(), err.get_error_code()) == (404, "NoSuchBucket")
    assert "missing-1250000000" in err.get_error_msg()
    assert not exists(cos, ci_bucket, "t.jpg")


def test_failed_rule_keeps_nothing(cos, ci_bucket):
    """Decision: processing failure on upload stores neither the original nor any result."""
    junk = b"GIF89a not an image we process" * 20
    err = sdk_error(cos.ci_put_object, Bucket=ci_bucket, Body=junk, Key="f/src.gif",
                    PicOperations=ops(rule("ok.jpg"), rule("ok2.jpg")))
    assert err.get_status_code() == 400
    assert err.get_error_code() in ("InvalidImageFormat", "UndecodableImage")
    for key in ("f/src.gif", "f/ok.jpg", "f/ok2.jpg"):
        assert not exists(cos, ci_bucket, key)


def test_missing_header_on_image_process(cos, ci_bucket, face_jpeg):
    cos.put_object(Bucket=ci_bucket, Key="h.jpg", Body=face_jpeg)
    err = sdk_error(cos.ci_image_process, Bucket=ci_bucket, Key="h.jpg")
    assert err.get_error_code() == "InvalidArgument"
