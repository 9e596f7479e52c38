"""The database: migrations create exactly the tables the models describe, idempotently."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from dicomscrub.service.db import Base, make_engine, migrate


def test_migrations_match_models_and_are_idempotent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'service.db'}")
    migrate(engine)
    migrate(engine)  # a second start changes nothing
    assert set(inspect(engine).get_table_names()) == {
        "alembic_version",
        "api_keys",
        "integrations",
        "jobs",
        "job_files",
    }
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'service.db'}")
    with engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"
    engine.dispose()
