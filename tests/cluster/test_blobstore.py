"""The blob stores (storage/blobs) against real servers: Ceph RGW, a second cosbeauty node in
embedded mode (our own S3 server, so the client is not tuned to one server) and a directory."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest

from cosbeauty.storage import StorageError
from cosbeauty.storage.blobs import INLINE_MAX, BlobStoreOwned, open_blob_store
from cosbeauty.storage.blobs.s3 import S3BlobStore
from tests.cluster.conftest import aws_env, s3_for
from tests.conftest import APPID, SECRET_ID, SECRET_KEY, running_server

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def cos_node():
    """Another cosbeauty (embedded default) used as the S3 store."""
    with running_server(prefix="cosbeauty-blobstore-") as srv:
        bucket = f"blobs{uuid.uuid4().hex[:6]}-{APPID}"
        s3_for(srv.endpoint, SECRET_ID, SECRET_KEY, "ap-guangzhou").create_bucket(Bucket=bucket)
        yield {"endpoint": srv.endpoint, "access_key": SECRET_ID, "secret_key": SECRET_KEY, "bucket": bucket}


@pytest.fixture(params=["rgw", "cosbeauty", "file"])
def store(request, tmp_path):
    if request.param == "file":
        st = open_blob_store(f"file://{tmp_path}/blobs")
        yield st
        st.close()
        return
    if request.param == "rgw":
        info = request.getfixturevalue("rgw")
        bucket = request.getfixturevalue("rgw_bucket")
    else:
        info = request.getfixturevalue("cos_node")
        bucket = info["bucket"]
    with aws_env(info["access_key"], info["secret_key"]):
        st = S3BlobStore(bucket, f"t/{uuid.uuid4().hex[:8]}", endpoint=info["endpoint"], part_size=5 * MiB)
    yield st
    st.close()


def write(st, data: bytes, *, allow_inline: bool = False, chunk: int = MiB) -> str:
    w = st.writer(allow_inline=allow_inline)
    for i in range(0, len(data), chunk):
        w.write(data[i:i + chunk])
    name, inline = w.finish()
    assert inline is None and name
    assert w.size == len(data)
    return name


def read(st, name: str, start: int = 0, size: int = -1) -> bytes:
    with st.open(name) as f:
        f.seek(start)
        out = b""
        while size < 0 or len(out) < size:
            piece = f.read(MiB if size < 0 else min(MiB, size - len(out)))
            if not piece:
                break
            out += piece
        return out


def names(st) -> set[str]:
    return {n for n, _ in st.iter_names()}


def test_small_bodies_stay_inline_and_nothing_is_stored(store):
    w = store.writer()
    w.write(b"x" * INLINE_MAX)
    assert w.buffered
    assert w.finish() == (None, b"x" * INLINE_MAX)
    assert names(store) == set()


def test_put_get_ranges_copy_delete(store):
    small = os.urandom(100_000)
    a = write(store, small)
    assert read(store, a) == small
    assert read(store, a, 99_990) == small[99_990:]
    assert read(store, a, 5, 10) == small[5:15]
    empty = write(store, b"")
    assert read(store, empty) == b""
    b = store.copy(a)
    assert b != a and read(store, b) == small
    assert {a, b, empty} <= names(store)
    store.delete([a, empty])
    store.delete([b])
    store.delete([uuid.uuid4().hex])        # missing: fine
    assert names(store) & {a, b, empty} == set()


def test_large_blob_is_streamed_in_parts_with_bounded_memory(store):
    data = os.urandom(13 * MiB + 123)      # 3 parts of 5 MiB (the test stores' part size)
    w = store.writer(allow_inline=False)
    peak = 0
    for i in range(0, len(data), MiB):
        w.write(data[i:i + MiB])
        peak = max(peak, len(getattr(w, "_pending", b"")))
    name, _ = w.finish()
    assert w.md5.hexdigest() == __import__("hashlib").md5(data).hexdigest()
    if isinstance(store, S3BlobStore):
        assert peak < store.part_size       # only the part being filled is buffered (plus one in flight)
    assert read(store, name) == data
    assert read(store, name, 5 * MiB - 10, 20) == data[5 * MiB - 10:5 * MiB + 10]   # across a part boundary
    assert read(store, name, len(data) - 7) == data[-7:]
    store.delete([name])


def test_abort_leaves_nothing(store):
    w = store.writer(allow_inline=False)
    w.write(os.urandom(6 * MiB))             # one part uploaded (S3), a temp file (file)
    w.abort()
    assert names(store) == set()
    if isinstance(store, S3BlobStore):
        uploads = store.call("list_multipart_uploads", Prefix=store.prefix).get("Uploads", [])
        assert uploads == []


def test_sweep_removes_only_old_unreferenced_blobs(store):
    keep, orphan = write(store, b"k" * 70_000), write(store, b"o" * 70_000)
    assert {keep, orphan} <= names(store)
    assert store.sweep({keep}, older_than=time.time() - 3600) == 0      # both too young
    removed = store.sweep({keep}, older_than=time.time() + 3600)
    assert removed == 1
    assert names(store) == {keep}


def test_claim_binds_store_to_one_metadata_store(store):
    store.claim("meta-a")
    store.claim("meta-a")
    with pytest.raises(BlobStoreOwned):
        store.claim("meta-b")
    assert store.sweep(set(), older_than=time.time() + 3600) == 0      # the owner marker is no blob


def test_unreachable_s3_store_is_a_fast_503():
    with aws_env("AKIDnobody", "nothing"):
        st = S3BlobStore("bucket", "p", endpoint="http://127.0.0.1:9", connect_timeout=1)
    t0 = time.monotonic()
    with pytest.raises(StorageError) as err:
        st.check()
    assert err.value.code == "ServiceUnavailable"
    w = st.writer(allow_inline=False)
    w.write(b"z" * 100)
    with pytest.raises(StorageError) as err:
        w.finish()
    assert err.value.code == "ServiceUnavailable"
    assert time.monotonic() - t0 < 20
    st.close()


def test_blob_urls_are_checked():
    for bad in ("s3://", "ftp://x/y", "file://relative/path", "/plain/path"):
        with pytest.raises(ValueError):
            open_blob_store(bad)


def test_file_store_copy_of_an_old_blob_is_not_swept(tmp_path):
    st = open_blob_store(f"file://{tmp_path}/shared")
    old = write(st, b"o" * 70_000)
    past = time.time() - 7200
    os.utime(st.path(old), (past, past))
    copy = st.copy(old)                       # a hard link: same inode, fresh mtime
    assert st.sweep({old}, older_than=time.time() - 600) == 0
    assert read(st, copy) == b"o" * 70_000


def test_s3_writer_does_no_network_io_on_the_event_loop(rgw, rgw_bucket):
    """A small last batch written on the event loop that fills a part is only buffered; finish()
    (run in a thread by the server) sends it."""
    import asyncio
    with aws_env(rgw["access_key"], rgw["secret_key"]):
        st = S3BlobStore(rgw_bucket, "loop", endpoint=rgw["endpoint"], part_size=5 * MiB)
    data = os.urandom(5 * MiB + 100)
    w = st.writer(allow_inline=False)
    w.write(data[:5 * MiB - 100])

    async def on_loop() -> None:
        w.write(data[5 * MiB - 100:])
    asyncio.run(on_loop())
    assert w._upload_id is None and len(w._pending) == len(data)
    name, _ = w.finish()
    assert read(st, name) == data
    st.delete([name])
    st.close()


def test_s3_delete_called_on_the_event_loop_runs_in_the_background(rgw, rgw_bucket):
    import asyncio
    with aws_env(rgw["access_key"], rgw["secret_key"]):
        st = S3BlobStore(rgw_bucket, f"bgdel{uuid.uuid4().hex[:6]}", endpoint=rgw["endpoint"])
    name = write(st, b"d" * 70_000)

    callers: list[threading.Thread] = []
    real_call = st.call

    def recording_call(operation, *args, **kwargs):      # the real S3 request, noting which thread deletes
        if operation.startswith("delete"):
            callers.append(threading.current_thread())
        return real_call(operation, *args, **kwargs)
    st.call = recording_call

    async def on_loop() -> threading.Thread:
        st.delete([name])
        return threading.current_thread()
    loop_thread = asyncio.run(on_loop())
    deadline = time.time() + 10
    while name in names(st) and time.time() < deadline:
        time.sleep(0.05)
    assert name not in names(st)
    assert callers and loop_thread not in callers     # the delete request never ran on the loop's thread
    st.close()
