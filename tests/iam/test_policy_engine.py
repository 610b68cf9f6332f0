"""The policy language and the authorizer's meaning of ``check(ctx, actions)``, in process."""

from __future__ import annotations

import json

import anyio
import pytest

from cosbeauty.iam.policy import ALLOW, DENY, PolicyError, Request, evaluate, parse_policy, resource_names

APPID, REGION, BUCKET = "1250000000", "ap-guangzhou", "photos-1250000000"


def req(action: str, key: str = "a/b.jpg", bucket: str = BUCKET, ip: str = "127.0.0.1", secure: bool = False):
    return Request(action, resource_names(REGION, APPID, bucket, key), ip, secure)


def doc(*statements: dict) -> dict:
    return {"version": "2.0", "statement": list(statements)}


def test_action_forms_and_wildcards():
    p = parse_policy(doc({"effect": "allow", "action": ["name/cos:Get*", "ci:CreateAIFaceBeautifyJob"],
                          "resource": "*"}))
    assert evaluate([p], req("cos:GetObject")) == ALLOW
    assert evaluate([p], req("cos:getobject")) == ALLOW
    assert evaluate([p], req("ci:CreateAIFaceBeautifyJob")) == ALLOW
    assert evaluate([p], req("cos:PutObject")) is None
    assert evaluate([parse_policy(doc({"effect": "allow", "action": "*", "resource": "*"}))],
                    req("ci:Anything")) == ALLOW


@pytest.mark.parametrize("resource,key,expected", [
    (f"qcs::cos:{REGION}:uid/{APPID}:{BUCKET}/a/*", "a/b.jpg", ALLOW),
    (f"qcs::cos:{REGION}:uid/{APPID}:{BUCKET}/a/*", "ab.jpg", None),
    (f"qcs::cos:*:uid/{APPID}:{BUCKET}/*", "x", ALLOW),
    (f"qcs::cos:{REGION}:uid/{APPID}:{BUCKET}/a/b.jpg", "a/b.jpg", ALLOW),
    (f"qcs::cos:{REGION}:uid/{APPID}:{BUCKET}/A/*", "a/b.jpg", None),          # keys are case-sensitive
    (f"qcs::ci:{REGION}:uid/{APPID}:bucket/{BUCKET}/a/*", "a/b.jpg", ALLOW),   # CI spelling
    (f"qcs::cos:{REGION}:uid/{APPID}:prefix//{APPID}/photos/a/*", "a/b.jpg", ALLOW),
    (f"qcs::cos:{REGION}:uid/1250000001:{BUCKET}/*", "a/b.jpg", None),
    (f"qcs::cos:ap-beijing:uid/{APPID}:{BUCKET}/*", "a/b.jpg", None),
])
def test_resource_matching(resource, key, expected):
    p = parse_policy(doc({"effect": "allow", "action": "cos:GetObject", "resource": resource}))
    assert evaluate([p], req("cos:GetObject", key)) == expected


def test_explicit_deny_wins_across_policies():
    allow_all = parse_policy(doc({"effect": "allow", "action": "cos:*", "resource": "*"}))
    deny_one = parse_policy(doc({"effect": "Deny", "action": "name/cos:DeleteObject",
                                 "resource": f"qcs::cos:{REGION}:uid/{APPID}:{BUCKET}/*"}))
    assert evaluate([allow_all, deny_one], req("cos:DeleteObject")) == DENY
    assert evaluate([deny_one, allow_all], req("cos:DeleteObject")) == DENY
    assert evaluate([allow_all, deny_one], req("cos:GetObject")) == ALLOW


def test_conditions():
    p = parse_policy(doc({"effect": "allow", "action": "cos:*", "resource": "*",
                          "condition": {"ip_equal": {"qcs:ip": ["10.0.0.0/8", "127.0.0.1"]},
                                        "bool_equal": {"cos:secure-transport": "true"}}}))
    assert evaluate([p], req("cos:GetObject", ip="10.1.2.3", secure=True)) == ALLOW
    assert evaluate([p], req("cos:GetObject", ip="10.1.2.3", secure=False)) is None
    assert evaluate([p], req("cos:GetObject", ip="192.168.0.1", secure=True)) is None
    assert evaluate([p], req("cos:GetObject", ip="", secure=True)) is None


