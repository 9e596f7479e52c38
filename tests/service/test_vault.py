"""Sealed integration credentials: encrypted at rest, opened only with the same secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from dicomscrub.errors import ConfigError
from dicomscrub.service.vault import Vault, load_vault

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def test_seal_and_open_round_trip_without_plaintext(tmp_path: Path) -> None:
    vault = load_vault(tmp_path / "secret.key", env={})
    token = vault.seal({"secret_access_key": SECRET})
    assert SECRET not in token
    assert vault.open(token) == {"secret_access_key": SECRET}
    assert SECRET not in repr(vault)
    mode = stat.S_IMODE((tmp_path / "secret.key").stat().st_mode)
    assert mode == 0o600
    # The same file gives the same vault on the next start.
    assert load_vault(tmp_path / "secret.key", env={}).open(token)["secret_access_key"] == SECRET


def test_other_secret_cannot_open(tmp_path: Path) -> None:
    token = load_vault(tmp_path / "a.key", env={}).seal({"k": SECRET})
    other = load_vault(
        tmp_path / "b.key", env={"DICOMSCRUB_SECRET_KEY": Fernet.generate_key().decode()}
    )
    with pytest.raises(ConfigError, match="server secret has changed"):
        other.open(token)
    assert not (tmp_path / "b.key").exists()


def test_malformed_secret_is_config_error() -> None:
    with pytest.raises(ConfigError, match="not a Fernet key"):
        Vault(b"short")
