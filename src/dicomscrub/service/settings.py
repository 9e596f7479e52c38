"""Service settings: defaults, then a TOML file, then ``DICOMSCRUB_*`` variables, then flags.

::

    # dicomscrub-service.toml (every key optional; a [service] table works too)
    host = "0.0.0.0"
    port = 8000
    data_dir = "/var/lib/dicomscrub"          # the SQLite file and the server secret
    database_url = "postgresql+psycopg://user@db/dicomscrub"
    secret_key_file = "/etc/dicomscrub/server-secret"   # Fernet key sealing credentials
    key_file = "/etc/dicomscrub/key"          # the hashing key, as for the CLI
    job_processes = 2                          # jobs running at once
    job_workers = 1                            # worker processes inside one job
    max_poll_seconds = 60
    log_level = "info"

The environment variable of a setting is ``DICOMSCRUB_`` + its name in upper case
(``DICOMSCRUB_DATABASE_URL``); ``DICOMSCRUB_SERVICE_CONFIG`` names the TOML file. The
server secret itself may be given as ``DICOMSCRUB_SECRET_KEY``. The hashing key is found
exactly as the CLI finds it (:func:`dicomscrub.keys.resolve_key`).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from dicomscrub.errors import ConfigError

__all__ = ["CONFIG_ENV", "ENV_PREFIX", "ServiceSettings", "default_data_dir", "load_settings"]

ENV_PREFIX: Final = "DICOMSCRUB_"
CONFIG_ENV: Final = "DICOMSCRUB_SERVICE_CONFIG"
DATA_DIR_ENV: Final = "DICOMSCRUB_DATA_DIR"


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the service keeps its SQLite file and secret unless told otherwise."""
    environ = os.environ if env is None else env
    override = environ.get(DATA_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    # Imported here so importing the service settings does not need platformdirs.
    import platformdirs

    return Path(platformdirs.user_data_dir("dicomscrub")) / "service"


@dataclass(frozen=True)
class ServiceSettings:
    """Everything ``dicomscrub serve`` and ``dicomscrub keys`` need; picklable for workers."""

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str | None = None
    secret_key_file: Path | None = None
    key_file: Path | None = None
    job_processes: int = 2
    job_workers: int = 1
    max_poll_seconds: float = 60.0
    log_level: str = "info"

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"setting 'port' must be between 0 and 65535, not {self.port}")
        if self.job_processes < 1:
            raise ConfigError("setting 'job_processes' must be at least 1")
        if self.job_workers < 1:
            raise ConfigError("setting 'job_workers' must be at least 1")
        if not 0 < self.max_poll_seconds <= 600:
            raise ConfigError("setting 'max_poll_seconds' must be in (0, 600]")
        if self.log_level.lower() not in {"critical", "error", "warning", "info", "debug"}:
            raise ConfigError(f"setting 'log_level' is not a log level: {self.log_level!r}")

    @property
    def effective_database_url(self) -> str:
        """The database URL: the configured one, or a SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'service.db'}"

    @property
    def effective_secret_key_file(self) -> Path:
        """The file holding the Fernet key that seals integration credentials."""
        return self.secret_key_file or self.data_dir / "server-secret.key"


_TYPES: Final[dict[str, type]] = {
    "host": str,
    "port": int,
    "data_dir": Path,
    "database_url": str,
    "secret_key_file": Path,
    "key_file": Path,
    "job_processes": int,
    "job_workers": int,
    "max_poll_seconds": float,
    "log_level": str,
}


def _convert(name: str, raw: object, source: str) -> Any:
    kind = _TYPES[name]
    try:
        if kind is Path:
            if not isinstance(raw, str | Path) or not str(raw).strip():
                raise ValueError
            return Path(str(raw)).expanduser()
        if kind is int:
            if isinstance(raw, bool) or not isinstance(raw, int | str):
                raise ValueError
            return int(raw)
        if kind is float:
            if isinstance(raw, bool) or not isinstance(raw, int | float | str):
                raise ValueError
            return float(raw)
        if not isinstance(raw, str):
            raise ValueError
        return raw
    except ValueError:
        raise ConfigError(
            f"setting {name!r} from {source} must be a {kind.__name__.lower()}"
        ) from None


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"service configuration file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read service configuration {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"service configuration {path} is not valid TOML: {exc}") from None
    table = data.get("service", data) if set(data) <= {"service"} else data
    if not isinstance(table, dict):
        raise ConfigError(f"service configuration {path}: [service] must be a table")
    unknown = sorted(set(table) - set(_TYPES))
    if unknown:
        raise ConfigError(
            f"service configuration {path}: unknown setting(s) {unknown}; known: {sorted(_TYPES)}"
        )
    return {name: _convert(name, value, str(path)) for name, value in table.items()}


def load_settings(
    overrides: Mapping[str, object | None] | None = None,
    *,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> ServiceSettings:
    """Build the settings: defaults < TOML file < environment < ``overrides`` (flags).

    ``overrides`` values that are ``None`` are ignored (a flag that was not given).
    """
    environ = os.environ if env is None else env
    values: dict[str, Any] = {}
    config = config_file or (Path(environ[CONFIG_ENV]) if environ.get(CONFIG_ENV) else None)
    if config is not None:
        values.update(_from_toml(Path(config).expanduser()))
    for name in _TYPES:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None and raw.strip():
            values[name] = _convert(name, raw.strip(), ENV_PREFIX + name.upper())
    for name, value in (overrides or {}).items():
        if name not in _TYPES:
            raise ConfigError(f"unknown service setting {name!r}")
        if value is not None:
            values[name] = _convert(name, value, f"--{name.replace('_', '-')}")
    if "data_dir" not in values:
        values["data_dir"] = default_data_dir(environ)
    return dataclasses.replace(ServiceSettings(data_dir=values["data_dir"]), **values)
