"""Bucket policy (issue 14 item 3): PUT/GET/DELETE ?policy in COS and S3 JSON, evaluated with user
policies and ACLs; explicit deny wins; anonymous principals."""

from __future__ import annotations

import json

import pytest
import requests
from botocore.exceptions import ClientError
from qcloud_cos.cos_exception import CosServiceError

from tests.conftest import APPID, REGION, new_bucket
from tests.iam.conftest import allow, make_user, objects, policy


def anon_get(server, bucket: str, key: str) -> int:
    return requests.get(f"http://127.0.0.1:{server.port}/{bucket}/{key}", timeout=10).status_code


def test_s3_policy_anonymous_read_of_a_prefix(server, s3, cos):
    b = new_bucket(cos)
    for k in ("pub/a", "priv/a"):
        cos.put_object(Bucket=b, Key=k, Body=b"x")
    assert anon_get(server, b, "pub/a") == 403
    doc = {"Version": "2012-10-17", "Statement": [{
        "Sid": "public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{b}/pub/*"}]}
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(doc))
    assert json.loads(s3.get_bucket_policy(Bucket=b)["Policy"]) == doc
    assert anon_get(server, b, "pub/a") == 200
    assert anon_get(server, b, "priv/a") == 403
    assert anon_get(server, b, "pub/missing") == 404
    s3.delete_bucket_policy(Bucket=b)
    assert anon_get(server, b, "pub/a") == 403
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=b)
    assert e.value.response["Error"]["Code"] == "NoSuchBucketPolicy"


def test_cos_policy_grants_a_sub_account(server, cos):
    b = new_bucket(cos)
    cos.put_object(Bucket=b, Key="k", Body=b"data")
    user = make_user(server)                 # no user policy: only the bucket policy can allow
    with pytest.raises(CosServiceError) as e:
        user.cos(server).get_object(Bucket=b, Key="k")
    assert e.value.get_error_code() == "AccessDenied"
    doc = {"version": "2.0", "Statement": [{
        "Principal": {"qcs": [f"qcs::cam::uin/{APPID}:uin/{user.uin}"]}, "Effect": "Allow",
        "Action": ["name/cos:GetObject"], "Resource": [f"qcs::cos:{REGION}:uid/{APPID}:{b}/*"]}]}
    cos.put_bucket_policy(Bucket=b, Policy=doc)
    assert user.cos(server).get_object(Bucket=b, Key="k")["Body"].get_raw_stream().read() == b"data"
    got = cos.get_bucket_policy(Bucket=b)
    assert json.loads(got["Policy"]) == doc


