"""Property tests: every parser that sees untrusted bytes ends in its declared error type, within a
time bound, whatever it is fed (issue #13 item 10). Short runs here; bench/fuzz.py runs long."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.security.fuzz_targets import TARGETS, Target, check

SUITE = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_parser_fails_only_with_its_declared_error(target: Target):
    @SUITE
    @given(target.strategy)
    def run(example):
        check(target, example)

    run()
