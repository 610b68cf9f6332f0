"""CI activation over HTTP through the SDK's own calls (ci_open_pic_bucket, ci_open_ai_bucket, ...).

The SDK sends these to the CI host ``<bucket>.ci.<region>.myqcloud.com``; with ``IP``/``Port`` set it
only puts that host in the Host header when ``Domain`` names it, which is how these tests reach the
server."""

from __future__ import annotations

import pytest
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosServiceError
from skimage import data

from tests.conftest import APPID, REGION, SECRET_ID, SECRET_KEY


def ci_client(port: int, host: str) -> CosS3Client:
    return CosS3Client(CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY, IP="127.0.0.1",
                                 Port=port, Scheme="http", Domain=host), retry=0)


def jpeg() -> bytes:
    import io
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_activation_through_sdk_calls(server, cos):
    bucket = f"ciact-{APPID}"
    cos.create_bucket(Bucket=bucket)
    cos.put_object(Bucket=bucket, Key="face.jpg", Body=jpeg())
    on_bucket = ci_client(server.port, f"{bucket}.ci.{REGION}.myqcloud.com")
    service = ci_client(server.port, f"ci.{REGION}.myqcloud.com")

    with pytest.raises(CosServiceError) as e:
        cos.ci_process(Bucket=bucket, Key="face.jpg", CiProcess="AIFaceBeauty")
    assert e.value.get_error_code() == "NoSuchCIBucket"

    _, opened = on_bucket.ci_open_pic_bucket(Bucket=bucket)
    assert opened["PicBucket"]["Name"] == bucket
    listed = service.ci_get_pic_bucket(BucketNames=bucket)
    assert [b["Name"] for b in _as_list(listed["PicBucketList"])] == [bucket]

    with pytest.raises(CosServiceError) as e:
        cos.ci_process(Bucket=bucket, Key="face.jpg", CiProcess="AIFaceBeauty")
    assert e.value.get_error_code() == "AIRecognitionNotEnabled"

    _, opened = on_bucket.ci_open_ai_bucket(Bucket=bucket)
    assert opened["AiBucket"]["Name"] == bucket
    assert [b["Name"] for b in _as_list(service.ci_get_ai_bucket(BucketName="ciact")["AiBucketList"])] == [bucket]
    body = cos.ci_process(Bucket=bucket, Key="face.jpg", CiProcess="AIFaceBeauty")
    assert body[:2] == b"\xff\xd8"

    on_bucket.ci_close_ai_bucket(Bucket=bucket)
    with pytest.raises(CosServiceError) as e:
        cos.ci_process(Bucket=bucket, Key="face.jpg", CiProcess="AIFaceBeauty")
    assert e.value.get_error_code() == "AIRecognitionNotEnabled"
    on_bucket.ci_close_pic_bucket(Bucket=bucket)
    assert "PicBucketList" not in service.ci_get_pic_bucket(BucketNames=bucket)
    # an object that happens to be called "picbucket" on the COS host is still just an object
    cos.put_object(Bucket=bucket, Key="picbucket", Body=b"just a key")
    assert cos.get_object(Bucket=bucket, Key="picbucket")["Body"].get_raw_stream().read() == b"just a key"


def test_activation_missing_bucket(server):
    client = ci_client(server.port, f"nosuch-{APPID}.ci.{REGION}.myqcloud.com")
    with pytest.raises(CosServiceError) as e:
        client.ci_open_pic_bucket(Bucket=f"nosuch-{APPID}")
    assert e.value.get_error_code() == "NoSuchBucket"


def _as_list(value):
    return value if isinstance(value, list) else [value]
