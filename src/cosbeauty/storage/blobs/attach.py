"""Open the embedded backend (SQLite metadata in the data dir) with its object bytes in a blob store."""

from __future__ import annotations

import os
import uuid

from cosbeauty.storage.blobs import BlobStore, open_blob_store

METADATA_ID_FILE = "metadata.id"


def metadata_id(data_dir: str) -> str:
    """The id of the metadata store in ``data_dir`` (created on first use)."""
    path = os.path.join(data_dir, METADATA_ID_FILE)
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        pass
    blobs = os.path.join(data_dir, "blobs")
    if os.path.isdir(blobs) and any(os.listdir(os.path.join(blobs, d)) for d in os.listdir(blobs)):
        raise RuntimeError(f"{data_dir} already keeps object bytes in {blobs}: serving it with --blobs would "
                           "leave those objects unreadable (copy the installation into the cluster instead)")
    os.makedirs(data_dir, exist_ok=True)
    ident = f"sqlite-{uuid.uuid4()}"
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(ident + "\n")
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    with open(path) as f:
        return f.read().strip()


def open_local_with_blobs(data_dir: str, *, fsync: bool, url: str, endpoint: str | None):
    """A LocalBackend whose blobs live at ``url``; the store is claimed before anything is swept."""
    from cosbeauty.storage.local import LocalBackend

    store: BlobStore = open_blob_store(url, endpoint=endpoint, fsync=fsync)
    try:
        store.check()
        store.claim(metadata_id(data_dir))
    except BaseException:
        store.close()
        raise
    from cosbeauty.storage.gc import LocalDeferredDeletes
    from cosbeauty.storage.sqlite import Database

    db = Database(os.path.join(data_dir, "meta.sqlite3"), fsync=fsync)
    try:
        gc = LocalDeferredDeletes(db, store)   # overwritten blobs deleted after a grace period, not at once
    except BaseException:
        db.close()
        store.close()
        raise
    return LocalBackend(data_dir, fsync=fsync, blobs=store, db=db, gc=gc)
