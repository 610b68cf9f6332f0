"""The one A/B harness every benchmark uses.

The machine is shared, so absolute figures drift with other people's load; what holds is the ratio
of two arms measured in the same minutes. ``compare()`` runs the arms alternately for R rounds
(A B, then B A, then A B ...: each arm is first in half of the rounds, so a steady drift in load
cancels out), records the 1-minute load average next to every figure, and ``Comparison.report()``
prints min / median / max of the per-round ratios::

    from ab import compare
    cmp = compare({"cosbeauty": put_cos, "moto": put_moto}, rounds=5, unit="ops/s")
    print(cmp.report(baseline="moto"))

An arm is a zero-argument callable returning one figure (higher or lower is better, as the
caller says with ``higher_is_better``).

``compare_chunked()`` interleaves finer, for rates: each round is cut into parts (e.g. 20
operations each) and the arms alternate part by part (A B, B A, A B ... within the round), so a
burst of other people's disk writes or CPU load lands on both arms instead of on one arm's whole
round; a round's figure per arm is its work over its time summed over the parts. Its arms are
:class:`ChunkedArm` objects. ``Comparison.to_json()`` is what ``bench/perf_table.py``
renders into the README's performance section.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Protocol


def load1() -> float:
    return os.getloadavg()[0]


@dataclass
class Sample:
    arm: str
    round: int
    value: float
    load: float            # 1-minute load average right after the figure was taken
    seconds: float         # wall time of the measurement
    extra: dict = field(default_factory=dict)


@dataclass
class Comparison:
    title: str
    unit: str
    higher_is_better: bool
    arms: list[str]
    samples: list[Sample]
    started: float
    note: str = ""
    chunk: int = 0         # operations per part when the arms alternated within rounds (0: whole rounds)

    # -- figures ---------------------------------------------------------------------------
    def values(self, arm: str) -> list[float]:
        return [s.value for s in self.samples if s.arm == arm]

    def loads(self) -> list[float]:
        return [s.load for s in self.samples]

    def ratios(self, arm: str, baseline: str) -> list[float]:
        """Per-round ``arm / baseline`` (for lower-is-better figures: ``baseline / arm``), so a
        ratio above 1 always means ``arm`` did better in that round."""
        a = {s.round: s.value for s in self.samples if s.arm == arm}
        b = {s.round: s.value for s in self.samples if s.arm == baseline}
        out = []
        for r in sorted(a.keys() & b.keys()):
            num, den = (a[r], b[r]) if self.higher_is_better else (b[r], a[r])
            out.append(num / den if den else float("inf"))
        return out

    def overheads(self, arm: str, baseline: str) -> list[float]:
        """Per-round extra cost of ``arm`` over ``baseline`` as a fraction (0.08 = 8 % slower)."""
        return [1 / r - 1 for r in self.ratios(arm, baseline)]

    # -- output ----------------------------------------------------------------------------
    def report(self, baseline: str | None = None) -> str:
        lo, hi = min(self.loads()), max(self.loads())
        lines = [f"## {self.title}",
                 f"{len(self.rounds())} interleaved rounds{self.method()}, {os.cpu_count()} CPUs, load average "
                 f"{lo:.2f}-{hi:.2f} (1 min) while measuring" + (f"; {self.note}" if self.note else ""),
                 "",
                 f"| arm | median {self.unit} | min | max | load at each round |",
                 "|---|---:|---:|---:|---|"]
        for arm in self.arms:
            v = self.values(arm)
            loads = " ".join(f"{s.load:.1f}" for s in self.samples if s.arm == arm)
            lines.append(f"| {arm} | {fmt(statistics.median(v))} | {fmt(min(v))} | {fmt(max(v))} | {loads} |")
        if baseline:
            lines += ["", f"| ratio (per round, >1 = better than {baseline}) | min | median | max |",
                      "|---|---:|---:|---:|"]
            for arm in self.arms:
                if arm != baseline:
                    r = self.ratios(arm, baseline)
                    lines.append(f"| {arm} / {baseline} | {min(r):.2f}x | {statistics.median(r):.2f}x "
                                 f"| {max(r):.2f}x |")
        return "\n".join(lines)

    def method(self) -> str:
        """How the arms alternated, for the report's first line (empty: whole rounds)."""
        return f" (the arms alternating every {self.chunk} operations within each round)" if self.chunk else ""

    def rounds(self) -> list[int]:
        return sorted({s.round for s in self.samples})

    def to_json(self) -> dict:
        return {"title": self.title, "unit": self.unit, "higher_is_better": self.higher_is_better,
                "arms": self.arms, "note": self.note, "started": self.started, "chunk": self.chunk,
                "host": {"cpus": os.cpu_count(), "machine": platform.machine()},
                "samples": [asdict(s) for s in self.samples]}

    @classmethod
    def from_json(cls, d: dict) -> "Comparison":
        return cls(d["title"], d["unit"], d["higher_is_better"], d["arms"],
                   [Sample(**s) for s in d["samples"]], d["started"], d.get("note", ""), d.get("chunk", 0))


def fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}" if abs(x) >= 10 else f"{x:,.2f}"


def compare(arms: Mapping[str, Callable[[], float | tuple[float, dict]]], rounds: int = 5, *,
            title: str = "", unit: str = "", higher_is_better: bool = True, warmup: bool = True,
            note: str = "", progress: bool = True) -> Comparison:
    """Run every arm once per round, alternating the order (A B / B A / ...), R rounds.

    An arm may return ``value`` or ``(value, extra_dict)``; extras are kept with the sample.
    ``warmup`` runs each arm once first, unrecorded (connections, caches, lazy imports).
    """
    names = list(arms)
    if warmup:
        for name in names:
            arms[name]()
    samples: list[Sample] = []
    started = time.time()
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            t = time.perf_counter()
            out = arms[name]()
            value, extra = out if isinstance(out, tuple) else (out, {})
            samples.append(Sample(name, r, float(value), load1(), time.perf_counter() - t, extra))
            if progress:
                print(f"  [{title or 'ab'}] round {r + 1}/{rounds} {name}: {fmt(value)} {unit} "
                      f"(load {samples[-1].load:.2f})", flush=True, file=_progress_stream())
    return Comparison(title, unit, higher_is_better, names, samples, started, note)


class ChunkedArm(Protocol):
    """An arm of :func:`compare_chunked`: a round of ``parts()`` parts of ``chunk`` operations."""

    def parts(self) -> int:
        """Parts per round."""
        ...

    def part(self, round: int, index: int) -> tuple[float, float]:
        """Run part ``index`` of round ``round`` (round -1: warm-up); return (work done, seconds)."""
        ...

    def round_extra(self) -> dict:
        """Extras of the round whose parts just ran (e.g. latency percentiles); resets them."""
        ...


def compare_chunked(arms: Mapping[str, ChunkedArm], rounds: int = 5, *, chunk: int, title: str = "",
                    unit: str = "", warmup: bool = True, note: str = "", progress: bool = True) -> Comparison:
    """Like :func:`compare` for rates (work per second, higher is better), the arms alternating part by
    part within each round (A B, B A, ...: each arm goes first in half of the parts). A round's figure
    per arm is its work over its time summed over the round's parts; its load average is taken when
    the round ends, its extras come from ``round_extra()``. ``chunk`` (operations per part) is recorded
    for the report."""
    names = list(arms)
    parts = max(arms[n].parts() for n in names)
    if warmup:
        for i in range(parts):
            for name in names:
                arms[name].part(-1, i)
        for name in names:
            arms[name].round_extra()
    samples: list[Sample] = []
    started = time.time()
    flip = 0
    for r in range(rounds):
        work = dict.fromkeys(names, 0.0)
        spent = dict.fromkeys(names, 0.0)
        for i in range(parts):
            order = names if flip % 2 == 0 else names[::-1]
            flip += 1
            for name in order:
                w, t = arms[name].part(r, i)
                work[name] += w
                spent[name] += t
        for name in names:
            value = work[name] / spent[name] if spent[name] else 0.0
            samples.append(Sample(name, r, value, load1(), spent[name], arms[name].round_extra()))
            if progress:
                print(f"  [{title or 'ab'}] round {r + 1}/{rounds} {name}: {fmt(value)} {unit} "
                      f"(load {samples[-1].load:.2f})", flush=True, file=_progress_stream())
    return Comparison(title, unit, True, names, samples, started, note, chunk)


def _progress_stream():
    import sys
    return sys.stderr


def save(comparisons: list[Comparison], path: str) -> None:
    """Write comparisons as JSON (what ``bench/perf_table.py`` reads)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump([c.to_json() for c in comparisons], f, indent=1)


def load(path: str) -> list[Comparison]:
    with open(path) as f:
        return [Comparison.from_json(d) for d in json.load(f)]
