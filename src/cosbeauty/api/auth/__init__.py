"""Request authentication: COS signature v5 (header and pre-signed) and AWS SigV4 (header and pre-signed).

Contract used by the application (the rest of the HTTP layer never parses signatures itself):

    identity = authenticate(req, lookup_secret, now=time.time())

* ``req`` is a :class:`SignedRequest` built from the ASGI scope.
* ``lookup_secret(access_key) -> str | None`` returns the secret key (None: unknown key ->
  InvalidAccessKeyId).
* Returns an :class:`Identity`; ``Identity.anonymous`` is True when the request carries no
  signature at all. Raises :class:`cosbeauty.api.errors.CosError` (SignatureDoesNotMatch,
  AccessDenied for an expired COS signature, RequestTimeTooSkewed, InvalidAccessKeyId,
  AuthorizationQueryParametersError-style InvalidArgument...).
"""

from cosbeauty.api.auth.types import Identity, SignedRequest  # noqa: F401
from cosbeauty.api.auth.verify import authenticate  # noqa: F401
