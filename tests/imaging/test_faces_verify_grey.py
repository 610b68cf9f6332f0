"""Grey (colourless) images: only faces are edited (issue #12, point 1; verify_grey.py).

Without colour there is no skin test, and the rocket's fairing with its logo passed every other
check on grey copies of the no-face corpus cropped 40 px at a side (10 "faces" of 20-80 px,
presence ~1.0, stability 0.06-0.10 F). verify_grey's rule asks a grey candidate not cut by the
frame for a face's shading: eyes darker than the bridge of the nose between them, and a mouth
line darker than the skin. Here: those crops come back byte-identical through ``beautify`` (the
candidate is still proposed and fails only that rule), real grey faces are still found, and
(slow) the calibration the thresholds were chosen on.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from cosbeauty.imaging import beautify, detect_faces, verify, verify_grey
from tests.imaging import corpus
from tests.imaging.test_faces_edge import grey

NO_FACE = dict(corpus.no_face_images())

# (image, crop): where the grey logo was accepted before the rule (box x, y of the candidate)
LOGO_CROPS = {
    "rocket-1080p-left40": ("rocket-1080p", lambda g: g[:, 40:]),
    "rocket-1080p-right40": ("rocket-1080p", lambda g: g[:, :-40]),
    "rocket-1080p-bottom40": ("rocket-1080p", lambda g: g[:-40]),
    "rocket-4000x3000-bottom40": ("rocket-4000x3000", lambda g: g[:-40]),
}


@pytest.fixture(scope="module")
def grey_no_face_candidates() -> list[tuple[str, str, object]]:
    """(image, crop label, face) of every candidate (``verify=False``) on the grey no-face corpus,
    whole and cropped 20/40/60/80 px at each side (in the suite 20 and 80: corpus.FULL_CALIBRATION):
    computed once for both calibration tests."""
    out = []
    depths = (20, 40, 60, 80) if corpus.FULL_CALIBRATION else (20, 80)
    for name, img in NO_FACE.items():
        g = grey(img)
        for label, crop in [("whole", g)] + [(f"{s}{d}", c) for d in depths for s, c in
                                              (("L", g[:, d:]), ("R", g[:, :-d]), ("T", g[d:]), ("B", g[:-d]))]:
            out += [(name, label, f) for f in detect_faces(np.ascontiguousarray(crop), verify=False)]
    return out


def grey_png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb[:, :, 0])).save(out, "PNG", compress_level=1)
    return out.getvalue()


def _on_face(face, truth: list[tuple[float, float, float]]) -> bool:
    return any(abs(face.center[0] - x) < 0.6 * s and abs(face.center[1] - y) < 0.9 * s for x, y, s in truth)


def _crop(name: str) -> np.ndarray:
    image, cut = LOGO_CROPS[name]
    return np.ascontiguousarray(cut(grey(NO_FACE[image])))


@pytest.mark.parametrize("name", list(LOGO_CROPS))
def test_grey_logo_crops_come_back_byte_identical(name):
    img = _crop(name)
    faces = detect_faces(img)
    assert faces == [], [(f.box, {k: round(v, 3) for k, v in f.checks.items()}) for f in faces]
    data = grey_png(img)
    result = beautify(data, 1.0)
    assert result.faces == [] and result.data == data


def test_grey_logo_fails_only_the_grey_rule():
    """The logo on the grey 1080p rocket cropped 40 px at the left is still a candidate that
    passes presence, geometry, texture and stability; only the shading rule rejects it (its
    bridge is as dark as its 'eyes': one dark band)."""
    img = _crop("rocket-1080p-left40")
    logos = [f for f in detect_faces(img, verify=False) if f.checks.get("grey") and f.presence > 0.9]
    assert logos
    for f in logos:
        assert "grey-structure" in verify.reasons(f.checks)
    assert any(verify.reasons(f.checks) == ["grey-structure"] for f in logos)
    c = next(f.checks for f in logos if verify.reasons(f.checks) == ["grey-structure"])
    assert c["grey_bridge"] >= verify_grey.BAND_RATIO * c["grey_eyes"]
    assert c["grey_eyes"] - c["grey_bridge"] + c["grey_mouth"] < verify_grey.MIN_GREY_FACE_BAND - 0.1


@pytest.mark.parametrize("canvas_size,sizes", [((1920, 1080), [24, 28, 32, 40, 48, 64, 80, 100, 120]),
                                               ((4000, 3000), [48, 64, 96, 150, 300])])
def test_grey_faces_still_found(monkeypatch, canvas_size, sizes):
    """Both heads in grey, 24-300 px, on a flat 1080p / 12 MP canvas: the same faces are found
    with the grey rule as without it (the detector misses a few of these grey faces before
    verification either way), and every candidate on a face that passes the other checks
    passes the grey rule with a margin (score >= 0.22 against the 0.12 limit)."""
    w, h = canvas_size
    for name, head in corpus.heads().items():
        canvas = np.full((h, w, 3), 128, np.uint8)
        step = w // len(sizes)
        truth = []
        for i, s in enumerate(sizes):
            corpus.place(canvas, grey(head), s, step // 2 + i * step, h // 2)
            truth.append((step // 2 + i * step, h // 2, s))
        candidates = [f for f in detect_faces(canvas, max_faces=20, verify=False) if _on_face(f, truth)]
        passing = [f for f in candidates if [r for r in verify.reasons(f.checks) if r != "grey-structure"] == []]
        assert len(passing) >= len(sizes) - 2, (name, len(passing))
        for f in passing:
            c = f.checks
            assert c["grey"] and c["grey_eyes"] - c["grey_bridge"] + c["grey_mouth"] >= verify_grey.MIN_GREY_FACE + 0.1
        found = detect_faces(canvas, max_faces=20)
        with monkeypatch.context() as m:
            m.setattr(verify_grey, "grey_structure_fails", lambda checks: False)
            before = detect_faces(canvas, max_faces=20)
        assert [f.box for f in found] == [f.box for f in before] and all(_on_face(f, truth) for f in found)
        print(name, w, f"{len(found)}/{len(sizes)} found")


def test_colour_candidates_have_no_grey_measures():
    faces = detect_faces(corpus.astronaut())
    assert len(faces) == 1 and "grey_eyes" not in faces[0].checks


def test_grey_rule_thresholds():
    ok = {"grey_eyes": 0.35, "grey_bridge": -0.07, "grey_mouth": 0.17}
    band = {"grey_eyes": 0.57, "grey_bridge": 0.46, "grey_mouth": 0.05}      # the logo
    flat = {"grey_eyes": 0.03, "grey_bridge": 0.01, "grey_mouth": 0.06}      # 12 MP fairing patch
    assert not verify_grey.grey_structure_fails(ok)
    assert verify_grey.grey_structure_fails(band) and verify_grey.grey_structure_fails(flat)
    assert not verify_grey.grey_structure_fails({})                          # colour: not measured
    dark_bridge_face = {"grey_eyes": 0.41, "grey_bridge": 0.37, "grey_mouth": 0.54}   # LFW, glasses
    assert not verify_grey.grey_structure_fails(dark_bridge_face)


def test_grey_logo_cut_by_the_frame_is_rejected():
    """The logo 60 px from the bottom edge, 12 % of its mesh outside: accepted before the rule
    covered grey candidates 80-90 % inside (score -0.15 / -0.05 for its two candidates)."""
    img = np.ascontiguousarray(grey(NO_FACE["rocket-1080p"])[:-60])
    faces = detect_faces(img)
    assert faces == [], [(f.box, {k: round(v, 3) for k, v in f.checks.items()}) for f in faces]


def test_grey_rule_for_candidates_cut_a_little():
    """80-90 % of the mesh inside: the score alone (>= 0.12), no band clause; further cut: not
    measured (verify.face_checks gives no grey measures) and not judged here."""
    cut = {"inside": 0.85, "grey_eyes": 0.57, "grey_bridge": 0.46, "grey_mouth": 0.05}   # one dark band
    assert not verify_grey.grey_structure_fails(cut)        # 0.16: a real face cut so scores 0.164
    assert verify_grey.grey_structure_fails({**cut, "inside": 0.95})
    assert verify_grey.grey_structure_fails({**cut, "grey_mouth": -0.15})
    assert verify_grey.MIN_INSIDE < verify.CUT_INSIDE == verify_grey.UNCUT_INSIDE


@pytest.mark.slow
def test_grey_calibration_cut_a_little(grey_no_face_candidates):
    """The data behind the 80-90 % band (a subset of docs/faces.md's): grey candidates with
    80-90 % of the mesh inside, taken with ``verify=False``, passing every other check.
    Negatives: the grey corpus cropped 20/40/60/80 px at each side; positives: both heads
    24-64 px cut 25/33/40 % at each side of a 1080p canvas (test_faces_edge's cut_face_canvas);
    in the suite a subset (corpus.FULL_CALIBRATION). Asserted: no negative passes, no positive fails."""
    from tests.imaging.test_faces_edge import cut_face_canvas

    def band(checks: dict) -> bool:
        return checks.get("grey") and verify_grey.MIN_INSIDE <= checks["inside"] < verify.CUT_INSIDE

    def others(checks: dict) -> bool:
        return [w for w in verify.reasons(checks) if w != "grey-structure"] == []

    neg = [f.checks for _, label, f in grey_no_face_candidates
           if label != "whole" and band(f.checks) and others(f.checks)]
    pos = []
    full = corpus.FULL_CALIBRATION          # the suite: 24/48 px, 25/40 % out
    for name in ("astronaut", "hopper"):
        for size in (24, 32, 48, 64) if full else (24, 48):
            for side in ("left", "right", "top", "bottom"):
                for out in (0.25, 0.33, 0.4) if full else (0.25, 0.4):
                    canvas, cx, cy = cut_face_canvas(name, size, side, out, False)
                    pos += [f.checks for f in detect_faces(canvas, verify=False)
                            if band(f.checks) and others(f.checks) and abs(f.center[0] - cx) < 0.6 * size
                            and abs(f.center[1] - cy) < 0.7 * size]
    score = lambda c: c["grey_eyes"] - c["grey_bridge"] + c["grey_mouth"]     # noqa: E731
    print("grey cut a little: real", _quantiles([score(c) for c in pos]), "; no-face", _quantiles([score(c) for c in neg]))
    assert pos and [c for c in neg if not verify_grey.grey_structure_fails(c)] == []
    assert [c for c in pos if verify_grey.grey_structure_fails(c)] == []


def _quantiles(values: list[float]) -> str:
    if not values:
        return "-"
    q = np.percentile(values, [0, 1, 5, 50, 95, 100])
    return f"n={len(values)} min {q[0]:.3f} p1 {q[1]:.3f} p5 {q[2]:.3f} median {q[3]:.3f} p95 {q[4]:.3f} max {q[5]:.3f}"


@pytest.mark.slow
def test_grey_calibration(grey_no_face_candidates):
    """The data behind the thresholds (a subset of the collection quoted in docs/faces.md):
    grey candidates not cut by the frame, taken with ``verify=False``. Negatives: the no-face
    corpus in grey, whole and cropped 20/40/80 px at each side; positives: both heads 24-300 px
    on 1080p and 12 MP canvases and LFW's real faces at 25/48 px. Asserted: no negative passes,
    at most 1 positive that passes every other check fails the grey rule."""
    neg, pos, accepted = [], [], []
    for name, label, f in grey_no_face_candidates:
        if label[1:] != "60" and f.checks.get("grey") and f.checks["inside"] >= verify.CUT_INSIDE:
            neg.append(f.checks)
            if verify.is_face(f.checks):
                accepted.append((name, label, f.box))
    canvases = []
    for (w, h), sizes in (((1920, 1080), [24, 32, 48, 64, 96, 150, 300]), ((4000, 3000), [48, 96, 150, 300])):
        for head in corpus.heads().values():
            canvas = np.full((h, w, 3), 140, np.uint8)
            truth = []
            for i, s in enumerate(sizes):
                cx, cy = int(w * (i + 0.5) / len(sizes)), h // 2
                corpus.place(canvas, grey(head), s, cx, cy)
                truth.append((cx, cy, s))
            canvases.append((canvas, truth))
    faces = corpus.lfw_faces()
    for size in (25, 48):
        canvas = np.full((1080, 1920, 3), 128, np.uint8)
        truth = []
        for i in range(40):
            r, c = divmod(i, 10)
            p = cv2.resize(faces[i], (size, size), interpolation=cv2.INTER_CUBIC)
            canvas[100 + r * 220:100 + size + r * 220, 100 + c * 180:100 + size + c * 180] = p[:, :, None]
            truth.append((100 + c * 180 + size / 2, 100 + r * 220 + size / 2, size))
        canvases.append((canvas, truth))
    for canvas, truth in canvases:
        for f in detect_faces(canvas, max_faces=60, verify=False):
            if _on_face(f, truth) and f.checks["inside"] >= verify.CUT_INSIDE:
                pos.append(f.checks)
    score = lambda c: c["grey_eyes"] - c["grey_bridge"] + c["grey_mouth"]     # noqa: E731
    band = lambda c: c["grey_eyes"] <= 0.02 or c["grey_bridge"] >= verify_grey.BAND_RATIO * c["grey_eyes"]  # noqa: E731
    others = lambda c: [w for w in verify.reasons(c) if w != "grey-structure"] == []  # noqa: E731
    for what, rows in (("grey faces", pos), ("grey no-face", neg)):
        rows = [c for c in rows if others(c)]
        print(f"{what}: {len(rows)} candidates passing the other checks")
        print(f"  score, bridge lighter  {_quantiles([score(c) for c in rows if not band(c)])}")
        print(f"  score, one dark band   {_quantiles([score(c) for c in rows if band(c)])}")
    lost = [c for c in pos if others(c) and verify_grey.grey_structure_fails(c)]
    print("no-face accepted:", accepted, "; real faces lost to the grey rule:", len(lost))
    assert accepted == [] and len(lost) <= 1
