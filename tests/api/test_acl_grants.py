"""ACL model (issue 14 item 8): grants to accounts/sub-accounts by id on buckets and objects
(x-cos-grant-* / x-amz-grant-* headers and AccessControlPolicy bodies with typed grantees),
read-modify-write with boto3 and the COS SDK, canned ACLs, and enforcement together with policies."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from qcloud_cos.cos_exception import CosServiceError

from tests.conftest import APPID, new_bucket, s3_client
from tests.iam.conftest import make_user


def grant_id(user) -> str:
    return f"qcs::cam::uin/{APPID}:uin/{user.uin}"


def can_read(server, user, bucket: str, key: str) -> bool:
    try:
        user.cos(server).get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream().read()
        return True
    except CosServiceError as exc:
        assert exc.get_error_code() == "AccessDenied"
        return False


def test_object_grant_headers_on_put(server, cos, s3):
    b = new_bucket(cos)
    user, other = make_user(server), make_user(server)
    s3.put_object(Bucket=b, Key="shared", Body=b"s", GrantRead=f'id="{grant_id(user)}"')
    cos.put_object(Bucket=b, Key="private", Body=b"p")
    assert can_read(server, user, b, "shared")
    assert not can_read(server, other, b, "shared")
    assert not can_read(server, user, b, "private")
    grants = s3.get_object_acl(Bucket=b, Key="shared")["Grants"]
    assert {"Grantee": {"Type": "CanonicalUser", "ID": grant_id(user), "DisplayName": user.name},
            "Permission": "READ"} in grants
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=b, Key="both", Body=b"x", ACL="public-read", GrantRead=f'id="{grant_id(user)}"')
    assert e.value.response["Error"]["Code"] == "InvalidRequest"


def test_object_acl_read_modify_write_boto3(server, cos, s3):
    b = new_bucket(cos)
    user = make_user(server)
    s3.put_object(Bucket=b, Key="k", Body=b"data")
    assert not can_read(server, user, b, "k")
    acl = s3.get_object_acl(Bucket=b, Key="k")
    acl["Grants"].append({"Grantee": {"Type": "CanonicalUser", "ID": grant_id(user)}, "Permission": "READ"})
    s3.put_object_acl(Bucket=b, Key="k", AccessControlPolicy={"Owner": acl["Owner"], "Grants": acl["Grants"]})
    assert can_read(server, user, b, "k")
    # and a group grant back to public
    again = s3.get_object_acl(Bucket=b, Key="k")
    again["Grants"].append({"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                            "Permission": "READ"})
    s3.put_object_acl(Bucket=b, Key="k", AccessControlPolicy={"Owner": again["Owner"], "Grants": again["Grants"]})
    import requests
    assert requests.get(f"http://127.0.0.1:{server.port}/{b}/k", timeout=10).status_code == 200


def test_object_acl_read_modify_write_cos_sdk(server, cos):
    b = new_bucket(cos)
    user = make_user(server)
    cos.put_object(Bucket=b, Key="k", Body=b"data")
    acl = cos.get_object_acl(Bucket=b, Key="k")
    grants = acl["AccessControlList"]["Grant"]
    grants = grants if isinstance(grants, list) else [grants]
    grants.append({"Grantee": {"Type": "CanonicalUser", "ID": grant_id(user)}, "Permission": "READ"})
    cos.put_object_acl(Bucket=b, Key="k", AccessControlPolicy={"Owner": acl["Owner"],
                                                               "AccessControlList": {"Grant": grants}})
    assert can_read(server, user, b, "k")
    cos.put_object_acl(Bucket=b, Key="k", GrantFullControl=f'id="{grant_id(user)}"')
    got = cos.get_object_acl(Bucket=b, Key="k")["AccessControlList"]["Grant"]
    assert any(g["Permission"] == "FULL_CONTROL" and g["Grantee"].get("ID") == grant_id(user) for g in got)


def test_bucket_grant_and_write_acp(server, cos, s3):
    b = new_bucket(cos)
    user = make_user(server)
    cos.put_object(Bucket=b, Key="k", Body=b"x")
    cos.put_bucket_acl(Bucket=b, GrantRead=f'id="{grant_id(user)}"')
    assert can_read(server, user, b, "k")
    with pytest.raises(CosServiceError):
        user.cos(server).put_object_acl(Bucket=b, Key="k", ACL="public-read")
    s3.put_object_acl(Bucket=b, Key="k", GrantWriteACP=f'id="{grant_id(user)}"')     # the COS SDK has no GrantWriteACP
    user.cos(server).put_object_acl(Bucket=b, Key="k", ACL="public-read")     # WRITE_ACP lets it change the ACL


def test_grant_is_overridden_by_explicit_deny(server, cos, s3):
    b = new_bucket(cos)
    user = make_user(server)
    s3.put_object(Bucket=b, Key="k", Body=b"x", GrantRead=f'id="{grant_id(user)}"')
    assert can_read(server, user, b, "k")
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": {"qcs": [f"qcs::cam::uin/{APPID}:uin/{user.uin}"]},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*"}]}))
    assert not can_read(server, user, b, "k")


def test_canned_acls_on_objects_with_boto3(server, s3, cos):
    b = new_bucket(cos)
    for canned in ("private", "public-read", "public-read-write", "authenticated-read", "bucket-owner-read",
                   "bucket-owner-full-control"):
        s3.put_object(Bucket=b, Key=canned, Body=b"x", ACL=canned)
        grants = s3.get_object_acl(Bucket=b, Key=canned)["Grants"]
        # S3's order (group grants first, s3-tests relies on it), then the owner's FULL_CONTROL
        owner = [g for g in grants if g["Grantee"]["Type"] == "CanonicalUser"]
        assert owner[0]["Permission"] == "FULL_CONTROL", grants
        assert all(g["Grantee"]["Type"] == "Group" for g in grants[:len(grants) - len(owner)]), grants
    user = make_user(server)
    client = s3_client(server.port, user.secret_id, user.secret_key)
    assert client.get_object(Bucket=b, Key="authenticated-read")["Body"].read() == b"x"
    with pytest.raises(ClientError):
        client.get_object(Bucket=b, Key="private")


def test_grants_on_create_bucket(server, s3):
    import uuid
    user = make_user(server)
    name = f"grants-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name, GrantRead=f'id="{grant_id(user)}"')
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    client = s3_client(server.port, user.secret_id, user.secret_key)
    assert client.get_object(Bucket=name, Key="k")["Body"].read() == b"x"
    assert any(g["Grantee"].get("ID") == grant_id(user) for g in s3.get_bucket_acl(Bucket=name)["Grants"])


def test_grant_display_names_and_email_grants(server, s3, cos):
    b = new_bucket(cos)
    user = make_user(server)
    s3.put_bucket_acl(Bucket=b, GrantRead=f'id="{grant_id(user)}"')
    grant = [g for g in s3.get_bucket_acl(Bucket=b)["Grants"] if g["Grantee"].get("ID") == grant_id(user)][0]
    assert grant["Grantee"]["DisplayName"] == user.name
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket=b, GrantRead='emailAddress="someone@example.com"')
    assert e.value.response["Error"]["Code"] == "UnresolvableGrantByEmailAddress"


@pytest.fixture(scope="module")
def alt_user(server):
    return make_user(server)


# the access matrix of ceph s3-tests' test_access_bucket_<bucket acl>_object_<object acl>: what an
# other (policy-less) account may do under each pair of canned ACLs
@pytest.mark.parametrize("bucket_acl, object_acl, get, listing, put", [
    ("private", "private", 403, 403, 403),
    ("private", "public-read", 200, 403, 403),
    ("private", "public-read-write", 200, 403, 403),
    ("public-read", "private", 403, 200, 403),
    ("public-read", "public-read", 200, 200, 403),
    ("public-read-write", "private", 403, 200, 200),
    ("public-read-write", "public-read", 200, 200, 200),
    ("authenticated-read", "private", 403, 200, 403),
])
def test_access_matrix_like_s3_tests(server, s3, alt_user, bucket_acl, object_acl, get, listing, put):
    import uuid
    alt = s3_client(server.port, alt_user.secret_id, alt_user.secret_key)
    name = f"matrix-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name, ACL=bucket_acl)
    s3.put_object(Bucket=name, Key="foo", Body=b"foocontent", ACL=object_acl)

    def status(call) -> int:
        try:
            call()
            return 200
        except ClientError as exc:
            return exc.response["ResponseMetadata"]["HTTPStatusCode"]
    assert status(lambda: alt.get_object(Bucket=name, Key="foo")["Body"].read()) == get
    assert status(lambda: alt.list_objects(Bucket=name)) == listing
    assert status(lambda: alt.put_object(Bucket=name, Key="foo", Body=b"overwrite")) == put
    assert status(lambda: alt.put_object(Bucket=name, Key="new", Body=b"new")) == put


def test_object_written_by_a_sub_account_is_owned_by_it(server, cos, s3):
    """Item 2: the writer of an object owns it; bucket-owner-read / bucket-owner-full-control add
    the bucket owner (the root account) next to it; a new ACL keeps the owner."""
    b = new_bucket(cos)
    writer, other = make_user(server), make_user(server)
    s3.put_bucket_acl(Bucket=b, GrantWrite=f'id="{grant_id(writer)}"', GrantRead=f'id="{grant_id(other)}"')
    w = s3_client(server.port, writer.secret_id, writer.secret_key)
    owner = {"ID": grant_id(writer), "DisplayName": writer.name}
    root = {"ID": f"qcs::cam::uin/{APPID}:uin/{APPID}", "DisplayName": APPID}

    def grants(key: str) -> list:
        return sorted(((g["Grantee"]["ID"], g["Permission"]) for g in s3.get_object_acl(Bucket=b, Key=key)["Grants"]))

    w.put_object(Bucket=b, Key="plain", Body=b"p")
    assert s3.get_object_acl(Bucket=b, Key="plain")["Owner"] == owner
    assert grants("plain") == [(owner["ID"], "FULL_CONTROL")]
    assert w.get_object(Bucket=b, Key="plain")["Body"].read() == b"p"       # owner: FULL_CONTROL
    assert w.get_object_acl(Bucket=b, Key="plain")["Owner"] == owner
    w.put_object(Bucket=b, Key="bor", Body=b"r", ACL="bucket-owner-read")
    assert grants("bor") == sorted([(owner["ID"], "FULL_CONTROL"), (root["ID"], "READ")])
    w.put_object(Bucket=b, Key="bofc", Body=b"f", ACL="bucket-owner-full-control")
    assert grants("bofc") == sorted([(owner["ID"], "FULL_CONTROL"), (root["ID"], "FULL_CONTROL")])
    # the root account's own objects: bucket-owner-* add nothing (it is the bucket owner)
    s3.put_object(Bucket=b, Key="mine", Body=b"m", ACL="bucket-owner-full-control")
    assert grants("mine") == [(root["ID"], "FULL_CONTROL")]
    # a new canned ACL keeps the owner; the bucket's READ grant still lets `other` read
    s3.put_object_acl(Bucket=b, Key="plain", ACL="private")
    assert s3.get_object_acl(Bucket=b, Key="plain")["Owner"] == owner
    o = s3_client(server.port, other.secret_id, other.secret_key)
    assert o.get_object(Bucket=b, Key="plain")["Body"].read() == b"p"
    with pytest.raises(ClientError) as e:
        o.get_object_acl(Bucket=b, Key="plain")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    # a COS client sees the same owner
    assert cos.get_object_acl(Bucket=b, Key="bor")["Owner"]["ID"] == owner["ID"]


def test_acl_bodies_and_grant_headers_are_kept_exactly(server, s3, cos):
    b = new_bucket(cos)
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    acl = s3.get_object_acl(Bucket=b, Key="k")
    acl["Grants"][0]["Permission"] = "READ"
    s3.put_object_acl(Bucket=b, Key="k", AccessControlPolicy={"Owner": acl["Owner"], "Grants": acl["Grants"]})
    got = s3.get_object_acl(Bucket=b, Key="k")["Grants"]
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in got] == [(acl["Owner"]["ID"], "READ")]
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"x"     # the root account is never limited
    s3.put_bucket_acl(Bucket=b, AccessControlPolicy={"Owner": acl["Owner"], "Grants": []})
    assert s3.get_bucket_acl(Bucket=b)["Grants"] == []
    user = make_user(server)
    s3.put_bucket_acl(Bucket=b, GrantRead=f"id={grant_id(user)}")       # unquoted, as S3 also accepts
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in s3.get_bucket_acl(Bucket=b)["Grants"]] == \
        [(grant_id(user), "READ")]
    s3.put_bucket_acl(Bucket=b, ACL="private")
    assert [g["Permission"] for g in s3.get_bucket_acl(Bucket=b)["Grants"]] == ["FULL_CONTROL"]


@pytest.mark.parametrize("grantee", ["_foo", f"qcs::cam::uin/{APPID}:uin/99999999999", "uin/123"])
def test_grants_to_unknown_ids_are_refused(server, s3, cos, grantee):
    b = new_bucket(cos)
    acl = s3.get_bucket_acl(Bucket=b)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket=b, AccessControlPolicy={
            "Owner": acl["Owner"], "Grants": acl["Grants"] + [
                {"Grantee": {"Type": "CanonicalUser", "ID": grantee}, "Permission": "READ"}]})
    assert (e.value.response["ResponseMetadata"]["HTTPStatusCode"], e.value.response["Error"]["Code"]) == \
        (400, "InvalidArgument")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=b, Key="k", Body=b"x", GrantRead=f'id="{grantee}"')
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
    # an account of another APPID (an ACL migrated from COS) is kept, and grants nothing here
    foreign = "qcs::cam::uin/100000000001:uin/100000000001"
    s3.put_bucket_acl(Bucket=b, GrantRead=f'id="{foreign}"')
    assert foreign in [g["Grantee"].get("ID") for g in s3.get_bucket_acl(Bucket=b)["Grants"]]


def test_denied_callers_learn_bucket_existence_as_everyone_does(server, cos):
    user = make_user(server)
    client = s3_client(server.port, user.secret_id, user.secret_key)
    b = new_bucket(cos)
    for call, code, status in ((lambda: client.get_object(Bucket=b + "x", Key="k"), "NoSuchBucket", 404),
                               (lambda: client.delete_object(Bucket=b + "x", Key="k"), "NoSuchBucket", 404),
                               (lambda: client.create_bucket(Bucket=b), "BucketAlreadyExists", 409),
                               (lambda: client.get_object(Bucket=b, Key="k"), "AccessDenied", 403)):
        with pytest.raises(ClientError) as e:
            call()
        assert (e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == \
            (code, status)
    import requests
    r = requests.get(f"http://127.0.0.1:{server.port}/{b}x/k", timeout=10)
    assert r.status_code == 404 and b"NoSuchBucket" in r.content
