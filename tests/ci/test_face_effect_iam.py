"""Who may call ``ci-process=face-effect``: sub-accounts with CAM policies, through raw
COS-v5-signed requests (as the SDK signs) on all three methods.

Tencent's English page names the action ``ci:FaceEffect``, the current Chinese page
``ci:CreateFaceEffectJob``: either grants it, and a Deny of either refuses it.
"""

from __future__ import annotations

import json

import pytest

from tests.ci.conftest import activate
from tests.iam.conftest import allow, deny, iam_bucket, iam_server, objects, policy, root_cos, signed, user_factory
from tests.iam.test_permissions import code_of, jpeg

__all__ = ["iam_bucket", "iam_server", "root_cos", "user_factory"]    # fixtures used here

FE = {"ci-process": "face-effect", "type": "face-segmentation"}


def ops(key: str) -> str:
    return json.dumps({"rules": [{"fileid": f"/out/{key}", "rule": "ci-process=face-effect&type=face-segmentation"}]})


def download(server, user, bucket: str, key: str) -> str:
    return code_of(signed(server, "GET", f"/{bucket}/{key}", user.secret_id, user.secret_key, params=FE))


def upload(server, user, bucket: str, key: str) -> str:
    return code_of(signed(server, "PUT", f"/{bucket}/{key}", user.secret_id, user.secret_key,
                          headers={"Pic-Operations": ops(key), "Content-Type": "image/jpeg"}, data=jpeg()))


def cloud(server, user, bucket: str, key: str) -> str:
    return code_of(signed(server, "POST", f"/{bucket}/{key}", user.secret_id, user.secret_key,
                          params={"image_process": ""}, headers={"Pic-Operations": ops(key)}))


@pytest.fixture
def ci_iam_bucket(iam_server, root_cos, iam_bucket) -> str:
    activate(iam_server.data_dir, iam_bucket)
    root_cos.put_object(Bucket=iam_bucket, Key="face.jpg", Body=jpeg())
    return iam_bucket


@pytest.mark.parametrize("ci_action", ["ci:FaceEffect", "ci:CreateFaceEffectJob", "ci:*"])
def test_either_documented_action_grants_every_method(iam_server, ci_iam_bucket, user_factory, ci_action):
    user = user_factory(policy(allow(["name/cos:GetObject", "name/cos:PutObject", ci_action],
                                     objects(ci_iam_bucket))))
    assert download(iam_server, user, ci_iam_bucket, "face.jpg") == ""
    assert upload(iam_server, user, ci_iam_bucket, "up.jpg") == ""
    assert cloud(iam_server, user, ci_iam_bucket, "face.jpg") == ""


def test_ai_face_beauty_action_does_not_grant_face_effect(iam_server, ci_iam_bucket, user_factory):
    user = user_factory(policy(allow(["name/cos:GetObject", "name/cos:PutObject", "ci:CreateAIFaceBeautifyJob"],
                                     objects(ci_iam_bucket))))
    assert download(iam_server, user, ci_iam_bucket, "face.jpg") == "AccessDenied"
    assert upload(iam_server, user, ci_iam_bucket, "up.jpg") == "AccessDenied"
    assert cloud(iam_server, user, ci_iam_bucket, "face.jpg") == "AccessDenied"
    ai = code_of(signed(iam_server, "GET", f"/{ci_iam_bucket}/face.jpg", user.secret_id, user.secret_key,
                        params={"ci-process": "AIFaceBeauty"}))
    assert ai == ""                                   # ... while AIFaceBeauty works for that user


def test_cos_actions_are_still_needed(iam_server, ci_iam_bucket, user_factory):
    get_only = user_factory(policy(allow(["name/cos:GetObject", "ci:FaceEffect"], objects(ci_iam_bucket))))
    assert download(iam_server, get_only, ci_iam_bucket, "face.jpg") == ""
    assert upload(iam_server, get_only, ci_iam_bucket, "up.jpg") == "AccessDenied"      # no cos:PutObject
    assert cloud(iam_server, get_only, ci_iam_bucket, "face.jpg") == "AccessDenied"
    ci_only = user_factory(policy(allow(["ci:FaceEffect"], objects(ci_iam_bucket))))
    assert download(iam_server, ci_only, ci_iam_bucket, "face.jpg") == "AccessDenied"   # no cos:GetObject


@pytest.mark.parametrize("denied", ["ci:FaceEffect", "ci:CreateFaceEffectJob"])
def test_deny_of_either_name_wins(iam_server, ci_iam_bucket, user_factory, denied):
    user = user_factory(policy(allow(["name/cos:GetObject", "ci:*"], objects(ci_iam_bucket)),
                               deny([denied], objects(ci_iam_bucket))))
    assert download(iam_server, user, ci_iam_bucket, "face.jpg") == "AccessDenied"
