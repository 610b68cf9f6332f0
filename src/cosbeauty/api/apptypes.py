"""What request handling needs from the application object, as a type.

:class:`cosbeauty.api.context.Ctx` holds the app; typing it as this protocol instead of
``app.CosApp`` keeps api/context.py and api/app.py from importing each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from cosbeauty.accounts import Accounts
    from cosbeauty.config import ServerConfig
    from cosbeauty.storage import Backend


class App(Protocol):
    config: "ServerConfig"
    backend: "Backend"
    accounts: "Accounts"
    authorizer: object           # cosbeauty.api.policy.Authorizer
    services: dict[str, object]  # shared helpers (ci worker pool, metering, ...)
