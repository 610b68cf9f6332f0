"""Shared data types and tuning constants of face detection: :class:`Face` (the result),
``_Detection`` (a candidate box with eye keypoints) and ``_Roi`` (a landmark region of interest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


_DET_MAX_SIDE = 640          # the detector letterboxes to 192x192; pre-shrink with INTER_AREA
_DET_INPUT = 192             # the full-range detector's input side
_TILE_FACE_PX = 16           # window pass: the smallest face is seen this wide by the detector
_MIN_FACE_FRACTION = 0.012   # ... and is this fraction of the long side (24 px at 1920 px)
_LEVEL_STEP = 2.0            # window pass: face size ratio between pyramid levels
_CANDIDATES_PER_FACE = 3     # landmark/verify at most this many candidates per wanted face
_UPRIGHT_SURE = 0.75         # an upright detection this confident skips the turned passes
_EDGE_PAD = 0.15             # whole-image pass: mirrored border, fraction of the long side
_SKIN_CR = (131, 185)        # window pass: skin chroma box (Chai & Ngan 1999, widened), 0-255 scale
_SKIN_CB = (70, 130)
_SKIN_CELL = 4               # ... measured on 4x4 cell means (chroma noise averages out)
_WINDOW_MIN_SKIN = 3         # window pass: skip windows with fewer skin-chroma cells
_WINDOW_PAD = 20             # window pass: mirrored border (px at each level's scale)
_EDGE_SLACK = 0.2           # small candidates centred this far (x their side) outside the frame are kept
_EDGE_SLACK_SIDE = 0.04     # ... small: box side up to this x the long side (77 px at 1920 px)
_UPRIGHT_RETRY = 0.06       # cut candidates with an ROI up to this x the long side get an upright retry
_ALTERNATES = 2              # other passes' views of a face tried when the first one fails
_PRESENCE_FLOOR = 0.5        # MediaPipe's own gate on the landmark model's face presence
_LM_CROP_MAX = 384           # landmark model input is 192/256 px; crops above this are shrunk
_ROI_SCALE = 1.5             # MediaPipe's detection/landmarks -> ROI enlargement
_MERGE_IOM = 0.3             # boxes overlapping more than this (IoU over the smaller) merge
_SMALL_FACE = 0.15           # largest face below this fraction of the short side -> tile pass
_MIN_SCORE = 0.4            # the landmark model's face-presence gate verifies each box
_PROPOSE_FACE_PX = 14        # proposal pass: the smallest face is seen this wide by the proposer
_PROPOSE_INPUT = 192         # ... small windows where skin chroma is sparse (big tiles elsewhere: proposer.py)
_PROPOSE_LEVEL_STEP = 4.0    # ... face size ratio between its levels (faces seen 14-56 px wide)
_PROPOSE_TILE_FILL = 0.9     # ... a big tile runs when its skin windows would cover this much of its area
_PROPOSE_SCORE = 0.15        # ... its (low) threshold (chosen on the size sweep, see docs/faces.md)
_PROPOSE_OVERLAP = 64        # ... tile/window overlap (px): the largest face of a level (4x14 px) + margin
_PROPOSE_PAD = 16            # ... mirrored border (px): a face up to half cut by the frame
_PROPOSE_MIN_SKIN = 2        # ... windows with fewer skin-chroma cells are skipped
_PROPOSE_MIN_SKIN_CENTRE = 3  # ... and proposals with fewer in the 14 px square at their centre
_PROPOSE_BIG = 0.6           # ... a proposal this confident is also confirmed at twice the size
_TOP_EDGE_SCORE = 0.5       # ... unconfirmed proposals this confident on the top edge are candidates
_CONFIRM_CELL = 64           # confirmation mosaic: each proposal in a 64 px cell, 3x3 per call
_CONFIRM_FACE_PX = 33        # ... the level's smallest face is shown this wide (its largest: 66 px; 30: sweep 347)
_CONFIRM_PER_FACE = 8        # ... at most this many proposals per wanted face (best first): bounded work


@dataclass
class Face:
    """One detected face. Coordinates are image pixels (x right, y down)."""

    box: tuple[int, int, int, int]          # x, y, w, h of the landmark extent
    score: float                            # detector confidence
    landmarks: np.ndarray = field(repr=False)   # (478, 2) float32
    presence: float = 1.0                   # the landmark model's face-presence score
    checks: dict = field(default_factory=dict, repr=False)   # verify.face_checks() measures

    @property
    def cheek_width(self) -> float:
        """F: distance between the cheek landmarks 234 and 454 (the face's scale unit)."""
        return float(np.linalg.norm(self.landmarks[234] - self.landmarks[454]))

    @property
    def iod(self) -> float:
        """Inter-ocular distance between the iris centres 468 and 473."""
        return float(np.linalg.norm(self.landmarks[468] - self.landmarks[473]))

    @property
    def center(self) -> tuple[float, float]:
        x, y = self.landmarks[:468].mean(axis=0)
        return float(x), float(y)

    @property
    def roll(self) -> float:
        """In-plane rotation in degrees (0 = upright, positive = clockwise on screen)."""
        dx, dy = self.landmarks[263] - self.landmarks[33]
        return math.degrees(math.atan2(dy, dx))


@dataclass
class _Detection:
    box: np.ndarray        # x0, y0, x1, y1 floats in image pixels
    score: float
    eyes: np.ndarray       # (2, 2): detector keypoints 0 (right eye) and 1 (left eye)
    alts: list["_Detection"] = field(default_factory=list)   # merged-away duplicates
    coarse: bool = False   # from a proposal mosaic (face 30-60 px): its ROI is always refined


@dataclass
class _Roi:
    cx: float
    cy: float
    size: float            # side of the square ROI in pixels
    angle: float           # radians, MediaPipe's convention (rotation to undo)
