"""COS v5 SignKey memo (api/auth/cosv5.py): keyed by the secret itself, bounded, never changes a result."""

from __future__ import annotations

import hashlib
import hmac

from cosbeauty.api.auth import cosv5


def _reference(secret: str, key_time: str, sign_time: str, http: str) -> str:
    sign_key = hmac.new(secret.encode(), key_time.encode(), hashlib.sha1).hexdigest()
    sts = f"sha1\n{sign_time}\n{hashlib.sha1(http.encode()).hexdigest()}\n"
    return hmac.new(sign_key.encode(), sts.encode(), hashlib.sha1).hexdigest()


def test_sign_matches_the_sdk_formula_across_secrets_and_a_full_memo():
    http = "put\n/k\n\nhost=b-1250000000.cos.ap-guangzhou.myqcloud.com\n"
    window = "1700000000;1700003600"
    a = cosv5.sign("secret-a", window, window, http)
    b = cosv5.sign("secret-b", window, window, http)          # same key time, another secret
    assert a == _reference("secret-a", window, window, http)
    assert b == _reference("secret-b", window, window, http) != a
    for i in range(cosv5._SIGN_KEYS_MAX + 10):                  # the memo is cleared when full
        t = f"{1700000000 + i};{1700003600 + i}"
        assert cosv5.sign("secret-a", t, t, http) == _reference("secret-a", t, t, http)
    assert len(cosv5._SIGN_KEYS) <= cosv5._SIGN_KEYS_MAX
    assert cosv5.sign("secret-a", window, window, http) == a
