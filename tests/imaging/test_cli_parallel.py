"""``cosbeauty beautify DIR -o OUT``: the default (worker threads, one per CPU, no imaging helpers), ``--jobs 1`` and
``--processes`` write the same files and report the same outcomes; the in-flight window keeps a
big folder from being queued at once. Speed is measured by bench/cli_folder.py, not here."""

from __future__ import annotations

import argparse
import io
import os
import threading
from pathlib import Path

import pytest
from PIL import Image
from skimage import data as skdata

from cosbeauty.cli import build_parser, main
from cosbeauty.cli import beautify as beautify_cli
from cosbeauty.cli.beautify import EXIT_FAILED, Options


def jpeg(pixels, quality: int = 90) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.fixture(scope="module")
def photos() -> list[bytes]:
    face = skdata.astronaut()
    return [jpeg(face), jpeg(face[::2, ::2]), jpeg(skdata.coffee()), jpeg(face[:, ::-1], 80)]


@pytest.fixture
def folder(tmp_path: Path, photos: list[bytes]) -> Path:
    root = tmp_path / "in"
    root.mkdir()
    for i, data in enumerate(photos * 2):
        (root / f"p{i}.jpg").write_bytes(data)
    (root / "broken.jpg").write_bytes(photos[0][:500])
    (root / "notes.txt").write_text("not an image\n")
    return root


def run(folder: Path, out: Path, *flags: str, capsys) -> tuple[int, str, dict[str, bytes]]:
    code = main(["beautify", str(folder), "-o", str(out), *flags])
    err = capsys.readouterr().err
    return code, err.splitlines()[-1], {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_default_is_threads_one_per_cpu_whatever_the_load(monkeypatch):
    """No busy-machine rule: it made the default --jobs 1 at load ~2 on 2 CPUs, and two
    single-threaded workers were as fast as one under load (bench/cli_folder.py)."""
    args = build_parser().parse_args(["beautify", "in", "-o", "out"])
    assert args.jobs is None and args.processes is False       # -> default_jobs() threads
    cpus = len(os.sched_getaffinity(0))
    for load in (0.1, cpus - 1.0, cpus + 5.0):
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, 1.0, 1.0))
        assert beautify_cli.default_jobs() == cpus


def test_parallel_workers_run_without_imaging_helpers(tmp_path, folder, capsys, monkeypatch):
    """Worker threads do their file on themselves alone (faces.no_helpers); --jobs 1 keeps the
    shared helper pool."""
    from cosbeauty.imaging import faces

    seen: dict[str, list[bool]] = {"seq": [], "thr": []}
    real = beautify_cli._process
    for name, flags in (("seq", ("--jobs", "1")), ("thr", ("--jobs", "2"))):
        monkeypatch.setattr(beautify_cli, "_process", lambda *a, name=name: (
            seen[name].append(faces.executor() is faces._INLINE), real(*a))[1])
        run(folder, tmp_path / name, *flags, capsys=capsys)
    assert seen["seq"] and not any(seen["seq"])
    assert seen["thr"] and all(seen["thr"])


def test_inline_executor_runs_on_result_and_cancels_before():
    from cosbeauty.imaging import faces

    calls: list[int] = []
    job = faces._INLINE.submit(calls.append, 1)
    assert not calls and job.cancel()                 # never started by anyone: the caller does it
    job = faces._INLINE.submit(lambda: calls.append(2) or 7)
    assert job.result() == 7 and calls == [2] and not job.cancel()
    failing = faces._INLINE.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.result()


def test_parallel_workers_run_opencv_single_threaded_and_restore_it(tmp_path, folder, capsys, monkeypatch):
    import cv2

    seen: list[int] = []
    real = beautify_cli._process
    monkeypatch.setattr(beautify_cli, "_process", lambda *a: (seen.append(cv2.getNumThreads()), real(*a))[1])
    before = cv2.getNumThreads()
    run(folder, tmp_path / "thr", "--jobs", "2", capsys=capsys)
    assert seen and set(seen) == {1}
    assert cv2.getNumThreads() == before


def test_threads_and_jobs1_write_identical_files(tmp_path, folder, capsys):
    code1, summary1, files1 = run(folder, tmp_path / "seq", "--jobs", "1", capsys=capsys)
    code2, summary2, files2 = run(folder, tmp_path / "thr", "--jobs", "3", capsys=capsys)
    assert code1 == code2 == EXIT_FAILED          # broken.jpg fails in both
    assert summary1.split(" in ")[0] == summary2.split(" in ")[0] == \
        "beautify: 6 done, 2 no face, 1 skipped, 1 failed of 10 files"
    assert files1.keys() == files2.keys() and len(files1) == 8
    assert all(files1[name] == files2[name] for name in files1), "threads changed the output bytes"


@pytest.mark.slow
def test_processes_write_identical_files(tmp_path, folder, capsys):
    code1, summary1, files1 = run(folder, tmp_path / "seq", "--jobs", "1", capsys=capsys)
    code2, summary2, files2 = run(folder, tmp_path / "proc", "--jobs", "2", "--processes", capsys=capsys)
    assert code1 == code2 and summary1.split(" in ")[0] == summary2.split(" in ")[0]
    assert files1 == files2


def test_in_flight_window_is_bounded(tmp_path, monkeypatch):
    """At most 2 x jobs files are submitted ahead of the results being consumed."""
    active, peak, lock = [0], [0], threading.Lock()
    release = threading.Semaphore(0)

    def fake_process(source, target, options):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        release.acquire()
        with lock:
            active[0] -= 1
        return beautify_cli.Outcome(str(source), beautify_cli.DONE)

    monkeypatch.setattr(beautify_cli, "_process", fake_process)
    tasks = [(tmp_path / f"{i}.jpg", tmp_path / "out" / f"{i}.jpg") for i in range(40)]
    submitted = []
    real_pool = beautify_cli._pool

    def counting_pool(workers: int, processes: bool):
        pool = real_pool(workers, processes)
        submit = pool.submit
        pool.submit = lambda *a, **k: (submitted.append(1), submit(*a, **k))[1]
        return pool

    monkeypatch.setattr(beautify_cli, "_pool", counting_pool)
    outcomes = beautify_cli._outcomes(tasks, Options(0.5, None, None, False), jobs=2)
    for _ in range(40):
        release.release()
    seen = 0
    for _ in outcomes:
        seen += 1
        assert len(submitted) <= seen + 4
    assert seen == 40 and peak[0] <= 2


def test_processes_flag_parses():
    args = build_parser().parse_args(["beautify", "in", "-o", "out", "--processes", "--jobs", "2"])
    assert isinstance(args, argparse.Namespace) and args.processes and args.jobs == 2
