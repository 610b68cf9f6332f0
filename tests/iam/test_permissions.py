"""Sub-accounts, policies, temporary credentials and ACLs, end to end through cos-python-sdk-v5
(and raw COS-v5-signed requests for the CI calls) against a real server."""

from __future__ import annotations

import io
import json
import re
import time

import httpx
import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.conftest import new_bucket
from tests.iam.conftest import admin, allow, deny, objects, policy, signed

GET_CI = ["name/cos:GetObject", "ci:CreateAIFaceBeautifyJob"]
PUT_CI = ["name/cos:PutObject", "ci:CreateAIFaceBeautifyJob"]
ALL_CI = ["name/cos:GetObject", "name/cos:PutObject", "ci:CreateAIFaceBeautifyJob"]


def jpeg() -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 150, 120)).save(buf, "JPEG")
    return buf.getvalue()


def code_of(resp) -> str:
    """The COS error code of a raw response ("" for success)."""
    if resp.status_code < 300:
        return ""
    m = re.search(r"<Code>([^<]*)</Code>", resp.text)
    return m.group(1) if m else str(resp.status_code)


def sdk_code(call) -> str:
    try:
        call()
    except CosServiceError as e:
        return e.get_error_code()
    return ""


def pic_operations(key: str) -> str:
    return json.dumps({"is_pic_info": 1, "rules": [{"fileid": f"/out/{key}", "rule": "ci-process=AIFaceBeauty"}]})


def ci_download(server, user, bucket: str, key: str) -> str:
    return code_of(signed(server, "GET", f"/{bucket}/{key}", user.secret_id, user.secret_key,
                          params={"ci-process": "AIFaceBeauty"}))


def ci_upload(server, user, bucket: str, key: str) -> str:
    return code_of(signed(server, "PUT", f"/{bucket}/{key}", user.secret_id, user.secret_key,
                          headers={"Pic-Operations": pic_operations(key), "Content-Type": "image/jpeg"},
                          data=jpeg()))


def ci_cloud(server, user, bucket: str, key: str) -> str:
    return code_of(signed(server, "POST", f"/{bucket}/{key}", user.secret_id, user.secret_key,
                          params={"image_process": ""}, headers={"Pic-Operations": pic_operations(key)}))


@pytest.fixture(scope="session")
def ci_landed(iam_server) -> bool:
    """The CI endpoints check permissions themselves; the stub that answers NotImplemented does not."""
    from tests.conftest import SECRET_ID, SECRET_KEY
    resp = signed(iam_server, "GET", "/nobucket-1250000000/x.jpg", SECRET_ID, SECRET_KEY,
                  params={"ci-process": "AIFaceBeauty"})
    return code_of(resp) != "NotImplemented"


def expect(code: str, allowed: bool, ci_landed: bool = True) -> None:
    if allowed:
        assert code != "AccessDenied"
    elif ci_landed:
        assert code == "AccessDenied"


@pytest.mark.parametrize("grant,ok", [
    (GET_CI, {"download", "get"}),
    (PUT_CI, {"upload", "put"}),
    (ALL_CI, {"download", "upload", "cloud", "get", "put"}),
], ids=["get+ci", "put+ci", "get+put+ci"])
def test_seed_grants_allow_exactly_their_method(iam_server, root_cos, iam_bucket, user_factory, ci_landed,
                                                grant, ok):
    root_cos.put_object(Bucket=iam_bucket, Key="face.jpg", Body=jpeg())
    user = user_factory(policy(allow(grant, objects(iam_bucket))))
    sdk = user.cos(iam_server)
    expect(ci_download(iam_server, user, iam_bucket, "face.jpg"), "download" in ok, ci_landed)
    expect(ci_upload(iam_server, user, iam_bucket, "up.jpg"), "upload" in ok, ci_landed)
    expect(ci_cloud(iam_server, user, iam_bucket, "face.jpg"), "cloud" in ok, ci_landed)
    expect(sdk_code(lambda: sdk.get_object(Bucket=iam_bucket, Key="face.jpg")), "get" in ok)
    expect(sdk_code(lambda: sdk.put_object(Bucket=iam_bucket, Key="plain.bin", Body=b"x")), "put" in ok)
    assert sdk_code(lambda: sdk.delete_object(Bucket=iam_bucket, Key="face.jpg")) == "AccessDenied"


