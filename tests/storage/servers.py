"""Real object-store servers on 127.0.0.1 for the tests: moto (S3), Azurite, GCS emulator.

Each is a context manager yielding a :class:`Server` with an :class:`Integration` that
reaches it, plus a flaky HTTP proxy that fails the first N requests with 503.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dicomscrub.storage.integrations import Integration

REPO = Path(__file__).resolve().parents[2]
AZURITE_BIN = REPO / ".cache" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
#: Azurite's well-known development account (documented, not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
MOTO_KEY = "testing-key-id"
MOTO_SECRET = "testing-secret-value"


@dataclass
class Server:
    """A running server: its endpoint, an integration for it, and a way to stop it."""

    endpoint: str
    integration: Integration
    handle: Any = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def s3_integration(endpoint: str, name: str = "moto") -> Integration:
    return Integration(
        name=name,
        kind="s3",
        endpoint_url=endpoint,
        region="us-east-1",
        credentials={"access_key_id": MOTO_KEY, "secret_access_key": MOTO_SECRET},
    )


@contextlib.contextmanager
def moto_server(port: int = 0) -> Iterator[Server]:
    """moto in server mode, in this process (its buckets live as long as the process)."""
    import logging

    from moto.server import ThreadedMotoServer

    # werkzeug logs every request at INFO, and the CLI under test configures logging.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    endpoint = f"http://{host}:{bound}"
    try:
        yield Server(endpoint, s3_integration(endpoint), server)
    finally:
        server.stop()


@contextlib.contextmanager
def moto_subprocess(env: dict[str, str]) -> Iterator[Server]:
    """moto as a separate process, for settings it reads once at import (auth enforcement)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        endpoint = f"http://127.0.0.1:{port}"
        yield Server(endpoint, s3_integration(endpoint), proc)
    finally:
        proc.terminate()
        proc.wait(10)


def create_bucket(server: Server, bucket: str) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=MOTO_KEY,
        aws_secret_access_key=MOTO_SECRET,
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=bucket)


def seed_objects(bucket: str, keys: list[str], body: bytes) -> None:
    """Store many objects straight into the in-process moto backend (HTTP PUTs are slow).

    Only for setting up data: what the tests exercise (listing, reading) goes over HTTP.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for key in keys:
        backend.put_object(bucket, key, body)


def count_objects(bucket: str, prefix: str) -> int:
    """How many objects the in-process moto backend holds under ``prefix``."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    keys = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets[bucket].keys
    return sum(1 for key in list(keys) if key.startswith(prefix))


class StaticServer:
    """A plain HTTP file server on 127.0.0.1 serving ``folder``."""

    def __init__(self, folder: Path) -> None:
        handler = partial(_QuietFiles, directory=str(folder))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StaticServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def azurite_available() -> bool:
    return AZURITE_BIN.exists() and shutil.which("node") is not None


@contextlib.contextmanager
def azurite_server() -> Iterator[Server]:
    """Azurite's blob service (Node), storing in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="azurite-"))
    log_path = folder / "azurite.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                str(AZURITE_BIN),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                "0",
                "--location",
                str(folder),
                "--skipApiVersionCheck",
                "--loose",
                "--disableTelemetry",
                "--silent",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            found = re.search(r"listens on http://127\.0\.0\.1:(\d+)", log_path.read_text())
            if found:
                port = int(found.group(1))
            elif proc.poll() is not None:
                raise RuntimeError(f"azurite exited: {log_path.read_text()[-500:]}")
            else:
                time.sleep(0.1)
        if port is None:
            raise RuntimeError("azurite did not start within 30 s")
        endpoint = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
        integration = Integration(
            name="azurite",
            kind="azure",
            endpoint_url=endpoint,
            credentials={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY},
        )
        yield Server(endpoint, integration, proc)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def gcs_emulator(default_bucket: str) -> Iterator[Server]:
    """gcp-storage-emulator, in memory, in a thread of this process."""
    import logging

    from gcp_storage_emulator.server import create_server

    # The emulator logs every request at INFO; keep test output readable.
    logging.getLogger("gcp_storage_emulator").setLevel(logging.WARNING)
    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket=default_bucket)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    integration = Integration(name="gcs-emu", kind="gcs", endpoint_url=endpoint, anonymous=True)
    try:
        yield Server(endpoint, integration, server)
    finally:
        server.stop()


class FlakyProxy:
    """An HTTP proxy to ``upstream`` that answers 503 to the first ``failures`` requests."""

    def __init__(self, upstream: str, failures: int) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.failures = failures
        self.requests = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy.lock:
                    proxy.requests += 1
                    fail = proxy.requests <= proxy.failures
                if fail:
                    payload = b"<Error><Code>ServiceUnavailable</Code></Error>"
                    self.send_response(503)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(proxy.upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = proxy.upstream
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            # http.server dispatches on do_<METHOD>: the names are its, not ours.
            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FlakyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
