"""``cosbeauty beautify``: apply the AIFaceBeauty filter to one file or a whole folder.

One file::

    cosbeauty beautify photo.jpg                 # -> photo.beauty.jpg beside it
    cosbeauty beautify photo.jpg -o - > out.jpg  # to stdout

A folder (parallel, sub-folders mirrored with ``--recursive``)::

    cosbeauty beautify shots/ -o beautified/ --recursive

The folder default is the fastest configuration measured (``bench/cli_folder.py``): worker
*threads* in this one process, one per CPU, each running its file on itself alone (no OpenCV
threads, no imaging helper thread: file-level parallelism only). OpenCV and MediaPipe release
the GIL, each thread keeps its own face detector, and no worker pays the interpreter and model
start-up a process would. ``--processes`` uses a spawn-started process pool instead; ``--jobs 1``
runs in order, one file at a time with OpenCV's own threads and the imaging helper thread.

Every regular, non-hidden file is tried. Files whose bytes are not an image (UnsupportedFormat)
are *skipped* when their name has no image extension (README.txt) and *failed* when it has
one (a .jpg that is not a JPEG). Corrupt or oversized images fail. Failures are reported on
stderr as they happen and never stop the run.

Exit codes:
    0  every file was written (photos without a face are written unchanged by the pipeline)
    1  at least one file failed
    2  usage error: bad arguments, missing input, folder input without ``-o``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, TextIO

from cosbeauty.imaging.errors import ImageError, UnsupportedFormat
from cosbeauty.imaging.limits import Limits

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".tif", ".tiff"}
FORMAT_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "BMP": ".bmp", "TIFF": ".tiff"}
DONE, NO_FACE, SKIPPED, FAILED = "done", "no face", "skipped", "failed"


@dataclass(frozen=True)
class Options:
    """What every file is processed with (picklable: sent once to each worker)."""
    strength: float
    format: str | None
    quality: int | None
    reshape: bool
    retouch: tuple[tuple[str, float], ...] = ()     # per-component overrides (RetouchParams)
    slim: float | None = None                       # reshape amounts (None: --strength)
    eyes: float | None = None


@dataclass(frozen=True)
class Outcome:
    source: str
    status: str          # DONE, NO_FACE, SKIPPED or FAILED
    message: str = ""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "beautify", help="beautify faces in an image file or a folder of images",
        description=__doc__.split("\n\n")[0], epilog="Exit codes:" + __doc__.split("Exit codes:")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", type=Path, help="an image file, or a folder (then -o OUTDIR is required)")
    parser.add_argument("-o", "--output", help="output file ('-' for stdout) or, for a folder, output folder")
    parser.add_argument("--strength", type=float, default=0.5, help="0..1 (default 0.5)")
    parser.add_argument("--format", type=_format_arg,
                        help=f"output format: {', '.join(FORMAT_SUFFIX)} (default: as input)")
    parser.add_argument("--quality", type=int, help="JPEG/WebP quality 1..100 (default: the source's)")
    parser.add_argument("--reshape", action="store_true", help="also slim the face and enlarge the eyes")
    parser.add_argument("--slim", type=_amount_arg, metavar="0..1",
                        help="slim-face amount (implies --reshape; face-effect's faceLifting/100)")
    parser.add_argument("--enlarge-eyes", type=_amount_arg, metavar="0..1",
                        help="eye-enlarging amount (implies --reshape; face-effect's eyeEnlarging/100)")
    parser.add_argument("--retouch", type=_retouch_arg, default=(), metavar="NAME=AMOUNT,...",
                        help="per-component amounts 0..1 over the strength's defaults, e.g. "
                             "spots=1,teeth=0 (smoothing, spots, lines, eyebags, tone, whitening, rosy, eyes, teeth)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="parallel workers for a folder (default: one per CPU this process may use)")
    parser.add_argument("--processes", action="store_true",
                        help="workers are processes (each pays ~2 s start-up) instead of threads")
    parser.add_argument("--recursive", action="store_true", help="descend into sub-folders (mirrored in OUTDIR)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cosbeauty.ci.pool import keep_freed_image_buffers
    keep_freed_image_buffers()      # no page faults for every buffer of every file (ci/pool.py)
    reshape = args.reshape or args.slim is not None or args.enlarge_eyes is not None
    options = Options(args.strength, args.format, args.quality, reshape, args.retouch, args.slim, args.enlarge_eyes)
    if args.input.is_dir():
        if not args.output or args.output == "-":
            return _usage("a folder input needs -o OUTDIR")
        jobs = max(1, args.jobs) if args.jobs is not None else default_jobs()
        return _run_folder(args.input, Path(args.output), options, jobs, args.recursive, processes=args.processes)
    if not args.input.is_file():
        return _usage(f"{args.input}: no such file or folder")
    return _run_file(args.input, args.output, options)


def default_jobs() -> int:
    """One worker thread per CPU this process may use.

    There used to be a busy-machine rule (one worker when the other CPUs were busy while the
    imaging stack imported, measured from /proc/stat; before that, the load average): it made
    the default ``--jobs 1`` in every round at load ~2 on 2 CPUs. With each worker single-threaded
    (no OpenCV threads, no imaging helper) two workers were as fast as one at load 4-5
    (bench/cli_folder.py: 1.00x and 1.04x median per-round ratios) and use only ~4 % more CPU than
    ``--jobs 1``, so there is nothing left for the rule to protect."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _amount_arg(value: str) -> float:
    try:
        amount = float(value)
    except ValueError:
        amount = -1.0
    if not 0.0 <= amount <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {value!r}")
    return amount


