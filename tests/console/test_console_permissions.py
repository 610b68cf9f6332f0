"""GET /console/api/permissions: a dry run of the authorizer (the same policy engine that guards
the real calls), signed by the user, answering which actions on which resources are allowed.
No browser: COS v5 signed requests, and the real calls compared with the dry-run answers."""

from __future__ import annotations

import json

import pytest

from tests.conftest import APPID, cos_client
from tests.iam.conftest import allow, deny, make_user, objects, policy, signed

BUCKET = f"perm-{APPID}"
PATH = "/console/api/permissions"


def ask(server, checks, secret_id=None, secret_key=None):
    kw = {} if secret_id is None else {"secret_id": secret_id, "secret_key": secret_key}
    return signed(server, "GET", PATH, params={"checks": json.dumps(checks)}, **kw)


@pytest.fixture(scope="module")
def user(console_server):
    cos_client(console_server.port).create_bucket(Bucket=BUCKET)
    return make_user(console_server, policy(
        allow(["name/cos:GetBucket", "name/cos:GetObject"], [objects(BUCKET)]),
        allow(["name/cos:PutObject"], [objects(BUCKET, "in/")]),
        deny(["name/cos:PutObject"], [objects(BUCKET, "in/no")])))


CHECKS = [
    {"action": "cos:GetService"},
    {"action": "cos:PutBucket"},
    {"action": "cos:GetBucket", "bucket": BUCKET},
    {"action": "cos:PutObject", "bucket": BUCKET, "key": ""},
    {"action": "cos:PutObject", "bucket": BUCKET, "key": "in/"},
    {"action": "cos:PutObject", "bucket": BUCKET, "key": "in/no.txt"},
    {"action": "name/cos:DeleteObject", "bucket": BUCKET, "key": "in/x.txt"},
    {"action": "ci:CreateAIFaceBeautifyJob", "bucket": BUCKET, "key": "in/x.jpg"},
]


def test_root_may_do_everything(console_server, user):
    r = ask(console_server, CHECKS)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["principal"]["root"] is True and body["appid"] == APPID
    assert [x["allowed"] for x in body["results"]] == [True] * len(CHECKS)
    assert r.headers["cache-control"] == "no-store"


def test_sub_account_answers_follow_its_policy(console_server, user):
    r = ask(console_server, CHECKS, user.secret_id, user.secret_key)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["principal"] == {"kind": "sub", "name": user.name, "uin": body["principal"]["uin"], "root": False}
    assert [x["allowed"] for x in body["results"]] == [False, False, True, False, True, False, False, False]
    assert body["results"][6]["action"] == "cos:DeleteObject"          # the name/ prefix is dropped


def test_dry_run_agrees_with_the_real_calls(console_server, user):
    cos = user.cos(console_server)
    from qcloud_cos.cos_exception import CosServiceError

    def real(key: str) -> bool:
        try:
            cos.put_object(Bucket=BUCKET, Key=key, Body=b"x")
            return True
        except CosServiceError as e:
            assert e.get_error_code() == "AccessDenied"
            return False

    for key in ("root.txt", "in/yes.txt", "in/no.txt"):
        dry = ask(console_server, [{"action": "cos:PutObject", "bucket": BUCKET, "key": key}],
                  user.secret_id, user.secret_key).json()["results"][0]["allowed"]
        assert dry == real(key), key


def test_keys_are_proved(console_server, user):
    assert ask(console_server, [], user.secret_id, "wrong-secret").status_code == 403
    import httpx
    r = httpx.get(console_server.endpoint + PATH, params={"checks": "[]"})      # unsigned
    assert r.status_code == 200 and r.json()["principal"] is None                 # anonymous: nothing to see
    r = httpx.get(console_server.endpoint + PATH, params={"checks": json.dumps(CHECKS)})
    assert [x["allowed"] for x in r.json()["results"]] == [False] * len(CHECKS)


@pytest.mark.parametrize("checks", [
    "not json", json.dumps({"action": "cos:GetObject"}), json.dumps([{"action": "rm -rf"}]),
    json.dumps([{"action": "cos:GetObject", "key": "k"}]), json.dumps([{"action": "cos:GetObject", "extra": 1}]),
    json.dumps([{"action": "cos:GetObject", "bucket": "Not A Bucket"}]),
    json.dumps([{"action": "cos:GetObject"}] * 41),
])
def test_bad_questions_are_refused(console_server, user, checks):
    r = signed(console_server, "GET", PATH, params={"checks": checks})
    assert r.status_code == 400, r.text


def test_dry_run_denials_are_marked_in_the_audit_log(caplog):
    """Denials found by the dry run stay audited, but as ``dry-run deny``, not as refused requests.
    (In-process: the audit logger's filter, with the dry-run flag set as the endpoint sets it.)"""
    import logging

    from cosbeauty.console import app as console_app
    audit = logging.getLogger("cosbeauty.audit")
    with caplog.at_level(logging.WARNING, logger="cosbeauty.audit"):
        audit.warning("deny request_id=%s action=%s", "r1", "cos:PutObject")
        token = console_app._dry_run.set(True)
        try:
            audit.warning("deny request_id=%s action=%s", "r2", "cos:PutObject")
        finally:
            console_app._dry_run.reset(token)
    assert [r.getMessage() for r in caplog.records] == [
        "deny request_id=r1 action=cos:PutObject", "dry-run deny request_id=r2 action=cos:PutObject"]


def test_dry_run_denials_in_the_server_audit_log(console_server, user):
    import time
    r = ask(console_server, [{"action": "cos:DeleteBucket", "bucket": BUCKET}], user.secret_id, user.secret_key)
    request_id = r.headers["x-cos-request-id"]
    deadline = time.time() + 10                       # the server's log reaches the file a little later
    while True:
        lines = [ln for ln in console_server.log().splitlines() if request_id in ln]
        if lines or time.time() > deadline:
            break
        time.sleep(0.1)
    assert lines and all("dry-run deny" in ln and "cos:DeleteBucket" in ln for ln in lines), lines
