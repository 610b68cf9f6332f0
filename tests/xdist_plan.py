"""How the suite is split over pytest-xdist workers (``scripts/test.sh``: ``-n 2 --dist loadgroup``).

Used only on xdist workers (tests/conftest.py's ``pytest_collection_modifyitems``); a plain
``pytest`` run keeps the collection as it is. Two things are done to the collected items, the
same on every worker (xdist checks that the workers collected the same list):

* **Groups** (``xdist_group`` markers: a group runs whole on one worker, in collection order):
  - ``services``: every test under tests/cluster and every test using the ``postgres`` or ``rgw``
    fixtures -- PostgreSQL and the one-node Ceph cluster are started once per session, by one
    worker, and the tests that stop/kill them never run beside another one that uses them;
  - a test module whose tests share a module-, class- or package-scoped fixture (e.g.
    test_faces_verify_grey.py's no-face candidates, test_s3tests_acl.py's suite runs) is one
    group, so that fixture is built once, not once per worker;
  - every other test is scheduled on its own.
* **Order**: the groups and single tests are ordered longest first (seconds from
  ``tests/durations.json``; a test missing there counts as ``DEFAULT_SECONDS``), so the long
  imaging calibrations start at once and the short tests fill the end (xdist's loadgroup hands
  out one unit at a time from the front of the collection; run it with ``--no-loadscope-reorder``).

The workers write {node id: unit} to the file named by ``$COSBEAUTY_XDIST_PLAN`` (set by the
controller) and the controller's scheduler (``make_scheduler``) schedules by those units.

Nothing here changes what a test does, only where and when it runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

import pytest

DURATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "durations.json")
DEFAULT_SECONDS = 0.5
SERVICES_GROUP = "services"
SERVICE_FIXTURES = frozenset({"postgres", "rgw"})
SHARED_SCOPES = frozenset({"module", "class", "package"})


def load_durations(path: str = DURATIONS) -> dict[str, float]:
    """{node id: seconds} of an earlier serial run ({} when the file is missing or unreadable)."""
    try:
        with open(path) as f:
            return {str(k): float(v) for k, v in json.load(f)["tests"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _shares_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    for defs in info.name2fixturedefs.values():
        if defs and defs[-1].scope in SHARED_SCOPES:
            return True
    return False


def group_of(item: pytest.Item) -> str | None:
    """The xdist group of ``item`` (None: scheduled on its own)."""
    path = item.nodeid.split("::", 1)[0]
    if path.startswith("tests/cluster/") or SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return SERVICES_GROUP
    if _shares_fixture(item):
        return path
    return None


def _unit_order(keys: Iterable[str], seconds: dict[str, float]) -> dict[str, int]:
    """Rank of each unit, longest first (ties: collection order)."""
    firsts: dict[str, int] = {}
    for i, k in enumerate(keys):
        firsts.setdefault(k, i)
    ranked = sorted(firsts, key=lambda k: (-seconds.get(k, 0.0), firsts[k]))
    return {k: r for r, k in enumerate(ranked)}


def plan(items: list[pytest.Item], durations: dict[str, float] | None = None) -> dict[str, str]:
    """Mark every grouped item with ``xdist_group`` and reorder ``items`` in place, longest unit first.
    Items of one group keep their collection order. Returns {node id: its unit}."""
    durations = load_durations() if durations is None else durations
    units: list[str] = []
    seconds: dict[str, float] = {}
    for item in items:
        group = group_of(item)
        if group is not None and not any(True for _ in item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(group))
        for mark in item.iter_markers("xdist_group"):
            group = str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            break
        unit = "group:" + group if group is not None else item.nodeid
        units.append(unit)
        seconds[unit] = seconds.get(unit, 0.0) + durations.get(item.nodeid, DEFAULT_SECONDS)
    rank = _unit_order(units, seconds)
    order = sorted(range(len(items)), key=lambda i: (rank[units[i]], i))
    items[:] = [items[i] for i in order]
    return {item.nodeid: unit for item, unit in zip(items, [units[i] for i in order])}


def write_units(units: dict[str, str], path: str) -> None:
    """Worker side: hand the units to the controller's scheduler (every worker writes the same)."""
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(units, f)
    os.replace(tmp, path)


def make_scheduler(config: pytest.Config, log: object, path: str) -> object:
    """Controller side: xdist's LoadScopeScheduling with the units the workers wrote to ``path``.
    (pytest 9 ignores the ``@group`` suffix xdist 3.8's loadgroup puts on node ids, so loadgroup
    alone would run every test on its own.) Units are handed out in collection order, which
    tests/conftest.py made longest first."""
    from xdist.scheduler import LoadScopeScheduling

    class PlanScheduling(LoadScopeScheduling):
        units: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.units is None:
                try:
                    with open(path) as f:
                        self.units = json.load(f)
                except (OSError, ValueError):
                    self.units = {}
            units = self.units or {}
            return units.get(nodeid) or units.get(nodeid.rsplit("@", 1)[0]) or nodeid

    return PlanScheduling(config, log)
