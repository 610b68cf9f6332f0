"""CI fixtures: a second server (loopback allowed for detect-url, one worker and no queue, so it
also saturates easily), a loopback image server, test images and activated buckets."""

from __future__ import annotations

import http.server
import threading

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from cosbeauty.cli import main as cli_main
from tests import conftest
from tests.conftest import cos_client, running_server


def encode(rgb: np.ndarray, ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def decode(data: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None, "not a decodable image"
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return skdata.astronaut()


@pytest.fixture(scope="session")
def face_jpeg(astronaut) -> bytes:
    return encode(astronaut, ".jpg")


@pytest.fixture(scope="session")
def face_png(astronaut) -> bytes:
    return encode(astronaut, ".png")


def activate(data_dir: str, bucket: str, *steps: str) -> None:
    for step in steps or ("bind", "enable-ai"):
        assert cli_main(["ci", step, bucket, "--data-dir", data_dir]) == 0


def new_bucket(cos, prefix: str = "ci") -> str:
    return conftest.new_bucket(cos, prefix)


@pytest.fixture
def ci_bucket(cos, server) -> str:
    name = new_bucket(cos)
    activate(server.data_dir, name)
    return name


@pytest.fixture(scope="session")
def aux_server():
    with running_server("cosbeauty-ci-", ["--detect-url-allow", "127.0.0.1", "--ci-workers", "1",
                                         "--ci-queue", "0"]) as srv:
        yield srv


@pytest.fixture(scope="session")
def aux_cos(aux_server):
    return cos_client(aux_server.port)


@pytest.fixture
def aux_bucket(aux_cos, aux_server) -> str:
    name = new_bucket(aux_cos, "aux")
    activate(aux_server.data_dir, name)
    return name


class ImageServer:
    """Loopback HTTP: /face.jpg, /to-face (302 to /face.jpg), /to-other-loopback (302 to 127.0.0.2)."""

    def __init__(self, image: bytes) -> None:
        image_bytes = image

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                port = self.server.server_address[1]
                redirects = {"/to-face": "/face.jpg", "/to-other-loopback": f"http://127.0.0.2:{port}/face.jpg",
                             "/to-mapped-loopback": f"http://[::ffff:127.0.0.2]:{port}/face.jpg"}
                if self.path in redirects:
                    self.send_response(302)
                    self.send_header("Location", redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path == "/face.jpg":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(len(image_bytes)))
                    self.end_headers()
                    self.wfile.write(image_bytes)
                else:
                    self.send_error(404)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="session")
def image_server(face_jpeg):
    srv = ImageServer(face_jpeg)
    yield srv
    srv.httpd.shutdown()
