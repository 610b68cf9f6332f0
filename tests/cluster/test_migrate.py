"""``cosbeauty migrate``: an embedded installation (objects inline and in blobs, multipart, versions,
an upload in progress, a sub-account with a key and a policy, CI activation and metering) copied
into PostgreSQL + Ceph RGW, then served by a cluster node with nothing lost."""

from __future__ import annotations

import hashlib
import os
import uuid

from qcloud_cos.cos_exception import CosServiceError

from tests.cluster.conftest import aws_env, fresh_database, node, wait_ready
from tests.conftest import APPID, REGION, cos_client, new_bucket, s3_client

MiB = 1024 * 1024


def test_migrate_embedded_installation_into_cluster(postgres, rgw, rgw_bucket, capsys):
    from cosbeauty.cli import main
    from tests.ci.test_activation_metering import admin_usage
    from tests.ci.test_ci_bucket_http import ci_client
    from tests.iam.conftest import admin

    bodies = {"inline.txt": b"small", "blob.bin": os.urandom(300 * 1024)}
    parts = [os.urandom(5 * MiB), os.urandom(MiB + 1)]
    with node([], prefix="cosbeauty-migrate-src-") as src:
        s3 = s3_client(src.port)
        bucket = new_bucket(cos_client(src.port), "mig")
        for key, body in bodies.items():
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
        etags = [s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=i, Body=p)["ETag"]
                 for i, p in enumerate(parts, 1)]
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": i, "ETag": e} for i, e in enumerate(etags, 1)]})
        pending = s3.create_multipart_upload(Bucket=bucket, Key="pending")["UploadId"]
        pending_etag = s3.upload_part(Bucket=bucket, Key="pending", UploadId=pending, PartNumber=1,
                                      Body=parts[1])["ETag"]
        versioned = new_bucket(cos_client(src.port), "migv")
        s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})
        v1 = s3.put_object(Bucket=versioned, Key="v", Body=b"one" * 30000)["VersionId"]
        s3.put_object(Bucket=versioned, Key="v", Body=b"two")
        assert admin(src, "POST", "/users", {"name": "alice"}).status_code == 201
        key = admin(src, "POST", "/users/alice/keys", {}).json()
        doc = {"version": "2.0", "statement": [{"effect": "allow", "action": ["name/cos:GetObject"],
                                                "resource": [f"qcs::cos:{REGION}:uid/{APPID}:{bucket}/*"]}]}
        assert admin(src, "PUT", "/users/alice/policies/reader", doc).status_code == 204
        ci_client(src.port, f"{bucket}.ci.{REGION}.myqcloud.com").ci_open_pic_bucket(Bucket=bucket)
        ci_client(src.port, f"{bucket}.ci.{REGION}.myqcloud.com").ci_open_ai_bucket(Bucket=bucket)
        try:
            cos_client(src.port).ci_process(Bucket=bucket, Key="inline.txt", CiProcess="AIFaceBeauty")
        except CosServiceError:
            pass                                                   # metered as an error
        usage_before = admin_usage(src.port, bucket=bucket).json()["records"]
        assert len(usage_before) == 1
        src.stop()

        url = fresh_database(postgres, "mig")
        prefix = f"mig-{uuid.uuid4().hex[:6]}"
        blobs = f"s3://{rgw_bucket}/{prefix}"
        with aws_env(rgw["access_key"], rgw["secret_key"]):
            argv = ["migrate", "--from", src.data_dir, "--to-metadata", url, "--to-blobs", blobs,
                    "--to-blobs-endpoint", rgw["endpoint"]]
            assert main(argv) == 0
            out = capsys.readouterr().out
            assert "verified" in out and "objects 4, object_versions 1" in out
            assert main(argv) == 1                                 # a second run refuses: the target is not empty
            assert "not empty" in capsys.readouterr().err

        env = {"AWS_ACCESS_KEY_ID": rgw["access_key"], "AWS_SECRET_ACCESS_KEY": rgw["secret_key"]}
        args = ["--metadata", url, "--blobs", blobs, "--blobs-endpoint", rgw["endpoint"],
                "--master-key-file", os.path.join(src.data_dir, "master.key")]
        with node(args, env) as dst:
            wait_ready(dst)
            s3 = s3_client(dst.port)
            for key_, body in bodies.items():
                got = s3.get_object(Bucket=bucket, Key=key_)
                assert got["Body"].read() == body and got["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
            assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"".join(parts)
            versions = s3.list_object_versions(Bucket=versioned)["Versions"]
            assert len(versions) == 2
            assert s3.get_object(Bucket=versioned, Key="v", VersionId=v1)["Body"].read() == b"one" * 30000
            s3.complete_multipart_upload(Bucket=bucket, Key="pending", UploadId=pending, MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": pending_etag}]})                # the upload in progress continues
            assert s3.get_object(Bucket=bucket, Key="pending")["Body"].read() == parts[1]
            alice = cos_client(dst.port, key["secret_id"], key["secret_key"])       # sealed key, same master key
            assert alice.get_object(Bucket=bucket, Key="inline.txt")["Body"].get_raw_stream().read() == b"small"
            assert admin_usage(dst.port, bucket=bucket).json()["records"] == usage_before
            with __import__("pytest").raises(CosServiceError) as e:                 # activation kept
                cos_client(dst.port).ci_process(Bucket=bucket, Key="inline.txt", CiProcess="AIFaceBeauty")
            assert e.value.get_error_code() != "NoSuchCIBucket"
            assert len(admin_usage(dst.port, bucket=bucket).json()["records"]) == 2  # ids continue
