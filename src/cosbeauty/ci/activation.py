"""Per-bucket Cloud Infinite state: bound to CI ("picbucket") and AI content recognition enabled
("ai_bucket"). Stored in the bucket row's ``attrs["ci"]`` in the meta database, so a change made
by ``cosbeauty ci ...`` (even while the server runs) is seen by the next request."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Callable

from cosbeauty.api.errors import CosError
from cosbeauty.storage import BucketInfo, StorageError

FLAGS = ("bound", "ai")


def state(info: BucketInfo) -> dict:
    """{"bound": bool, "ai": bool, "updated": ts} for a bucket (defaults: both off)."""
    ci = info.attrs.get("ci") or {}
    return {"bound": bool(ci.get("bound")), "ai": bool(ci.get("ai")), "updated": ci.get("updated")}


def require_ai(info: BucketInfo) -> None:
    """AIFaceBeauty needs the bucket bound to CI and AI content recognition enabled."""
    ci = state(info)
    if not ci["bound"]:
        raise CosError("NoSuchCIBucket", f"Bucket {info.name} is not bound to Cloud Infinite; bind it first "
                                         f"(cosbeauty ci bind {info.name}, or ci_open_pic_bucket).")
    if not ci["ai"]:
        raise CosError("AIRecognitionNotEnabled",
                       f"AI content recognition is not enabled for bucket {info.name} "
                       f"(cosbeauty ci enable-ai {info.name}, or ci_open_ai_bucket).")


def update_job(bucket: str, **flags: bool) -> Callable[[sqlite3.Connection], dict]:
    """A database job that sets flags in ``attrs["ci"]`` atomically and returns the new state.
    Unbinding also turns AI recognition off (it depends on the binding)."""
    unknown = set(flags) - set(FLAGS)
    if unknown:
        raise ValueError(f"unknown CI flags {sorted(unknown)}")
    if flags.get("bound") is False:
        flags["ai"] = False

    def job(conn: sqlite3.Connection) -> dict:
        row = conn.execute("SELECT attrs FROM buckets WHERE name=?", (bucket,)).fetchone()
        if row is None:
            raise StorageError("NoSuchBucket", f"bucket {bucket} does not exist")
        attrs = json.loads(row[0])
        if flags.get("ai") and not (attrs.get("ci") or {}).get("bound") and not flags.get("bound"):
            raise CosError("NoSuchCIBucket", f"Bind bucket {bucket} to Cloud Infinite before enabling AI recognition.")
        ci = {**(attrs.get("ci") or {}), **flags, "updated": time.time()}
        attrs["ci"] = ci
        conn.execute("UPDATE buckets SET attrs=? WHERE name=?", (json.dumps(attrs), bucket))
        return {"bound": bool(ci.get("bound")), "ai": bool(ci.get("ai")), "updated": ci["updated"]}
    return job
