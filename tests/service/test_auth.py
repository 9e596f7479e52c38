"""API keys: shown once, stored hashed, revocable; the ``keys`` command's exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dicomscrub.errors import ConfigError
from dicomscrub.service.auth import authenticate, create_key, list_keys, revoke_key
from dicomscrub.service.db import ApiKeyRow, make_engine, migrate


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    eng = make_engine(f"sqlite:///{tmp_path / 'service.db'}")
    migrate(eng)
    yield eng
    eng.dispose()


def test_key_is_stored_hashed_and_authenticates(engine) -> None:  # type: ignore[no-untyped-def]
    info, key = create_key(engine, "alice")
    assert authenticate(engine, key) == "alice"
    with Session(engine) as session:
        stored = session.scalars(select(ApiKeyRow)).one()
    assert key not in (stored.key_hash, stored.id, stored.owner)
    assert key.split("_")[-1] not in stored.key_hash
    assert authenticate(engine, key + "x") is None
    assert authenticate(engine, "not-a-key") is None
    assert [k.owner for k in list_keys(engine)] == ["alice"]
    revoke_key(engine, info.id)
    assert authenticate(engine, key) is None
    assert list_keys(engine)[0].revoked


def test_revoke_by_whole_key_and_unknown_id(engine) -> None:  # type: ignore[no-untyped-def]
    _info, key = create_key(engine, "bob")
    assert revoke_key(engine, key).owner == "bob"
    with pytest.raises(ConfigError, match="no API key"):
        revoke_key(engine, "0000")
    with pytest.raises(ConfigError, match="--name"):
        create_key(engine, "  ")


def _keys(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DICOMSCRUB_")}
    return subprocess.run(
        [sys.executable, "-m", "dicomscrub.cli.main", "keys", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_keys_command_create_list_revoke(tmp_path: Path) -> None:
    created = _keys(tmp_path, "create", "--name", "carol")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("dsk_")
    assert "shown only this once" in created.stderr
    listed = _keys(tmp_path, "list")
    assert listed.returncode == 0
    assert "carol\tactive" in listed.stdout
    assert key not in listed.stdout + listed.stderr
    key_id = listed.stdout.split("\t")[0]
    assert _keys(tmp_path, "revoke", key_id).returncode == 0
    assert "carol\trevoked" in _keys(tmp_path, "list").stdout
    assert _keys(tmp_path, "revoke", "ffff").returncode == 2
