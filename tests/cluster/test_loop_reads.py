"""The last metadata reads that waited on the event loop now wait in a worker thread: with
PostgreSQL stopped, a PUT whose x-cos-grant-read names a sub-account (the grantee check reads the
IAM store) and an admin API call signed with a sub-account's key (its key lookup) leave
/-/healthz answering within 1 s."""

from __future__ import annotations

import pytest

from tests.cluster.conftest import file_cluster, slowest_healthz_while_postgres_stopped
from tests.conftest import APPID, cos_client, new_bucket


@pytest.fixture(scope="module")
def one_node(postgres, tmp_path_factory):
    with file_cluster(postgres, tmp_path_factory, "loopreads", count=1) as nodes:
        yield nodes[0]


def test_grant_check_and_admin_key_lookup_waiting_for_postgres_do_not_stall_healthz(one_node, postgres):
    from tests.iam.conftest import make_user, signed
    a = one_node
    root = cos_client(a.port)
    bucket = new_bucket(root, "grants")
    user = make_user(a)
    grant = f'id="qcs::cam::uin/{APPID}:uin/{user.uin}"'
    root.put_object(Bucket=bucket, Key="k", Body=b"v", GrantRead=grant)         # works while PostgreSQL is up
    calls = [lambda i=i: root.put_object(Bucket=bucket, Key=f"g{i}", Body=b"v", GrantRead=grant) for i in range(3)]
    calls += [lambda: signed(a, "GET", "/-/admin/users", user.secret_id, user.secret_key) for _ in range(3)]
    slowest = slowest_healthz_while_postgres_stopped(a, postgres, calls)
    assert slowest < 1.0, f"/-/healthz took {slowest:.1f} s (10 s: no answer) while requests waited for PostgreSQL"