def _retouch_arg(value: str) -> tuple[tuple[str, float], ...]:
    """``spots=1,teeth=0`` -> (("spots", 1.0), ("teeth", 0.0)); names and ranges checked."""
    from dataclasses import fields

    from cosbeauty.imaging.retouch.params import RetouchParams

    names = {f.name for f in fields(RetouchParams)} - {"neck"}
    out = []
    for item in filter(None, value.split(",")):
        name, _, amount = item.partition("=")
        try:
            number = float(amount)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r}: expected NAME=AMOUNT") from None
        if name.strip() not in names or not 0.0 <= number <= 1.0:
            raise argparse.ArgumentTypeError(f"{item!r}: NAME is one of {', '.join(sorted(names))}, AMOUNT 0..1")
        out.append((name.strip(), number))
    return tuple(out)


def _retouch_params(options: Options) -> Any:
    from dataclasses import replace

    from cosbeauty.imaging.retouch.params import RetouchParams

    return replace(RetouchParams.for_strength(options.strength), **dict(options.retouch))


def _format_arg(value: str) -> str:
    from cosbeauty.imaging.codec import normalize_format
    try:
        return normalize_format(value)
    except ImageError as exc:
        raise argparse.ArgumentTypeError(exc.message) from exc


def _usage(message: str) -> int:
    print(f"cosbeauty beautify: {message}", file=sys.stderr)
    return EXIT_USAGE


# ----------------------------------------------------------------------------- one file


def _run_file(source: Path, output: str | None, options: Options) -> int:
    destination = None if output == "-" else Path(output) if output else _default_output(source, options)
    outcome = _process(source, destination, options)
    if outcome.status in (FAILED, SKIPPED):
        print(f"cosbeauty beautify: {source}: {outcome.message}", file=sys.stderr)
        return EXIT_FAILED
    if outcome.status == NO_FACE:
        print(f"{source}: no face found, written unchanged", file=sys.stderr)
    return EXIT_OK


def _default_output(source: Path, options: Options) -> Path:
    suffix = FORMAT_SUFFIX[options.format] if options.format else source.suffix
    return source.with_name(f"{source.stem}.beauty{suffix}")


def _process(source: Path, destination: Path | None, options: Options) -> Outcome:
    """Beautify one file; ``destination`` None means stdout. Never raises for bad input."""
    from cosbeauty.imaging.pipeline import beautify

    try:
        extra = {"params": _retouch_params(options)} if options.retouch else {}
        extra.update({k: v for k, v in (("slim", options.slim), ("eyes", options.eyes)) if v is not None})
        result = beautify(source.read_bytes(), options.strength, limits=Limits(), format=options.format,
                          quality=options.quality, reshape=options.reshape, **extra)
        _write(result.data, destination)
    except UnsupportedFormat as exc:
        status = FAILED if source.suffix.lower() in IMAGE_SUFFIXES else SKIPPED
        return Outcome(str(source), status, f"{exc.message} ({exc.code})")
    except ImageError as exc:
        return Outcome(str(source), FAILED, f"{exc.message} ({exc.code})")
    except OSError as exc:
        return Outcome(str(source), FAILED, f"{exc.strerror or exc}")
    except Exception as exc:  # a pipeline bug on one file must not stop a folder run
        return Outcome(str(source), FAILED, f"internal error: {exc!r}")
    faces = result.faces if isinstance(result.faces, int) else len(result.faces)
    return Outcome(str(source), DONE if faces else NO_FACE)


def _write(data: bytes, destination: Path | None) -> None:
    if destination is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    partial.write_bytes(data)
    partial.replace(destination)


# ----------------------------------------------------------------------------- a folder


def _run_folder(root: Path, out_root: Path, options: Options, jobs: int, recursive: bool, *,
                processes: bool = False) -> int:
    tasks = [(source, _mirror(source, root, out_root, options))
             for source in _walk(root, out_root, recursive)]
    progress = Progress(len(tasks), sys.stderr)
    for outcome in _outcomes(tasks, options, jobs, processes):
        progress.update(outcome)
    workers = 1 if len(tasks) <= 1 else min(jobs, len(tasks))
    if workers == 1:
        progress.finish("1 worker")
    else:
        progress.finish(f"{workers} worker {'processes' if processes else 'threads'}")
    return EXIT_FAILED if progress.counts[FAILED] else EXIT_OK


