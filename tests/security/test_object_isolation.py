"""Objects cannot attack the console (issue #13 item 9): an uploaded HTML or SVG object, opened in
the same tab and on the same origin as a signed-in /console, cannot run script, so it cannot read
the console's keys in sessionStorage."""

from __future__ import annotations

import httpx
import pytest

from tests.browser import browser_missing, chromium
from tests.conftest import SECRET_KEY, new_bucket

STORE = "cosbeauty.console.credentials"
STEAL = f"""let r; try {{ r = 'LEAK:' + sessionStorage.getItem('{STORE}'); }} catch (e) {{ r = 'BLOCKED:' + e.name; }}
document.documentElement.setAttribute('data-leak', r);
fetch('/?stolen=' + encodeURIComponent(r)).catch(() => {{}});"""
EVIL = {
    "evil.html": ("text/html", f"<!doctype html><title>evil</title><h1>hi</h1><script>{STEAL}</script>"),
    "evil.svg": ("image/svg+xml", '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                                  f"<script><![CDATA[{STEAL}]]></script><rect width='10' height='10'/></svg>"),
    "evil.txt": ("text/plain", f"<html><script>{STEAL}</script></html>"),      # would be sniffed without nosniff
}


@pytest.fixture(scope="module")
def driver():
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    with chromium() as drv:
        yield drv


def test_object_headers(server, cos, s3):
    bucket = new_bucket(cos, "iso")
    s3.put_object(Bucket=bucket, Key="evil.html", Body=EVIL["evil.html"][1].encode(), ContentType="text/html")
    for method, op in (("GET", "get_object"), ("HEAD", "head_object")):
        resp = httpx.request(method, s3.generate_presigned_url(op, Params={"Bucket": bucket, "Key": "evil.html"}))
        assert resp.status_code == 200
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["content-security-policy"].startswith("sandbox;")
        assert "default-src 'none'" in resp.headers["content-security-policy"]


@pytest.mark.browser
def test_uploaded_html_and_svg_cannot_read_console_storage(server, cos, s3, driver):
    from tests.console.ui import UI

    bucket = new_bucket(cos, "iso")
    urls = {}
    for key, (ctype, body) in EVIL.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType=ctype)
        urls[key] = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
        assert urls[key].startswith(server.endpoint + "/" + bucket)       # path-style: the console's origin
    ui = UI(driver, server.endpoint)
    ui.sign_in()
    stored = driver.execute_script(f"return sessionStorage.getItem('{STORE}')")
    assert stored and SECRET_KEY in stored                                # the secret is there to steal
    for key, url in urls.items():
        driver.get(url)
        leak = driver.execute_script("return document.documentElement.getAttribute('data-leak')")
        assert leak is None, f"{key}: script ran: {leak}"
        # the document is in an opaque origin: even injected code cannot reach the console's storage
        probe = driver.execute_script(
            f"try {{ return 'read:' + sessionStorage.getItem('{STORE}'); }} catch (e) {{ return 'blocked:' + e.name; }}")
        assert probe == "blocked:SecurityError", (key, probe)
        assert driver.execute_script("return self.origin") == "null"
    # back on the console, the session is intact (same tab, same origin)
    driver.get(server.endpoint + "/console/")
    assert SECRET_KEY in driver.execute_script(f"return sessionStorage.getItem('{STORE}')")
