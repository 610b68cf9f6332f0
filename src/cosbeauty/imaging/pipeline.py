"""Bytes in, bytes out: decode -> detect -> beautify -> encode, with per-stage timings."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import jpeg_lossless
from .codec import (Decoded, ImageInfo, JpegStrips, Limits, decode, decode_reduced, encode,
                    normalize_format, probe)
from .errors import InvalidParameter
from .faces import Face

__all__ = ["FaceBox", "Result", "beautify", "check_strength"]

STAGES = ("decode", "detect", "mask", "filter", "blend", "encode")


@dataclass(frozen=True)
class FaceBox:
    """A beautified face, JSON-friendly (image pixels of the upright output)."""

    x: int
    y: int
    width: int
    height: int
    score: float


@dataclass
class Result:
    data: bytes
    format: str
    width: int
    height: int
    faces: list[FaceBox] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)   # milliseconds per stage


def check_strength(strength: Any) -> float:
    """``strength`` as a float in [0, 1]; anything else raises InvalidParameter."""
    if isinstance(strength, bool) or not isinstance(strength, (int, float)):
        raise InvalidParameter(f"strength must be a number in [0, 1], got {strength!r}")
    value = float(strength)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise InvalidParameter(f"strength must be in [0, 1], got {strength!r}")
    return value


SPLICE_OVERLAP_MIN_PIXELS = 1_000_000   # from 1 MP (1080p: ~2 ms of libjpeg's coefficient read off the critical path)
# The reduced decode keeps >= this long side. The whole-image passes shrink to 640 px
# (detection.common._DET_MAX_SIDE), so detect_faces on the full image and this path saw different
# inputs at 240 px (1/8 of 1080p): turned faces near the detector's threshold on real photos were
# found by one and missed by the other. On 82 cases of this round's independent angle check (42
# misses, 40 passes; test_speed_paths): 240 px 67 found, 480 px 68, 640 px 69; but 640 (1/2 decode
# + a 1.5x shrink) costs +3.2 ms on the 1080p one-face request (45.7 ms, over its 45 ms target),
# 480 +0.4 ms (40.8 against 40.4, interleaved, load ~1.5).
REDUCED_MIN_LONG = 480


# Up to this many pixels the DCT-reduced decode runs on the calling thread *before* the full one and
# only the whole-image pass goes to the helper (round 19): at 1080p the reduced branch (decode ~4 ms
# + pass ~9 ms CPU) is the longer one, and decoded on the helper beside the full decode it started
# late (1080p one face, in-process interleaved, load ~20: wall median ratio 0.941 and 0.956 over
# 80/100 calls, CPU equal). Above it the full decode is the longer branch (12 MP: ~40 ms) and a
# reduced decode first would only delay it.
REDUCED_FIRST_MAX_PIXELS = 2_500_000
# Above REDUCED_FIRST_MAX_PIXELS the helper, done with the reduced detection before the full decode,
# computes the beside look's cells and starts the splice's coefficient read (round 20; False: not)
IDLE_WORK = True


def _reduction(info: ImageInfo) -> int:
    """DCT scaling factor for the whole-image detection pass: the largest of 2, 4, 8 that keeps
    the long side >= REDUCED_MIN_LONG (so from 960 px on), 1 = none (not a plain JPEG).

    The whole-image passes shrink every source to 640 px; the reduced decode gives them 480-959
    px; the tile pass and the landmarks use the full image
    unless the reduced one has their resolution (see faces.ScaledDetection).
    """
    if info.format != "JPEG" or info.mode not in ("RGB", "L"):
        return 1
    long_side = max(info.width, info.height)
    return max((r for r in (2, 4, 8) if long_side // r >= REDUCED_MIN_LONG), default=1)


def _decode_and_detect(data: bytes, limits: Limits, detect: bool, keep_cmyk: bool = False,
                       on_wait: Any = None) -> tuple[Decoded, list[Face] | None, dict]:
    """Full decode on this thread; for large JPEGs, face detection meanwhile on the helper thread
    from a DCT-reduced decode (only tiles and small faces then need the full image). Up to
    REDUCED_FIRST_MAX_PIXELS the reduced decode itself runs here first (the same pixels).

    Timings: "decode" is the full decode (and the reduced one when it runs here first); "detect" is only what detection adds after it (the
    overlapped part is hidden). Faces are None when ``detect`` is False. ``keep_cmyk``: see
    ``codec.decode`` (a CMYK/YCCK source's planes, for the splice). ``on_wait(info)`` is called
    (once) when the full decode is done and the helper is still detecting (this thread would
    wait); above REDUCED_FIRST_MAX_PIXELS also when the helper's reduced detection is done
    before the full decode (the helper would idle; round 20), whichever comes first.
    """
    from .faces import ScaledDetection, detect_faces, executor

    timings = dict.fromkeys(STAGES, 0.0)
    t = time.perf_counter()
    info = probe(data, limits)
    factor = _reduction(info) if detect else 1
    idle = _Once(on_wait, info)
    decoding = threading.Event()          # set once the full decode is done
    job = None
    if factor > 1:
        here = info.width * info.height <= REDUCED_FIRST_MAX_PIXELS
        first = decode_reduced(data, info, factor) if here else None

        def reduced_detect() -> ScaledDetection | None:
            small = first if here else decode_reduced(data, info, factor)
            if small is None:
                return None
            scaled = ScaledDetection(info.height, info.width)
            if not here and IDLE_WORK:
                # the full decode is the longer branch here (12 MP: ~40 ms against ~20): what
                # the helper can do before it ends (the beside look's cells, the splice's read)
                scaled.pending = lambda: not decoding.is_set()
            scaled.start(small)
            if not here and IDLE_WORK and not decoding.is_set():
                idle()
            return scaled

        job = executor().submit(reduced_detect)
    try:
        decoded = decode(data, limits, keep_cmyk=keep_cmyk)
    except BaseException:
        # no splice started from now on, and one the helper is starting is in the caller's list
        # (its cleanup) when close() returns: a splice started later would wait forever for blocks
        idle.close()
        raise
    decoding.set()
    t = _tick(timings, "decode", t)
    if not detect:
        return decoded, None, timings
    if job is not None and on_wait is not None and not job.done():
        idle()
    scaled = None
    if job is not None:
        # Not started (pool busy): run the *same* reduced detection here. Falling back to
        # detect_faces() on the full image instead gave sub-pixel different landmarks, so the
        # output bytes depended on thread timing (issue #12).
        scaled = reduced_detect() if job.cancel() else job.result()
    faces = scaled.finish(decoded.rgb) if scaled is not None else detect_faces(_seen(decoded))
    _tick(timings, "detect", t)
    return decoded, faces, timings


class _Once:
    """``on_wait(info)`` at the first call, nothing after (called from either thread)."""

    def __init__(self, on_wait: Any, info: ImageInfo) -> None:
        self.on_wait, self.info = on_wait, info
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            on_wait, self.on_wait = self.on_wait, None
            if on_wait is not None:
                on_wait(self.info)     # under the lock: close() waits for it

    def close(self) -> None:
        """No call from now on (one running finishes first)."""
        with self.lock:
            self.on_wait = None


def _seen(decoded: Decoded) -> np.ndarray:
    """The pixels detection looks at: with alpha, the colour composited over mid grey by it. What
    lies under alpha 0 is not seen, and lossy WebP's encoder (libwebp without ``exact``) fills it
    with rows smeared from the visible edge: round 15's check lost an 80 px astronaut in a cut-out
    (found in the same RGBA as PNG, and in the lossy WebP once composited over grey or white)."""
    if decoded.alpha is None:
        return decoded.rgb
    top = 65535.0 if decoded.rgb.dtype == np.uint16 else 255.0
    a = decoded.alpha[:, :, None].astype(np.float32) / top
    out = decoded.rgb.astype(np.float32) * a + np.float32((top + 1) / 2) * (1.0 - a)
    return np.clip(out + 0.5, 0, top).astype(decoded.rgb.dtype)


def _plain_rgb8(decoded: Decoded) -> bool:
    """JPEG output would encode ``decoded.rgb`` itself (no grey/alpha/16-bit conversion)."""
    return decoded.rgb.dtype == np.uint8 and decoded.alpha is None and not decoded.grey


def _tick(timings: dict, key: str, start: float) -> float:
    now = time.perf_counter()
    timings[key] = timings.get(key, 0.0) + (now - start) * 1000
    return now


def beautify(data: bytes, strength: float = 0.5, *, limits: Limits = Limits(),
             format: str | None = None, quality: int | None = None, **options: Any) -> Result:
    """Beautify every face in an encoded image.

    ``options`` go to :func:`beautify_array` (``reshape``, ``slim``, ``eyes``). When
    ``strength`` is 0 or no face is found, the input bytes are returned unchanged (unless a
    different output ``format`` or an explicit ``quality`` was asked for: then the untouched
    pixels are re-encoded).
    """
    early: list[jpeg_lossless.Splicer] = []      # started during detection (_beautify): released if unused
    try:
        return _beautify(data, strength, limits, format, quality, early, options)
    finally:
        for splicer in early:
            splicer.abort()


def _beautify(data: bytes, strength: float, limits: Limits, format: str | None, quality: int | None,
              early: list, options: dict) -> Result:
    from .beauty import apply_faces, roi_for

    strength = check_strength(strength)
    keep_bytes = quality is None
    if strength == 0 and not options.get("reshape") and keep_bytes:
        info = probe(data, limits)
        if format is None or normalize_format(format) == info.format:
            return Result(data, info.format, info.width, info.height, [], dict.fromkeys(STAGES, 0.0))
    unknown = set(options) - {"reshape", "slim", "eyes", "params"}   # params: RetouchParams
    if unknown:      # what beautify_array's signature would reject
        raise TypeError(f"beautify() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
    skip = strength == 0 and not options.get("reshape")
    may_splice = keep_bytes and not options.get("reshape") and (format is None or normalize_format(format) == "JPEG")

    def splice_early(info: ImageInfo) -> None:
        # libjpeg's coefficient read (the splice's first half) on a core detection or the decode leaves idle
        if may_splice and info.mode in ("RGB", "L") and info.width * info.height >= SPLICE_OVERLAP_MIN_PIXELS:
            opened = jpeg_lossless.Splicer.open(data)
            if opened is not None:
                early.append(opened.start())

    decoded, faces, timings = _decode_and_detect(data, limits, detect=not skip, keep_cmyk=may_splice,
                                                 on_wait=splice_early)
    cmyk = decoded.extra.pop("cmyk", None)      # a CMYK/YCCK JPEG's planes: the splice's, not kept
    faces = faces or []
    info = decoded.info
    out_format = normalize_format(format) if format else info.format
    boxes = [FaceBox(*f.box, score=round(f.score, 4)) for f in faces]
    if not faces and keep_bytes and out_format == info.format:
        return Result(data, info.format, info.width, info.height, [], timings)
    pixels = decoded.rgb            # ours: beautified in place, no full-frame copy
    if not pixels.flags.writeable:  # Pillow hands out read-only views (PNG, WebP, ...)
        pixels = decoded.rgb = pixels.copy()
    strips = None
    splicer = None
    if early and out_format == info.format == "JPEG" and keep_bytes and not options.get("reshape"):
        splicer = early.pop()                                     # already reading (splice_early)
    elif out_format == info.format == "JPEG" and keep_bytes and not options.get("reshape"):
        splicer = jpeg_lossless.Splicer.open(data, cmyk=cmyk)     # None: not a JPEG it can splice
    if splicer is not None:
        rois = [roi_for(f, pixels.shape) for f in faces]
        regions = [(r.x0, r.y0, r.x1, r.y1) for r in rois]
        before = [pixels[y0:y1, x0:x1].copy() for x0, y0, x1, y1 in regions]
        orientation = info.orientation
        if orientation != 1:         # spliced in the stored frame: the EXIF orientation stays
            h, w = pixels.shape[:2]
            before = [np.ascontiguousarray(jpeg_lossless.stored_view(b, orientation)) for b in before]
            regions = [jpeg_lossless.stored_box(r, orientation, w, h) for r in regions]
        if info.width * info.height >= SPLICE_OVERLAP_MIN_PIXELS and splicer.job is None:
            splicer.start()              # libjpeg reads the source's coefficients meanwhile
        try:
            apply_faces(pixels, faces, strength, timings=timings, **options)
        except BaseException:
            splicer.abort()
            raise
        t = time.perf_counter()
        encoded = splicer.finish(before, jpeg_lossless.stored_view(pixels, info.orientation), regions)
        if encoded is not None:
            _tick(timings, "encode", t)
            return Result(encoded, out_format, info.width, info.height, boxes, timings)
        encoded = encode(decoded, pixels, format=out_format, quality=quality)
        _tick(timings, "encode", t)
        return Result(encoded, out_format, info.width, info.height, boxes, timings)
    if out_format == "JPEG" and _plain_rgb8(decoded):
        # the rows no face touches are final: encode them on the helper meanwhile
        strips = JpegStrips(pixels, decoded, quality)
        strips.start_outside([(r.y0, r.y1) for r in (roi_for(f, pixels.shape) for f in faces)])
    apply_faces(pixels, faces, strength, timings=timings, **options)
    t = time.perf_counter()
    encoded = strips.result() if strips else encode(decoded, pixels, format=out_format, quality=quality)
    _tick(timings, "encode", t)
    return Result(encoded, out_format, info.width, info.height, boxes, timings)