def _walk(root: Path, out_root: Path, recursive: bool) -> list[Path]:
    """Regular, non-hidden files in a stable order, leaving out anything inside OUTDIR."""
    out_resolved = out_root.resolve()
    candidates = root.rglob("*") if recursive else root.iterdir()
    return sorted(
        path for path in candidates
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts)
        and out_resolved not in path.resolve().parents)


def _mirror(source: Path, root: Path, out_root: Path, options: Options) -> Path:
    target = out_root / source.relative_to(root)
    return target.with_suffix(FORMAT_SUFFIX[options.format]) if options.format else target


def _outcomes(tasks: list[tuple[Path, Path]], options: Options, jobs: int,
              processes: bool = False) -> Iterator[Outcome]:
    """In order for one job; else over worker threads (the default: one process, one face
    detector per thread) or a spawn-started process pool (MediaPipe is not fork-safe). At most
    ``2 * jobs`` files are in flight, so a huge folder never queues everything at once."""
    if jobs == 1 or len(tasks) <= 1:
        yield from (_process(source, target, options) for source, target in tasks)
        return
    workers = min(jobs, len(tasks))
    tasks = sorted(tasks, key=lambda task: -_size(task[0]))    # biggest first: no lone big file at the end
    restore = None if processes else _single_threaded_opencv()
    try:
        with _pool(workers, processes) as pool:
            pending: set[Future[Outcome]] = set()
            queue = iter(tasks)
            for source, target in queue:
                pending.add(pool.submit(_process, source, target, options))
                if len(pending) >= 2 * workers:
                    done = next(as_completed(pending))
                    pending.discard(done)
                    yield done.result()
            for future in as_completed(pending):
                yield future.result()
    finally:
        if restore is not None:
            restore()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _pool(workers: int, processes: bool) -> Executor:
    if processes:
        import multiprocessing
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_process)
    # each thread builds its face detector as it starts, both at once, while the first files are read
    return ThreadPoolExecutor(workers, thread_name_prefix="cosbeauty-beautify", initializer=_init_thread)


def _init_thread() -> None:
    """A worker thread runs its files on itself alone: no imaging helper thread (faces.no_helpers)
    and, set by :func:`_single_threaded_opencv`, no OpenCV threads. The workers already keep every
    CPU busy; helpers on top cost CPU (their own face models, hand-offs) and gave no speed."""
    from cosbeauty.imaging.faces import no_helpers

    no_helpers()
    _init_worker()


def _single_threaded_opencv() -> Callable[[], None]:
    """Parallel workers each run one file's OpenCV calls on their own thread: OpenCV's thread pool
    on top of the workers oversubscribes the CPUs (two workers with OpenCV's 2 threads each ran up
    to 2x slower than one file at a time on 2 cores, bench/cli_folder.py). Returns the undo."""
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    return lambda: cv2.setNumThreads(before)


def _init_process() -> None:
    _single_threaded_opencv()
    _init_worker()


def _init_worker() -> None:
    """Build a worker process's face detector before its first file (the start-up is paid once
    per process either way; this keeps it out of the first file's time)."""
    import numpy as np

    from cosbeauty.imaging.faces import detect_faces

    detect_faces(np.zeros((64, 64, 3), np.uint8))


class Progress:
    """Plain-text progress bar on a TTY; otherwise silent until the summary.

    Failures and skips are always reported, one line each, as they happen.
    """

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = total, stream
        self.interactive = stream.isatty()
        self.counts = {DONE: 0, NO_FACE: 0, SKIPPED: 0, FAILED: 0}
        self.started = time.monotonic()

    def update(self, outcome: Outcome) -> None:
        self.counts[outcome.status] += 1
        if outcome.status in (FAILED, SKIPPED):
            self._line(f"{outcome.status.upper()} {outcome.source}: {outcome.message}")
        if self.interactive:
            self.stream.write("\r" + self._bar())
            self.stream.flush()

    def finish(self, workers: str = "") -> None:
        elapsed = time.monotonic() - self.started
        c = self.counts
        self._line(f"beautify: {c[DONE]} done, {c[NO_FACE]} no face, {c[SKIPPED]} skipped, "
                   f"{c[FAILED]} failed of {self.total} files in {elapsed:.1f}s" + (f" ({workers})" if workers else ""))

    def _bar(self) -> str:
        finished = sum(self.counts.values())
        filled = self.WIDTH * finished // max(1, self.total)
        elapsed = time.monotonic() - self.started
        eta = elapsed / finished * (self.total - finished) if finished else 0.0
        return (f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {finished}/{self.total} "
                f"{self.counts[FAILED]} failed  {elapsed:.0f}s elapsed, ~{eta:.0f}s left")

    def _line(self, text: str) -> None:
        prefix = "\r\x1b[K" if self.interactive else ""
        self.stream.write(f"{prefix}{text}\n")
        self.stream.flush()
