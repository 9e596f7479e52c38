"""API keys: shown once, stored hashed, revocable; the ``keys`` command's exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dicomscrub.cli.main import main
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


def _keys(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["keys", *args, "--data-dir", str(data_dir)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_keys_command_create_list_revoke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _keys(capsys, tmp_path, "create", "--name", "carol")
    assert code == 0, err
    key = out.strip()
    assert key.startswith("dsk_")
    assert "shown only this once" in err
    code, listed, err = _keys(capsys, tmp_path, "list")
    assert code == 0
    assert "carol\tactive" in listed
    assert key not in listed + err
    key_id = listed.split("\t")[0]
    assert _keys(capsys, tmp_path, "revoke", key_id)[0] == 0
    assert "carol\trevoked" in _keys(capsys, tmp_path, "list")[1]
    code, _out, err = _keys(capsys, tmp_path, "revoke", "ffff")
    assert code == 2
    assert "no API key" in err
