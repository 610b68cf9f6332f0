"""Tiny XML helpers: render nested dicts the way COS does, parse request bodies safely."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape

from cosbeauty.api.errors import CosError

MAX_XML_BODY = 2 * 1024 * 1024


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _emit(out: list[str], tag: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _emit(out, tag, item)
        return
    if isinstance(value, dict):
        out.append(f"<{tag}>")
        for k, v in value.items():
            _emit(out, k, v)
        out.append(f"</{tag}>")
    elif value is None:
        out.append(f"<{tag}/>")
    else:
        out.append(f"<{tag}>{_text(value)}</{tag}>")


def render(root: str, body: dict) -> bytes:
    """``render("R", {"A": 1, "B": [{"C": "x"}, {"C": "y"}]})`` -> ``<R><A>1</A><B><C>x</C></B>...``."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _emit(out, root, body)
    return "".join(out).encode()


def parse(body: bytes, root: str | None = None) -> ET.Element:
    """Parse a request body; no DTDs or entities; namespaces stripped. Bad -> MalformedXML."""
    if not body.strip():
        raise CosError("MalformedXML", "The request body is empty; an XML document was expected.")
    if len(body) > MAX_XML_BODY:
        raise CosError("MalformedXML", "The XML body is too large.")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise CosError("MalformedXML", "DTDs and entities are not allowed in request bodies.")
    try:
        elem = ET.fromstring(body)
    except ET.ParseError as exc:
        raise CosError("MalformedXML", f"The XML you provided was not well-formed: {exc}.") from None
    for node in elem.iter():
        if isinstance(node.tag, str) and "}" in node.tag:
            node.tag = node.tag.split("}", 1)[1]
    if root is not None and elem.tag != root:
        raise CosError("MalformedXML", f"Expected a <{root}> document, got <{elem.tag}>.")
    return elem


def child_text(elem: ET.Element, tag: str, default: str | None = None, *, strip: bool = True) -> str | None:
    """Text of the first ``tag`` child; ``strip=False`` for values that are exact (object keys)."""
    node = elem.find(tag)
    if node is None:
        return default
    return (node.text or "").strip() if strip else (node.text or "")
