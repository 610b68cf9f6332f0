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


def test_append_answer_as_cos_documents_it(cos, bucket):
    """COS's APPEND Object answer: ETag (the object's identifier, the same one HEAD/GET give),
    x-cos-content-sha1 (SHA-1 of the appended chunk, hex) and x-cos-next-append-position; HEAD
    tells the object type (x-cos-object-type: appendable)."""
    import hashlib
    chunks = [b"first chunk\n", b"second\n"]
    position = 0
    for chunk in chunks:
        got = cos.append_object(Bucket=bucket, Key="doc.log", Position=position, Data=chunk)
        position += len(chunk)
        assert got["x-cos-content-sha1"] == hashlib.sha1(chunk).hexdigest()
        assert got["x-cos-next-append-position"] == str(position)
        head = cos.head_object(Bucket=bucket, Key="doc.log")
        assert head["ETag"] == got["ETag"]
        assert head["x-cos-object-type"] == "appendable"
    assert cos.get_object(Bucket=bucket, Key="doc.log")["ETag"] == got["ETag"]
    # different content, different identifier
    cos.append_object(Bucket=bucket, Key="other.log", Position=0, Data=b"first chunk\n")
    other = cos.append_object(Bucket=bucket, Key="other.log", Position=12, Data=b"SECOND\n")
    assert other["ETag"] != got["ETag"]
