"""The ``Pic-Operations`` header (persistent processing on upload and on stored objects) and the
``UploadResult`` reply.

    {"is_pic_info": 1, "rules": [{"bucket": "out-1250000000", "fileid": "/beauty/a.jpg",
                                  "rule": "ci-process=AIFaceBeauty&strength=0.7"}]}

``fileid`` starting with ``/`` is absolute in the target bucket, otherwise relative to the
folder of the source key; it must not end with ``/`` or contain ``.``/``..`` segments. At most
five rules. Everything is validated here, before any byte of the body is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from cosbeauty.api import addressing, safejson, xml
from cosbeauty.api.errors import CosError
from cosbeauty.imaging import registry
from cosbeauty.imaging.errors import ImageError

if TYPE_CHECKING:
    from cosbeauty.imaging.codec import ImageInfo

MAX_RULES = 5
MAX_HEADER = 16 * 1024


@dataclass(frozen=True)
class Rule:
    bucket: str
    key: str
    process: str                    # ci-process name, e.g. "AIFaceBeauty", "face-effect"
    params: dict[str, str]          # the rule's other parameters (strength ...)


@dataclass(frozen=True)
class PicOperations:
    is_pic_info: bool
    rules: list[Rule]


def _bad(message: str) -> CosError:
    return CosError("InvalidArgument", f"Pic-Operations: {message}")


def _decode_header(raw: str) -> object:
    if len(raw) > MAX_HEADER:
        raise _bad(f"the header may be at most {MAX_HEADER} bytes.")
    try:
        text = raw.encode("latin-1").decode("utf-8")   # headers arrive as latin-1
    except UnicodeError as exc:
        raise _bad(f"not valid UTF-8 ({exc}).") from None
    return safejson.loads(text, "Pic-Operations")


def _flag(value: object) -> bool:
    if value in (0, 1, "0", "1", True, False):
        return value in (1, "1", True)
    raise _bad("is_pic_info must be 0 or 1.")


def target_key(fileid: object, source_key: str, max_key_bytes: int) -> str:
    if not isinstance(fileid, str) or not fileid.strip():
        raise _bad("every rule needs a non-empty fileid.")
    if fileid.endswith("/"):
        raise _bad(f"fileid {fileid!r} must name an object, not end with '/'.")
    if fileid.startswith("/"):
        key = fileid.lstrip("/")
    else:
        folder = source_key.rpartition("/")[0]
        key = f"{folder}/{fileid}" if folder else fileid
    if not key or any(seg in (".", "..") for seg in key.split("/")):
        raise _bad(f"fileid {fileid!r} must stay inside the bucket (no '.' or '..' segments).")
    try:
        addressing.check_key(key, max_key_bytes)
    except CosError as err:
        raise _bad(f"fileid {fileid!r}: {err.message}") from None
    return key


def _rule_process(rule: object) -> tuple[str, dict[str, str]]:
    if not isinstance(rule, str) or not rule.strip():
        raise _bad("every rule needs a 'rule' string such as 'ci-process=AIFaceBeauty'.")
    pairs = parse_qsl(rule.strip(), keep_blank_values=True)
    params = dict(pairs)
    name = params.pop("ci-process", None)
    process = None if name is None else registry.get(name)
    if process is None:
        raise _bad(f"unsupported rule {rule!r}; this server supports 'ci-process=AIFaceBeauty[&strength=0..1]' "
                   f"and 'ci-process=face-effect&type=face-beautify|face-segmentation[&...]'.")
    if len(params) + 1 != len(pairs):
        raise _bad(f"rule {rule!r} gives a parameter more than once.")
    unknown = sorted(set(params) - set(process.params))
    if unknown:
        raise _bad(f"rule {rule!r}: unsupported parameter {', '.join(map(repr, unknown))}; "
                   f"ci-process={name} reads: {', '.join(process.params)}.")
    try:
        process.validate(params)
    except ImageError as exc:      # 400 InvalidArgument, or 501 NotImplemented for an unimplemented type
        raise CosError(exc.code, f"Pic-Operations: {exc.message}") from None
    return name, params


def _target_bucket(value: object, source_bucket: str) -> str:
    if value is None or value == "":
        return source_bucket
    if not isinstance(value, str):
        raise _bad("bucket must be a string like name-appid.")
    try:
        addressing.check_bucket_name(value)
    except CosError:
        raise _bad(f"bucket {value!r} must look like <name>-<appid>.") from None
    return value


def parse(header: str | None, source_bucket: str, source_key: str, max_key_bytes: int) -> PicOperations:
    if header is None or not header.strip():
        raise _bad("the Pic-Operations header is required.")
    doc = _decode_header(header)
    if not isinstance(doc, dict):
        raise _bad("must be a JSON object with 'rules'.")
    rules_in = doc.get("rules")
    if not isinstance(rules_in, list) or not rules_in:
        raise _bad("'rules' must be a non-empty list.")
    if len(rules_in) > MAX_RULES:
        raise _bad(f"at most {MAX_RULES} rules per request, got {len(rules_in)}.")
    rules, seen = [], set()
    for item in rules_in:
        if not isinstance(item, dict):
            raise _bad("each rule must be a JSON object.")
        bucket = _target_bucket(item.get("bucket"), source_bucket)
        key = target_key(item.get("fileid"), source_key, max_key_bytes)
        if (bucket, key) in seen:
            raise _bad(f"two rules write the same object {bucket}/{key}.")
        seen.add((bucket, key))
        name, params = _rule_process(item.get("rule"))
        rules.append(Rule(bucket, key, name, params))
    return PicOperations(_flag(doc.get("is_pic_info", 0)), rules)


# -- reply ------------------------------------------------------------------------------------
def location(bucket: str, region: str, key: str) -> str:
    return f"{bucket}.cos.{region}.myqcloud.com/{key}"


def image_info_xml(info: ImageInfo) -> dict:
    return {"Format": info.format, "Width": info.width, "Height": info.height, "Quality": info.quality,
            "Ave": info.ave, "Orientation": info.orientation}


def upload_result(original: dict, results: list[dict]) -> bytes:
    """``original``: Key, Location, ETag [, ImageInfo]; each result: Key, Location, Format, Width,
    Height, Size, Quality, ETag."""
    return xml.render("UploadResult", {"OriginalInfo": original, "ProcessResults": {"Object": results}})
