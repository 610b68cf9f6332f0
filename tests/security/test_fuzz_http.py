"""Whole requests with random sub-resources, headers and bodies, signed over everything: never a
5xx, always a well-formed answer (issue #13 items 8 and 10). bench/fuzz.py runs this long."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.conftest import running_server
from tests.security.http_fuzz import check_request, seed

BUCKET = "fz-1250000000"


@pytest.fixture(scope="module")
def fuzz_server():
    with running_server("cosbeauty-fuzz-", ["--no-fsync"]) as srv:
        seed(srv.port, BUCKET)
        yield srv


@pytest.mark.slow
def test_random_signed_requests_never_fail_the_server(fuzz_server):
    from tests.security.http_fuzz import requests_strategy

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
    @given(requests_strategy)
    def run(example):
        check_request(fuzz_server.port, BUCKET, example)

    run()
    assert "Traceback" not in fuzz_server.log()
