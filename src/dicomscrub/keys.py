"""Where the hashing key comes from: a key file, the environment, or one generated once.

The key seeds every keyed transformation (UID remapping, date shifts, pseudonyms), so
the same key gives the same output in every run and on every machine that shares it.
:func:`resolve_key` looks, in order, at:

1. an explicit key file (``--key-file``);
2. ``DICOMSCRUB_KEY``: the key itself, as text. Hex (an even number of hex digits) or
   padded base64 is decoded when that gives at least 16 bytes; any other text is used
   as its UTF-8 bytes, of which there must be at least 16;
3. ``DICOMSCRUB_KEY_FILE``: the path of a key file;
4. ``key`` in the user's configuration folder (``platformdirs.user_config_dir
   ("dicomscrub")``, or ``DICOMSCRUB_CONFIG_DIR``, or the ``config_dir`` argument),
   generated on first use: 32 random bytes written as hex, mode 0600, created with
   ``O_EXCL`` so two processes starting together agree on one key.

A key file holds the key as text in the same forms as ``DICOMSCRUB_KEY`` (surrounding
whitespace ignored). Messages and reprs never include key material; the ``fingerprint``
(first 12 hex digits of SHA-256 of the key) lets people tell keys apart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dicomscrub.errors import ConfigError

__all__ = [
    "CONFIG_DIR_ENV",
    "KEY_ENV",
    "KEY_FILE_ENV",
    "KEY_FILE_NAME",
    "MIN_KEY_BYTES",
    "ResolvedKey",
    "default_config_dir",
    "resolve_key",
]

KEY_ENV = "DICOMSCRUB_KEY"
KEY_FILE_ENV = "DICOMSCRUB_KEY_FILE"
CONFIG_DIR_ENV = "DICOMSCRUB_CONFIG_DIR"
KEY_FILE_NAME = "key"
MIN_KEY_BYTES = 16
_GENERATED_KEY_BYTES = 32


@dataclass(frozen=True)
class ResolvedKey:
    """The hashing key and where it came from; ``repr`` shows the fingerprint only."""

    key: bytes = field(repr=False)
    origin: str
    generated: bool = False

    @property
    def fingerprint(self) -> str:
        """First 12 hex digits of SHA-256(key): names the key without revealing it."""
        return hashlib.sha256(self.key).hexdigest()[:12]

    def __repr__(self) -> str:
        return (
            f"ResolvedKey(origin={self.origin!r}, generated={self.generated}, "
            f"fingerprint={self.fingerprint!r})"
        )


def default_config_dir(env: Mapping[str, str] | None = None) -> Path:
    """The folder holding the generated key: ``DICOMSCRUB_CONFIG_DIR`` or the platform's."""
    environ = os.environ if env is None else env
    override = environ.get(CONFIG_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    # platformdirs is imported here so that importing dicomscrub does not need it.
    import platformdirs

    return Path(platformdirs.user_config_dir("dicomscrub"))


def resolve_key(
    key_file: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_dir: Path | None = None,
) -> ResolvedKey:
    """Find the hashing key (see the module docstring for the order).

    Raises :class:`ConfigError` for a key file that is missing, unreadable, empty or
    shorter than 16 bytes, and for a ``DICOMSCRUB_KEY`` shorter than 16 bytes.
    """
    environ = os.environ if env is None else env
    if key_file is not None:
        return _from_file(Path(key_file), origin=f"file {key_file}")
    env_key = environ.get(KEY_ENV)
    if env_key is not None and env_key.strip():
        return ResolvedKey(
            key=_decode(env_key, source=f"environment {KEY_ENV}"), origin=f"environment {KEY_ENV}"
        )
    env_file = environ.get(KEY_FILE_ENV, "").strip()
    if env_file:
        path = Path(env_file).expanduser()
        return _from_file(path, origin=f"file {path} (from {KEY_FILE_ENV})")
    folder = config_dir if config_dir is not None else default_config_dir(environ)
    return _generated_or_existing(Path(folder) / KEY_FILE_NAME)


def _decode(text: str, *, source: str) -> bytes:
    """Turn the textual form of a key into bytes (hex, then base64, then UTF-8)."""
    stripped = text.strip()
    # A decoding counts only if it yields a full-length key: a 16-character passphrase
    # that happens to be valid base64 must not shrink to 12 bytes and be refused.
    decoded = [k for k in (_try_hex(stripped), _try_base64(stripped)) if k is not None]
    key = next((k for k in decoded if len(k) >= MIN_KEY_BYTES), stripped.encode("utf-8"))
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"the key from {source} is too short: {len(key)} bytes, at least "
            f"{MIN_KEY_BYTES} are required"
        )
    return key


def _try_hex(text: str) -> bytes | None:
    if len(text) % 2:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def _try_base64(text: str) -> bytes | None:
    # Only padded, well-formed base64 whose length is a multiple of 4: plain passphrases
    # rarely look like that, and decoding them would silently shorten the key.
    if len(text) % 4 or not text:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _from_file(path: Path, *, origin: str) -> ResolvedKey:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"key file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"key file {path} cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # A binary key file: its bytes are the key.
        text = None
    if text is None:
        key = raw
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(
                f"key file {path} is too short: {len(key)} bytes, at least "
                f"{MIN_KEY_BYTES} are required"
            )
        return ResolvedKey(key=key, origin=origin)
    if not text.strip():
        raise ConfigError(f"key file {path} is empty")
    return ResolvedKey(key=_decode(text, source=f"key file {path}"), origin=origin)


def _generated_or_existing(path: Path) -> ResolvedKey:
    """Read the key at ``path``, creating it first (exactly once) if it does not exist."""
    if path.exists():
        return _from_file(path, origin=f"file {path}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(f"cannot create the key folder {path.parent}: {exc.strerror}") from None
    material = secrets.token_bytes(_GENERATED_KEY_BYTES).hex().encode("ascii") + b"\n"
    try:
        created = _create_exclusively(path, material)
    except OSError as exc:
        raise ConfigError(f"cannot create the key file {path}: {exc.strerror}") from None
    if not created:
        # Another process created it first: everyone uses that one key.
        return _from_file(path, origin=f"file {path}")
    key = _decode(material.decode("ascii"), source=f"key file {path}")
    return ResolvedKey(key=key, origin=f"generated {path}", generated=True)


def _create_exclusively(path: Path, material: bytes) -> bool:
    """Create ``path`` holding ``material`` (mode 0600) unless it exists; True if created.

    The key is written under a private temporary name and then hard-linked to ``path``:
    link() fails when the name exists, like ``O_EXCL``, and the key appears complete, so
    a concurrent reader never sees a half-written file. Where hard links are not
    supported, ``path`` itself is opened with ``O_EXCL``.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    _write_new(tmp, material)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    except OSError:
        try:
            _write_new(path, material)
        except FileExistsError:
            return False
    finally:
        tmp.unlink(missing_ok=True)
    return True


def _write_new(path: Path, material: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, material)
        os.fsync(fd)
    finally:
        os.close(fd)
