"""Per-component amounts of the retouch and the default curve that derives them from strength.

Every amount is in [0, 1] (0 = the step is off). ``RetouchParams.for_strength(s)`` is the tuned
default; an API, CLI or console can start from it and override single components with
``dataclasses.replace(params, spots=0.0)`` or build one from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


def _ramp(s: float, full_at: float) -> float:
    """0 -> 0, linear, 1 from ``full_at`` on."""
    return min(1.0, s / full_at)


@dataclass(frozen=True)
class RetouchParams:
    """Amounts of every retouch component, each in [0, 1]."""

    smoothing: float = 0.0   # guided-filter smoothing of blotches (pores kept)
    spots: float = 0.0       # spot/blemish healing (moles only softened)
    lines: float = 0.0       # forehead lines, crow's feet, under-eye lines; nasolabial folds
    eyebags: float = 0.0     # under-eye shadow lifted toward the cheek
    tone: float = 0.0        # redness and blotchiness evened
    whitening: float = 0.0   # brightening tone curve (shading kept), also on neck skin
    rosy: float = 0.0        # a touch of warmth on the cheeks
    eyes: float = 0.0        # brighter, crisper eye whites and irises
    teeth: float = 0.0       # yellow reduced inside the inner lips
    neck: bool = True        # continue the tone change onto the neck / visible skin

    def __post_init__(self) -> None:
        for fld in fields(self):
            value = getattr(self, fld.name)
            if fld.name != "neck" and not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{fld.name} must be in [0, 1], got {value!r}")

    @classmethod
    def for_strength(cls, s: float) -> "RetouchParams":
        """The default curve. Local fixes (spots, lines, eye bags, redness) saturate early so
        that 0.5 is already a visible clean-up; above that mostly smoothing and tone grow
        (the "beauty app" end). 0 turns everything off."""
        if not 0.0 <= s <= 1.0:
            raise ValueError("strength must be in [0, 1]")
        return cls(
            smoothing=s,
            spots=_ramp(s, 0.45),
            lines=0.65 * _ramp(s, 0.5) + 0.35 * max(0.0, s - 0.5) / 0.5,
            eyebags=_ramp(s, 0.6),
            tone=_ramp(s, 0.6),
            whitening=s ** 0.8,
            rosy=s,
            eyes=s,
            teeth=s,
        )

    def any(self) -> bool:
        return any(getattr(self, f.name) > 0 for f in fields(self) if f.name != "neck")

    def scaled(self, k: float) -> "RetouchParams":
        """Every amount times ``k`` (clipped to [0, 1])."""
        return replace(self, **{f.name: min(1.0, max(0.0, getattr(self, f.name) * k))
                                for f in fields(self) if f.name != "neck"})
