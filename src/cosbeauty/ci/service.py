"""The CI service object shared by the handlers (``app.services["ci"]``): limits, the worker
pool, the meter and the detect-url policy; plus the processing call and start-up warm-up.

Start-up does not wait for the models: ``warm()`` starts the warm-up in the background (each
worker thread imports the imaging stack and builds its face detector) and returns, so the server
answers object requests at once. Processing jobs go to the same FIFO worker threads after the
warm-up jobs, so a beauty call that arrives first waits for its detector; it does not fail.
OpenCV, numpy and MediaPipe are imported by the worker threads, never at server import.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cosbeauty.api.errors import CosError
from cosbeauty.ci.fetch import FetchError, FetchPolicy
from cosbeauty.ci.fetcher import Fetcher
from cosbeauty.ci.metering import Meter, UsageRecord
from cosbeauty.ci.pool import WorkerPool
from cosbeauty.config import ServerConfig
from cosbeauty.imaging.errors import ImageError
from cosbeauty.imaging.limits import Limits
from cosbeauty.imaging.registry import get_processor

if TYPE_CHECKING:
    from cosbeauty.imaging.codec import ImageInfo
    from cosbeauty.imaging.pipeline import Result

log = logging.getLogger("cosbeauty.ci")

MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "BMP": "image/bmp", "TIFF": "image/tiff"}


def image_error(exc: ImageError) -> CosError:
    return CosError(exc.code, exc.message, status=exc.status)


@dataclass
class Processed:
    result: Result
    quality: int          # of the output (for UploadResult)


class CiService:
    def __init__(self, config: ServerConfig, meter: Meter) -> None:
        self.limits = Limits(max_bytes=config.ci_max_input_bytes, max_pixels=config.ci_max_pixels)
        self.pool = WorkerPool(config.ci_workers, config.ci_queue)
        self.meter = meter
        self._warming: asyncio.Future | None = None
        self.fetch_policy = FetchPolicy.from_allow_list(
            config.detect_url_allow, max_bytes=min(config.detect_url_max_bytes, config.ci_max_input_bytes),
            timeout=config.detect_url_timeout, max_redirects=config.detect_url_max_redirects)
        self.fetcher = Fetcher(self.fetch_policy, config.detect_url_workers, config.detect_url_queue)

    # -- processing ----------------------------------------------------------------------
    async def process(self, name: str, data: bytes, params: Mapping[str, str], *, with_quality: bool = False
                      ) -> Processed:
        """Run processor ``name`` on a worker. ImageError -> CosError; SlowDown when saturated."""
        processor = get_processor(name)
        if processor is None:
            raise CosError("InvalidArgument", f"Unknown ci-process {name!r}.")
        return await self.pool.run(self._process_sync, processor, data, params, with_quality)

    def _process_sync(self, processor, data: bytes, params: Mapping[str, str], with_quality: bool) -> Processed:
        try:
            result = processor(data, params, self.limits)
            if with_quality:
                from cosbeauty.imaging.codec import probe
                quality = probe(result.data, self.limits).quality
            else:
                quality = 0
        except ImageError as exc:
            raise image_error(exc) from None
        return Processed(result, quality)

    async def image_info(self, data: bytes) -> ImageInfo:
        def info() -> ImageInfo:
            from cosbeauty.imaging.codec import image_info
            try:
                return image_info(data, self.limits)
            except ImageError as exc:
                raise image_error(exc) from None
        return await self.pool.run(info)

    async def fetch(self, url: str) -> bytes:
        """Network wait, not CPU: on the fetcher's own bounded threads (ci.fetcher), under its deadline."""
        try:
            return await self.fetcher.fetch(url)
        except FetchError as exc:
            raise CosError(exc.code, exc.message) from None

    async def meter_call(self, bucket: str, method: str, process: str, request_id: str, started: float, *,
                         input_bytes: int, output_bytes: int = 0, faces: int = 0, outcome: str) -> None:
        await self.meter.record(UsageRecord(
            ts=time.time(), bucket=bucket, method=method, process=process, input_bytes=input_bytes,
            output_bytes=output_bytes, faces=faces, outcome=outcome,
            ms=round((time.perf_counter() - started) * 1000, 2), request_id=request_id))

    # -- lifecycle -----------------------------------------------------------------------
    async def warm(self) -> None:
        """Start-up hook: begin building each worker thread's face detector and return at once."""
        self._warming = asyncio.ensure_future(self._warm_all())

    async def ready(self) -> None:
        """Wait until the warm-up is over (tests and benchmarks; processing needs no call)."""
        if self._warming is not None:
            await asyncio.shield(self._warming)

    async def _warm_all(self) -> None:
        started = time.perf_counter()
        try:
            await self.pool.on_every_thread(_warm_thread)
        except Exception:   # not fatal: each thread builds its detector on first use instead
            log.exception("ci: warm-up failed")
            return
        log.info("ci: %d worker(s) warm in %.1f s", self.pool.workers, time.perf_counter() - started)

    async def close(self) -> None:
        if self._warming is not None and not self._warming.done():
            self._warming.cancel()
        self.pool.close()
        self.fetcher.close()


def _warm_thread() -> None:
    import numpy as np

    import cosbeauty.imaging.pipeline  # noqa: F401  (the whole filter, imported here, not on a request)
    from cosbeauty.imaging.faces import detect_faces
    from cosbeauty.imaging.segmentation import warm
    detect_faces(np.full((64, 64, 3), 128, np.uint8))
    warm()        # selfie segmentation: the retouch's neck step and the portrait cut-out
