"""The one module that imports fsspec: object-store backends behind a small typed API.

Backends are registered by URL scheme (:data:`BACKENDS`), each naming the package that
provides it and the extra that installs it; a missing package is a :class:`ConfigError`
saying ``pip install 'dicomscrub[s3]'``. Every call goes through
:func:`~dicomscrub.storage.retry.call_with_retries`, the boundary where library errors
become :class:`StorageError`. Local paths never come here (see :mod:`.io`).

Without an integration each cloud reads its standard environment: ``AWS_*`` (including
``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_S3`` and ``AWS_PROFILE``),
``GOOGLE_APPLICATION_CREDENTIALS`` (and ``STORAGE_EMULATOR_HOST``),
``AZURE_STORAGE_CONNECTION_STRING`` (or ``AZURE_STORAGE_ACCOUNT_NAME``/``_KEY``).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final

from dicomscrub.errors import ConfigError, StorageError
from dicomscrub.storage.integrations import Integration, storage_options
from dicomscrub.storage.retry import call_with_retries, storage_errors
from dicomscrub.storage.urls import Location

if TYPE_CHECKING:
    from fsspec.spec import AbstractFileSystem

__all__ = [
    "BACKENDS",
    "Backend",
    "cat",
    "filesystem",
    "find",
    "glob",
    "info",
    "list_one",
    "open_input",
    "pipe",
    "remove",
]

#: Read-ahead block of streamed inputs: each GET fetches this much, and memory per open
#: remote file is a small multiple of it. Small enough that reading only a header (the
#: runner's first pass) does not fetch much more than the header.
READ_BLOCK_SIZE: Final = 2 * 2**20
#: Environment variables whose value changes which client a scheme gets.
_ENV_KEYS: Final = {
    "s3": ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_PROFILE"),
    "gs": ("STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS"),
    "az": ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_NAME"),
    "http": (),
}


@dataclass(frozen=True)
class Backend:
    """An fsspec implementation serving one URL scheme."""

    scheme: str
    protocol: str
    package: str
    install: str

    def is_available(self) -> bool:
        """Whether the package this backend needs is importable."""
        return importlib.util.find_spec(self.package) is not None


#: Backends by :class:`~dicomscrub.storage.urls.Location` scheme.
BACKENDS: Final[dict[str, Backend]] = {
    "s3": Backend("s3", "s3", "s3fs", "pip install 'dicomscrub[s3]'"),
    "gs": Backend("gs", "gcs", "gcsfs", "pip install 'dicomscrub[gcs]'"),
    "az": Backend("az", "abfs", "adlfs", "pip install 'dicomscrub[azure]'"),
    "http": Backend("http", "https", "aiohttp", "pip install aiohttp"),
}

_GCS_EMULATOR: Final = "STORAGE_EMULATOR_HOST"
_clients: dict[str, AbstractFileSystem] = {}
_clients_pid = os.getpid()


def _env_options(scheme: str) -> dict[str, Any]:
    if scheme == "s3":
        # Passed explicitly so it works whatever the installed botocore makes of it.
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        return {"endpoint_url": endpoint} if endpoint else {}
    return {}


def _options(loc: Location, integration: Integration | None) -> dict[str, Any]:
    if integration is not None and integration.scheme != loc.scheme:
        raise ConfigError(
            f"integration {integration.name!r} is for {integration.scheme}:// URLs, "
            f"not {loc.scheme}://"
        )
    opts = storage_options(integration) if integration else _env_options(loc.scheme)
    if loc.scheme == "s3":
        if loc.region and "client_kwargs" not in opts:
            opts["client_kwargs"] = {"region_name": loc.region}
        # One retry policy (ours): botocore's and s3fs's own retries would multiply it.
        opts.setdefault(
            "config_kwargs",
            {"retries": {"total_max_attempts": 1, "mode": "standard"}, "connect_timeout": 10},
        )
    # Listings are not cached: workers in other processes write objects this one checks.
    opts.setdefault("use_listings_cache", False)
    if loc.scheme == "az" and loc.account and "connection_string" not in opts:
        opts.setdefault("account_name", loc.account)
    return opts


def _make_client(backend: Backend, opts: dict[str, Any]) -> AbstractFileSystem:
    # Imported on first remote use: fsspec takes ~0.1 s to import, and a local job (or
    # each of its worker processes) never needs it.
    import fsspec

    if backend.scheme == "gs" and (opts.get("endpoint_url") or os.environ.get(_GCS_EMULATOR)):
        # gcsfs's default class first asks a gRPC control API for the bucket's layout; an
        # emulator has none (a 60 s timeout per bucket), and plain buckets need no layout.
        core = importlib.import_module("gcsfs.core")
        plain: AbstractFileSystem = core.GCSFileSystem(skip_instance_cache=True, **opts)
        return plain
    client: AbstractFileSystem = fsspec.filesystem(
        backend.protocol, skip_instance_cache=True, **opts
    )
    return client


def filesystem(loc: Location, integration: Integration | None = None) -> AbstractFileSystem:
    """The (cached, per process) fsspec file system serving ``loc``."""
    global _clients_pid
    backend = BACKENDS.get(loc.scheme)
    if backend is None:
        raise ConfigError(f"no object-store backend for {loc.scheme!r} locations")
    if not backend.is_available():
        raise ConfigError(
            f"{loc.scheme}:// URLs need the {backend.package} package: {backend.install}"
        )
    opts = _options(loc, integration)
    env = tuple(os.environ.get(k) for k in _ENV_KEYS[loc.scheme])
    key = json.dumps([backend.protocol, opts, env], sort_keys=True, default=str)
    if os.getpid() != _clients_pid:
        # A forked worker must not share the parent's event loop and connections.
        _clients.clear()
        _clients_pid = os.getpid()
    client = _clients.get(key)
    if client is None:
        try:
            client = _make_client(backend, opts)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"cannot configure {loc.scheme}:// storage: {exc}") from None
        if loc.scheme == "s3":
            client.retries = 1  # s3fs's own retry loop: a class attribute, not an option
        _clients[key] = client
    return client


def cat(loc: Location, integration: Integration | None = None) -> bytes:
    """The whole object at ``loc``."""
    fs = filesystem(loc, integration)
    # s3fs would first HEAD every object to split large ones into concurrent ranged GETs;
    # DICOM files are mostly far below its 50 MiB block, so one GET is a request less.
    kwargs = {"max_concurrency": 1} if loc.scheme == "s3" else {}
    data = call_with_retries(
        lambda: fs.cat_file(loc.path, **kwargs), url=loc.canonical(), what="read"
    )
    return bytes(data)


def pipe(loc: Location, data: bytes, integration: Integration | None = None) -> None:
    """Store ``data`` at ``loc`` in one request (multipart above the backend's threshold).

    The object appears under its key only when the upload completes, so no reader sees
    part of it.
    """
    fs = filesystem(loc, integration)
    call_with_retries(lambda: fs.pipe_file(loc.path, data), url=loc.canonical(), what="write")


def put(loc: Location, source: Path, integration: Integration | None = None) -> None:
    """Upload the local file ``source`` to ``loc`` from disk (multipart for large files);
    like :func:`pipe`, the object appears under its key only when the upload completes."""
    fs = filesystem(loc, integration)
    call_with_retries(lambda: fs.put_file(str(source), loc.path), url=loc.canonical(), what="write")


def info(loc: Location, integration: Integration | None = None) -> dict[str, Any] | None:
    """Metadata of the object or prefix at ``loc`` (``type`` is file or directory), or None."""
    fs = filesystem(loc, integration)

    def _info() -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = fs.info(loc.path.rstrip("/"))
        except FileNotFoundError:
            return None
        return found

    return call_with_retries(_info, url=loc.canonical(), what="stat")


def remove(loc: Location, integration: Integration | None = None) -> None:
    """Delete the object at ``loc``."""
    fs = filesystem(loc, integration)
    call_with_retries(lambda: fs.rm_file(loc.path), url=loc.canonical(), what="delete")


def _relative(found: list[str], root: str) -> list[str]:
    prefix = root.rstrip("/") + "/"
    return [p[len(prefix) :] for p in found if p.startswith(prefix) and not p.endswith("/")]


def find(loc: Location, integration: Integration | None = None) -> list[str]:
    """Every object key below the prefix ``loc``, recursively, sorted, relative to it.

    The backends page through the listing (S3: 1,000 keys a request).
    """
    fs = filesystem(loc, integration)
    root = loc.path.rstrip("/")
    found = call_with_retries(lambda: fs.find(root), url=loc.canonical(), what="list")
    return sorted(_relative([str(p) for p in found], root))


def glob(loc: Location, root: Location, integration: Integration | None = None) -> list[str]:
    """Object keys matching the glob ``loc``, relative to the prefix ``root``."""
    fs = filesystem(loc, integration)
    found = call_with_retries(lambda: fs.glob(loc.path), url=loc.canonical(), what="list")
    return sorted(_relative([str(p) for p in found], root.path))


def list_one(loc: Location, integration: Integration | None = None) -> list[str]:
    """At most one entry directly below the prefix ``loc`` (a cheap access check)."""
    fs = filesystem(loc, integration)

    def _ls() -> list[str]:
        return [str(p) for p in fs.ls(loc.path.rstrip("/"), detail=False)[:1]]

    return call_with_retries(_ls, url=loc.canonical(), what="list")


class _GuardedReader(io.RawIOBase):
    """A remote file whose library errors surface as :class:`StorageError`."""

    def __init__(self, raw: Any, url: str) -> None:
        super().__init__()
        self._raw = raw
        self._url = url

    @property
    def name(self) -> str:
        """The URL, as ``open()`` files carry their path (pydicom reads ``.name``)."""
        return self._url

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = call_with_retries(lambda: self._raw.read(len(view)), url=self._url, what="read")
        view[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return int(self._raw.seek(offset, whence))

    def tell(self) -> int:
        return int(self._raw.tell())

    def close(self) -> None:
        if not self.closed:
            try:
                self._raw.close()
            except storage_errors():
                # Closing a read handle has nothing left to lose; the data was read.
                pass
        super().close()


class _RangeReader(io.RawIOBase):
    """Seekable reads of an object by ranged GETs of one block, with no HEAD first.

    fsspec's files ask for the object's size (a HEAD) before the first read. A DICOM file
    is usually smaller than one block, so the first ranged GET returns all of it and
    tells its size by coming back short: one request instead of two. The size is asked
    for only when a read goes past a full first block, or a seek is from the end.
    """

    def __init__(self, fs: AbstractFileSystem, loc: Location) -> None:
        super().__init__()
        self._fs = fs
        self._path = loc.path
        self._url = loc.canonical()
        self._pos = 0
        self._size: int | None = None
        self._start = 0
        self._block = b""

    @property
    def name(self) -> str:
        """The URL, as ``open()`` files carry their path (pydicom reads ``.name``)."""
        return self._url

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def _object_size(self) -> int:
        if self._size is None:
            found = call_with_retries(lambda: self._fs.info(self._path), url=self._url, what="stat")
            self._size = int(found["size"])
        return self._size

    def _fetch(self, start: int) -> None:
        if start > 0:
            # A range starting at the end is an error (HTTP 416), not an empty read.
            self._object_size()
        if self._size is not None and start >= self._size:
            self._start, self._block = start, b""
            return
        end = start + READ_BLOCK_SIZE
        try:
            data = call_with_retries(
                lambda: self._fs.cat_file(self._path, start=start, end=end),
                url=self._url,
                what="read",
            )
        except StorageError:
            # An empty object has no byte 0: S3 answers a range on it with 416.
            if start == 0 and not self._size and self._object_size() == 0:
                data = b""
            else:
                raise
        self._start, self._block = start, bytes(data)
        if len(self._block) < READ_BLOCK_SIZE:
            self._size = start + len(self._block)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        offset = self._pos - self._start
        if not 0 <= offset < len(self._block):
            self._fetch(self._pos)
            offset = 0
        chunk = self._block[offset : offset + len(view)]
        view[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        else:
            self._pos = self._object_size() + offset
        if self._pos < 0:
            raise ValueError("negative seek position")
        return self._pos

    def tell(self) -> int:
        return self._pos


def open_input(loc: Location, integration: Integration | None = None) -> BinaryIO:
    """Open ``loc`` for streamed, seekable reading through a bounded buffer.

    Object stores are read by ranged GETs of :data:`READ_BLOCK_SIZE`; plain https goes
    through fsspec's file (which copes with servers that ignore ranges).
    """
    fs = filesystem(loc, integration)
    if loc.scheme != "http":
        return io.BufferedReader(_RangeReader(fs, loc), buffer_size=256 * 1024)
    raw = call_with_retries(
        lambda: fs.open(loc.path, "rb", block_size=READ_BLOCK_SIZE, cache_type="readahead"),
        url=loc.canonical(),
        what="open",
    )
    return io.BufferedReader(_GuardedReader(raw, loc.canonical()), buffer_size=256 * 1024)
