"""Metadata reads that were left on the event loop now run in a worker thread: the grantee check
of x-cos-grant-* headers naming a sub-account (an IAM store read: a PostgreSQL round trip in
cluster mode) on PUT, copy, APPEND, initiate and PUT Bucket; the clean-up of a failed PUT's body
(``writer.abort()``, ``drop_blobs``: a blob-store call or a deferred-delete row in cluster mode);
the admin API's lookup of a key that is not the root's."""

from __future__ import annotations

import asyncio
import json
import os
import threading

import pytest

from cosbeauty.config import ServerConfig
from cosbeauty.server import build_app
from tests.api.asgi_call import call
from tests.conftest import APPID, REGION, SECRET_ID, SECRET_KEY

BUCKET = f"loop-{APPID}"


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("COSBEAUTY_SECRET_ID", SECRET_ID)
    monkeypatch.setenv("COSBEAUTY_SECRET_KEY", SECRET_KEY)
    app = build_app(ServerConfig(data_dir=str(tmp_path / "data"), appid=APPID, region=REGION))
    yield app
    app.backend.close()


def _spy(obj, name: str) -> list[str]:
    """Record the thread of every call of ``obj.name``."""
    threads: list[str] = []
    real = getattr(obj, name)

    def spy(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)
    setattr(obj, name, spy)
    return threads


def test_grant_headers_naming_a_sub_account_are_checked_off_the_loop(app):
    store = app.accounts.store
    uin = store.create_user("alice")["uin"]
    grant = {"x-cos-grant-read": f'id="qcs::cam::uin/{APPID}:uin/{uin}"'}
    reads = _spy(store, "list_users")

    async def scenario() -> None:
        assert (await call(app, "PUT", BUCKET, "", headers=grant))[0] == 200                 # PUT Bucket
        assert (await call(app, "PUT", BUCKET, "a", b"x" * 100, headers=grant))[0] == 200    # PUT Object
        big = b"y" * (200 * 1024)                                                            # a blob body
        assert (await call(app, "PUT", BUCKET, "b", big, headers=grant))[0] == 200
        copy = {**grant, "x-cos-copy-source": f"{BUCKET}.cos.{REGION}.myqcloud.com/a"}
        assert (await call(app, "PUT", BUCKET, "c", headers=copy))[0] == 200                 # PUT copy
        assert (await call(app, "POST", BUCKET, "d", headers=grant, params={"uploads": ""}))[0] == 200
        assert (await call(app, "POST", BUCKET, "f", b"w", headers=grant,                    # APPEND
                           params={"append": "", "position": "0"}))[0] == 200
        bad = {"x-cos-grant-read": f'id="qcs::cam::uin/{APPID}:uin/999"'}                    # no such sub-account
        assert (await call(app, "PUT", BUCKET, "e", b"z", headers=bad))[0] == 400
    asyncio.run(scenario())
    assert len(reads) == 7
    assert "MainThread" not in reads
    meta = app.backend.get_object(BUCKET, "a")
    assert meta.grants.get("READ") == [f"qcs::cam::uin/{APPID}:uin/{uin}"]


def test_failed_blob_put_cleans_up_off_the_loop(app):
    """A body written to disk (> INLINE_MAX) whose PUT then fails is discarded in a worker thread:
    writer.abort() (bad Content-MD5) and drop_blobs (metadata refused after the body)."""
    drops = _spy(app.backend, "drop_blobs")
    aborts: list[str] = []
    real_writer = app.backend.blob_writer

    def blob_writer(**kwargs):
        writer = real_writer(**kwargs)
        aborts_target = writer.abort

        def abort() -> None:
            aborts.append(threading.current_thread().name)
            aborts_target()
        writer.abort = abort
        return writer
    app.backend.blob_writer = blob_writer
    big = b"q" * (100 * 1024)

    async def scenario() -> None:
        assert (await call(app, "PUT", BUCKET, ""))[0] == 200
        bad_md5 = {"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="}          # the MD5 of an empty body
        assert (await call(app, "PUT", BUCKET, "k", big, headers=bad_md5))[0] == 400
        huge_meta = {"x-cos-meta-m": "v" * 3000}                      # over 2 KiB of user metadata
        assert (await call(app, "PUT", BUCKET, "k", big, headers=huge_meta))[0] == 400
        assert (await call(app, "PUT", BUCKET, "small", b"s", headers=bad_md5))[0] == 400  # nothing on disk
    asyncio.run(scenario())
    # the big body's temp file is unlinked in a worker thread; the small one had nothing on disk
    assert len(aborts) == 2 and aborts[0] != "MainThread"
    assert drops and "MainThread" not in drops
    assert os.listdir(app.backend.tmp_dir) == []


