"""Seal and open integration credentials with the server secret (Fernet).

The secret comes from ``DICOMSCRUB_SECRET_KEY`` or a key file, generated once (mode
0600) when missing. Opened credentials live only in memory of the job process that
needs them; they are never returned by the API nor logged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from cryptography.fernet import Fernet, InvalidToken

from dicomscrub.errors import ConfigError

__all__ = ["SECRET_ENV", "Vault", "load_vault"]

SECRET_ENV: Final = "DICOMSCRUB_SECRET_KEY"


class Vault:
    """Encrypts and decrypts credential mappings; its ``repr`` shows no key."""

    def __init__(self, secret: bytes) -> None:
        try:
            self._fernet = Fernet(secret)
        except ValueError:
            raise ConfigError(
                "the server secret is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None

    def __repr__(self) -> str:
        return "Vault(<sealed>)"

    def seal(self, credentials: Mapping[str, str]) -> str:
        """Encrypt ``credentials`` into a token safe to store."""
        plain = json.dumps(dict(credentials), sort_keys=True).encode("utf-8")
        return self._fernet.encrypt(plain).decode("ascii")

    def open(self, token: str) -> dict[str, str]:
        """Decrypt a token made by :meth:`seal`; ConfigError if the secret changed."""
        try:
            plain = self._fernet.decrypt(token.encode("ascii"))
        except InvalidToken:
            raise ConfigError(
                "stored credentials cannot be decrypted: the server secret has changed"
            ) from None
        data = json.loads(plain)
        return {str(k): str(v) for k, v in data.items()}


def _create_secret(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first; both use that one
    try:
        os.write(fd, Fernet.generate_key() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)


def load_vault(secret_file: Path, env: Mapping[str, str] | None = None) -> Vault:
    """The vault of ``DICOMSCRUB_SECRET_KEY``, else of ``secret_file`` (created if missing)."""
    environ = os.environ if env is None else env
    given = environ.get(SECRET_ENV, "").strip()
    if given:
        return Vault(given.encode("ascii"))
    try:
        if not secret_file.exists():
            _create_secret(secret_file)
        secret = secret_file.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(
            f"cannot read or create the server secret {secret_file}: {exc.strerror}"
        ) from None
    return Vault(secret)
