"""Tagging (issue 14 item 4): object and bucket ?tagging, x-cos-tagging / x-amz-tagging on PUT,
copy and multipart, tag counts on GET/HEAD, list_buckets filters and paging."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError
from qcloud_cos.cos_exception import CosServiceError

from tests.conftest import APPID, new_bucket


def tagset(resp) -> dict:
    return {t["Key"]: t["Value"] for t in resp["TagSet"]}


def test_object_tagging_boto3(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", Tagging="team=blue&env=dev%20box")
    assert tagset(s3.get_object_tagging(Bucket=bucket, Key="o")) == {"team": "blue", "env": "dev box"}
    assert s3.head_object(Bucket=bucket, Key="o")["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    assert s3.get_object(Bucket=bucket, Key="o")["TagCount"] == 2
    s3.put_object_tagging(Bucket=bucket, Key="o", Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    assert tagset(s3.get_object_tagging(Bucket=bucket, Key="o")) == {"a": "1"}
    # copy keeps tags by default, replaces them with TaggingDirective=REPLACE
    s3.copy_object(Bucket=bucket, Key="kept", CopySource={"Bucket": bucket, "Key": "o"})
    assert tagset(s3.get_object_tagging(Bucket=bucket, Key="kept")) == {"a": "1"}
    s3.copy_object(Bucket=bucket, Key="new", CopySource={"Bucket": bucket, "Key": "o"},
                   TaggingDirective="REPLACE", Tagging="b=2")
    assert tagset(s3.get_object_tagging(Bucket=bucket, Key="new")) == {"b": "2"}
    s3.delete_object_tagging(Bucket=bucket, Key="o")
    assert s3.get_object_tagging(Bucket=bucket, Key="o")["TagSet"] == []
    assert "x-amz-tagging-count" not in s3.head_object(Bucket=bucket, Key="o")["ResponseMetadata"]["HTTPHeaders"]


def test_multipart_keeps_tags(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="k=v")
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"p")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert tagset(s3.get_object_tagging(Bucket=bucket, Key="mp")) == {"k": "v"}


def test_object_tagging_cos_sdk(cos, bucket):
    cos.put_object(Bucket=bucket, Key="c", Body=b"x", Tagging="x=1")
    assert cos.head_object(Bucket=bucket, Key="c")["x-cos-tagging-count"] == "1"
    cos.put_object_tagging(Bucket=bucket, Key="c", Tagging={"TagSet": {"Tag": [{"Key": "p", "Value": "q"}]}})
    got = cos.get_object_tagging(Bucket=bucket, Key="c")
    tags = got["TagSet"]["Tag"]
    tags = tags if isinstance(tags, list) else [tags]
    assert tags == [{"Key": "p", "Value": "q"}]
    cos.delete_object_tagging(Bucket=bucket, Key="c")


def test_invalid_tags(s3, bucket):
    too_many = "&".join(f"k{i}=v" for i in range(11))
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging=too_many)
    assert e.value.response["Error"]["Code"] == "InvalidTag"
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "k" * 129, "Value": "v"}]})
    assert e.value.response["Error"]["Code"] in ("InvalidTag", "NoSuchKey")


def test_bucket_tagging(s3, cos):
    b = new_bucket(cos)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=b)
    assert e.value.response["Error"]["Code"] == "NoSuchTagSet"
    s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "owner", "Value": "ann"}]})
    assert tagset(s3.get_bucket_tagging(Bucket=b)) == {"owner": "ann"}
    cos.put_bucket_tagging(Bucket=b, Tagging={"TagSet": {"Tag": [{"Key": "owner", "Value": "bob"}]}})
    got = cos.get_bucket_tagging(Bucket=b)["TagSet"]["Tag"]
    assert (got if isinstance(got, list) else [got]) == [{"Key": "owner", "Value": "bob"}]
    cos.delete_bucket_tagging(Bucket=b)
    with pytest.raises(CosServiceError) as e2:
        cos.get_bucket_tagging(Bucket=b)
    assert e2.value.get_status_code() == 404


def test_list_buckets_filters_and_paging(cos):
    from qcloud_cos import CosConfig  # noqa: F401  (the SDK's own list_buckets parameters)
    stamp = f"{time.time_ns()}"
    names = []
    for i in range(3):
        name = f"lb{stamp[-8:]}{i}-{APPID}"
        cos.create_bucket(Bucket=name)
        names.append(name)
    cos.put_bucket_tagging(Bucket=names[1], Tagging={"TagSet": {"Tag": [{"Key": "grp", "Value": stamp}]}})

    def listed(**kw) -> list[str]:
        resp = cos.list_buckets(**kw)
        got = (resp.get("Buckets") or {}).get("Bucket") or []
        return [b["Name"] for b in (got if isinstance(got, list) else [got])]

    assert listed(TagKey="grp", TagValue=stamp) == [names[1]]
    assert set(names) <= set(listed(Region="ap-guangzhou"))
    assert listed(Region="ap-beijing") == []
    created = int(time.time()) + 3600
    assert set(names) <= set(listed(CreateTime=created, Range="lt"))
    assert listed(CreateTime=created, Range="gt") == []
    # paging: 1 per page, continuing from NextMarker, visits every bucket once
    seen, marker = [], ""
    while True:
        resp = cos.list_buckets(MaxKeys=1, Marker=marker)
        page = resp["Buckets"]["Bucket"] if resp.get("Buckets") else []
        page = page if isinstance(page, list) else [page]
        seen += [b["Name"] for b in page]
        if resp["IsTruncated"] != "true":
            break
        marker = resp["NextMarker"]
    assert seen == sorted(seen) and set(names) <= set(seen) and len(seen) == len(set(seen))


def test_s3_list_buckets_paging(s3, cos):
    prefix = f"s3lb{time.time_ns() % 10**8}"
    names = sorted(f"{prefix}-{i}" for i in range(3))
    for name in names:
        s3.create_bucket(Bucket=name)
    got = [b["Name"] for page in s3.get_paginator("list_buckets").paginate(Prefix=prefix,
                                                                            PaginationConfig={"PageSize": 2})
           for b in page["Buckets"]]
    assert got == names
    first = s3.list_buckets(MaxBuckets=1, Prefix=prefix)
    assert [b["Name"] for b in first["Buckets"]] == names[:1] and first["ContinuationToken"]


def test_tagging_header_key_without_value_and_sorted_tag_set(s3, bucket):
    """``x-amz-tagging: foo=bar&bar`` is two tags (bar has an empty value), as S3 reads it; GET
    ?tagging lists tags by key."""
    def raw_header(params, **_):
        params["headers"]["x-amz-tagging"] = "foo=bar&bar"
    s3.meta.events.register("before-call.s3.PutObject", raw_header)
    try:
        s3.put_object(Bucket=bucket, Key="hdr-tags", Body=b"x")
    finally:
        s3.meta.events.unregister("before-call.s3.PutObject", raw_header)
    assert s3.get_object_tagging(Bucket=bucket, Key="hdr-tags")["TagSet"] == [
        {"Key": "bar", "Value": ""}, {"Key": "foo", "Value": "bar"}]
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad-tags", Body=b"x", Tagging="a=1&&b=2")
    assert e.value.response["Error"]["Code"] == "InvalidTag"
