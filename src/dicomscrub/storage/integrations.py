"""Named storage integrations: which cloud, where, and with which credentials.

An integration is stored once (``dicomscrub integrations add``) in
``<config dir>/integrations.toml`` and named on each job (``--integration NAME``). The
config dir is ``platformdirs.user_config_dir("dicomscrub")`` unless the environment
variable ``DICOMSCRUB_CONFIG_DIR`` names another; the file is written with mode 0600
because it may hold secrets.

A credential is given directly (``credentials``), by the name of an environment variable
read when the integration is used (``credentials_env``), or through a cloud profile
(``profile``, S3 only: a section of ``~/.aws/credentials``). Secrets never appear in
``repr``, ``str``, :func:`describe_integration` or any error message.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import platformdirs
import tomli_w

from dicomscrub.errors import ConfigError

__all__ = [
    "CONFIG_DIR_ENV",
    "CREDENTIAL_NAMES",
    "KINDS",
    "Integration",
    "config_dir",
    "describe_integration",
    "integrations_path",
    "load_integration",
    "load_integrations",
    "remove_integration",
    "save_integration",
    "storage_options",
]

#: Environment variable overriding the folder holding ``integrations.toml``.
CONFIG_DIR_ENV: Final = "DICOMSCRUB_CONFIG_DIR"

#: The kinds of integration and the credential names each accepts.
CREDENTIAL_NAMES: Final[Mapping[str, tuple[str, ...]]] = {
    "s3": ("access_key_id", "secret_access_key", "session_token"),
    "gcs": ("service_account_json", "service_account_file"),
    "azure": (
        "connection_string",
        "account_name",
        "account_key",
        "sas_token",
        "tenant_id",
        "client_id",
        "client_secret",
    ),
    "http": ("bearer_token",),
}
KINDS: Final = tuple(CREDENTIAL_NAMES)

#: The URL scheme (see :mod:`dicomscrub.storage.urls`) each kind serves.
SCHEME_OF_KIND: Final[Mapping[str, str]] = {"s3": "s3", "gcs": "gs", "azure": "az", "http": "http"}


@dataclass(frozen=True)
class Integration:
    """A named storage configuration.

    ``kind`` is ``"s3"``, ``"gcs"``, ``"azure"`` or ``"http"``. ``endpoint_url`` points
    at an S3-compatible store (MinIO, Ceph, ...), an emulator, or an Azure blob endpoint.
    ``credentials`` maps credential names (:data:`CREDENTIAL_NAMES`) to secrets and never
    appears in ``repr``; ``credentials_env`` maps credential names to the environment
    variables holding them; ``profile`` names an AWS profile; ``anonymous`` reads public
    buckets without signing.
    """

    name: str
    kind: str
    endpoint_url: str | None = None
    region: str | None = None
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    credentials_env: Mapping[str, str] = field(default_factory=dict)
    profile: str | None = None
    anonymous: bool = False

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError("integration names use letters, digits, '-' and '_' only")
        if self.kind not in CREDENTIAL_NAMES:
            raise ConfigError(
                f"integration {self.name!r}: unknown kind {self.kind!r}; known: {list(KINDS)}"
            )
        allowed = CREDENTIAL_NAMES[self.kind]
        unknown = sorted((set(self.credentials) | set(self.credentials_env)) - set(allowed))
        if unknown:
            raise ConfigError(
                f"integration {self.name!r}: unknown credential name(s) {unknown} for kind "
                f"{self.kind!r}; known: {list(allowed)}"
            )
        if self.profile and self.kind != "s3":
            raise ConfigError(f"integration {self.name!r}: a profile is only for kind 's3'")
        if self.endpoint_url and not self.endpoint_url.startswith(("http://", "https://")):
            raise ConfigError(f"integration {self.name!r}: endpoint_url must be http(s)://")

    @property
    def scheme(self) -> str:
        """The URL scheme this integration serves (``s3``, ``gs``, ``az`` or ``http``)."""
        return SCHEME_OF_KIND[self.kind]


def config_dir() -> Path:
    """The folder holding dicomscrub's user configuration."""
    override = os.environ.get(CONFIG_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_config_dir("dicomscrub"))


def integrations_path() -> Path:
    """The TOML file holding the named integrations."""
    return config_dir() / "integrations.toml"


def _from_table(name: str, table: Mapping[str, Any], path: Path) -> Integration:
    try:
        return Integration(
            name=name,
            kind=str(table["kind"]),
            endpoint_url=table.get("endpoint_url"),
            region=table.get("region"),
            credentials=dict(table.get("credentials", {})),
            credentials_env=dict(table.get("credentials_env", {})),
            profile=table.get("profile"),
            anonymous=bool(table.get("anonymous", False)),
        )
    except ConfigError:
        raise
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"{path}: integration {name!r} is malformed") from None


def _to_table(integration: Integration) -> dict[str, Any]:
    table: dict[str, Any] = {"kind": integration.kind}
    for key in ("endpoint_url", "region", "profile"):
        value = getattr(integration, key)
        if value:
            table[key] = value
    if integration.anonymous:
        table["anonymous"] = True
    if integration.credentials:
        table["credentials"] = dict(integration.credentials)
    if integration.credentials_env:
        table["credentials_env"] = dict(integration.credentials_env)
    return table


