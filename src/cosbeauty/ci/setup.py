"""Wire the CI service into the application (called by ``server.build_app``)."""

from __future__ import annotations

from cosbeauty.ci.metering import Meter
from cosbeauty.ci.service import CiService
from cosbeauty.ci.usage_api import usage_app

USAGE_PREFIX = "/-/usage"


def install(app) -> CiService:
    service = CiService(app.config, Meter(app.backend.db))
    app.services["ci"] = service
    app.startup.append(service.warm)
    app.shutdown.append(service.close)
    app.mount(USAGE_PREFIX, usage_app(app))
    return service