def test_ci_action_alone_is_not_enough(iam_server, root_cos, iam_bucket, user_factory, ci_landed):
    root_cos.put_object(Bucket=iam_bucket, Key="face.jpg", Body=jpeg())
    get_only = user_factory(policy(allow("name/cos:GetObject", objects(iam_bucket))))
    expect(ci_download(iam_server, get_only, iam_bucket, "face.jpg"), False, ci_landed)
    assert sdk_code(lambda: get_only.cos(iam_server).get_object(Bucket=iam_bucket, Key="face.jpg")) == ""


def test_explicit_deny_overrides_allow(iam_server, root_cos, iam_bucket, user_factory):
    root_cos.put_object(Bucket=iam_bucket, Key="open/a.txt", Body=b"a")
    root_cos.put_object(Bucket=iam_bucket, Key="secret/b.txt", Body=b"b")
    user = user_factory(policy(allow("cos:*", "*")),
                        policy(deny(["name/cos:GetObject"], objects(iam_bucket, "secret/"))))
    sdk = user.cos(iam_server)
    assert sdk.get_object(Bucket=iam_bucket, Key="open/a.txt")["Body"].get_raw_stream().read() == b"a"
    assert sdk_code(lambda: sdk.get_object(Bucket=iam_bucket, Key="secret/b.txt")) == "AccessDenied"
    sdk.put_object(Bucket=iam_bucket, Key="secret/c.txt", Body=b"c")     # deny names GetObject only


def test_prefix_scoped_resource(iam_server, root_cos, iam_bucket, user_factory):
    user = user_factory(policy(allow(["name/cos:PutObject", "name/cos:GetObject"],
                                     [objects(iam_bucket, "users/alice/")])))
    sdk = user.cos(iam_server)
    sdk.put_object(Bucket=iam_bucket, Key="users/alice/1.txt", Body=b"1")
    assert sdk.get_object(Bucket=iam_bucket, Key="users/alice/1.txt")["Body"].get_raw_stream().read() == b"1"
    assert sdk_code(lambda: sdk.put_object(Bucket=iam_bucket, Key="users/bob/1.txt", Body=b"1")) == "AccessDenied"
    assert sdk_code(lambda: sdk.put_object(Bucket=iam_bucket, Key="users/alice", Body=b"1")) == "AccessDenied"
    assert sdk_code(lambda: sdk.list_objects(Bucket=iam_bucket)) == "AccessDenied"
    other = new_bucket(root_cos, "other")
    assert sdk_code(lambda: sdk.put_object(Bucket=other, Key="users/alice/1.txt", Body=b"1")) == "AccessDenied"
    # a bucket that does not exist is 404 NoSuchBucket to anyone, as on COS and S3 (names are public)
    missing = f"missing{iam_bucket}"
    assert sdk_code(lambda: sdk.put_object(Bucket=missing, Key="users/alice/1.txt", Body=b"1")) == "NoSuchBucket"


def test_condition_on_client_ip(iam_server, iam_bucket, user_factory):
    inside = user_factory(policy(allow("cos:PutObject", "*", condition={"ip_equal": {"qcs:ip": ["127.0.0.0/8"]}})))
    outside = user_factory(policy(allow("cos:PutObject", "*", condition={"ip_not_equal": {"qcs:ip": "127.0.0.1"}})))
    https = user_factory(policy(allow("cos:PutObject", "*",
                                      condition={"bool_equal": {"qcs:secure_transport": "true"}})))
    inside.cos(iam_server).put_object(Bucket=iam_bucket, Key="ip.txt", Body=b"1")
    for user in (outside, https):
        assert sdk_code(lambda user=user: user.cos(iam_server).put_object(Bucket=iam_bucket, Key="ip.txt", Body=b"1")) \
            == "AccessDenied"


def test_no_policy_means_no_access(iam_server, iam_bucket, user_factory):
    sdk = user_factory().cos(iam_server)
    assert sdk_code(lambda: sdk.list_buckets()) == "AccessDenied"
    assert sdk_code(lambda: sdk.put_object(Bucket=iam_bucket, Key="x", Body=b"1")) == "AccessDenied"
    assert sdk_code(lambda: sdk.create_bucket(Bucket="sneaky-1250000000")) == "AccessDenied"


