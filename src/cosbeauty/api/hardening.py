"""Objects cannot attack the console (or anything else on this origin).

Objects are served inline with the uploader's Content-Type, path-style on the same origin as
``/console``, whose signing keys live in that origin's sessionStorage. So every response of the
COS API (object bodies, CI results, listings, errors) carries:

* ``X-Content-Type-Options: nosniff`` -- a browser never second-guesses the declared type into
  HTML or script;
* ``Content-Security-Policy: sandbox; default-src 'none'; ...`` -- a document opened from an
  object (HTML, SVG, XML) runs in a unique opaque origin without scripts, forms, plugins or
  navigation of its opener, and loads nothing. Images and media shown on their own and inline
  styles still render. The policy does not touch a page on another origin that embeds or fetches
  the object (CSP applies to the document that the response becomes, not to subresources).

The mounted sub-apps (console, admin and usage APIs, health and metrics) get the same two headers
through :func:`hardened_send` wherever they do not set their own (the console's pages carry a
stricter policy of their own that lets its scripts run).
"""

from __future__ import annotations

from starlette.responses import Response

OBJECT_CSP = "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"


def harden(response: Response) -> None:
    """Add the headers above to a COS API response."""
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["content-security-policy"] = OBJECT_CSP


_RAW = ((b"x-content-type-options", b"nosniff"), (b"content-security-policy", OBJECT_CSP.encode()))


def hardened_send(send):
    """Wrap an ASGI ``send`` so a response gets the headers above unless it sets them itself."""
    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            present = {bytes(name).lower() for name, _ in headers}
            missing = [(name, value) for name, value in _RAW if name not in present]
            if missing:
                message = {**message, "headers": headers + missing}
        await send(message)
    return wrapped