def test_admin_api_looks_up_other_keys_off_the_loop(app):
    """The admin API verifies the root's key on the loop (no read); a sub-account's key is looked
    up in the IAM store in a worker thread, and refused as before."""
    store = app.accounts.store
    store.create_user("bob")
    key = store.create_key("bob")
    lookups = _spy(store, "credential")

    async def scenario() -> list[tuple[int, str]]:
        out = []
        for secret_id, secret_key in ((SECRET_ID, SECRET_KEY), (key["secret_id"], key["secret_key"]),
                                      (key["secret_id"], "not-the-secret-key-0000"), ("AKIDnobody000", "x" * 20)):
            status, body = await call(app, "GET", "", "-/admin/users", host="127.0.0.1", secret_id=secret_id,
                                      secret_key=secret_key)
            out.append((status, json.loads(body).get("Code", "")))
        return out
    assert asyncio.run(scenario()) == [(200, ""), (403, "AccessDenied"), (403, "SignatureDoesNotMatch"),
                                       (403, "InvalidAccessKeyId")]
    assert lookups and "MainThread" not in lookups


def test_sub_account_request_reads_the_iam_generation_once(app):
    """Within one worker-thread hop, the IAM store reads its generation row once (the first
    lookup), not once per lookup (key, principal, policies): a sub-account's PUT makes two hops
    (signature; the handler's cos:PutObject check), so two reads instead of four -- PostgreSQL
    round trips in cluster mode. A change is still seen by the next request."""
    store = app.accounts.store
    store.create_user("carol")
    key = store.create_key("carol")
    doc = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": ["name/cos:PutObject"],
                                                       "resource": ["*"]}]})
    store.attach_policy("carol", "w", doc)
    reads = _spy(store, "_read_generation")
    sub = {"secret_id": key["secret_id"], "secret_key": key["secret_key"]}

    async def scenario() -> list[int]:
        assert (await call(app, "PUT", BUCKET, ""))[0] == 200
        reads.clear()
        statuses = [(await call(app, "PUT", BUCKET, "k", b"1", **sub))[0]]
        statuses.append(len(reads))
        store.set_key_status(key["secret_id"], False)               # seen by the very next request
        statuses.append((await call(app, "PUT", BUCKET, "k", b"2", **sub))[0])
        return statuses
    assert asyncio.run(scenario()) == [200, 2, 403]


def test_usage_api_looks_up_other_keys_off_the_loop(app):
    """/-/usage authenticates like the admin API: a sub-account's key is looked up in a worker
    thread (a PostgreSQL round trip in cluster mode), never on the event loop."""
    store = app.accounts.store
    store.create_user("carol")
    key = store.create_key("carol")
    lookups = _spy(store, "credential")

    async def scenario() -> list[int]:
        out = []
        for secret_id, secret_key in ((SECRET_ID, SECRET_KEY), (key["secret_id"], key["secret_key"])):
            status, _ = await call(app, "GET", "", "-/usage", host="127.0.0.1", secret_id=secret_id,
                                   secret_key=secret_key)
            out.append(status)
        return out
    assert asyncio.run(scenario()) == [200, 403]
    assert lookups and "MainThread" not in lookups
