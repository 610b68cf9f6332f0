"""``cosbeauty beautify`` end to end (single file, stdout, folders, exit codes, --jobs)."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from cosbeauty.cli import main
from cosbeauty.cli.beautify import DONE, EXIT_FAILED, EXIT_OK, EXIT_USAGE, FAILED, Outcome, Progress

needs_pipeline = pytest.mark.skipif(importlib.util.find_spec("cosbeauty.imaging.pipeline") is None,
                                    reason="cosbeauty.imaging.pipeline has not landed yet")


def image_bytes(pixels: np.ndarray, fmt: str) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


@pytest.fixture(scope="module")
def face_jpeg() -> bytes:
    return image_bytes(skdata.astronaut(), "JPEG")


@pytest.fixture(scope="module")
def coffee_png() -> bytes:
    return image_bytes(skdata.coffee(), "PNG")


@pytest.fixture
def folder(tmp_path: Path, face_jpeg: bytes, coffee_png: bytes) -> Path:
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / "astronaut.jpg").write_bytes(face_jpeg)
    (root / "coffee.png").write_bytes(coffee_png)
    (root / "sub" / "astronaut2.jpg").write_bytes(face_jpeg)
    (root / "broken.jpg").write_bytes(face_jpeg[: len(face_jpeg) // 3])
    (root / "notes.txt").write_text("not an image\n")
    return root


def opened(path: Path) -> Image.Image:
    im = Image.open(path)
    im.load()
    return im


@needs_pipeline
def test_single_file_default_output(tmp_path, face_jpeg):
    source = tmp_path / "portrait.jpg"
    source.write_bytes(face_jpeg)
    assert main(["beautify", str(source), "--strength", "0.7"]) == EXIT_OK
    out = opened(tmp_path / "portrait.beauty.jpg")
    assert (out.format, out.size) == ("JPEG", (512, 512))
    assert np.abs(np.asarray(out, dtype=float) - skdata.astronaut()).mean() > 0.2   # the face changed


@needs_pipeline
def test_single_file_explicit_output_and_format(tmp_path, face_jpeg):
    source = tmp_path / "portrait.jpg"
    source.write_bytes(face_jpeg)
    assert main(["beautify", str(source), "-o", str(tmp_path / "x.png"), "--format", "png"]) == EXIT_OK
    assert opened(tmp_path / "x.png").format == "PNG"
    assert main(["beautify", str(source), "--format", "webp"]) == EXIT_OK
    assert opened(tmp_path / "portrait.beauty.webp").format == "WEBP"


@needs_pipeline
def test_stdout_output(tmp_path, face_jpeg, capsysbinary):
    source = tmp_path / "portrait.jpg"
    source.write_bytes(face_jpeg)
    assert main(["beautify", str(source), "-o", "-", "--quality", "80"]) == EXIT_OK
    written = capsysbinary.readouterr().out
    assert written.startswith(b"\xff\xd8") and Image.open(io.BytesIO(written)).size == (512, 512)


@needs_pipeline
def test_single_no_face_and_bad_file(tmp_path, coffee_png, capsys):
    (tmp_path / "coffee.png").write_bytes(coffee_png)
    assert main(["beautify", str(tmp_path / "coffee.png")]) == EXIT_OK
    assert (tmp_path / "coffee.beauty.png").read_bytes() == coffee_png   # no face: unchanged
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    assert main(["beautify", str(tmp_path / "bad.jpg")]) == EXIT_FAILED
    assert "bad.jpg" in capsys.readouterr().err and not (tmp_path / "bad.beauty.jpg").exists()


def test_usage_errors(tmp_path, folder, capsys):
    assert main(["beautify", str(tmp_path / "missing.jpg")]) == EXIT_USAGE
    assert main(["beautify", str(folder)]) == EXIT_USAGE
    with pytest.raises(SystemExit) as exc:
        main(["beautify", str(folder), "-o", str(tmp_path / "o"), "--format", "gif"])
    assert exc.value.code == EXIT_USAGE


@needs_pipeline
def test_folder_reports_bad_files_and_finishes_the_rest(tmp_path, folder, capsys):
    out = tmp_path / "out"
    assert main(["beautify", str(folder), "-o", str(out), "--jobs", "1"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert opened(out / "astronaut.jpg").size == (512, 512)
    assert (out / "coffee.png").exists() and not (out / "sub").exists()   # not recursive
    assert "FAILED" in err and "broken.jpg" in err and "SKIPPED" in err and "notes.txt" in err
    assert "1 done, 1 no face, 1 skipped, 1 failed of 4 files" in err
    assert "\r" not in err   # stderr is not a TTY: no progress bar
    assert not (out / "broken.jpg").exists() and not (out / "notes.txt").exists()


@needs_pipeline
def test_folder_recursive_parallel(tmp_path, folder, capsys):
    (folder / "broken.jpg").unlink()
    out = folder / "out"   # OUTDIR inside the input folder must not be re-processed
    code = main(["beautify", str(folder), "-o", str(out), "--jobs", "2", "--recursive", "--format", "png"])
    err = capsys.readouterr().err
    assert code == EXIT_OK, err
    assert opened(out / "sub" / "astronaut2.png").format == "PNG"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == \
        ["astronaut.png", "coffee.png", "sub/astronaut2.png"]
    assert "2 done, 1 no face, 1 skipped, 0 failed of 4 files" in err


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_tty():
    stream = FakeTty()
    progress = Progress(2, stream)
    progress.update(Outcome("a.jpg", DONE))
    progress.update(Outcome("b.jpg", FAILED, "corrupt"))
    progress.finish()
    text = stream.getvalue()
    assert "\r[###############...............] 1/2" in text and "FAILED b.jpg: corrupt" in text
    assert text.endswith("1 done, 0 no face, 0 skipped, 1 failed of 2 files in 0.0s\n")
