"""CompleteMultipartUpload lists the parts before its commit; a part uploaded again in between must
not leave the object pointing at the replaced (dropped) blob: the commit re-checks the parts."""

from __future__ import annotations

import time

import pytest

from cosbeauty.storage import ObjectMeta, PartInfo, StorageError
from cosbeauty.storage.local import LocalBackend


def _part(backend: LocalBackend, number: int, data: bytes) -> PartInfo:
    w = backend.blob_writer(allow_inline=False)
    w.write(data)
    name, _ = w.finish()
    return PartInfo(number, len(data), w.md5.hexdigest(), time.time(), name)


def test_part_replaced_between_listing_and_commit_is_refused(tmp_path):
    backend = LocalBackend(str(tmp_path), fsync=False)
    try:
        backend.create_bucket("b-1", "owner")
        upload = backend.create_upload("b-1", "k", {})
        backend.put_part(upload.upload_id, _part(backend, 1, b"first"))
        listed = backend.list_parts(upload.upload_id)                 # what complete saw
        backend.put_part(upload.upload_id, _part(backend, 1, b"again"))  # replaced meanwhile
        meta = ObjectMeta("b-1", "k", 5, "e-1", time.time(), "application/octet-stream",
                          segments=[[p.blob, p.size] for p in listed])
        with pytest.raises(StorageError) as exc:
            backend.complete_upload(upload, meta, [1])
        assert exc.value.code == "InvalidPart"
        with pytest.raises(StorageError):
            backend.get_object("b-1", "k")
        fresh = backend.list_parts(upload.upload_id)                  # completing with a fresh listing works
        meta.segments = [[p.blob, p.size] for p in fresh]
        backend.complete_upload(upload, meta, [1])
        obj = backend.get_object("b-1", "k")
        with backend.open_blob(obj.segments[0][0]) as f:
            assert f.read() == b"again"
    finally:
        backend.close()
