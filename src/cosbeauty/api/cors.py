"""Bucket CORS: PUT/GET/DELETE ``?cors``, the unauthenticated ``OPTIONS`` preflight, and the CORS
headers added to actual cross-origin requests (:func:`apply`, called once by the application).

Storage: ``attrs["cors"]`` = ``{"rules": [rule, ...], "vary": true|false|null}`` (null: the
configuration did not say ``ResponseVary``); a rule keeps the element names of the XML
(``ID``, ``AllowedOrigin``, ``AllowedMethod``, ``AllowedHeader``, ``ExposeHeader``, ``MaxAgeSeconds``).
``attrs["cors"] = None`` means no configuration.

Matching (first matching rule wins, as in COS and S3): the ``Origin`` must match an
``AllowedOrigin`` (``*`` alone matches every origin; one ``*`` inside, e.g. ``http://*.example.com``,
matches any run of characters; compared case-insensitively), the method (or
``Access-Control-Request-Method``) must be one of ``AllowedMethod`` (exact, upper case), and every
header in ``Access-Control-Request-Headers`` must match an ``AllowedHeader`` (case-insensitive, one
``*`` allowed). See docs/cors.md.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from starlette.responses import Response

from cosbeauty.api import xml
from cosbeauty.api.context import Ctx, run
from cosbeauty.api.errors import CosError
from cosbeauty.api.responses import empty, xml_response
from cosbeauty.storage import StorageError

if TYPE_CHECKING:
    from cosbeauty.storage import Backend

log = logging.getLogger("cosbeauty.api")

ATTR = "cors"
MAX_RULES = 100
MAX_BODY = 64 * 1024
MAX_ID = 255
METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
_RULE_FIELDS = ("ID", "AllowedOrigin", "AllowedMethod", "AllowedHeader", "ExposeHeader", "MaxAgeSeconds")
_LISTS = ("AllowedOrigin", "AllowedMethod", "AllowedHeader", "ExposeHeader")

NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the evaluation of "
               "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers "
               "are not whitelisted by the resource's CORS spec.")


# -- configuration: parse, validate, render ---------------------------------------------------
def _one_star(value: str, what: str) -> None:
    if value.count("*") > 1:
        raise CosError("InvalidArgument", f"{what} {value!r} may contain at most one '*' wildcard.")


def parse_config(body: bytes) -> dict:
    """A ``CORSConfiguration`` document -> the stored form. MalformedXML for a document that does not
    follow the schema (no rule, a rule without AllowedOrigin/AllowedMethod, unknown elements, a
    non-integer MaxAgeSeconds); InvalidArgument for values COS refuses (unknown method, more than one
    ``*``, more than 100 rules, a too-long ID, a negative MaxAgeSeconds)."""
    root = xml.parse(body, "CORSConfiguration")
    rules, vary = [], None
    for node in root:
        if node.tag == "CORSRule":
            rules.append(_parse_rule(node, len(rules) + 1))
        elif node.tag == "ResponseVary":
            text = (node.text or "").strip().lower()
            if text not in ("true", "false"):
                raise CosError("MalformedXML", "ResponseVary must be true or false.")
            vary = text == "true"
        else:
            raise CosError("MalformedXML", f"Unexpected element <{node.tag}> in CORSConfiguration.")
    if not rules:
        raise CosError("MalformedXML", "A CORSConfiguration needs at least one CORSRule.")
    if len(rules) > MAX_RULES:
        raise CosError("InvalidArgument", f"A CORSConfiguration may have at most {MAX_RULES} CORSRules; "
                                          f"this one has {len(rules)}.")
    return {"rules": rules, "vary": vary}


def _parse_rule(node, n: int) -> dict:
    rule: dict = {name: [] for name in _LISTS}
    for child in node:
        if child.tag not in _RULE_FIELDS:
            raise CosError("MalformedXML", f"CORSRule {n}: unexpected element <{child.tag}>.")
        if len(child):
            raise CosError("MalformedXML", f"CORSRule {n}: <{child.tag}> must hold text only.")
        text = (child.text or "").strip()
        if child.tag in _LISTS:
            if text:
                rule[child.tag].append(text)
        elif child.tag in rule:
            raise CosError("MalformedXML", f"CORSRule {n}: <{child.tag}> given more than once.")
        else:
            rule[child.tag] = text
    if not rule["AllowedOrigin"] or not rule["AllowedMethod"]:
        raise CosError("MalformedXML", f"CORSRule {n} needs at least one AllowedOrigin and one AllowedMethod.")
    for method in rule["AllowedMethod"]:
        if method not in METHODS:
            raise CosError("InvalidArgument", f"CORSRule {n}: unsupported AllowedMethod {method!r}; "
                                              f"use {', '.join(METHODS)} (upper case).")
    for origin in rule["AllowedOrigin"]:
        _one_star(origin, "AllowedOrigin")
    for header in rule["AllowedHeader"]:
        _one_star(header, "AllowedHeader")
    if len(rule.get("ID", "")) > MAX_ID:
        raise CosError("InvalidArgument", f"CORSRule {n}: ID may be at most {MAX_ID} characters.")
    if "MaxAgeSeconds" in rule:
        raw = rule["MaxAgeSeconds"]
        if not re.fullmatch(r"-?[0-9]+", raw):
            raise CosError("MalformedXML", f"CORSRule {n}: MaxAgeSeconds must be an integer, not {raw!r}.")
        if int(raw) < 0:
            raise CosError("InvalidArgument", f"CORSRule {n}: MaxAgeSeconds must not be negative.")
        rule["MaxAgeSeconds"] = int(raw)
    return rule


def render_config(config: dict) -> dict:
    rules = []
    for rule in config["rules"]:
        out = {}
        if "ID" in rule:
            out["ID"] = rule["ID"]
        for name in _LISTS:
            if rule.get(name):
                out[name] = rule[name]
        if rule.get("MaxAgeSeconds") is not None:
            out["MaxAgeSeconds"] = rule["MaxAgeSeconds"]
        rules.append(out)
    body: dict = {"CORSRule": rules}
    if config.get("vary") is not None:
        body["ResponseVary"] = config["vary"]
    return body


# -- PUT / GET / DELETE ?cors ----------------------------------------------------------------------
async def put_bucket_cors(ctx: Ctx) -> Response:
    body = await ctx.read_body(MAX_BODY)
    config = parse_config(body)            # a bad document raises before anything is stored
    await run(lambda: ctx.app.backend.update_bucket(ctx.bucket, attrs={ATTR: config}))
    return empty(200)


async def get_bucket_cors(ctx: Ctx) -> Response:
    config = (await run(ctx.app.backend.get_bucket, ctx.bucket)).attrs.get(ATTR)
    if not config:
        raise ctx.error("NoSuchCORSConfiguration")
    return xml_response("CORSConfiguration", render_config(config))


async def delete_bucket_cors(ctx: Ctx) -> Response:
    await run(lambda: ctx.app.backend.update_bucket(ctx.bucket, attrs={ATTR: None}))
    return empty(204)


# -- matching -------------------------------------------------------------------------------------
def _wildcard(pattern: str, value: str) -> bool:
    """Case-insensitive match where one ``*`` stands for any run of characters."""
    pattern, value = pattern.lower(), value.lower()
    if "*" not in pattern:
        return pattern == value
    head, _, tail = pattern.partition("*")
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)


def _origin_match(rule: dict, origin: str) -> str | None:
    """The Access-Control-Allow-Origin value for this origin under this rule, or None."""
    for allowed in rule["AllowedOrigin"]:
        if allowed == "*":
            return "*"
        if _wildcard(allowed, origin):
            return origin
    return None


def match(config: dict, origin: str, method: str, headers: list[str] = ()) -> tuple[dict, str] | None:
    """The first rule that allows this request, with the Allow-Origin value to answer; else None."""
    for rule in config["rules"]:
        if method not in rule["AllowedMethod"]:
            continue
        allow_origin = _origin_match(rule, origin)
        if allow_origin is None:
            continue
        if all(any(_wildcard(a, h) for a in rule["AllowedHeader"]) for h in headers):
            return rule, allow_origin
    return None


def _config(backend: Backend, bucket: str) -> dict | None:
    return backend.get_bucket(bucket).attrs.get(ATTR)


# -- OPTIONS preflight (no authentication) --------------------------------------------------------
async def preflight(ctx: Ctx) -> Response:
    origin = ctx.header("origin")
    if not origin:
        raise ctx.error("BadRequest", "Insufficient information. Origin request header needed.")
    method = ctx.header("access-control-request-method")
    if not method:
        raise ctx.error("BadRequest", "Invalid Access-Control-Request-Method: null")
    requested = [h.strip().lower() for h in ctx.header("access-control-request-headers", "").split(",")]
    requested = [h for h in requested if h]
    config = await run(_config, ctx.app.backend, ctx.bucket)
    if not config:
        raise ctx.error("AccessForbidden", NOT_ENABLED)
    found = match(config, origin, method.strip(), requested)
    vary = {"vary": "Origin"} if config.get("vary") else {}
    if found is None:
        raise CosError("AccessForbidden", NOT_ALLOWED, resource=ctx.resource(), headers=vary)
    rule, allow_origin = found
    headers = {"access-control-allow-origin": allow_origin,
               "access-control-allow-methods": ",".join(rule["AllowedMethod"]), **vary}
    if requested:
        headers["access-control-allow-headers"] = ",".join(requested)
    if rule["ExposeHeader"]:
        headers["access-control-expose-headers"] = ",".join(rule["ExposeHeader"])
    if rule.get("MaxAgeSeconds") is not None:
        headers["access-control-max-age"] = str(rule["MaxAgeSeconds"])
    return empty(200, headers)


# -- actual requests ----------------------------------------------------------------------------
async def apply(ctx: Ctx, response: Response) -> None:
    """Add CORS headers to the response of an actual (non-preflight) request that has an ``Origin``
    matching a rule of the target bucket for this method. Called for every response, errors
    included; costs nothing without an Origin header and one indexed read with one (in a worker
    thread: a PostgreSQL round trip in cluster mode)."""
    origin = ctx.headers.get("origin")
    if not origin or ctx.method == "OPTIONS" or not ctx.target.bucket:
        return
    try:
        config = await run(_config, ctx.app.backend, ctx.target.bucket)
    except StorageError:        # no such bucket: the response says so; nothing to add
        return
    except Exception:           # never let CORS decoration break an answer
        log.exception("CORS lookup failed for bucket %s", ctx.target.bucket)
        return
    if not config:
        return
    if config.get("vary"):
        response.headers["vary"] = "Origin"
    found = match(config, origin, ctx.method)
    if found is None:
        return
    rule, allow_origin = found
    response.headers["access-control-allow-origin"] = allow_origin
    response.headers["access-control-allow-methods"] = ",".join(rule["AllowedMethod"])   # as COS and S3 do
    if rule["ExposeHeader"]:
        response.headers["access-control-expose-headers"] = ",".join(rule["ExposeHeader"])
