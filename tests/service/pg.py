"""A throwaway PostgreSQL server for the service tests, and `dicomscrub serve` against it.

The session fixture :func:`postgres` runs ``initdb`` into a temporary folder and starts the
server on 127.0.0.1 and a free port with trust authentication, so nothing outside the
test run is touched. PostgreSQL refuses to run as root: when the tests run as root the
binaries run as the ``postgres`` user the Debian package creates. Without the binaries
(Debian package ``postgresql``) or the driver (``psycopg``) the tests are skipped.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.service.servers import ServiceProcess, free_port

APT_PACKAGE = "postgresql"
SYSTEM_USER = "postgres"
DATABASE = "dicomscrub"


def find_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<ver>/bin`` with a server, or one on $PATH."""
    found = []
    for pg_ctl in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"):
        version = pg_ctl.parent.parent.name
        if version.isdigit():
            found.append((int(version), pg_ctl.parent))
    if found:
        return max(found)[1]
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


@dataclass
class PostgresServer:
    """A running throwaway server; :meth:`new_database` gives each test a clean database."""

    bin_dir: Path
    root: Path
    port: int
    run_as: list[str] = field(default_factory=list)

    def url(self, database: str = DATABASE) -> str:
        """The SQLAlchemy URL of ``database`` (psycopg 3 driver, trust auth on loopback)."""
        return f"postgresql+psycopg://{SYSTEM_USER}@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run one of the server's binaries (as the postgres user when we are root)."""
        command = [*self.run_as, str(self.bin_dir / args[0]), *args[1:]]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        data = self.root / "data"
        self.run(
            "initdb",
            "-D",
            str(data),
            "-U",
            SYSTEM_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        # fsync off: a crash of this server loses nothing we need; it only costs time.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self.run(
            "pg_ctl",
            "-D",
            str(data),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-o",
            options,
            "start",
        )
        self.create_database(DATABASE)

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=SYSTEM_USER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')

    def new_database(self) -> str:
        """Create an empty database; returns its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.create_database(name)
        return self.url(name)

    def log_text(self) -> str:
        return (self.root / "server.log").read_text(errors="replace")


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        pytest.skip(
            f"running as root and there is no {SYSTEM_USER!r} user to run PostgreSQL as; "
            f"apt-get install -y {APT_PACKAGE}"
        )
    return ["runuser", "-u", SYSTEM_USER, "--"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole test session, removed at its end."""
    pytest.importorskip("psycopg", reason="the PostgreSQL driver: pip install 'psycopg[binary]'")
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip(f"PostgreSQL server binaries not found; apt-get install -y {APT_PACKAGE}")
    run_as = _run_as()
    root = Path(tempfile.mkdtemp(prefix="dicomscrub-pg-"))
    if run_as:
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = PostgresServer(bin_dir=bin_dir, root=root, port=free_port(), run_as=run_as)
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        log = root / "server.log"
        detail = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{detail}") from exc
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """The URL of a new, empty database on the session's server."""
    return postgres.new_database()


@dataclass
class PostgresServiceProcess(ServiceProcess):
    """``dicomscrub serve`` whose state lives in PostgreSQL (``DICOMSCRUB_DATABASE_URL``)."""

    pg_database_url: str = ""

    @property
    def database_url(self) -> str:
        return self.pg_database_url

    def env(self) -> dict[str, str]:
        env = super().env()
        env["DICOMSCRUB_DATABASE_URL"] = self.pg_database_url
        return env


def start_pg_service(tmp: Path, database_url: str, **kwargs: object) -> PostgresServiceProcess:
    """Start ``dicomscrub serve`` on a free port with its state in ``database_url``."""
    service = PostgresServiceProcess(
        data_dir=tmp / "data",
        log_path=tmp / "server.log",
        port=free_port(),
        pg_database_url=database_url,
        **kwargs,  # type: ignore[arg-type]
    )
    service.start()
    return service
