"""POST Object, the browser form upload (issue 14 item 6): S3 (boto3 generate_presigned_post, SigV4)
and COS (q-sign-* fields) flavours, policy conditions, success_action_status / _redirect, user
metadata, anonymous uploads to a public-read-write bucket, and a real HTML form in headless Chromium."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.conftest import APPID, SECRET_ID, SECRET_KEY, new_bucket


def cos_form(bucket: str, key: str, extra_conditions: list, expires_in: int = 600,
             secret_id: str = SECRET_ID, secret_key: str = SECRET_KEY) -> dict:
    """The COS form fields, signed as Tencent documents it: SignKey = HMAC-SHA1(SecretKey, KeyTime),
    StringToSign = SHA1(policy JSON), Signature = HMAC-SHA1(SignKey, StringToSign)."""
    now = int(time.time())
    key_time = f"{now - 60};{now + expires_in}"
    expiration = (datetime.now(timezone.utc) + timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    policy = json.dumps({"expiration": expiration, "conditions": [
        {"q-sign-algorithm": "sha1"}, {"q-ak": secret_id}, {"q-sign-time": key_time}, {"bucket": bucket},
        ["starts-with", "$key", ""], *extra_conditions]})
    sign_key = hmac.new(secret_key.encode(), key_time.encode(), hashlib.sha1).hexdigest()
    signature = hmac.new(sign_key.encode(), hashlib.sha1(policy.encode()).hexdigest().encode(), hashlib.sha1).hexdigest()
    return {"key": key, "policy": base64.b64encode(policy.encode()).decode(), "q-sign-algorithm": "sha1",
            "q-ak": secret_id, "q-key-time": key_time, "q-signature": signature}


def test_s3_presigned_post(server, s3, bucket):
    post = s3.generate_presigned_post(Bucket=bucket, Key="uploads/${filename}",
                                      Conditions=[["starts-with", "$key", "uploads/"],
                                                  ["content-length-range", 1, 1000]], ExpiresIn=300)
    assert "x-amz-signature" in post["fields"] or "signature" in post["fields"]
    r = requests.post(post["url"], data=post["fields"], files={"file": ("photo.txt", b"hello form")}, timeout=10)
    assert r.status_code == 204, r.text
    assert r.headers["ETag"] == '"%s"' % hashlib.md5(b"hello form").hexdigest()
    assert s3.get_object(Bucket=bucket, Key="uploads/photo.txt")["Body"].read() == b"hello form"
    # the policy's size limit
    r = requests.post(post["url"], data=post["fields"], files={"file": ("big.txt", b"x" * 1001)}, timeout=10)
    assert r.status_code == 400 and b"EntityTooLarge" in r.content
    # a field the policy does not name is refused, not ignored
    r = requests.post(post["url"], data={**post["fields"], "acl": "public-read"},
                      files={"file": ("a.txt", b"1")}, timeout=10)
    assert r.status_code == 403 and b"Extra input fields: acl" in r.content
    # a forged signature
    forged = {**post["fields"], "x-amz-signature": "0" * 64} if "x-amz-signature" in post["fields"] else \
        {**post["fields"], "signature": "AAAA"}
    r = requests.post(post["url"], data=forged, files={"file": ("a.txt", b"1")}, timeout=10)
    assert r.status_code == 403 and b"SignatureDoesNotMatch" in r.content


def test_s3_presigned_post_expired(s3, bucket):
    post = s3.generate_presigned_post(Bucket=bucket, Key="late", ExpiresIn=1)
    time.sleep(2.1)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("a", b"1")}, timeout=10)
    assert r.status_code == 403 and b"Policy expired" in r.content


def test_cos_form_with_status_201_and_metadata(server, cos, bucket):
    fields = cos_form(bucket, "cos/${filename}", [{"success_action_status": "201"},
                                                 ["starts-with", "$x-cos-meta-owner", ""],
                                                 ["starts-with", "$Content-Type", "image/"]])
    fields.update({"success_action_status": "201", "x-cos-meta-owner": "ann", "Content-Type": "image/png"})
    r = requests.post(f"http://127.0.0.1:{server.port}/{bucket}", data=fields,
                      files={"file": ("pic.png", b"\x89PNG fake")}, timeout=10)
    assert r.status_code == 201, r.text
    assert b"<PostResponse>" in r.content and b"<Key>cos/pic.png</Key>" in r.content
    head = cos.head_object(Bucket=bucket, Key="cos/pic.png")
    assert head["x-cos-meta-owner"] == "ann" and head["Content-Type"] == "image/png"


def test_cos_form_redirect_and_condition_failure(server, cos, bucket):
    target = "http://app.example/done"
    fields = cos_form(bucket, "r.txt", [{"success_action_redirect": target}])
    fields["success_action_redirect"] = target
    r = requests.post(f"http://127.0.0.1:{server.port}/{bucket}", data=fields, files={"file": ("r.txt", b"r")},
                      allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert r.headers["Location"].startswith(target + "?bucket=") and "key=r.txt" in r.headers["Location"]
    bad_key = cos_form(bucket, "x.txt", [["starts-with", "$key", "only/"]])
    r = requests.post(f"http://127.0.0.1:{server.port}/{bucket}", data=bad_key, files={"file": ("x", b"x")},
                      timeout=10)
    assert r.status_code == 403 and b"Policy Condition failed" in r.content
    wrong_secret = cos_form(bucket, "w.txt", [], secret_key="not-the-secret-key-000000")
    r = requests.post(f"http://127.0.0.1:{server.port}/{bucket}", data=wrong_secret, files={"file": ("w", b"w")},
                      timeout=10)
    assert r.status_code == 403


def test_anonymous_form_needs_a_writable_bucket(server, cos):
    b = new_bucket(cos)
    url = f"http://127.0.0.1:{server.port}/{b}"
    r = requests.post(url, data={"key": "anon.txt"}, files={"file": ("a", b"anon")}, timeout=10)
    assert r.status_code == 403
    cos.put_bucket_acl(Bucket=b, ACL="public-read-write")
    r = requests.post(url, data={"key": "anon.txt"}, files={"file": ("a", b"anon")}, timeout=10)
    assert r.status_code == 204
    assert cos.get_object(Bucket=b, Key="anon.txt")["Body"].get_raw_stream().read() == b"anon"
    r = requests.post(url, data={"key": "n.txt"}, timeout=10)
    assert r.status_code == 400 and b"MalformedPOSTRequest" in r.content


def test_large_form_upload_streams(server, s3, bucket):
    post = s3.generate_presigned_post(Bucket=bucket, Key="big.bin", ExpiresIn=300)
    data = bytes(range(256)) * (12 * 4096)      # 12 MiB
    r = requests.post(post["url"], data=post["fields"], files={"file": ("big.bin", data)}, timeout=60)
    assert r.status_code == 204
    got = s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read()
    assert hashlib.md5(got).hexdigest() == hashlib.md5(data).hexdigest()


FORM_PAGE = """<!doctype html><meta charset="utf-8"><title>upload</title>
<form id="f" action="{action}" method="post" enctype="multipart/form-data">
{hidden}
<input type="file" name="file" id="file">
<button type="submit" id="go">Upload</button>
</form>"""


@pytest.fixture
def page_site(tmp_path):
    """A web app on its own loopback origin, serving files from a temp dir (objects served by the
    storage carry a sandboxing CSP, so a form page is hosted the way a real site would be)."""
    import functools
    import http.server
    import threading
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield tmp_path, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_html_form_in_chromium(server, cos, page_site, tmp_path_factory):
    from tests.browser import browser_missing, chromium
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    from selenium.webdriver.common.by import By
    root, site = page_site
    b = new_bucket(cos, "form")
    done_url = f"{site}/done.html"
    (root / "done.html").write_text("<!doctype html><title>done</title>uploaded")
    fields = cos_form(b, "browser/${filename}", [{"success_action_redirect": done_url},
                                                ["starts-with", "$x-cos-meta-from", ""]])
    fields.update({"success_action_redirect": done_url, "x-cos-meta-from": "chromium"})
    hidden = "\n".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items())
    (root / "form.html").write_text(FORM_PAGE.format(action=f"http://127.0.0.1:{server.port}/{b}", hidden=hidden))
    upload = tmp_path_factory.mktemp("upload") / "from-browser.txt"
    upload.write_bytes(b"sent by a real HTML form")
    with chromium(timeout=20) as drv:
        drv.get(f"{site}/form.html")
        drv.find_element(By.ID, "file").send_keys(str(upload))
        drv.find_element(By.ID, "go").click()
        deadline = time.time() + 15
        while "done.html" not in drv.current_url and time.time() < deadline:
            time.sleep(0.1)
        assert drv.current_url.startswith(done_url + "?bucket=" + b), (drv.current_url, drv.page_source[:2000])
        assert "key=browser%2Ffrom-browser.txt" in drv.current_url
        assert "uploaded" in drv.page_source
    got = cos.get_object(Bucket=b, Key="browser/from-browser.txt")
    assert got["Body"].get_raw_stream().read() == b"sent by a real HTML form"
    assert got["x-cos-meta-from"] == "chromium"


def test_unsupported_form_fields_are_refused(server, s3, bucket):
    post = s3.generate_presigned_post(Bucket=bucket, Key="t", Fields={"x-amz-server-side-encryption": "AES256"},
                                      Conditions=[{"x-amz-server-side-encryption": "AES256"}], ExpiresIn=300)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("t", b"t")}, timeout=10)
    assert r.status_code == 501 and b"x-amz-server-side-encryption" in r.content


def test_form_tagging_field(server, s3, bucket):
    """S3's ``tagging`` form field (a <Tagging> document), as ceph s3-tests posts it."""
    doc = ("<Tagging><TagSet><Tag><Key>k1</Key><Value>v1</Value></Tag>"
           "<Tag><Key>k0</Key><Value></Value></Tag></TagSet></Tagging>")
    post = s3.generate_presigned_post(Bucket=bucket, Key="tagged", Fields={"tagging": doc},
                                      Conditions=[["starts-with", "$tagging", ""]], ExpiresIn=300)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("t", b"t")}, timeout=10)
    assert r.status_code == 204, r.text
    assert s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"] == [{"Key": "k0", "Value": ""},
                                                                            {"Key": "k1", "Value": "v1"}]
    bad = s3.generate_presigned_post(Bucket=bucket, Key="bad", Fields={"tagging": "k=v"},
                                     Conditions=[["starts-with", "$tagging", ""]], ExpiresIn=300)
    r = requests.post(bad["url"], data=bad["fields"], files={"file": ("t", b"t")}, timeout=10)
    assert r.status_code == 400 and b"MalformedXML" in r.content


