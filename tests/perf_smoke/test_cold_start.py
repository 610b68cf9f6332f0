"""Cold start: the server answers before its models are warm, and a beauty call that arrives
during the warm-up waits for it instead of failing. (The speed itself is measured by
bench/cold_start.py; tests make no timed assertions.)"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading

from cosbeauty.ci import service as service_mod
from cosbeauty.ci.metering import Meter
from cosbeauty.ci.service import CiService
from cosbeauty.config import ServerConfig
from cosbeauty.storage.sqlite import Database
from tests.ci.conftest import activate, decode, encode
from tests.conftest import cos_client, new_bucket, running_server

HEAVY = ("cv2", "numpy", "mediapipe", "PIL")


def test_server_and_cli_import_no_image_library():
    code = ("import sys, cosbeauty.server, cosbeauty.cli; cosbeauty.cli.build_parser(); "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported at start-up: {out.stdout.strip()}"


def test_warm_up_runs_in_background_and_first_job_waits_for_it(tmp_path, monkeypatch):
    gate, warmed = threading.Event(), []

    def slow_warm() -> None:
        assert gate.wait(30)
        warmed.append(threading.current_thread().name)

    monkeypatch.setattr(service_mod, "_warm_thread", slow_warm)
    db = Database(str(tmp_path / "meta.sqlite3"))
    svc = CiService(ServerConfig(ci_workers=2, ci_queue=4), Meter(db))

    async def scenario() -> list[str]:
        await asyncio.wait_for(svc.warm(), 1)           # start-up hook returns at once
        job = asyncio.ensure_future(svc.pool.run(lambda: len(warmed)))
        await asyncio.sleep(0.05)
        assert not job.done(), "a job ran before the warm-up"
        gate.set()
        seen = await asyncio.wait_for(job, 30)
        await svc.ready()
        await svc.close()
        return [seen]

    try:
        assert asyncio.run(scenario()) == [2]             # both threads were warm before the job ran
    finally:
        db.close()


def test_beauty_call_right_after_start_is_answered():
    from skimage import data as skdata
    face_jpeg = encode(skdata.astronaut(), ".jpg")
    with running_server("cosbeauty-cold-") as srv:
        cos = cos_client(srv.port)
        bucket = new_bucket(cos, "cold")
        activate(srv.data_dir, bucket)
        cos.put_object(Bucket=bucket, Key="a.jpg", Body=face_jpeg)
        body = cos.ci_process(Bucket=bucket, Key="a.jpg", CiProcess="AIFaceBeauty")
        assert decode(body).shape == decode(face_jpeg).shape
        assert "Traceback" not in srv.log()
