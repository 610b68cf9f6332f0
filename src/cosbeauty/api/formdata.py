"""A bounded, streaming multipart/form-data reader (browser form uploads, POST Object).

Fields are read whole (each at most ``field_limit`` bytes); the file part is streamed chunk by
chunk so an upload of any size never sits in memory. Every malformed body is MalformedPOSTRequest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import AsyncIterator

from cosbeauty.api.errors import CosError

MAX_PART_HEAD = 16 * 1024
MAX_PREAMBLE = 16 * 1024
_PARAM = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


def bad(message: str) -> CosError:
    return CosError("MalformedPOSTRequest", message)


def boundary_of(content_type: str) -> bytes:
    kind, _, rest = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        raise bad("POST Object needs a multipart/form-data body.")
    params = {m[1].lower(): (m[2] if m[2] is not None else m[3]) for m in _PARAM.finditer(";" + rest)}
    boundary = params.get("boundary", "")
    if not 1 <= len(boundary) <= 70:
        raise bad("The multipart/form-data boundary is missing or too long.")
    return boundary.encode("latin-1")


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None


class FormReader:
    def __init__(self, source: AsyncIterator[bytes], boundary: bytes) -> None:
        self._src = source.__aiter__()
        self._buf = bytearray()
        self._delim = b"\r\n--" + boundary
        self._first = b"--" + boundary
        self._done = False
        self._started = False

    async def _fill(self) -> bool:
        try:
            chunk = await self._src.__anext__()
        except StopAsyncIteration:
            return False
        self._buf += chunk
        return True

    async def _need(self, n: int) -> None:
        while len(self._buf) < n:
            if not await self._fill():
                raise bad("The form data ends early.")

    async def _after_delimiter(self) -> None:
        await self._need(2)
        if self._buf[:2] == b"--":
            self._done = True
            return
        if self._buf[:2] != b"\r\n":
            raise bad("A multipart boundary is not followed by CRLF.")
        del self._buf[:2]

    async def next_part(self) -> Part | None:
        if not self._started:
            self._started = True
            while (i := self._buf.find(self._first)) < 0:
                if len(self._buf) > MAX_PREAMBLE or not await self._fill():
                    raise bad("The form data does not start with its boundary.")
            del self._buf[:i + len(self._first)]
            await self._after_delimiter()
        if self._done:
            return None
        while (end := self._buf.find(b"\r\n\r\n")) < 0:
            if len(self._buf) > MAX_PART_HEAD or not await self._fill():
                raise bad("A form part's headers are too long or incomplete.")
        try:        # strict: replacement characters would make different keys collide
            head = bytes(self._buf[:end]).decode("utf-8")
        except UnicodeDecodeError:
            raise bad("A form part's headers are not valid UTF-8.") from None
        del self._buf[:end + 4]
        name = filename = ctype = None
        for line in head.split("\r\n"):
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key == "content-disposition":
                kind, _, rest = value.partition(";")
                if kind.strip().lower() != "form-data":
                    raise bad("A form part is not form-data.")
                params = {m[1].lower(): (m[2] if m[2] is not None else m[3]) for m in _PARAM.finditer(";" + rest)}
                name, filename = params.get("name"), params.get("filename")
            elif key == "content-type":
                ctype = value.strip()
        if name is None:
            raise bad("A form part has no name.")
        return Part(name, filename, ctype)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The current part's body, as it arrives; then moves past its closing boundary."""
        keep = len(self._delim)
        while True:
            i = self._buf.find(self._delim)
            if i >= 0:
                if i:
                    yield bytes(self._buf[:i])
                del self._buf[:i + len(self._delim)]
                await self._after_delimiter()
                return
            if len(self._buf) > keep:
                out = bytes(self._buf[:len(self._buf) - keep])
                del self._buf[:len(out)]
                yield out
            if not await self._fill():
                raise bad("The form data ends inside a part.")

    async def read_field(self, limit: int) -> str:
        data = bytearray()
        async for chunk in self.chunks():
            data += chunk
            if len(data) > limit:
                raise bad(f"A form field is longer than {limit} bytes.")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise bad("A form field is not valid UTF-8.") from None
