"""Every endpoint the server answers, as data: (method, level, subresource) -> handler and actions.

``level`` is "service" (no bucket), "bucket" (no key) or "object"; on Cloud Infinite hosts it is
"ci" (bucket host) or "ci-service" and the sub-resource is the path (``picbucket``, ``ai_bucket``). ``subresource`` is the first
query parameter that names one (``acl``, ``uploads``, ``uploadId``, ``ci-process`` ...) or None.
A request that matches nothing gets MethodNotAllowed (known subresource, other method) or
NotImplemented (a subresource we do not implement) -- never a silent fallback.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Awaitable, Callable

from cosbeauty.api import scope
from cosbeauty.api.errors import CosError
from cosbeauty.imaging import registry

Handler = Callable[..., Awaitable]

# query parameters that select a sub-resource, in priority order
SUBRESOURCES = (
    "uploadId", "uploads", "acl", "delete", "ci-process", "image_process", "location",
    "versioning", "cors", "tagging", "lifecycle", "policy", "website", "logging", "referer",
    "domain", "inventory", "replication", "encryption", "object-lock", "restore", "append",
    "select", "versions", "intelligenttiering", "accelerate", "origin", "pic", "CIStatus",
)

# paths that are Cloud Infinite API calls (not object keys) on <bucket>.ci|pic.<region> hosts
CI_PATHS = ("picbucket", "ai_bucket")


@dataclass(frozen=True)
class Endpoint:
    method: str
    level: str
    sub: str | None
    handler: str            # "module:function" under cosbeauty.api
    actions: tuple[str, ...]  # CAM actions checked before the handler runs ("" = decided by the handler)
    unsigned: bool = False  # answered without authentication (CORS preflight: browsers never sign it)
    # query parameters the handler reads besides the sub-resource itself. Any other parameter is
    # answered with an error before the handler runs (scope.check_known): declare every one you read.
    params: tuple[str, ...] = ()


# parameter sets several endpoints read
LIST_PARAMS = scope.LIST_PARAMS
OBJECT_READ_PARAMS = tuple(scope.RESPONSE_OVERRIDES)
# every process's own parameters (strength; face-effect's type, whitening, ...): the handler then
# refuses a parameter the named process does not read (api/ci.py _params)
CI_PARAMS = ("detect-url", "ignore-error", *dict.fromkeys((*scope.PROCESSING_PARAMS, *registry.all_params())))
CI_BUCKET_LIST_PARAMS = ("regions", "bucketNames", "bucketName", "pageNumber", "pageSize")

ENDPOINTS: list[Endpoint] = [
    Endpoint("GET", "service", None, "buckets:list_buckets", ("cos:GetService",),
             params=("marker", "max-keys", "region", "tagkey", "tagvalue", "create-time", "range",   # COS
                     "max-buckets", "continuation-token", "prefix", "bucket-region")),                 # S3
    Endpoint("PUT", "bucket", None, "buckets:put_bucket", ("cos:PutBucket",)),
    Endpoint("HEAD", "bucket", None, "buckets:head_bucket", ("cos:HeadBucket",)),
    Endpoint("DELETE", "bucket", None, "buckets:delete_bucket", ("cos:DeleteBucket",)),
    Endpoint("GET", "bucket", None, "listing:list_objects", ("cos:GetBucket",), params=LIST_PARAMS),
    Endpoint("GET", "bucket", "location", "buckets:get_location", ("cos:GetBucketLocation",)),
    Endpoint("GET", "bucket", "acl", "acl:get_bucket_acl", ("cos:GetBucketACL",)),
    Endpoint("PUT", "bucket", "acl", "acl:put_bucket_acl", ("cos:PutBucketACL",)),
    Endpoint("GET", "bucket", "uploads", "multipart:list_uploads", ("cos:ListMultipartUploads",),
             params=("prefix", "delimiter", "max-uploads", "key-marker", "upload-id-marker", "encoding-type")),
    Endpoint("PUT", "bucket", "cors", "cors:put_bucket_cors", ("cos:PutBucketCORS",)),
    Endpoint("GET", "bucket", "cors", "cors:get_bucket_cors", ("cos:GetBucketCORS",)),
    Endpoint("DELETE", "bucket", "cors", "cors:delete_bucket_cors", ("cos:DeleteBucketCORS",)),
    # CORS preflight on any resource of a bucket (OPTIONS /, /<key>, /?lifecycle ...): unsigned by design
    Endpoint("OPTIONS", "bucket", None, "cors:preflight", ("",), unsigned=True),
    Endpoint("OPTIONS", "object", None, "cors:preflight", ("",), unsigned=True),
    Endpoint("POST", "bucket", "delete", "objects:delete_multiple", ("",)),
    # browser form upload: authenticated by the form's policy signature inside the body, not by an
    # Authorization header, so the app must not authenticate it (see api/post_object.py docstring)
    Endpoint("POST", "bucket", None, "post_object:post_object", ("",), unsigned=True),
    Endpoint("POST", "object", "append", "append:append_object", ("",), params=("position",)),
    Endpoint("PUT", "bucket", "tagging", "tagging:put_bucket_tagging", ("cos:PutBucketTagging",)),
    Endpoint("GET", "bucket", "tagging", "tagging:get_bucket_tagging", ("cos:GetBucketTagging",)),
    Endpoint("DELETE", "bucket", "tagging", "tagging:delete_bucket_tagging", ("cos:DeleteBucketTagging",)),
    Endpoint("PUT", "bucket", "policy", "bucket_policy:put_bucket_policy", ("cos:PutBucketPolicy",)),
    Endpoint("GET", "bucket", "policy", "bucket_policy:get_bucket_policy", ("cos:GetBucketPolicy",)),
    Endpoint("DELETE", "bucket", "policy", "bucket_policy:delete_bucket_policy", ("cos:DeleteBucketPolicy",)),
    Endpoint("GET", "bucket", "versioning", "versioning:get_versioning", ("cos:GetBucketVersioning",)),
    Endpoint("PUT", "bucket", "versioning", "versioning:put_versioning", ("cos:PutBucketVersioning",)),
    Endpoint("GET", "bucket", "versions", "versioning:list_versions", ("cos:GetBucketObjectVersions",),
             params=("prefix", "delimiter", "key-marker", "version-id-marker", "max-keys", "encoding-type")),
    Endpoint("PUT", "object", "tagging", "tagging:put_object_tagging", ("cos:PutObjectTagging",), params=("versionId",)),
    Endpoint("GET", "object", "tagging", "tagging:get_object_tagging", ("cos:GetObjectTagging",), params=("versionId",)),
    Endpoint("DELETE", "object", "tagging", "tagging:delete_object_tagging", ("cos:DeleteObjectTagging",),
             params=("versionId",)),
    Endpoint("GET", "bucket", "ci-process", "ci:get_detect_url", ("",), params=CI_PARAMS),
    Endpoint("PUT", "object", None, "objects:put_object", ("",)),
    Endpoint("GET", "object", None, "objects:get_object", ("cos:GetObject",), params=(*OBJECT_READ_PARAMS, "versionId")),
    Endpoint("HEAD", "object", None, "objects:head_object", ("cos:HeadObject",),
             params=(*OBJECT_READ_PARAMS, "versionId")),
    Endpoint("DELETE", "object", None, "objects:delete_object", ("cos:DeleteObject",), params=("versionId",)),
    Endpoint("GET", "object", "acl", "acl:get_object_acl", ("cos:GetObjectACL",), params=("versionId",)),
    Endpoint("PUT", "object", "acl", "acl:put_object_acl", ("cos:PutObjectACL",), params=("versionId",)),
    Endpoint("POST", "object", "uploads", "multipart:initiate", ("cos:InitiateMultipartUpload",)),
    Endpoint("PUT", "object", "uploadId", "multipart:upload_part", ("",), params=("partNumber",)),
    Endpoint("POST", "object", "uploadId", "multipart:complete", ("cos:CompleteMultipartUpload",)),
    Endpoint("DELETE", "object", "uploadId", "multipart:abort", ("cos:AbortMultipartUpload",)),
    Endpoint("GET", "object", "uploadId", "multipart:list_parts", ("cos:ListParts",),
             params=("max-parts", "part-number-marker", "encoding-type")),
    Endpoint("GET", "object", "ci-process", "ci:get_processed", ("",), params=(*CI_PARAMS, "versionId")),
    Endpoint("POST", "object", "image_process", "ci:image_process", ("",), params=("versionId",)),
    # Cloud Infinite hosts: <bucket>.ci.<region>.myqcloud.com/<picbucket|ai_bucket>
    Endpoint("POST", "ci", "picbucket", "ci_buckets:open_bucket", ("ci:CreateCIBucket",)),
    Endpoint("DELETE", "ci", "picbucket", "ci_buckets:close_bucket", ("ci:DeleteCIBucket",)),
    Endpoint("GET", "ci-service", "picbucket", "ci_buckets:list_buckets", ("ci:DescribeCIBuckets",),
             params=CI_BUCKET_LIST_PARAMS),
    Endpoint("POST", "ci", "ai_bucket", "ci_buckets:open_bucket", ("ci:CreateAIBucket",)),
    Endpoint("DELETE", "ci", "ai_bucket", "ci_buckets:close_bucket", ("ci:DeleteAIBucket",)),
    Endpoint("GET", "ci-service", "ai_bucket", "ci_buckets:list_buckets", ("ci:DescribeAIBuckets",),
             params=CI_BUCKET_LIST_PARAMS),
]

_TABLE = {(e.method, e.level, e.sub): e for e in ENDPOINTS}
_KNOWN = frozenset(name for e in ENDPOINTS for name in (*e.params, e.sub) if name)   # read somewhere
_resolved: dict[str, Handler] = {}


def subresource(query: dict[str, str]) -> str | None:
    if not query:       # most object reads and writes: no parameter at all
        return None
    for name in SUBRESOURCES:
        if name in query:
            return name
    return None


def match(method: str, level: str, sub: str | None) -> Endpoint:
    if method == "OPTIONS":     # a preflight may name any sub-resource; it is answered the same way
        sub = None
    key_method = "GET" if method == "HEAD" and (method, level, sub) not in _TABLE else method
    endpoint = _TABLE.get((key_method, level, sub))
    if endpoint is not None:
        return endpoint
    if any(e.level == level and e.sub == sub for e in ENDPOINTS):
        raise CosError("MethodNotAllowed", f"{method} is not allowed on this resource.")
    if sub is not None:
        raise CosError("NotImplemented", f"The '{sub}' sub-resource is not implemented by this server.")
    raise CosError("MethodNotAllowed", f"{method} is not allowed on this resource.")


def check_params(method: str, level: str, sub: str | None, endpoint: Endpoint, names) -> None:
    """Every query parameter is read by ``endpoint`` (or is a signature parameter): see scope.check_known."""
    if names and not endpoint.unsigned:   # a CORS preflight answers the same whatever the URL asks for
        scope.check_known(method, level, sub, endpoint.params, names, _KNOWN)


def handler(endpoint: Endpoint) -> Handler:
    fn = _resolved.get(endpoint.handler)
    if fn is None:
        module, _, name = endpoint.handler.partition(":")
        fn = getattr(importlib.import_module(f"cosbeauty.api.{module}"), name)
        _resolved[endpoint.handler] = fn
    return fn
