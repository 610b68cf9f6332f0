"""APPEND Object (issue 14 item 6) through cos-python-sdk-v5: create at position 0, append at the
current length, 409 PositionNotEqualToLength / ObjectNotAppendable, metadata of the first append kept,
CRC-64 of the whole object, exactly one of two racing appends at the same position wins."""

from __future__ import annotations

import concurrent.futures

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.api.test_cos_sdk import crcmod64
from tests.conftest import cos_client


def test_append_object(cos, bucket):
    first = cos.append_object(Bucket=bucket, Key="log.txt", Position=0, Data=b"line 1\n",
                              ContentType="text/plain", Metadata={"x-cos-meta-kind": "log"})
    assert first["x-cos-next-append-position"] == "7"
    second = cos.append_object(Bucket=bucket, Key="log.txt", Position=7, Data=b"line 2\n")
    assert second["x-cos-next-append-position"] == "14"
    got = cos.get_object(Bucket=bucket, Key="log.txt")
    assert got["Body"].get_raw_stream().read() == b"line 1\nline 2\n"
    assert got["Content-Type"] == "text/plain" and got["x-cos-meta-kind"] == "log"
    assert got["x-cos-hash-crc64ecma"] == crcmod64(b"line 1\nline 2\n")      # COS's CRC-64/ECMA of the whole
    with pytest.raises(CosServiceError) as e:
        cos.append_object(Bucket=bucket, Key="log.txt", Position=3, Data=b"x")
    assert (e.value.get_status_code(), e.value.get_error_code()) == (409, "PositionNotEqualToLength")
    cos.put_object(Bucket=bucket, Key="plain", Body=b"put")
    with pytest.raises(CosServiceError) as e:
        cos.append_object(Bucket=bucket, Key="plain", Position=3, Data=b"x")
    assert e.value.get_error_code() == "ObjectNotAppendable"
    with pytest.raises(CosServiceError) as e:
        cos.append_object(Bucket=bucket, Key="new", Position=5, Data=b"x")
    assert e.value.get_error_code() == "PositionNotEqualToLength"


def test_racing_appends_one_wins(server, bucket):
    clients = [cos_client(server.port) for _ in range(4)]
    clients[0].append_object(Bucket=bucket, Key="race", Position=0, Data=b"start")

    def append(i: int) -> str:
        try:
            clients[i].append_object(Bucket=bucket, Key="race", Position=5, Data=f"<{i}>".encode())
            return "ok"
        except CosServiceError as exc:
            return exc.get_error_code()

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(append, range(4)))
    assert results.count("ok") == 1, results
    body = clients[0].get_object(Bucket=bucket, Key="race")["Body"].get_raw_stream().read()
    assert body == b"start" + f"<{results.index('ok')}>".encode()