def test_disabled_key_refused_through_cli(iam_server, iam_bucket, user_factory):
    from tests.iam.conftest import cli
    user = user_factory(policy(allow("cos:*", objects(iam_bucket))))
    sdk = user.cos(iam_server)
    sdk.put_object(Bucket=iam_bucket, Key="k", Body=b"1")
    assert cli(iam_server, "key", "disable", user.secret_id).returncode == 0
    assert sdk_code(lambda: sdk.put_object(Bucket=iam_bucket, Key="k", Body=b"2")) == "InvalidAccessKeyId"
    listed = cli(iam_server, "key", "list", user.name).stdout
    assert user.secret_id in listed and "disabled" in listed and user.secret_key not in listed
    assert cli(iam_server, "key", "enable", user.secret_id).returncode == 0
    sdk.put_object(Bucket=iam_bucket, Key="k", Body=b"3")
    assert cli(iam_server, "key", "delete", user.secret_id).returncode == 0
    assert sdk_code(lambda: sdk.put_object(Bucket=iam_bucket, Key="k", Body=b"4")) == "InvalidAccessKeyId"
    assert cli(iam_server, "key", "delete", user.secret_id).returncode == 1


def test_cli_user_key_policy_token(iam_server, iam_bucket, tmp_path):
    from tests.conftest import cos_client
    from tests.iam.conftest import cli
    name = "cli" + iam_bucket[3:11]
    assert cli(iam_server, "user", "create", name).returncode == 0
    assert cli(iam_server, "user", "create", name).returncode == 1           # exists
    out = cli(iam_server, "key", "create", name).stdout
    secret_id = re.search(r"SecretId:\s+(\S+)", out).group(1)
    secret_key = re.search(r"SecretKey:\s+(\S+)", out).group(1)
    sdk = cos_client(iam_server.port, secret_id, secret_key)
    assert sdk_code(lambda: sdk.put_object(Bucket=iam_bucket, Key="c", Body=b"1")) == "AccessDenied"
    doc = tmp_path / "writer.json"
    doc.write_text(json.dumps(policy(allow(["name/cos:PutObject", "name/cos:GetObject"], objects(iam_bucket)))))
    assert cli(iam_server, "policy", "attach", name, str(doc)).returncode == 0
    sdk.put_object(Bucket=iam_bucket, Key="c", Body=b"1")                    # seen without a restart
    users = cli(iam_server, "user", "list").stdout
    assert name in users and "writer" in users
    limit = tmp_path / "read.json"
    limit.write_text(json.dumps(policy(allow("name/cos:GetObject", "*"))))
    token = json.loads(cli(iam_server, "token", "create", name, "--duration", "60", "--policy", str(limit)).stdout)
    temp = cos_client(iam_server.port, token["tmpSecretId"], token["tmpSecretKey"], token["sessionToken"])
    assert temp.get_object(Bucket=iam_bucket, Key="c")["Body"].get_raw_stream().read() == b"1"
    assert sdk_code(lambda: temp.put_object(Bucket=iam_bucket, Key="c", Body=b"2")) == "AccessDenied"
    bad = cli(iam_server, "policy", "attach", name, str(tmp_path / "missing.json"))
    assert bad.returncode == 1
    doc.write_text('{"version": "2.0", "statement": [{"effect": "maybe", "action": "*", "resource": "*"}]}')
    assert "effect" in cli(iam_server, "policy", "attach", name, str(doc)).stderr
    assert cli(iam_server, "policy", "detach", name, "writer").returncode == 0
    assert sdk_code(lambda: sdk.put_object(Bucket=iam_bucket, Key="c", Body=b"1")) == "AccessDenied"
    assert cli(iam_server, "user", "delete", name).returncode == 0
    assert sdk_code(lambda: sdk.put_object(Bucket=iam_bucket, Key="c", Body=b"1")) == "InvalidAccessKeyId"


def test_temporary_credentials_work_then_expire(iam_server, root_cos, iam_bucket, user_factory):
    from tests.conftest import cos_client
    root_cos.put_object(Bucket=iam_bucket, Key="t.txt", Body=b"temp")
    user = user_factory(policy(allow("cos:*", objects(iam_bucket))))
    resp = admin(iam_server, "POST", f"/users/{user.name}/tokens", {"duration": 2})
    assert resp.status_code == 201, resp.text
    tok = resp.json()
    temp = cos_client(iam_server.port, tok["tmpSecretId"], tok["tmpSecretKey"], tok["sessionToken"])
    assert temp.get_object(Bucket=iam_bucket, Key="t.txt")["Body"].get_raw_stream().read() == b"temp"
    temp.put_object(Bucket=iam_bucket, Key="t2.txt", Body=b"x")              # no inline policy: the user's
    no_token = cos_client(iam_server.port, tok["tmpSecretId"], tok["tmpSecretKey"])
    assert sdk_code(lambda: no_token.get_object(Bucket=iam_bucket, Key="t.txt")) == "InvalidToken"
    wrong = cos_client(iam_server.port, tok["tmpSecretId"], tok["tmpSecretKey"], tok["sessionToken"][:-2] + "xx")
    assert sdk_code(lambda: wrong.get_object(Bucket=iam_bucket, Key="t.txt")) == "InvalidToken"
    permanent = cos_client(iam_server.port, user.secret_id, user.secret_key, tok["sessionToken"])
    assert sdk_code(lambda: permanent.get_object(Bucket=iam_bucket, Key="t.txt")) == "InvalidToken"
    time.sleep(tok["expiredTime"] - time.time() + 0.2)
    assert sdk_code(lambda: temp.get_object(Bucket=iam_bucket, Key="t.txt")) == "ExpiredToken"


