"""tests/xdist_plan.py: which tests share an xdist worker, and the longest-first order."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tests import xdist_plan


class FakeItem:
    def __init__(self, nodeid: str, fixtures: dict[str, str] | None = None, group: str | None = None) -> None:
        self.nodeid = nodeid
        fixtures = fixtures or {}
        self.fixturenames = list(fixtures)
        self._fixtureinfo = SimpleNamespace(
            name2fixturedefs={n: (SimpleNamespace(scope=s),) for n, s in fixtures.items()})
        self.marks = [pytest.mark.xdist_group(group).mark] if group else []

    def iter_markers(self, name: str):
        return iter([m for m in self.marks if m.name == name])

    def add_marker(self, marker) -> None:
        self.marks.append(marker.mark)


def groups(items: list[FakeItem]) -> list[str | None]:
    return [next((m.args[0] for m in it.iter_markers("xdist_group")), None) for it in items]


def test_services_and_shared_module_fixtures_are_grouped_the_rest_is_not() -> None:
    items = [FakeItem("tests/cluster/test_a.py::t"),
             FakeItem("tests/s3tests/test_x.py::t", {"rgw": "session"}),
             FakeItem("tests/api/test_b.py::t", {"postgres": "session", "tmp_path": "function"}),
             FakeItem("tests/imaging/test_c.py::t[1]", {"cands": "module"}),
             FakeItem("tests/imaging/test_d.py::t", {"server": "session", "tmp_path": "function"})]
    assert [xdist_plan.group_of(it) for it in items] == ["services", "services", "services",
                                                         "tests/imaging/test_c.py", None]


def test_plan_marks_groups_and_puts_the_longest_unit_first() -> None:
    items = [FakeItem("tests/api/test_a.py::short"),
             FakeItem("tests/imaging/test_m.py::one", {"shared": "module"}),
             FakeItem("tests/cluster/test_c.py::x"),
             FakeItem("tests/imaging/test_m.py::two", {"shared": "module"}),
             FakeItem("tests/imaging/test_new19.py::unknown"),
             FakeItem("tests/imaging/test_big.py::long"),
             FakeItem("tests/api/test_e.py::mine", group="own")]
    durations = {"tests/api/test_a.py::short": 0.1, "tests/imaging/test_m.py::one": 30,
                 "tests/imaging/test_m.py::two": 30, "tests/cluster/test_c.py::x": 5,
                 "tests/imaging/test_big.py::long": 50, "tests/api/test_e.py::mine": 2}
    xdist_plan.plan(items, durations)
    assert [it.nodeid for it in items] == [
        "tests/imaging/test_m.py::one", "tests/imaging/test_m.py::two",     # one unit of 60 s, kept in order
        "tests/imaging/test_big.py::long", "tests/cluster/test_c.py::x", "tests/api/test_e.py::mine",
        "tests/imaging/test_new19.py::unknown", "tests/api/test_a.py::short"]
    assert groups(items) == ["tests/imaging/test_m.py", "tests/imaging/test_m.py", None, "services", "own",
                             None, None]


def test_durations_file_is_readable_and_a_missing_one_is_empty(tmp_path) -> None:
    durations = xdist_plan.load_durations()
    assert durations and all(isinstance(v, float) for v in durations.values())
    assert xdist_plan.load_durations(str(tmp_path / "none.json")) == {}
    (tmp_path / "bad.json").write_text(json.dumps({"tests": 3}))
    assert xdist_plan.load_durations(str(tmp_path / "bad.json")) == {}


def test_plan_returns_each_tests_unit_and_the_scheduler_splits_by_it(tmp_path) -> None:
    items = [FakeItem("tests/api/test_a.py::t"), FakeItem("tests/imaging/test_m.py::one", {"s": "module"}),
             FakeItem("tests/imaging/test_m.py::two", {"s": "module"})]
    units = xdist_plan.plan(items, {})
    assert units == {"tests/imaging/test_m.py::one": "group:tests/imaging/test_m.py",
                     "tests/imaging/test_m.py::two": "group:tests/imaging/test_m.py",
                     "tests/api/test_a.py::t": "tests/api/test_a.py::t"}
    path = str(tmp_path / "plan.json")
    xdist_plan.write_units(units, path)
    config = SimpleNamespace(getvalue={"tx": ["popen"], "numprocesses": 2, "dist": "loadgroup"}.get,
                             option=SimpleNamespace(loadscopereorder=False))
    sched = xdist_plan.make_scheduler(config, None, path)
    assert sched._split_scope("tests/imaging/test_m.py::two") == "group:tests/imaging/test_m.py"
    assert sched._split_scope("tests/imaging/test_m.py::two@x") == "group:tests/imaging/test_m.py"
    assert sched._split_scope("tests/new19.py::t") == "tests/new19.py::t"
