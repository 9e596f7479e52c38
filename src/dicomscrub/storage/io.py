"""Read and atomically write one location, local or in an object store.

Local paths (and ``file://`` URLs) take a plain :mod:`os` path with no per-file
overhead; every other URL goes through :mod:`dicomscrub.storage.fs`.

Local writes are atomic (a temporary file renamed over the final name) but not flushed
to disk one by one: an ``fsync`` per output cost more than de-identifying the file (about
a millisecond each on the project machine), and no other DICOM tool pays it. The cost
is that a power failure can leave an output that the report called saved empty or cut
short; ``--resume`` (and a restarted service) therefore re-reads an earlier output
before trusting it (see :func:`dicomscrub.batch.runner.run_batch`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from dicomscrub.errors import ConfigError, StorageError
from dicomscrub.storage import fs
from dicomscrub.storage.integrations import Integration
from dicomscrub.storage.urls import Location, parse_location

__all__ = [
    "delete",
    "exists",
    "local_path",
    "open_read",
    "read_bytes",
    "remote_location",
    "same_location",
    "write_atomic",
    "write_atomic_file",
]


def local_path(url: str) -> Path | None:
    """The local path ``url`` names, or None when it is a remote URL."""
    if "://" not in url:
        return Path(url)
    if url.startswith("file://"):
        return Path(url[len("file://") :])
    return None


def remote_location(
    url: str, integration: Integration | None
) -> tuple[Location, Integration | None]:
    """Parse a remote ``url`` and pick the integration that applies to it.

    An integration of another kind does not apply to a plain ``https`` URL (a pre-signed
    URL in a list of ``s3://`` ones, say); for any other scheme a mismatch is an error.
    """
    endpoint = integration.endpoint_url if integration and integration.kind == "s3" else None
    loc = parse_location(url, endpoint_url=endpoint)
    if loc.scheme == "http" and integration is not None and integration.kind != "http":
        integration = None
    return loc, integration


def read_bytes(url: str, *, integration: Integration | None = None) -> bytes:
    """Return the whole content at ``url``."""
    path = local_path(url)
    if path is None:
        return fs.cat(*remote_location(url, integration))
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise StorageError(f"cannot open: {exc.strerror or exc}", url=url) from exc
    with fh:
        try:
            return fh.read()
        except OSError as exc:
            raise StorageError(f"cannot read: {exc.strerror or exc}", url=url) from exc


@contextlib.contextmanager
def open_read(url: str, *, integration: Integration | None = None) -> Iterator[BinaryIO]:
    """Open ``url`` for binary, seekable reading.

    Remote objects stream through a bounded read-ahead buffer (a few MiB), so a large
    file is never held in memory or on disk as a whole.
    """
    path = local_path(url)
    try:
        fh = path.open("rb") if path else fs.open_input(*remote_location(url, integration))
    except OSError as exc:
        if isinstance(exc, StorageError):
            raise
        raise StorageError(f"cannot open: {exc.strerror or exc}", url=url) from exc
    with fh:
        yield fh


def exists(url: str, *, integration: Integration | None = None) -> bool:
    """Whether an object or file is stored at ``url``."""
    path = local_path(url)
    if path is not None:
        return path.exists()
    found = fs.info(*remote_location(url, integration))
    return found is not None and found.get("type") != "directory"


def same_location(a: str, b: str) -> bool:
    """Whether two URLs name the same stored object (so writing one overwrites the other).

    Every URL form of one object counts as the same (``s3://b/k`` and
    ``https://b.s3.amazonaws.com/k``); a local path and a URL never do.
    """
    pa, pb = local_path(a), local_path(b)
    if pa is not None and pb is not None:
        sa, sb = _stat(pa), _stat(pb)
        if sa is not None and sb is not None:
            return os.path.samestat(sa, sb)
        if (sa is None) != (sb is None) and not _has_parent_step(pa) and not _has_parent_step(pb):
            # One exists and the other does not, and no ".." in a missing folder can lead
            # from one to the other: writing the missing one creates a new file.
            return False
        return os.path.realpath(pa) == os.path.realpath(pb)
    if pa is not None or pb is not None:
        return False
    try:
        la, lb = parse_location(a), parse_location(b)
    except ConfigError:
        return a == b
    if la.scheme == "az" and lb.scheme == "az" and None in (la.account, lb.account):
        # Without both accounts named, assume the same one: refusing is the safe side.
        return (la.bucket, la.key) == (lb.bucket, lb.key)
    return la.canonical() == lb.canonical()


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except (OSError, ValueError):
        return None


def _has_parent_step(path: Path) -> bool:
    return "/../" in f"/{path}/"


def _replace_via_temporary(path: Path, url: str, fill: Callable[[BinaryIO], object]) -> None:
    """Write a temporary file beside ``path`` with ``fill``, then rename it over ``path``:
    readers see the old file or the whole new one, never part of it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".dicomscrub-", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise StorageError(f"cannot write: {exc.strerror or exc}", url=url) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
        Path(tmp).replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise StorageError(f"cannot write: {exc.strerror or exc}", url=url) from exc


def _writable_remote(
    url: str, integration: Integration | None
) -> tuple[Location, Integration | None]:
    """The object ``url`` names, refusing read-only https URLs and prefixes."""
    loc, integ = remote_location(url, integration)
    if loc.scheme == "http":
        raise StorageError("cannot write: plain https URLs are read-only", url=url)
    if loc.is_prefix:
        raise StorageError("cannot write: the URL names a prefix, not an object", url=url)
    return loc, integ


def write_atomic(
    url: str, data: bytes | Sequence[bytes], *, integration: Integration | None = None
) -> None:
    """Write ``data`` (bytes, or pieces written in order) to ``url`` so that no reader
    ever sees a partial file or object.

    Locally the bytes go to a temporary file in the same folder, then it is renamed over
    the final name (not flushed to disk: see the module's docstring). In an object store
    the complete bytes are uploaded to the final key in one request (multipart for large
    objects), which becomes visible only when complete. Transient failures are retried
    with backoff; the last one raises :class:`StorageError` with ``retryable=True``.
    """
    parts = [data] if isinstance(data, bytes) else data
    path = local_path(url)
    if path is not None:
        _replace_via_temporary(path, url, lambda fh: fh.writelines(parts))
        return
    loc, integ = _writable_remote(url, integration)
    fs.pipe(loc, data if isinstance(data, bytes) else b"".join(parts), integ)


def _move_local(source: Path, path: Path, url: str) -> None:
    """Rename ``source`` over ``path``; across file systems, copy to a temporary there."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        source.replace(path)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise StorageError(f"cannot write: {exc.strerror or exc}", url=url) from exc
    with source.open("rb") as src:
        _replace_via_temporary(path, url, lambda out: shutil.copyfileobj(src, out, 2**20))


def write_atomic_file(
    url: str, source: str | os.PathLike[str], *, integration: Integration | None = None
) -> None:
    """Store the complete local file ``source`` at ``url``, never showing a partial one.

    For large outputs that are written to disk rather than held in memory. Locally
    ``source`` is renamed over the final name (put it in the same folder: elsewhere it is
    copied to a temporary file there first); it no longer exists afterwards. In an object
    store the file is uploaded from disk in parts (multipart for large objects, which the
    key shows only once completed) and ``source`` is left for the caller to delete.
    Retries and errors as :func:`write_atomic`.
    """
    src = Path(source)
    path = local_path(url)
    if path is not None:
        _move_local(src, path, url)
        return
    loc, integ = _writable_remote(url, integration)
    fs.put(loc, src, integ)


def delete(url: str, *, integration: Integration | None = None) -> None:
    """Remove the file or object at ``url``; one that is already gone is not an error."""
    path = local_path(url)
    if path is None:
        loc, integ = _writable_remote(url, integration)
        if fs.info(loc, integ) is not None:
            fs.remove(loc, integ)
        return
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot delete: {exc.strerror or exc}", url=url) from exc
