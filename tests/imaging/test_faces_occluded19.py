"""Round 19: a face that reads as masked but passes every check as it is gets no stability view
for the mask (``verify_occluded.wanted(checks, why)``).

Grace Hopper's bare face reads as masked (``low_match`` 0.34-0.41: her lower face's chroma is not
her forehead's; real masks <= 0.05), so each of her faces paid a landmark call for the stability
view and, until round 19's disc rule, verify_drawn's selfie measure: 5 of the 12 MP group's 10
faces (bench/faces.py). The view guards the forgiveness of a masked face's skin reasons; with no
reason to forgive there is nothing for it to guard. Same faces found (masks bench 54/96 case by
case, faces_real colour, the no-face sets: docs/faces.md, round 19).
"""

from __future__ import annotations

import numpy as np

from cosbeauty.imaging import verify_occluded
from cosbeauty.imaging.faces import detect_faces
from tests.imaging import corpus

MASKED_LOOKING = {"grey": 0.0, "inside": 1.0, "presence": 0.99, "low_match": 0.35, "up_skin": 1.0,
                  "up_spread": 3.0, "up_texture": 12.0, "up_eye_dark": 0.4}


def test_masked_looking_checks_want_the_view_only_with_a_reason_to_forgive() -> None:
    assert verify_occluded.masked(MASKED_LOOKING)
    assert not verify_occluded.wanted(MASKED_LOOKING, [])
    assert verify_occluded.wanted(MASKED_LOOKING, ["skin"])
    assert verify_occluded.wanted(MASKED_LOOKING)          # reasons not known: as before


def test_hoppers_bare_face_is_not_stability_tested_for_a_mask() -> None:
    rng = np.random.default_rng(3)
    canvas = np.clip(rng.normal(170, 10, (1080, 1920, 3)), 0, 255).astype(np.uint8)
    corpus.place(canvas, corpus.heads()["hopper"], 140, 960, 540)
    faces = detect_faces(canvas)
    assert len(faces) == 1
    checks = faces[0].checks
    assert verify_occluded.masked(checks)        # she reads as masked ...
    assert "stability" not in checks             # ... but has nothing to forgive: no extra landmark call
