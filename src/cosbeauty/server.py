"""Assemble the application from a config and run it under uvicorn."""

from __future__ import annotations

import logging
import os

from cosbeauty.accounts import Accounts, load_root_credentials
from cosbeauty.api.admin import PREFIX as ADMIN_PREFIX, AdminApi
from cosbeauty.api.app import CosApp
from cosbeauty.ci.setup import install as install_ci
from cosbeauty import health
from cosbeauty.config import ServerConfig
from cosbeauty.iam.crypto import SecretBox
from cosbeauty.iam.store import IamStore
from cosbeauty.storage import open_backend

log = logging.getLogger("cosbeauty")


def build_app(config: ServerConfig) -> CosApp:
    os.makedirs(config.data_dir, exist_ok=True)
    box = SecretBox.for_data_dir(config.data_dir, config.master_key_file)
    secret_id, secret_key, created = load_root_credentials(config.data_dir, box)
    backend = open_backend(config.data_dir, fsync=config.fsync, blobs=config.blobs,
                           blobs_endpoint=config.blobs_endpoint, metadata=config.metadata)
    store = IamStore(backend.db, box)      # sub-accounts share the backend's metadata database
    accounts = Accounts(config.appid, secret_id, secret_key, store)
    app = CosApp(config, backend, accounts)
    app.mount(ADMIN_PREFIX, AdminApi(app, store))
    app.services["root_created"] = created
    install_ci(app)
    from cosbeauty.console import mount_console
    mount_console(app)
    return app


def credentials_banner(config: ServerConfig, secret_id: str, secret_key: str) -> str:
    return f"""
cosbeauty: root credentials (shown once; stored sealed in {os.path.join(config.data_dir, 'credentials.json')}, mode 0600)
  SecretId:  {secret_id}
  SecretKey: {secret_key}

  from qcloud_cos import CosConfig, CosS3Client
  client = CosS3Client(CosConfig(Region={config.region!r}, SecretId={secret_id!r}, SecretKey={secret_key!r},
                                 IP={config.host!r}, Port={config.port}, Scheme='http',
                                 ServiceDomain='{config.host}:{config.port}'))
  client.create_bucket(Bucket='photos-{config.appid}')
"""


def serve(config: ServerConfig) -> None:
    from cosbeauty import http_server
    from cosbeauty.ci.pool import one_malloc_arena

    one_malloc_arena()      # before any thread exists: one malloc arena for all (ci/pool.py)

    logging.basicConfig(level=getattr(logging, config.log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_app(config)
    if app.services.get("root_created"):
        secret_id = app.accounts.root_access_key
        print(credentials_banner(config, secret_id, app.accounts.lookup_secret(secret_id)), flush=True)
    scheme = "https" if config.tls_cert else "http"
    print(f"cosbeauty: serving {os.path.abspath(config.data_dir)} on {scheme}://{config.host}:{config.port} "
          f"(APPID {config.appid}, region {config.region})", flush=True)
    app = health.install(app, metrics_public=config.metrics_public, drain_seconds=config.drain_seconds)
    http_server.run(app, config)      # uvicorn with limits, TLS, trusted proxies (cosbeauty.http_server)
