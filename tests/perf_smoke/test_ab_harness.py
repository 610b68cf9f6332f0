"""The A/B harness (bench/ab.py) and the README table script (bench/perf_table.py): arms
alternate A B / B A, every figure carries a load average, per-round ratios read the right way
round, results survive JSON, and --write replaces only the Performance section."""

from __future__ import annotations

import itertools
import os
import sys

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bench")
sys.path.insert(0, BENCH)

import ab  # noqa: E402
import perf_table  # noqa: E402


def test_arms_alternate_and_every_figure_has_a_load():
    order: list[str] = []
    ticks = itertools.count(1)

    def arm(name: str):
        def run() -> float:
            order.append(name)
            return float(next(ticks))
        return run

    cmp = ab.compare({"a": arm("a"), "b": arm("b")}, rounds=4, warmup=False, progress=False, unit="ops/s")
    assert order == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert [s.round for s in cmp.samples] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert all(isinstance(s.load, float) and s.load >= 0 for s in cmp.samples)


def test_ratios_read_above_one_as_better_for_rates_and_times():
    samples = [ab.Sample("new", r, v, 0.5, 0.1) for r, v in enumerate((10.0, 20.0))] + \
              [ab.Sample("old", r, v, 0.5, 0.1) for r, v in enumerate((5.0, 40.0))]
    rate = ab.Comparison("t", "ops/s", True, ["new", "old"], samples, 0.0)
    time_ = ab.Comparison("t", "s", False, ["new", "old"], samples, 0.0)
    assert rate.ratios("new", "old") == [2.0, 0.5]
    assert time_.ratios("new", "old") == [0.5, 2.0]
    assert [round(x, 3) for x in rate.overheads("new", "old")] == [-0.5, 1.0]
    assert "| new / old | 0.50x | 1.25x | 2.00x |" in rate.report(baseline="old")


def test_json_round_trip_and_readme_section(tmp_path):
    cmp = ab.compare({"cosbeauty": lambda: 300.0, "moto": lambda: 100.0}, rounds=2, warmup=False,
                     progress=False, unit="ops/s", title="4 KiB PUT, raw client, concurrency 1",
                     note="300 ops per figure")
    results = tmp_path / "results"
    ab.save([cmp], str(results / "s3_ops.json"))
    (results / "notes.md").write_text("Hand-written notes.\n")
    assert ab.load(str(results / "s3_ops.json"))[0].values("moto") == [100.0, 100.0]
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n## Performance\n\nold figures\n\n## Layout\n\nkept\n")
    perf_table.write_readme(str(readme), perf_table.section(str(results)))
    text = readme.read_text()
    assert "old figures" not in text and text.startswith("# x\n\n## Performance\n")
    assert "| 4 KiB PUT | raw | 1 | 300 | 100 | 3.00 / **3.00** / 3.00 |" in text
    assert "Hand-written notes." in text and text.endswith("## Layout\n\nkept\n")


def test_targets_are_judged_from_the_figures_in_every_round(tmp_path):
    """A median above the target is not enough: the sequential PUT target holds in every round."""
    def arm(*figures: float):
        values = iter(figures)
        return lambda: (next(values), {"fsync_ms": 0.25})

    arms = {"cosbeauty": arm(900.0, 1000.0, 500.0), "moto": arm(300.0, 250.0, 250.0)}   # 3.0, 4.0, 2.0
    cmp = ab.compare(arms, rounds=3, warmup=False, progress=False, unit="ops/s",
                     title="4 KiB PUT, raw client, concurrency 1", note="300 ops per figure")
    results = tmp_path / "results"
    ab.save([cmp], str(results / "s3_ops.json"))
    text = perf_table.section(str(results))
    assert "sequential durable 4 KiB PUT >= 3x moto in every round (raw client): **not met**" in text
    assert "median 3.00x" in text and "| 0.25 (0.25-0.25) |" in text


class PartsArm:
    """A chunked arm: 3 parts per round, each doing ``work`` operations in ``seconds``."""

    def __init__(self, name: str, order: list, work: float, seconds: float) -> None:
        self.name, self.order, self.work, self.seconds = name, order, work, seconds

    def parts(self) -> int:
        return 3

    def part(self, round: int, index: int) -> tuple[float, float]:
        self.order.append((self.name, round, index))
        return self.work, self.seconds

    def round_extra(self) -> dict:
        return {"fsync_ms": 0.5}


def test_chunked_arms_alternate_part_by_part_and_the_method_is_recorded(tmp_path):
    order: list = []
    arms = {"cosbeauty": PartsArm("cosbeauty", order, 20, 0.01), "moto": PartsArm("moto", order, 20, 0.04)}
    cmp = ab.compare_chunked(arms, rounds=2, chunk=20, progress=False, unit="ops/s",
                             title="4 KiB PUT, raw client, concurrency 1", note="60 ops per figure")
    measured = [(n, i) for n, r, i in order if r >= 0]
    assert measured == [("cosbeauty", 0), ("moto", 0), ("moto", 1), ("cosbeauty", 1), ("cosbeauty", 2), ("moto", 2),
                        ("moto", 0), ("cosbeauty", 0), ("cosbeauty", 1), ("moto", 1), ("moto", 2), ("cosbeauty", 2)]
    assert [r for _, r, _ in order[:6]] == [-1] * 6          # one unrecorded warm-up round
    assert cmp.values("cosbeauty") == [2000.0, 2000.0] and cmp.ratios("cosbeauty", "moto") == [4.0, 4.0]
    assert all(s.extra == {"fsync_ms": 0.5} for s in cmp.samples)
    assert "alternating every 20 operations within each round" in cmp.report(baseline="moto")
    ab.save([cmp], str(tmp_path / "results" / "s3_ops.json"))
    assert ab.load(str(tmp_path / "results" / "s3_ops.json"))[0].chunk == 20
    text = perf_table.section(str(tmp_path / "results"))
    assert "alternating every 20 operations" in text