def test_inline_policy_narrows_token(iam_server, root_cos, iam_bucket, user_factory):
    from tests.conftest import cos_client
    root_cos.put_object(Bucket=iam_bucket, Key="a/x", Body=b"1")
    root_cos.put_object(Bucket=iam_bucket, Key="b/x", Body=b"1")
    user = user_factory(policy(allow("name/cos:GetObject", objects(iam_bucket, "a/"))))
    inline = policy(allow("name/cos:*", "*"))
    tok = admin(iam_server, "POST", f"/users/{user.name}/tokens", {"duration": 60, "policy": inline}).json()
    temp = cos_client(iam_server.port, tok["tmpSecretId"], tok["tmpSecretKey"], tok["sessionToken"])
    temp.get_object(Bucket=iam_bucket, Key="a/x")
    assert sdk_code(lambda: temp.get_object(Bucket=iam_bucket, Key="b/x")) == "AccessDenied"   # user lacks it
    assert sdk_code(lambda: temp.put_object(Bucket=iam_bucket, Key="a/y", Body=b"1")) == "AccessDenied"


def test_public_read_object_readable_unsigned_private_not(iam_server, root_cos, iam_bucket):
    root_cos.put_object(Bucket=iam_bucket, Key="pub.txt", Body=b"public", ACL="public-read")
    root_cos.put_object(Bucket=iam_bucket, Key="priv.txt", Body=b"private")
    base = f"{iam_server.endpoint}/{iam_bucket}"
    assert httpx.get(f"{base}/pub.txt").content == b"public"
    denied = httpx.get(f"{base}/priv.txt")
    assert denied.status_code == 403 and "<Code>AccessDenied</Code>" in denied.text
    assert httpx.put(f"{base}/pub.txt", content=b"overwrite").status_code == 403
    assert httpx.get(f"{base}/pub.txt?ci-process=AIFaceBeauty").status_code in (403, 501)


def test_public_read_write_bucket_writable_unsigned(iam_server, root_cos, iam_bucket):
    base = f"{iam_server.endpoint}/{iam_bucket}"
    assert httpx.put(f"{base}/anon.txt", content=b"nope").status_code == 403
    root_cos.put_bucket_acl(Bucket=iam_bucket, ACL="public-read-write")
    assert httpx.put(f"{base}/anon.txt", content=b"anonymous").status_code == 200
    assert httpx.get(f"{base}/anon.txt").content == b"anonymous"
    assert httpx.get(f"{base}/?acl").status_code == 403                      # ACP is not public
    root_cos.put_object_acl(Bucket=iam_bucket, Key="anon.txt", ACL="private")
    assert httpx.get(f"{base}/anon.txt").status_code == 403                  # object ACL overrides reads
    assert httpx.delete(f"{base}/anon.txt").status_code == 204               # writes follow the bucket


def test_bucket_grant_to_sub_account(iam_server, root_cos, iam_bucket, user_factory):
    reader = user_factory()
    root_cos.put_object(Bucket=iam_bucket, Key="shared.txt", Body=b"shared")
    sdk = reader.cos(iam_server)
    assert sdk_code(lambda: sdk.get_object(Bucket=iam_bucket, Key="shared.txt")) == "AccessDenied"
    grantee = f'id="qcs::cam::uin/1250000000:uin/{reader.uin}"'
    root_cos.put_bucket_acl(Bucket=iam_bucket, GrantRead=grantee)
    assert sdk.get_object(Bucket=iam_bucket, Key="shared.txt")["Body"].get_raw_stream().read() == b"shared"
    assert [c["Key"] for c in sdk.list_objects(Bucket=iam_bucket)["Contents"]] == ["shared.txt"]
    assert sdk_code(lambda: sdk.put_object(Bucket=iam_bucket, Key="w", Body=b"1")) == "AccessDenied"
    grants = root_cos.get_bucket_acl(Bucket=iam_bucket)["AccessControlList"]["Grant"]
    assert any(g["Permission"] == "READ" and reader.uin in g["Grantee"].get("ID", "") for g in grants)
    root_cos.put_bucket_acl(Bucket=iam_bucket, ACL="private")                 # replaces the grants
    assert sdk_code(lambda: sdk.get_object(Bucket=iam_bucket, Key="shared.txt")) == "AccessDenied"


