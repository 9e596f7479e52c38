"""Real servers for service and client tests: `dicomscrub serve` in a subprocess, moto S3."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from pydicom.data import get_testdata_file

from dicomscrub.service.auth import create_key, revoke_key
from dicomscrub.service.db import make_engine, migrate

#: A fixed hashing key, so runs are deterministic and nothing is generated in $HOME.
TEST_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
STARTUP_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServiceProcess:
    """One ``dicomscrub serve`` subprocess and where its state and logs live."""

    data_dir: Path
    log_path: Path
    port: int
    job_processes: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'service.db'}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DICOMSCRUB_")}
        env.update(
            DICOMSCRUB_KEY=TEST_KEY,
            DICOMSCRUB_DATA_DIR=str(self.data_dir),
            DICOMSCRUB_CONFIG_DIR=str(self.data_dir / "config"),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dicomscrub.cli.main",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--job-processes",
                str(self.job_processes),
                "--log-level",
                "info",
            ],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start in time")

    def kill(self) -> None:
        """kill -9 the server process (its job processes die with it)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def new_key(self, owner: str) -> str:
        engine = make_engine(self.database_url)
        try:
            migrate(engine)
            return create_key(engine, owner)[1]
        finally:
            engine.dispose()

    def revoke(self, key: str) -> None:
        engine = make_engine(self.database_url)
        try:
            revoke_key(engine, key)
        finally:
            engine.dispose()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_service(tmp: Path, **kwargs: object) -> ServiceProcess:
    service = ServiceProcess(
        data_dir=tmp / "data", log_path=tmp / "server.log", port=free_port(), **kwargs
    )  # type: ignore[arg-type]
    service.start()
    return service


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A server shared by the tests of one module."""
    proc = start_service(tmp_path_factory.mktemp("service"))
    yield proc
    proc.stop()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def copy_examples(
    folder: Path, names: tuple[str, ...] = ("CT_small.dcm", "MR_small.dcm")
) -> list[str]:
    """Copy pydicom's example files into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        target = folder / name
        shutil.copy(get_testdata_file(name), target)
        paths.append(str(target))
    return paths


@dataclass
class S3Server:
    """moto's S3-compatible server on loopback, with the credentials it accepts."""

    endpoint_url: str
    access_key_id: str = "testing-access-key"
    secret_access_key: str = "testing-secret-access-key-DO-NOT-LEAK-7f3a9c"

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name="us-east-1",
        )


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(endpoint_url=f"http://{host}:{port}")
    finally:
        server.stop()
