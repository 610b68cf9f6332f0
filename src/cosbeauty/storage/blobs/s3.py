"""``s3://BUCKET/PREFIX``: blobs as objects ``PREFIX/<id>`` on an S3-compatible store.

Client: botocore (boto3's core; thread-safe client, one urllib3 connection pool of
``max_pool_connections``), path-style addressing when an endpoint is given, credentials from the
usual chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``,
``AWS_SHARED_CREDENTIALS_FILE`` + ``AWS_PROFILE``, ...). Bounded everything: connect and read
timeouts on every call, ``standard`` retries (3 attempts), and at most ``1 + INFLIGHT_PARTS``
parts of ``part_size`` bytes in memory per writer (two being uploaded while the next one fills).

* write: bodies up to ``part_size`` are one PutObject with Content-MD5; larger ones a multipart
  upload (parts uploaded as the body streams in); abort = AbortMultipartUpload;
* read: a seekable file object whose reads are ranged GETs (``Range: bytes=N-``), streamed;
* copy: server-side CopyObject (UploadPartCopy in 1 GiB ranges above 5 GiB);
* delete: DeleteObject / DeleteObjects (1000 per request);
* sweep: unreferenced blobs and abandoned multipart uploads older than the grace period.

Checksums: botocore >= 1.36 computes a CRC32 of every upload by default (an ``aws-chunked`` trailer
for streamed bodies, which older S3-compatible servers and proxies may refuse); here they are only
sent when an operation requires one (PutObject carries Content-MD5; SigV4 signs the payload's
SHA-256 over plain HTTP).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import io
import logging
import os
import time
from typing import Any, BinaryIO, Iterable, Iterator

from cosbeauty.storage.base import BlobWriter, StorageError
from cosbeauty.storage.blobs.base import INLINE_MAX, BlobStore, BlobStoreError, BlobStoreOwned, new_blob_name
from cosbeauty.storage.blobs.common import SpillingBlobWriter

log = logging.getLogger("cosbeauty.blobs")

PART_SIZE = 8 * 1024 * 1024
COPY_MAX = 5 * 1024 ** 3            # largest single CopyObject
COPY_PART = 1024 ** 3
INFLIGHT_PARTS = 2                  # parts of one blob uploaded concurrently while the next one fills


class S3BlobStore(BlobStore):
    def __init__(self, bucket: str, prefix: str = "", *, endpoint: str | None = None, region: str | None = None,
                 part_size: int = PART_SIZE, pool_size: int = 64, connect_timeout: float = 5.0,
                 read_timeout: float = 60.0) -> None:
        import botocore.session
        from botocore.config import Config

        prefix = prefix.strip("/")
        self.bucket = bucket
        self.prefix = prefix + "/" if prefix else ""
        self.url = f"s3://{bucket}/{self.prefix}" + (f" at {endpoint}" if endpoint else "")
        self.part_size = max(5 * 1024 * 1024, part_size)
        session = botocore.session.get_session()
        if session.get_credentials() is None:
            raise ValueError(f"blob store s3://{bucket}: no credentials (set AWS_ACCESS_KEY_ID and "
                             "AWS_SECRET_ACCESS_KEY, or AWS_SHARED_CREDENTIALS_FILE / AWS_PROFILE)")
        region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        common = dict(s3={"addressing_style": "path" if endpoint else "auto"},
                      request_checksum_calculation="when_required", response_checksum_validation="when_required")
        self.client = session.create_client(
            "s3", endpoint_url=endpoint, region_name=region,
            config=Config(connect_timeout=connect_timeout, read_timeout=read_timeout, max_pool_connections=pool_size,
                          retries={"max_attempts": 3, "mode": "standard"}, **common))
        # readiness probes must answer fast: short timeouts, no retries
        self._probe = session.create_client(
            "s3", endpoint_url=endpoint, region_name=region,
            config=Config(connect_timeout=2, read_timeout=3, max_pool_connections=2,
                          retries={"max_attempts": 1, "mode": "standard"}, **common))
        self._uploads = concurrent.futures.ThreadPoolExecutor(max(2, pool_size // 4), thread_name_prefix="cosbeauty-s3")

    def key(self, name: str) -> str:
        return self.prefix + name

    # -- calls -------------------------------------------------------------------------------
    def call(self, op: str, client: Any = None, **kwargs: Any) -> Any:
        """One S3 call; transport errors and 5xx become StorageError('ServiceUnavailable')."""
        from botocore.exceptions import BotoCoreError, ClientError
        start, outcome = time.perf_counter(), "error"
        try:
            res = getattr(client or self.client, op)(Bucket=self.bucket, **kwargs)
            outcome = "ok"
            return res
        except ClientError as exc:
            raise _storage_error(self.url, op, exc) from None
        except BotoCoreError as exc:
            raise BlobStoreError("ServiceUnavailable", f"blob store {self.url}: {op}: {exc}") from None
        finally:
            if self.observer is not None:
                self.observer(op, outcome, time.perf_counter() - start)

    # -- contract ----------------------------------------------------------------------------
    def writer(self, *, allow_inline: bool = True) -> BlobWriter:
        return _S3Writer(self, INLINE_MAX if allow_inline else -1)

    def open(self, name: str) -> BinaryIO:
        return _S3Reader(self, self.key(name))   # type: ignore[return-value]

    def copy(self, name: str) -> str:
        new = new_blob_name()
        src = {"Bucket": self.bucket, "Key": self.key(name)}
        size = self.call("head_object", Key=self.key(name))["ContentLength"]
        if size <= COPY_MAX:
            self.call("copy_object", Key=self.key(new), CopySource=src)
            return new
        upload_id = self.call("create_multipart_upload", Key=self.key(new))["UploadId"]
        try:
            parts = []
            for number, start in enumerate(range(0, size, COPY_PART), 1):
                end = min(size, start + COPY_PART) - 1
                res = self.call("upload_part_copy", Key=self.key(new), UploadId=upload_id, PartNumber=number,
                                CopySource=src, CopySourceRange=f"bytes={start}-{end}")
                parts.append({"PartNumber": number, "ETag": res["CopyPartResult"]["ETag"]})
            self.call("complete_multipart_upload", Key=self.key(new), UploadId=upload_id,
                      MultipartUpload={"Parts": parts})
        except BaseException:
            self._abort_quietly(self.key(new), upload_id)
            raise
        return new

    def delete(self, names: Iterable[str]) -> None:
        names = list(names)
        if not names:
            return
        if _on_event_loop():        # an error path on the event loop: never block it on the network
            self._uploads.submit(self._delete, names)
            return
        self._delete(names)

    def _delete(self, names: list[str]) -> None:
        try:
            if len(names) == 1:
                self.call("delete_object", Key=self.key(names[0]))
                return
            for i in range(0, len(names), 1000):
                batch = names[i:i + 1000]
                res = self.call("delete_objects", Delete={"Quiet": True,
                                                          "Objects": [{"Key": self.key(n)} for n in batch]})
                for err in res.get("Errors", []):
                    log.warning("blob %s not deleted from %s (the sweep will retry): %s", err.get("Key"),
                                self.url, err.get("Code"))
        except StorageError as exc:
            log.warning("%d blob(s) not deleted from %s (the sweep will retry): %s", len(names), self.url, exc)

    def iter_names(self) -> Iterator[tuple[str, float]]:
        marker = ""
        while True:
            res = self.call("list_objects", Prefix=self.prefix, Marker=marker, MaxKeys=1000)
            contents = res.get("Contents", [])
            for item in contents:
                yield item["Key"][len(self.prefix):], item["LastModified"].timestamp()
            if not res.get("IsTruncated") or not contents:
                return
            marker = res.get("NextMarker") or contents[-1]["Key"]

    def sweep(self, referenced: set[str], older_than: float) -> int:
        removed = super().sweep(referenced, older_than)
        res = self.call("list_multipart_uploads", Prefix=self.prefix, MaxUploads=1000)
        for up in res.get("Uploads", []):      # writes abandoned by a killed node
            if up["Initiated"].timestamp() < older_than:
                self._abort_quietly(up["Key"], up["UploadId"])
                removed += 1
        return removed

    def check(self) -> None:
        self.call("head_bucket", client=self._probe)

    def claim(self, owner: str) -> None:
        key = self.key("owner")
        current = self._read_small(key)
        if current is None:
            self.call("put_object", Key=key, Body=owner.encode())
            current = self._read_small(key)
        if current != owner:
            raise BlobStoreOwned(f"{self.url} belongs to metadata store {current}, not {owner}: "
                                 "give every metadata store its own blob prefix")

    def close(self) -> None:
        self._uploads.shutdown(wait=True)
        for client in (self.client, self._probe):
            close = getattr(client, "close", None)
            if close:
                close()

    # -- helpers -----------------------------------------------------------------------------
    def _read_small(self, key: str) -> str | None:
        from botocore.exceptions import ClientError
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read(4096).decode().strip()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise _storage_error(self.url, "get_object", exc) from None

    def _abort_quietly(self, key: str, upload_id: str) -> None:
        try:
            self.call("abort_multipart_upload", Key=key, UploadId=upload_id)
        except StorageError as exc:
            log.warning("multipart upload %s of %s not aborted (the sweep will retry): %s", upload_id, key, exc)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _storage_error(url: str, op: str, exc: Any) -> StorageError:
    err = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    code = err.get("Code", "")
    detail = f"blob store {url}: {op}: {status} {code} {err.get('Message', '')}".rstrip()
    if status >= 500 or code in ("SlowDown", "ServiceUnavailable", "RequestTimeout", "InternalError"):
        return BlobStoreError("ServiceUnavailable", detail)
    return BlobStoreError("InternalError", detail)


class _S3Writer(SpillingBlobWriter):
    def __init__(self, store: S3BlobStore, inline_max: int) -> None:
        super().__init__(inline_max)
        self._store = store
        self._name = new_blob_name()
        self._key = store.key(self._name)
        self._pending = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict] = []
        self._inflight: list[concurrent.futures.Future] = []

    def _spill(self, data: bytes) -> None:
        self._append(data)

    def _append(self, data: bytes) -> None:
        self._pending += data
        size = self._store.part_size
        if len(self._pending) < 2 * size and _on_event_loop():
            return      # never network I/O on the event loop (a small last batch): finish() sends it
        while len(self._pending) >= size:
            part = bytes(self._pending[:size])
            del self._pending[:size]
            self._send_part(part)

    def _send_part(self, data: bytes) -> None:
        store = self._store
        if self._upload_id is None:
            self._upload_id = store.call("create_multipart_upload", Key=self._key)["UploadId"]
        while len(self._inflight) >= INFLIGHT_PARTS:     # bounded memory: wait for the oldest part
            self._inflight.pop(0).result()
        number = len(self._parts) + 1
        self._parts.append({"PartNumber": number, "ETag": ""})
        self._inflight.append(store._uploads.submit(self._upload_part, number, data))

    def _upload_part(self, number: int, data: bytes) -> None:
        res = self._store.call("upload_part", Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=data)
        self._parts[number - 1]["ETag"] = res["ETag"]

    def _wait_inflight(self) -> None:
        pending, self._inflight = self._inflight, []
        errors = []
        for fut in pending:
            try:
                fut.result()
            except BaseException as exc:   # noqa: BLE001 -- every upload is waited for, the first error raised
                errors.append(exc)
        if errors:
            raise errors[0]

    def _commit(self) -> str:
        store = self._store
        if self._upload_id is None:
            body, self._pending = bytes(self._pending), bytearray()
            store.call("put_object", Key=self._key, Body=body,
                       ContentMD5=base64.b64encode(self.md5.digest()).decode())
            return self._name
        size = store.part_size
        while len(self._pending) > size:
            part = bytes(self._pending[:size])
            del self._pending[:size]
            self._send_part(part)
        if self._pending:
            self._send_part(bytes(self._pending))
            self._pending = bytearray()
        self._wait_inflight()
        store.call("complete_multipart_upload", Key=self._key, UploadId=self._upload_id,
                   MultipartUpload={"Parts": self._parts})
        return self._name

    def _discard(self) -> None:
        self._pending = bytearray()
        try:
            self._wait_inflight()
        except Exception:   # noqa: BLE001 -- the upload is being thrown away anyway
            pass
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            self._store._abort_quietly(self._key, upload_id)


class _S3Reader(io.RawIOBase):
    """Seekable reads of one blob; each (re)positioned read is one streamed ranged GET."""

    def __init__(self, store: S3BlobStore, key: str) -> None:
        super().__init__()
        self._store = store
        self._key = key
        self._pos = 0
        self._body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("SEEK_END is not supported on S3 blobs")
        if offset != self._pos:
            self._drop_body()
            self._pos = offset
        return self._pos

    def read(self, size: int = -1) -> bytes:
        from botocore.exceptions import BotoCoreError
        if self._body is None:
            self._open_body()
        if self._body is False:
            return b""
        try:
            data = self._body.read(None if size is None or size < 0 else size)
        except BotoCoreError as exc:
            self._drop_body()
            raise BlobStoreError("ServiceUnavailable", f"blob store {self._store.url}: reading {self._key}: {exc}") \
                from None
        self._pos += len(data)
        return data

    def readinto(self, buf: Any) -> int:
        data = self.read(len(buf))
        buf[:len(data)] = data
        return len(data)

    def _open_body(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError
        store = self._store
        start = time.perf_counter()
        try:
            res = store.client.get_object(Bucket=store.bucket, Key=self._key, Range=f"bytes={self._pos}-")
            if store.observer is not None:
                store.observer("get_object", "ok", time.perf_counter() - start)
        except ClientError as exc:
            if store.observer is not None:
                store.observer("get_object", "error", time.perf_counter() - start)
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "InvalidRange":        # at or past the end (an empty blob)
                self._body = False
                return
            if code in ("NoSuchKey", "404"):
                raise BlobStoreError("InternalError", f"blob {self._key} is missing from {store.url}") from None
            raise _storage_error(store.url, "get_object", exc) from None
        except BotoCoreError as exc:
            if store.observer is not None:
                store.observer("get_object", "error", time.perf_counter() - start)
            raise BlobStoreError("ServiceUnavailable", f"blob store {store.url}: get_object: {exc}") from None
        self._body = res["Body"]

    def _drop_body(self) -> None:
        body, self._body = self._body, None
        if body:
            body.close()

    def close(self) -> None:
        self._drop_body()
        super().close()