def test_admin_api_refuses_non_root(iam_server, user_factory):
    user = user_factory(policy(allow("*", "*")))
    for resp in (admin(iam_server, "GET", "/users", secret_id=user.secret_id, secret_key=user.secret_key),
                 httpx.get(f"{iam_server.endpoint}/-/admin/users"),
                 admin(iam_server, "POST", "/users", {"name": "evil"}, secret_id=user.secret_id,
                       secret_key=user.secret_key)):
        assert resp.status_code == 403 and resp.json()["Code"] == "AccessDenied"
    assert "evil" not in [u["name"] for u in admin(iam_server, "GET", "/users").json()["users"]]


def test_admin_api_surface(iam_server):
    assert admin(iam_server, "POST", "/users", {"name": "bad name!"}).status_code == 400
    assert admin(iam_server, "POST", "/users", {"name": "root"}).status_code == 400
    assert admin(iam_server, "POST", "/users", {"name": "carol"}).status_code == 201
    assert admin(iam_server, "POST", "/users", {"name": "carol"}).json()["Code"] == "UserAlreadyExists"
    key = admin(iam_server, "POST", "/users/carol/keys").json()
    keys = admin(iam_server, "GET", "/keys", params={"user": "carol"}).json()["keys"]
    assert [k["secret_id"] for k in keys] == [key["secret_id"]] and "secret_key" not in keys[0]
    assert admin(iam_server, "PUT", f"/keys/{key['secret_id']}", {"status": "disabled"}).status_code == 204
    assert admin(iam_server, "GET", "/keys", params={"user": "carol"}).json()["keys"][0]["status"] == "disabled"
    bad = admin(iam_server, "PUT", "/users/carol/policies/p", '{"version": "1.0"}')
    assert bad.status_code == 400 and bad.json()["Code"] == "InvalidPolicy"
    assert admin(iam_server, "PUT", "/users/carol/policies/p", policy(allow("cos:*", "*"))).status_code == 204
    assert [p["name"] for p in admin(iam_server, "GET", "/users/carol/policies").json()["policies"]] == ["p"]
    assert admin(iam_server, "DELETE", "/users/carol/policies/p").status_code == 204
    assert admin(iam_server, "DELETE", "/users/carol/policies/p").status_code == 404
    assert admin(iam_server, "POST", "/users/carol/tokens", {"duration": 0}).status_code == 400
    assert admin(iam_server, "GET", "/users/carol").status_code == 405
    assert admin(iam_server, "GET", "/nothing").status_code == 404
    assert admin(iam_server, "DELETE", "/users/carol").status_code == 204
    assert admin(iam_server, "POST", "/users/carol/keys").status_code == 404


def test_secrets_not_in_data_dir_or_log_and_denials_audited(iam_server, iam_bucket, user_factory):
    import os
    user = user_factory(policy(allow("name/cos:GetObject", objects(iam_bucket))))
    tok = admin(iam_server, "POST", f"/users/{user.name}/tokens", {"duration": 60}).json()
    denied = signed(iam_server, "PUT", f"/{iam_bucket}/x", user.secret_id, user.secret_key, data=b"1")
    assert denied.status_code == 403
    temp_denied = signed(iam_server, "PUT", f"/{iam_bucket}/x", tok["tmpSecretId"], tok["tmpSecretKey"],
                         token=tok["sessionToken"], data=b"1")
    assert code_of(temp_denied) == "AccessDenied"
    secrets = [user.secret_key, tok["tmpSecretKey"], tok["sessionToken"]]
    for dirpath, _, files in os.walk(iam_server.data_dir):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                content = f.read()
            for secret in secrets:
                assert secret.encode() not in content, f"{secret[:4]}... found in {name}"
    log = iam_server.log()
    for secret in secrets:
        assert secret not in log
    request_id = denied.headers["x-cos-request-id"]
    line = next(ln for ln in log.splitlines() if request_id in ln)
    assert "cosbeauty.audit" in line and "cos:PutObject" in line and f"uin/{user.uin}" in line
    assert f"{iam_bucket}/x" in line
