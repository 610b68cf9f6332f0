"""`cosbeauty key create USER --secret-id ID --secret-key KEY` and the admin API equivalent
(issue 14 item 9): chosen key pairs for fixtures and migrations from COS."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import APPID, REGION, cos_client, new_bucket, running_server, s3_client
from tests.iam.conftest import admin

SID = "AKIDimportedKEY00000000000000000001"
SKEY = "imported-secret-key-0000000000001"


def cli(data_dir: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cosbeauty", *args, "--data-dir", data_dir],
                          capture_output=True, text=True, timeout=60, input=stdin)


def test_cli_imports_a_chosen_key_pair():
    with running_server() as srv:
        root = cos_client(srv.port)
        bucket = new_bucket(root)
        root.put_object(Bucket=bucket, Key="k", Body=b"imported")
        assert cli(srv.data_dir, "user", "create", "fixture").returncode == 0
        made = cli(srv.data_dir, "key", "create", "fixture", "--secret-id", SID, "--secret-key", SKEY)
        assert made.returncode == 0, made.stderr
        assert SID in made.stdout
        dup = cli(srv.data_dir, "key", "create", "fixture", "--secret-id", SID, "--secret-key", SKEY)
        assert dup.returncode != 0 and "KeyAlreadyExists" in dup.stderr
        bad = cli(srv.data_dir, "key", "create", "fixture", "--secret-id", "bad id!", "--secret-key", SKEY)
        assert bad.returncode != 0 and "InvalidArgument" in bad.stderr
        only_id = cli(srv.data_dir, "key", "create", "fixture", "--secret-id", "AKIDonly")
        assert only_id.returncode != 0
        from_stdin = cli(srv.data_dir, "key", "create", "fixture", "--secret-id", SID + "2", "--secret-key", "-",
                         stdin=SKEY + "\n")
        assert from_stdin.returncode == 0, from_stdin.stderr
        doc = {"version": "2.0", "statement": [{"effect": "allow", "action": ["cos:GetObject"],
                                               "resource": [f"qcs::cos:{REGION}:uid/{APPID}:{bucket}/*"]}]}
        with open(srv.data_dir + "/../p.json", "w") as f:
            json.dump(doc, f)
        assert cli(srv.data_dir, "policy", "attach", "fixture", srv.data_dir + "/../p.json").returncode == 0
        # the running server accepts signatures made with the imported pair, from both SDKs
        user = cos_client(srv.port, SID, SKEY)
        assert user.get_object(Bucket=bucket, Key="k")["Body"].get_raw_stream().read() == b"imported"
        assert s3_client(srv.port, SID + "2", SKEY).get_object(Bucket=bucket, Key="k")["Body"].read() == b"imported"


def test_admin_api_imports_a_chosen_key_pair(server):
    name = "importer"
    assert admin(server, "POST", "/users", {"name": name}).status_code == 201
    r = admin(server, "POST", f"/users/{name}/keys", {"secret_id": "AKIDviaADMIN0001", "secret_key": SKEY})
    assert r.status_code == 201, r.text
    assert r.json()["secret_id"] == "AKIDviaADMIN0001" and r.json()["secret_key"] == SKEY
    again = admin(server, "POST", f"/users/{name}/keys", {"secret_id": "AKIDviaADMIN0001", "secret_key": SKEY})
    assert again.status_code == 409
    from tests.conftest import SECRET_ID
    root = admin(server, "POST", f"/users/{name}/keys", {"secret_id": SECRET_ID, "secret_key": SKEY})
    assert root.status_code == 409           # never shadow the root key
    short = admin(server, "POST", f"/users/{name}/keys", {"secret_id": "AKIDx123", "secret_key": "short"})
    assert short.status_code == 400
    generated = admin(server, "POST", f"/users/{name}/keys")
    assert generated.status_code == 201 and generated.json()["secret_id"].startswith("AKID")
