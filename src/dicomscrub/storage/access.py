"""Check that a location can be read or written before a job touches any file."""

from __future__ import annotations

import glob
import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from dicomscrub.errors import ConfigError, StorageError
from dicomscrub.storage import fs
from dicomscrub.storage.inputs import LIST_SUFFIXES, parse_list
from dicomscrub.storage.integrations import Integration
from dicomscrub.storage.io import local_path, remote_location
from dicomscrub.storage.urls import Location

__all__ = ["PROBE_PREFIX", "check_access"]

#: Name prefix of the probe object written by ``check_access(..., probe=True)``; hidden
#: (leading dot), so inputs listing skips one left behind by a crash.
PROBE_PREFIX = ".dicomscrub-probe-"


def _check_local_read(path: Path, url: str, integration: Integration | None) -> None:
    if glob.has_magic(str(path)) and not path.exists():
        # The user's glob string, as typed: Path.glob takes no absolute patterns.
        if not glob.glob(str(path), recursive=True):  # noqa: PTH207
            raise ConfigError(f"no file matches {url!r}")
        return
    if not path.exists():
        raise ConfigError(f"input not found: {url!r}")
    if not os.access(path, os.R_OK):
        raise ConfigError(f"input not readable: {url!r}")
    if path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
        _check_listed_roots(path, integration)


def _check_listed_roots(path: Path, integration: Integration | None) -> None:
    """Check each bucket a local list file names once, not each of its objects."""
    items = parse_list(path.read_text(encoding="utf-8"), str(path), path.suffix == ".json")
    seen: set[tuple[str, str]] = set()
    for item in items:
        if local_path(item) is not None:
            continue
        loc, _ = remote_location(item, integration)
        where = urlsplit(item).netloc if loc.scheme == "http" else loc.bucket
        if (loc.scheme, where) not in seen:
            seen.add((loc.scheme, where))
            root = item if loc.scheme == "http" else _bucket_url(loc)
            check_access(root, integration=integration, write=False)


def _bucket_url(loc: Location) -> str:
    if loc.account:
        return f"az://{loc.bucket}@{loc.account}.blob.core.windows.net/"
    return f"{loc.scheme}://{loc.bucket}/"


def _check_local_write(path: Path, url: str) -> None:
    if path.exists() and not path.is_dir():
        raise ConfigError(f"output location is a file, not a folder: {url!r}")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"output location not writable: {url!r}")


def _reason(exc: StorageError) -> str:
    if "access denied" in str(exc.args[0]):
        return "access denied (check the integration's credentials)"
    if exc.retryable:
        return f"unreachable ({exc.args[0]})"
    return str(exc.args[0])


def _probe(loc: Location, integration: Integration | None) -> None:
    folder = loc if loc.is_prefix else loc.parent()
    probe = folder.child(f"{PROBE_PREFIX}{uuid.uuid4().hex}")
    fs.pipe(probe, b"dicomscrub write probe\n", integration)
    fs.remove(probe, integration)


def check_access(
    url: str, *, integration: Integration | None = None, write: bool, probe: bool = False
) -> None:
    """Raise :class:`ConfigError` unless ``url`` can be read (or written, with ``write``).

    Checked: the URL's scheme is supported and its backend installed, the integration
    suits it, the credentials are accepted, the bucket or container exists, and (reading)
    something is stored at the URL. For a local list file, each bucket it names is
    checked. ``probe`` also writes and deletes a small hidden object, the only proof that
    writing is allowed. When outputs go beside the sources, check each source with
    ``write=True``.
    """
    path = local_path(url)
    if path is not None:
        if write:
            _check_local_write(path, url)
        else:
            _check_local_read(path, url, integration)
        return
    loc, integ = remote_location(url, integration)
    if loc.scheme == "http" and write:
        raise ConfigError(f"plain https URLs are read-only: {url!r}")
    fs.filesystem(loc, integ)
    try:
        if loc.scheme == "http":
            if fs.info(loc, integ) is None:
                raise ConfigError(f"input not found: {url!r}")
            return
        bucket = Location(loc.scheme, loc.bucket, "", loc.account)
        if fs.info(bucket, integ) is None:
            raise ConfigError(f"bucket or container {loc.bucket!r} not found ({url})")
        if not write and loc.key and not glob.has_magic(loc.key) and fs.info(loc, integ) is None:
            raise ConfigError(f"input not found: {url!r}")
        if probe:
            _probe(loc, integ)
    except StorageError as exc:
        raise ConfigError(f"cannot access {url}: {_reason(exc)}") from exc
