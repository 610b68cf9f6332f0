"""Activation (bind + AI recognition) through the CLI, metering through ``cosbeauty usage`` and
the ``/-/usage`` admin API, and 503 SlowDown when the worker pool and its queue are full."""

from __future__ import annotations

import concurrent.futures
import json

import cv2
import requests
from qcloud_cos.cos_auth import CosS3Auth

from cosbeauty.cli import main as cli_main
from tests.ci.conftest import activate, encode, new_bucket
from tests.ci.test_download import sdk_error
from tests.conftest import cos_client


def cli_json(capsys, *argv: str):
    capsys.readouterr()
    assert cli_main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_activation_errors_then_success(cos, server, face_jpeg, capsys):
    bucket = new_bucket(cos)
    cos.put_object(Bucket=bucket, Key="a.jpg", Body=face_jpeg)

    def call():
        return cos.ci_process(Bucket=bucket, Key="a.jpg", CiProcess="AIFaceBeauty")
    err = sdk_error(call)
    assert (err.get_status_code(), err.get_error_code()) == (404, "NoSuchCIBucket")
    assert cli_main(["ci", "enable-ai", bucket, "--data-dir", server.data_dir]) == 1   # bind first
    activate(server.data_dir, bucket, "bind")
    err = sdk_error(call)
    assert (err.get_status_code(), err.get_error_code()) == (403, "AIRecognitionNotEnabled")
    activate(server.data_dir, bucket, "enable-ai")          # the running server sees it at once
    assert call()[:3] == b"\xff\xd8\xff"
    status = cli_json(capsys, "ci", "status", bucket, "--json", "--data-dir", server.data_dir)
    assert status == [{"bucket": bucket, "bound": True, "ai": True}]
    activate(server.data_dir, bucket, "disable-ai")
    assert sdk_error(call).get_error_code() == "AIRecognitionNotEnabled"
    activate(server.data_dir, bucket, "enable-ai", "unbind")
    assert sdk_error(call).get_error_code() == "NoSuchCIBucket"
    err = sdk_error(cos.ci_put_object, Bucket=bucket, Body=face_jpeg, Key="b.jpg",
                    PicOperations=json.dumps({"rules": [{"fileid": "c.jpg", "rule": "ci-process=AIFaceBeauty"}]}))
    assert err.get_error_code() == "NoSuchCIBucket"


def test_cli_on_missing_bucket(server):
    assert cli_main(["ci", "bind", "nope-1250000000", "--data-dir", server.data_dir]) == 1


def admin_usage(port: int, **params: str) -> requests.Response:
    from qcloud_cos import CosConfig
    from tests.conftest import REGION, SECRET_ID, SECRET_KEY
    conf = CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY)
    return requests.get(f"http://127.0.0.1:{port}/-/usage", params=params,
                        auth=CosS3Auth(conf, "/-/usage", params=params), timeout=10)


def test_metering_rows(cos, server, ci_bucket, face_jpeg, capsys):
    cos.put_object(Bucket=ci_bucket, Key="m.jpg", Body=face_jpeg)
    out = cos.ci_process(Bucket=ci_bucket, Key="m.jpg", CiProcess="AIFaceBeauty")
    cos.ci_put_object(Bucket=ci_bucket, Body=face_jpeg, Key="m2.jpg",
                      PicOperations=json.dumps({"rules": [{"fileid": "m3.jpg", "rule": "ci-process=AIFaceBeauty"}]}))
    cos.ci_image_process(Bucket=ci_bucket, Key="m.jpg",
                         PicOperations=json.dumps({"rules": [{"fileid": "m4.jpg", "rule": "ci-process=AIFaceBeauty"}]}))
    cos.put_object(Bucket=ci_bucket, Key="junk.jpg", Body=b"junk" * 100)
    sdk_error(cos.ci_process, Bucket=ci_bucket, Key="junk.jpg", CiProcess="AIFaceBeauty")
    cos.ci_process(Bucket=ci_bucket, Key="junk.jpg", CiProcess="AIFaceBeauty", Params={"ignore-error": "1"})

    usage = cli_json(capsys, "usage", "--json", "--bucket", ci_bucket, "--since", "1h", "--data-dir", server.data_dir)
    rows = usage["records"]
    assert [(r["method"], r["outcome"]) for r in rows] == [
        ("download", "ok"), ("upload", "ok"), ("cloud", "ok"), ("download", "InvalidImageFormat"),
        ("download", "ok-original")]
    first = rows[0]
    assert first["bucket"] == ci_bucket and first["process"] == "AIFaceBeauty"
    assert (first["input_bytes"], first["output_bytes"], first["faces"]) == (len(face_jpeg), len(out), 1)
    assert all(r["ts"] > 0 and r["request_id"] for r in rows)
    assert {t["method"]: t["calls"] for t in usage["totals"]} == {"download": 3, "upload": 1, "cloud": 1}

    r = admin_usage(server.port, bucket=ci_bucket)
    assert r.status_code == 200, r.text
    assert r.json()["records"] == rows
    assert admin_usage(server.port, bucket=ci_bucket, since="2999-01-01").json()["records"] == []
    assert requests.get(f"http://127.0.0.1:{server.port}/-/usage", timeout=10).status_code == 403
    capsys.readouterr()
    assert cli_main(["usage", "--bucket", ci_bucket, "--data-dir", server.data_dir]) == 0
    table = capsys.readouterr().out
    assert "ok-original" in table and "download" in table


def test_slowdown_when_saturated(aux_server, aux_cos, aux_bucket, astronaut):
    """One worker, no queue: concurrent requests beyond the first get 503 SlowDown."""
    big = encode(cv2.resize(astronaut, (2048, 2048)), ".jpg")
    aux_cos.put_object(Bucket=aux_bucket, Key="big.jpg", Body=big)

    def one(_):
        client = cos_client(aux_server.port)
        try:
            client.ci_process(Bucket=aux_bucket, Key="big.jpg", CiProcess="AIFaceBeauty")
            return "ok"
        except Exception as exc:  # CosServiceError
            return f"{exc.get_status_code()} {exc.get_error_code()}"
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(one, range(6)))
    assert "ok" in outcomes
    assert "503 SlowDown" in outcomes
    assert set(outcomes) <= {"ok", "503 SlowDown"}
    assert aux_cos.ci_process(Bucket=aux_bucket, Key="big.jpg", CiProcess="AIFaceBeauty")[:2] == b"\xff\xd8"
