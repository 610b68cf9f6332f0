"""Doubtful lips on a colour face cut by the frame (:mod:`.verify`'s "cut-lips" rule, round 20).

A colour candidate cut by the frame (less than :data:`.verify.CUT_INSIDE` of its mesh inside) with its
lips in view needs them redder (Cr) than its skin by :data:`.verify.MIN_LIP_CR_CUT` (1.0): the skin
patches are partly read in the landmark model's mirrored border, and that limit is what keeps the
rocket's painted lettering out -- its cut candidates pass every other colour check (a stable mesh,
skin all over, textured paint) but their "lips" are far *less* red than their "skin" (``lip_cr``
-2.5 on the 1080p rocket cut around its candidate, -13 on the 12 MP rocket cut 20-80 px at a side).

On a small face the lips are too few pixels to measure: the astronaut 40 px cut 40 % at the top
(``bench/faces_real.py --check edges --modes colour``: its mouth is ~6 px wide, under JPEG 4:2:0
chroma ~3 px) measures 0.19, and every candidate of the other small cut faces that failed on the lips
alone measured -1.24..0.85. Lips between :data:`MIN_LIP_CR_CUT_DOUBT` and the cut limit are
*doubtful*, like an uncut face's 0.5..2 (:func:`.verify.doubtful_lips`), and pass only with the signs
the colour cut rule already asks of a loosely stable mesh (:data:`.verify.MIN_SKIN_TEXTURE_LOOSE`,
:data:`.verify.MIN_SKIN_FRACTION_LOOSE`) and the whole-face stability limit (:data:`.verify.MAX_INSTABILITY`).

Chosen on data (docs/faces.md, "Colour faces cut at the top, round 20"): every colour cut candidate of
faces_real's 288 colour edge cases and of ``bench/nofaces_crops.py``'s colour images, with the cut lip
limit lifted so that each was measured whole. Real faces failing on the lips alone: lips -1.24..0.85,
the stable ones (<= 0.10 F) -0.47..0.85 with skin texture >= 9.8 and skin fraction 1.00; no-face
candidates failing on the lips alone: -2.49 (stability 0.063, texture 16.5, skin 0.994: the rocket
1080p cut at its candidate) and -12.7..-13.4 (the 12 MP rocket's edge).
"""

from __future__ import annotations

MIN_LIP_CR_CUT_DOUBT = -1.0   # cut colour faces: lips from this to verify.MIN_LIP_CR_CUT are doubtful
                              # (real small cut faces -0.47..0.85 when stable; no-face <= -2.49)


def doubtful(checks: dict[str, float], cut: bool, lips_seen: bool, min_lip_cr_cut: float) -> bool:
    """A colour candidate cut by the frame whose lips are in view and only doubtfully redder than its skin."""
    return (cut and lips_seen and not checks["grey"]
            and MIN_LIP_CR_CUT_DOUBT <= checks["lip_cr"] < min_lip_cr_cut)


def fails(checks: dict[str, float], max_instability: float, min_texture: float, min_fraction: float) -> bool:
    """Doubtful cut lips need a stable mesh (the whole-face limit; not measured yet: passes for now, the
    stability test runs for every cut candidate) and textured skin all over its patches."""
    return (checks.get("stability", 0.0) > max_instability or checks["skin_texture"] < min_texture
            or checks["skin_fraction"] < min_fraction)
