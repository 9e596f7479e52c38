"""The service's tables (SQLAlchemy 2.x), its engine, and schema migration at start.

The schema is owned by the Alembic migrations in ``service/migrations``; these models
describe the same tables for queries, and a test checks the two agree. SQLite runs in
WAL mode so job processes can record progress while the web server reads it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ApiKeyRow",
    "Base",
    "IntegrationRow",
    "JobFileRow",
    "JobRow",
    "make_engine",
    "migrate",
    "utcnow",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: Key of the PostgreSQL advisory lock that makes concurrent migrations take turns.
_MIGRATION_LOCK_KEY = 0x646963_6F6D_7363  # b"dicomsc" as a number; any fixed one would do


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of the service's tables."""


class ApiKeyRow(Base):
    """An API key: only its SHA-256 is stored; ``owner`` owns the jobs it submits."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class IntegrationRow(Base):
    """A storage integration; ``sealed_credentials`` is Fernet ciphertext."""

    __tablename__ = "integrations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    endpoint_url: Mapped[str | None] = mapped_column(String(2000))
    region: Mapped[str | None] = mapped_column(String(100))
    sealed_credentials: Mapped[str | None] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class JobRow(Base):
    """One de-identification job.

    ``state`` is ``pending``, ``running``, ``done``, ``error`` or ``cancelled``;
    ``payload`` is the validated request; ``timestamp`` is fixed at submission so a
    resumed job names its outputs as the interrupted run did.
    """

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # 64-bit for Unix times past 2038; SQLite's INTEGER already is (migration 0002).
    timestamp: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    total: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error_message: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    urls: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class JobFileRow(Base):
    """The report of one input of a job, persisted as soon as that input finishes."""

    __tablename__ = "job_files"
    __table_args__ = (UniqueConstraint("job_id", "url", name="uq_job_files_job_url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    report: Mapped[dict[str, Any]] = mapped_column(JSON)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the web server) and one writer (a job process) work at once;
    # NORMAL sync in WAL mode survives a killed process, which is what resume needs.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and WAL mode."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the database schema to the newest migration (idempotent)."""
    # Alembic is imported here: only the service needs it, not every importer of the models.
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        # Servers and `dicomscrub keys` starting at once against an empty database would
        # each create the tables, and all but one fail. Taking a lock held until the
        # transaction ends makes them take turns; the later ones find the schema at head.
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
            )
        elif connection.dialect.name == "sqlite":
            # The sqlite3 module opens no transaction before DDL: open one that holds
            # the write lock from its start (waiting up to the busy timeout for it).
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