def test_bucket_policy_deny_beats_user_allow_and_acl(server, cos):
    b = new_bucket(cos)
    cos.put_object(Bucket=b, Key="secret/k", Body=b"x")
    cos.put_object(Bucket=b, Key="open/k", Body=b"x")
    cos.put_bucket_acl(Bucket=b, ACL="public-read")
    user = make_user(server, policy(allow(["cos:*"], [objects(b)])))
    doc = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": ["s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{b}/secret/*"]}]}
    cos.put_bucket_policy(Bucket=b, Policy=json.dumps(doc))
    with pytest.raises(CosServiceError) as e:
        user.cos(server).get_object(Bucket=b, Key="secret/k")
    assert e.value.get_error_code() == "AccessDenied"
    assert anon_get(server, b, "secret/k") == 403          # the public-read ACL does not override a deny
    assert anon_get(server, b, "open/k") == 200
    assert user.cos(server).get_object(Bucket=b, Key="open/k")
    cos.get_object(Bucket=b, Key="secret/k")                # the root (bucket owner) is never locked out


def test_policy_conditions_s3_spelling(server, cos, s3):
    b = new_bucket(cos)
    cos.put_object(Bucket=b, Key="k", Body=b"x")
    doc = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(doc))
    assert anon_get(server, b, "k") == 403                 # the client is 127.0.0.1
    doc["Statement"][0]["Condition"] = {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(doc))
    assert anon_get(server, b, "k") == 200


@pytest.mark.parametrize("doc", [
    "not json",
    {"Statement": []},
    {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]},   # no Principal
    {"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]},
    {"Statement": [{"Effect": "Allow", "Principal": "*", "NotAction": "s3:GetObject", "Resource": "*"}]},
    {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
                    "Condition": {"StringLike": {"aws:UserAgent": "x"}}}]},
    {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
                    "Condition": {"NumericLessThanIfExists": {"s3:max-keys": "10"}}}]},
])
def test_malformed_policies(s3, bucket, doc):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=doc if isinstance(doc, str) else json.dumps(doc))
    assert e.value.response["Error"]["Code"] == "MalformedPolicy"


def test_tag_conditions(server, cos, s3):
    b = new_bucket(cos)
    s3.put_object(Bucket=b, Key="open", Body=b"o", Tagging="public=yes")
    s3.put_object(Bucket=b, Key="closed", Body=b"c", Tagging="public=no")
    # S3: anonymous reads of objects tagged public=yes; writes must tag class=<something>
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*",
         "Condition": {"StringEquals": {"s3:ExistingObjectTag/public": "yes"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{b}/*",
         "Condition": {"StringNotLike": {"s3:RequestObjectTag/class": "*"}}}]}))
    assert anon_get(server, b, "open") == 200
    assert anon_get(server, b, "closed") == 403
    user = make_user(server, policy(allow(["cos:PutObject"], [objects(b)])))
    with pytest.raises(CosServiceError):
        user.cos(server).put_object(Bucket=b, Key="untagged", Body=b"x")
    user.cos(server).put_object(Bucket=b, Key="tagged", Body=b"x", Tagging="class=a")
    # COS: a user policy on the bucket's tags (qcs:resource_tag, "key&value")
    cos.put_bucket_tagging(Bucket=b, Tagging={"TagSet": {"Tag": [{"Key": "team", "Value": "blue"}]}})
    reader = make_user(server, policy(allow(["cos:GetObject"], [objects(b)],
                                            condition={"string_equal": {"qcs:resource_tag": ["team&blue"]}})))
    assert reader.cos(server).get_object(Bucket=b, Key="closed")["Body"].get_raw_stream().read() == b"c"
    cos.put_bucket_tagging(Bucket=b, Tagging={"TagSet": {"Tag": [{"Key": "team", "Value": "red"}]}})
    with pytest.raises(CosServiceError):
        reader.cos(server).get_object(Bucket=b, Key="closed")


def test_referer_conditions_and_if_exists(server, cos, s3):
    """aws:Referer (qcs:referer) with String* operators and their ...IfExists forms, as s3-tests'
    test_bucket_policy_set_condition_operator_end_with_if_exists uses them. The Referer header is
    whatever the client sends: a hotlinking guard, not access control."""
    b = new_bucket(cos)
    for key in ("ifexists/k", "strict/k"):
        cos.put_object(Bucket=b, Key=key, Body=b"x")
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/ifexists/*",
         "Condition": {"StringLikeIfExists": {"aws:Referer": "http://www.example.com/*"}}},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/strict/*",
         "Condition": {"StringLike": {"aws:Referer": "http://www.example.com/*"}}}]}))

    def get(key: str, referer: str | None) -> int:
        headers = {"Referer": referer} if referer is not None else {}
        return requests.get(f"http://127.0.0.1:{server.port}/{b}/{key}", headers=headers, timeout=10).status_code
    assert get("ifexists/k", None) == 200                     # absent: ...IfExists holds
    assert get("ifexists/k", "http://www.example.com/") == 200
    assert get("ifexists/k", "http://www.example.com/a.html") == 200
    assert get("ifexists/k", "http://www.example.com") == 403
    assert get("strict/k", None) == 403                        # absent: StringLike does not hold
    assert get("strict/k", "http://www.example.com/page") == 200
    # the CAM spelling in a sub-account's policy
    user = make_user(server, policy(allow("name/cos:GetObject", objects(b, "strict/"),
                                          condition={"string_like_if_exist": {"qcs:referer": "https://app.example/*"}})))
    sdk = user.cos(server)
    assert sdk.get_object(Bucket=b, Key="strict/k")["Body"].get_raw_stream().read() == b"x"