def load_integrations(path: Path | None = None) -> dict[str, Integration]:
    """Every stored integration by name (none when the file does not exist yet)."""
    path = path or integrations_path()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        # The file may hold secrets: name the file and the error class, never its text.
        raise ConfigError(f"{path}: cannot read integrations ({type(exc).__name__})") from None
    tables = raw.get("integrations", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: [integrations] must be a table")
    return {name: _from_table(name, table, path) for name, table in sorted(tables.items())}


def load_integration(name: str, *, path: Path | None = None) -> Integration:
    """The integration called ``name``; a :class:`ConfigError` when there is none."""
    found = load_integrations(path)
    if name not in found:
        known = ", ".join(found) or "none registered"
        raise ConfigError(f"unknown integration {name!r} (known: {known})")
    return found[name]


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically by a file only its owner can read."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".integrations-", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        Path(tmp).replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise


def _store(found: Mapping[str, Integration], path: Path) -> None:
    doc = {"integrations": {name: _to_table(found[name]) for name in sorted(found)}}
    try:
        _write_private(path, tomli_w.dumps(doc))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write integrations ({exc.strerror})") from None


def save_integration(
    integration: Integration, *, replace: bool = False, path: Path | None = None
) -> None:
    """Store ``integration``; an existing one of that name is a ConfigError unless ``replace``."""
    path = path or integrations_path()
    found = load_integrations(path)
    if integration.name in found and not replace:
        raise ConfigError(f"integration {integration.name!r} exists (use --replace)")
    found[integration.name] = integration
    _store(found, path)


def remove_integration(name: str, *, path: Path | None = None) -> None:
    """Forget the integration called ``name``; a ConfigError when there is none."""
    path = path or integrations_path()
    found = load_integrations(path)
    if name not in found:
        raise ConfigError(f"unknown integration {name!r}")
    del found[name]
    _store(found, path)


def describe_integration(integration: Integration) -> dict[str, Any]:
    """A view of ``integration`` that is safe to print or return: no secret values.

    Direct credentials show as ``"set"``, environment ones as ``"env:VARIABLE"``.
    """
    creds = dict.fromkeys(integration.credentials, "set")
    creds.update({name: f"env:{var}" for name, var in integration.credentials_env.items()})
    return {
        "name": integration.name,
        "kind": integration.kind,
        "endpoint_url": integration.endpoint_url,
        "region": integration.region,
        "profile": integration.profile,
        "anonymous": integration.anonymous,
        "credentials": dict(sorted(creds.items())),
    }


def _resolve_credentials(integration: Integration) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, var in integration.credentials_env.items():
        value = os.environ.get(var)
        if value is None:
            raise ConfigError(
                f"integration {integration.name!r}: environment variable {var} "
                f"(for {name}) is not set"
            )
        values[name] = value
    values.update(integration.credentials)
    return values


def _s3_options(integration: Integration, creds: Mapping[str, str]) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for ours, theirs in (
        ("access_key_id", "key"),
        ("secret_access_key", "secret"),
        ("session_token", "token"),
    ):
        if ours in creds:
            opts[theirs] = creds[ours]
    if integration.profile:
        opts["profile"] = integration.profile
    if integration.anonymous:
        opts["anon"] = True
    if integration.endpoint_url:
        opts["endpoint_url"] = integration.endpoint_url
    if integration.region:
        opts["client_kwargs"] = {"region_name": integration.region}
    return opts


def _gcs_options(integration: Integration, creds: Mapping[str, str]) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if "service_account_json" in creds:
        try:
            opts["token"] = json.loads(creds["service_account_json"])
        except json.JSONDecodeError:
            raise ConfigError(
                f"integration {integration.name!r}: service_account_json is not JSON"
            ) from None
    elif "service_account_file" in creds:
        opts["token"] = creds["service_account_file"]
    elif integration.anonymous:
        opts["token"] = "anon"
    if integration.endpoint_url:
        opts["endpoint_url"] = integration.endpoint_url
    return opts


def _azure_options(integration: Integration, creds: Mapping[str, str]) -> dict[str, Any]:
    opts: dict[str, Any] = dict(creds)
    if integration.anonymous:
        opts["anon"] = True
    endpoint = integration.endpoint_url
    if endpoint and "connection_string" not in creds:
        # adlfs only takes an https host; a connection string carries any blob endpoint
        # (Azurite, sovereign clouds) together with the account's key or SAS.
        account = creds.get("account_name", "")
        parts = [f"AccountName={account}", f"BlobEndpoint={endpoint}"]
        if "account_key" in creds:
            parts.insert(0, f"DefaultEndpointsProtocol={endpoint.split(':', 1)[0]}")
            parts.append(f"AccountKey={creds['account_key']}")
        elif "sas_token" in creds:
            parts.append(f"SharedAccessSignature={creds['sas_token'].lstrip('?')}")
        opts["connection_string"] = ";".join(parts) + ";"
    return opts


def _http_options(integration: Integration, creds: Mapping[str, str]) -> dict[str, Any]:
    if "bearer_token" in creds:
        return {"client_kwargs": {"headers": {"Authorization": f"Bearer {creds['bearer_token']}"}}}
    return {}


def storage_options(integration: Integration) -> dict[str, Any]:
    """The fsspec ``storage_options`` for ``integration``, secrets resolved.

    A credential named by an unset environment variable is a :class:`ConfigError`.
    The result holds secrets: pass it to the file system and nowhere else.
    """
    creds = _resolve_credentials(integration)
    build = {
        "s3": _s3_options,
        "gcs": _gcs_options,
        "azure": _azure_options,
        "http": _http_options,
    }[integration.kind]
    return build(integration, creds)