@pytest.mark.parametrize("bad,message", [
    ("not json", "JSON"),
    ({"statement": []}, "version"),
    (doc(), "statement"),
    (doc({"effect": "permit", "action": "*", "resource": "*"}), "effect"),
    (doc({"effect": "allow", "action": "*"}), "resource"),
    (doc({"effect": "allow", "action": [], "resource": "*"}), "action"),
    (doc({"effect": "allow", "action": "*", "resource": "*", "condtion": {}}), "unknown"),
    (doc({"effect": "allow", "action": "*", "resource": "*", "condition": {"ip_like": {"qcs:ip": "1"}}}), "ip_like"),
    (doc({"effect": "allow", "action": "*", "resource": "*", "condition": {"ip_equal": {"qcs:ip": "x"}}}), "ip_equal"),
])
def test_invalid_policies_are_rejected(bad, message):
    with pytest.raises(PolicyError, match=message):
        parse_policy(bad)


# -- the authorizer: what the CI endpoints' check() calls mean ---------------------------------
@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("COSBEAUTY_SECRET_ID", "AKIDroot")
    monkeypatch.setenv("COSBEAUTY_SECRET_KEY", "rootkey")
    from cosbeauty.config import ServerConfig
    from cosbeauty.server import build_app
    cos = build_app(ServerConfig(data_dir=str(tmp_path), appid=APPID, region=REGION, fsync=False))
    # the bucket exists: a denied caller of a missing bucket learns NoSuchBucket, not AccessDenied
    cos.backend.create_bucket(BUCKET, "root")
    yield cos
    cos.backend.close()


def outcome(app, access_key: str | None, actions: list[str], key: str = "a/b.jpg") -> str:
    from cosbeauty.api.addressing import Target
    from cosbeauty.api.auth import Identity
    from cosbeauty.api.context import Ctx
    from cosbeauty.api.errors import CosError
    scope = {"type": "http", "method": "GET", "path": f"/{BUCKET}/{key}", "headers": [], "query_string": b"",
             "client": ("127.0.0.1", 1234), "scheme": "http"}
    ctx = Ctx(app, scope, None, "req-1")
    ctx.target = Target(BUCKET, key, False)
    ctx.identity = Identity(anonymous=access_key is None, access_key=access_key or "")
    try:
        anyio.run(app.authorizer.check, ctx, actions)
    except CosError as err:
        return err.code
    return "allowed"


SEED = {
    "download": ["cos:GetObject", "ci:CreateAIFaceBeautifyJob"],
    "upload": ["cos:PutObject", "ci:CreateAIFaceBeautifyJob"],
    "cloud": ["cos:GetObject", "cos:PutObject", "ci:CreateAIFaceBeautifyJob"],
}


@pytest.mark.parametrize("granted,allowed", [
    (["cos:GetObject", "ci:CreateAIFaceBeautifyJob"], {"download"}),
    (["cos:PutObject", "ci:CreateAIFaceBeautifyJob"], {"upload"}),
    (["cos:GetObject", "cos:PutObject", "ci:CreateAIFaceBeautifyJob"], {"download", "upload", "cloud"}),
    (["cos:GetObject", "cos:PutObject"], set()),
    (["ci:CreateAIFaceBeautifyJob"], set()),
])
def test_ci_checks_need_every_action(app, granted, allowed):
    store = app.accounts.store
    store.create_user("worker")
    key = store.create_key("worker")
    store.attach_policy("worker", "p", json.dumps(doc({"effect": "allow", "action": granted,
                                                       "resource": f"qcs::cos:{REGION}:uid/{APPID}:{BUCKET}/*"})))
    for method, actions in SEED.items():
        expected = "allowed" if method in allowed else "AccessDenied"
        assert outcome(app, key["secret_id"], actions) == expected, method
    assert outcome(app, "AKIDroot", SEED["cloud"]) == "allowed"
    assert outcome(app, None, SEED["download"]) == "AccessDenied"
