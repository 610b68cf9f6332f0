"""Cloud Infinite endpoints (ci-process, Pic-Operations, image_process). Not built yet."""

from __future__ import annotations

from cosbeauty.api.context import Ctx
from cosbeauty.api.errors import CosError


async def _not_yet(ctx: Ctx):
    raise CosError("NotImplemented", "Cloud Infinite processing is not available in this build.")

get_processed = get_detect_url = image_process = put_with_pic_operations = _not_yet
