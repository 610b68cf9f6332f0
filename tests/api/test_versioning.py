"""Versioning (issue 14 item 2) through boto3 and cos-python-sdk-v5: ?versioning, version ids on
PUT/copy/complete, GET/HEAD/DELETE ?versionId=, delete markers, ListObjectVersions paging, CI on a
version, a bucket emptied through ListObjectVersions, and the schema migration of an old data dir."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import new_bucket


@pytest.fixture
def vbucket(cos, s3):
    name = new_bucket(cos, "ver")
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def test_versioning_configuration(s3, cos, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    cos.put_bucket_versioning(Bucket=bucket, Status="Enabled")
    assert cos.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_versions_kept_and_addressable(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="k", Body=b"two")["VersionId"]
    assert v1 and v2 and v1 != v2
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"two"
    old = s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert old["Body"].read() == b"one" and old["VersionId"] == v1
    assert s3.head_object(Bucket=vbucket, Key="k", VersionId=v1)["ContentLength"] == 3
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId="0" * 32)
    assert e.value.response["Error"]["Code"] == "NoSuchVersion"


def test_delete_markers(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="d", Body=b"x")["VersionId"]
    gone = s3.delete_object(Bucket=vbucket, Key="d")
    assert gone["DeleteMarker"] is True and gone["VersionId"] != v1
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="d")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="d", VersionId=gone["VersionId"])
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405
    assert s3.get_object(Bucket=vbucket, Key="d", VersionId=v1)["Body"].read() == b"x"
    assert "Contents" not in s3.list_objects_v2(Bucket=vbucket)
    # removing the delete marker brings the object back
    s3.delete_object(Bucket=vbucket, Key="d", VersionId=gone["VersionId"])
    assert s3.get_object(Bucket=vbucket, Key="d")["Body"].read() == b"x"
    # removing a version for good
    s3.delete_object(Bucket=vbucket, Key="d", VersionId=v1)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=vbucket, Key="d")
    assert s3.list_object_versions(Bucket=vbucket).get("Versions") is None


def test_list_object_versions_paging(s3, vbucket):
    expected = []
    for key in ("a", "b/x", "b/y", "c"):
        for n in range(3):
            vid = s3.put_object(Bucket=vbucket, Key=key, Body=f"{key}{n}".encode())["VersionId"]
            expected.append((key, vid))
    marker = s3.delete_object(Bucket=vbucket, Key="c")["VersionId"]
    # newest first per key
    order = []
    for key in ("a", "b/x", "b/y", "c"):
        vids = [vid for k, vid in expected if k == key][::-1]
        order += [(key, marker)] if key == "c" else []
        order += [(key, vid) for vid in vids]
    full = s3.list_object_versions(Bucket=vbucket)
    got = sorted([(v["Key"], v["VersionId"], v["IsLatest"]) for v in full["Versions"]] +
                 [(m["Key"], m["VersionId"], m["IsLatest"]) for m in full["DeleteMarkers"]],
                 key=lambda t: [i for i, o in enumerate(order) if o[:2] == t[:2]][0])
    assert [g[:2] for g in got] == order
    assert [g[0] for g in got if g[2]] == ["a", "b/x", "b/y", "c"]     # one latest per key (c: the marker)
    paged = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=vbucket, PaginationConfig={"PageSize": 2}):
        paged += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        paged += [(m["Key"], m["VersionId"]) for m in page.get("DeleteMarkers", [])]
    assert sorted(paged) == sorted(order) and len(paged) == len(order)
    top = s3.list_object_versions(Bucket=vbucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["b/"]
    assert {v["Key"] for v in top["Versions"]} == {"a", "c"}
    pre = s3.list_object_versions(Bucket=vbucket, Prefix="b/")
    assert len(pre["Versions"]) == 6


def test_copy_and_complete_get_version_ids(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="src", Body=b"first")["VersionId"]
    s3.put_object(Bucket=vbucket, Key="src", Body=b"second")
    copied = s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    assert copied["VersionId"] and copied["CopySourceVersionId"] == v1
    assert s3.get_object(Bucket=vbucket, Key="dst")["Body"].read() == b"first"
    up = s3.create_multipart_upload(Bucket=vbucket, Key="mp")
    part = s3.upload_part(Bucket=vbucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"p")
    done = s3.complete_multipart_upload(Bucket=vbucket, Key="mp", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert done["VersionId"]


def test_empty_a_versioned_bucket_with_delete_objects(s3, vbucket):
    for n in range(3):
        s3.put_object(Bucket=vbucket, Key=f"k{n}", Body=b"x")
        s3.put_object(Bucket=vbucket, Key=f"k{n}", Body=b"y")
    s3.delete_object(Bucket=vbucket, Key="k0")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=vbucket)
    assert e.value.response["Error"]["Code"] == "BucketNotEmpty"
    listing = s3.list_object_versions(Bucket=vbucket)
    objs = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in listing["Versions"] + listing["DeleteMarkers"]]
    out = s3.delete_objects(Bucket=vbucket, Delete={"Objects": objs})
    assert len(out["Deleted"]) == len(objs) == 7
    assert any(d.get("DeleteMarker") for d in out["Deleted"])
    s3.delete_bucket(Bucket=vbucket)


def test_suspended_writes_null_versions(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="s", Body=b"kept")["VersionId"]
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket=vbucket, Key="s", Body=b"null1").get("VersionId") in (None, "null")
    s3.put_object(Bucket=vbucket, Key="s", Body=b"null2")
    versions = s3.list_object_versions(Bucket=vbucket)["Versions"]
    assert sorted(v["VersionId"] for v in versions) == sorted([v1, "null"])
    assert s3.get_object(Bucket=vbucket, Key="s", VersionId="null")["Body"].read() == b"null2"
    assert s3.get_object(Bucket=vbucket, Key="s", VersionId=v1)["Body"].read() == b"kept"


def test_unversioned_bucket_lists_null_versions(s3, bucket):
    s3.put_object(Bucket=bucket, Key="u", Body=b"1")
    s3.put_object(Bucket=bucket, Key="u", Body=b"2")
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in versions] == [("u", "null", True)]
    s3.delete_object(Bucket=bucket, Key="u")
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)


def test_cos_sdk_versions(cos, vbucket):
    put = cos.put_object(Bucket=vbucket, Key="c", Body=b"v1")
    vid = put["x-cos-version-id"]
    cos.put_object(Bucket=vbucket, Key="c", Body=b"v2")
    got = cos.get_object(Bucket=vbucket, Key="c", VersionId=vid)
    assert got["Body"].get_raw_stream().read() == b"v1"
    listed = cos.list_objects_versions(Bucket=vbucket)
    versions = listed["Version"] if isinstance(listed["Version"], list) else [listed["Version"]]
    assert {v["VersionId"] for v in versions} >= {vid}
    cos.delete_object(Bucket=vbucket, Key="c", VersionId=vid)


def test_ci_on_a_specific_version(server, cos, s3, vbucket):
    from tests.ci.test_ci_bucket_http import ci_client, jpeg
    from tests.conftest import REGION
    on_bucket = ci_client(server.port, f"{vbucket}.ci.{REGION}.myqcloud.com")
    on_bucket.ci_open_pic_bucket(Bucket=vbucket)
    on_bucket.ci_open_ai_bucket(Bucket=vbucket)
    face = cos.put_object(Bucket=vbucket, Key="me.jpg", Body=jpeg())["x-cos-version-id"]
    cos.put_object(Bucket=vbucket, Key="me.jpg", Body=b"not an image any more")
    body = cos.ci_process(Bucket=vbucket, Key="me.jpg", CiProcess="AIFaceBeauty", Params={"versionId": face})
    assert body[:2] == b"\xff\xd8"
    from qcloud_cos.cos_exception import CosServiceError
    with pytest.raises(CosServiceError):
        cos.ci_process(Bucket=vbucket, Key="me.jpg", CiProcess="AIFaceBeauty")      # the current bytes


def test_old_data_dir_is_migrated(tmp_path):
    """A data dir written before tags/versioning (old objects table) opens, keeps its objects, and
    can then be versioned."""
    import os
    import sqlite3

    from tests.conftest import Server, free_port, s3_client
    data = tmp_path / "data"
    os.makedirs(data)
    conn = sqlite3.connect(data / "meta.sqlite3")
    conn.executescript("""
    CREATE TABLE buckets (name TEXT PRIMARY KEY, created REAL NOT NULL, owner TEXT NOT NULL DEFAULT '',
        acl TEXT NOT NULL DEFAULT 'private', attrs TEXT NOT NULL DEFAULT '{}') WITHOUT ROWID;
    CREATE TABLE objects (bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
        mtime REAL NOT NULL, content_type TEXT NOT NULL, headers TEXT NOT NULL DEFAULT '{}',
        acl TEXT NOT NULL DEFAULT 'default', storage_class TEXT NOT NULL DEFAULT 'STANDARD',
        segments TEXT NOT NULL DEFAULT '[]', inline BLOB, PRIMARY KEY (bucket, key)) WITHOUT ROWID;
    INSERT INTO buckets VALUES ('old-1250000000', 1700000000, '', 'private', '{}');
    INSERT INTO objects VALUES ('old-1250000000', 'k', 3, '900150983cd24fb0d6963f7d28e17f72', 1700000000,
        'text/plain', '{}', 'default', 'STANDARD', '[]', X'616263');
    """)
    conn.commit()
    conn.close()
    srv = Server(str(data), free_port()).start()
    try:
        s3 = s3_client(srv.port)
        assert s3.get_object(Bucket="old-1250000000", Key="k")["Body"].read() == b"abc"
        s3.put_bucket_versioning(Bucket="old-1250000000", VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket="old-1250000000", Key="k", Body=b"new")
        assert s3.get_object(Bucket="old-1250000000", Key="k", VersionId="null")["Body"].read() == b"abc"
    finally:
        srv.stop()


def test_tagging_and_acl_of_a_version(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="t", Body=b"1", Tagging="gen=one")["VersionId"]
    s3.put_object(Bucket=vbucket, Key="t", Body=b"2", Tagging="gen=two")
    assert s3.get_object_tagging(Bucket=vbucket, Key="t", VersionId=v1)["TagSet"] == [{"Key": "gen", "Value": "one"}]
    s3.put_object_tagging(Bucket=vbucket, Key="t", VersionId=v1, Tagging={"TagSet": [{"Key": "gen", "Value": "old"}]})
    assert s3.get_object_tagging(Bucket=vbucket, Key="t", VersionId=v1)["TagSet"] == [{"Key": "gen", "Value": "old"}]
    assert s3.get_object_tagging(Bucket=vbucket, Key="t")["TagSet"] == [{"Key": "gen", "Value": "two"}]
    s3.put_object_acl(Bucket=vbucket, Key="t", VersionId=v1, ACL="public-read")
    grants = s3.get_object_acl(Bucket=vbucket, Key="t", VersionId=v1)["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in grants)
    assert not any(g["Grantee"].get("URI", "").endswith("AllUsers")
                   for g in s3.get_object_acl(Bucket=vbucket, Key="t")["Grants"])
    with pytest.raises(ClientError) as e:
        s3.get_object_tagging(Bucket=vbucket, Key="t", VersionId="f" * 32)
    assert e.value.response["Error"]["Code"] == "NoSuchVersion"


def test_noncurrent_versions_survive_restart_and_sweep(tmp_path):
    """Noncurrent versions and their blobs are committed state: a restart (and its orphan sweep)
    keeps them; deleting a version for good frees its blob."""
    import os

    from tests.conftest import Server, free_port, s3_client
    data = str(tmp_path / "data")
    srv = Server(data, free_port()).start()
    big1, big2 = os.urandom(200_000), os.urandom(200_000)       # > inline size: real blob files
    try:
        s3 = s3_client(srv.port)
        s3.create_bucket(Bucket="keep")
        s3.put_bucket_versioning(Bucket="keep", VersioningConfiguration={"Status": "Enabled"})
        v1 = s3.put_object(Bucket="keep", Key="k", Body=big1)["VersionId"]
        s3.put_object(Bucket="keep", Key="k", Body=big2)
        marker = s3.delete_object(Bucket="keep", Key="k")["VersionId"]
    finally:
        srv.stop()

    def blob_count() -> int:
        return sum(len(files) for _, _, files in os.walk(os.path.join(data, "blobs")))
    assert blob_count() == 2
    srv = Server(data, free_port()).start()
    try:
        s3 = s3_client(srv.port)
        time.sleep(1.5)         # the start-up sweep runs in the background
        assert blob_count() == 2
        assert s3.get_object(Bucket="keep", Key="k", VersionId=v1)["Body"].read() == big1
        s3.delete_object(Bucket="keep", Key="k", VersionId=marker)
        assert s3.get_object(Bucket="keep", Key="k")["Body"].read() == big2
        s3.delete_object(Bucket="keep", Key="k", VersionId=v1)
        assert blob_count() == 1
    finally:
        srv.stop()


def test_upload_part_copy_from_a_version(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="src", Body=b"A" * 2048)["VersionId"]
    s3.put_object(Bucket=vbucket, Key="src", Body=b"B" * 2048)
    up = s3.create_multipart_upload(Bucket=vbucket, Key="dst")
    part = s3.upload_part_copy(Bucket=vbucket, Key="dst", UploadId=up["UploadId"], PartNumber=1,
                               CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    s3.complete_multipart_upload(Bucket=vbucket, Key="dst", UploadId=up["UploadId"], MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=vbucket, Key="dst")["Body"].read() == b"A" * 2048


def test_version_marker_of_a_deleted_version_resumes(s3, vbucket):
    """Emptying a bucket page by page (list a page, delete it, list from the page's markers -- what
    ceph s3-tests' clean-up and many tools do) must not fail when the marker version is gone."""
    for n in range(3):
        s3.put_object(Bucket=vbucket, Key="a", Body=b"%d" % n)
    s3.put_object(Bucket=vbucket, Key="b", Body=b"b")
    seen = set()
    key_marker = version_marker = ""
    for _ in range(10):
        page = s3.list_object_versions(Bucket=vbucket, KeyMarker=key_marker, VersionIdMarker=version_marker, MaxKeys=2)
        batch = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", [])]
        seen.update((o["Key"], o["VersionId"]) for o in batch)
        if batch:
            s3.delete_objects(Bucket=vbucket, Delete={"Objects": batch, "Quiet": True})
        if not page["IsTruncated"]:
            break
        key_marker, version_marker = page["NextKeyMarker"], page["NextVersionIdMarker"]
    assert len(seen) == 4
    assert s3.list_object_versions(Bucket=vbucket).get("Versions") is None
    s3.delete_bucket(Bucket=vbucket)