def _v2_form(s3, bucket: str, policy_doc: dict) -> dict:
    """An S3 V2-signed form (AWSAccessKeyId / signature over the base64 policy), as s3-tests builds it."""
    policy = base64.b64encode(json.dumps(policy_doc).encode()).decode()
    signature = base64.b64encode(hmac.new(SECRET_KEY.encode(), policy.encode(), hashlib.sha1).digest()).decode()
    return {"key": "v2.txt", "AWSAccessKeyId": SECRET_ID, "policy": policy, "signature": signature}


def test_form_policy_expiration_and_missing_fields(server, s3, bucket):
    url = f"http://127.0.0.1:{server.port}/{bucket}"
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    conditions = [{"bucket": bucket}, ["starts-with", "$key", "v2"]]
    ok = _v2_form(s3, bucket, {"expiration": later.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "conditions": conditions})
    assert requests.post(url, data=ok, files={"file": ("f", b"1")}, timeout=10).status_code == 204
    # the expiration must be ISO 8601 UTC as documented (2025-01-01T12:00:00.000Z), not any date text
    loose = _v2_form(s3, bucket, {"expiration": str(later), "conditions": conditions})
    r = requests.post(url, data=loose, files={"file": ("f", b"1")}, timeout=10)
    assert r.status_code == 400 and b"expiration" in r.content, r.text
    # a form without its signature (or key id) is malformed: 400 InvalidArgument naming the field
    for missing in ("signature", "AWSAccessKeyId"):
        form = {k: v for k, v in ok.items() if k != missing}
        r = requests.post(url, data=form, files={"file": ("f", b"1")}, timeout=10)
        assert r.status_code == 400 and b"InvalidArgument" in r.content and missing.encode() in r.content, r.text


def test_form_upload_by_a_sub_account_is_its_object(server, s3, cos, bucket):
    from tests.iam.conftest import allow, make_user, objects, policy
    user = make_user(server, policy(allow("name/cos:PostObject", objects(bucket, "mine/"))))
    fields = cos_form(bucket, "mine/f.txt", [], secret_id=user.secret_id, secret_key=user.secret_key)
    r = requests.post(f"http://127.0.0.1:{server.port}/{bucket}", data=fields, files={"file": ("f.txt", b"f")},
                      timeout=10)
    assert r.status_code == 204, r.text
    assert s3.get_object_acl(Bucket=bucket, Key="mine/f.txt")["Owner"]["ID"] == f"qcs::cam::uin/{APPID}:uin/{user.uin}"
