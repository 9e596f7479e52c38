"""Parse a location string into a :class:`Location`: scheme, bucket, key.

Every form a user may paste names one of five schemes:

=========  ==========================================================================
``file``   a local path or ``file://`` URL
``s3``     ``s3://b/k``, ``https://s3.<region>.amazonaws.com/b/k`` (path style),
           ``https://b.s3.<region>.amazonaws.com/k`` and ``https://b.s3.amazonaws.com/k``
           (virtual-hosted style), and ``https://<endpoint>/b/k`` under an S3-compatible
           integration's ``endpoint_url``
``gs``     ``gs://b/k``, ``gcs://b/k``, ``https://storage.googleapis.com/b/k``
``az``     ``az://container/blob``, ``abfs[s]://container/blob``,
           ``abfs[s]://container@<account>.dfs.core.windows.net/blob`` and
           ``https://<account>.blob.core.windows.net/container/blob``
``http``   any other ``http(s)://`` URL, and any URL with a query string (a pre-signed
           URL only works as it was signed): read-only
=========  ==========================================================================

Keys in HTTPS forms are percent-decoded, as the services decode them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dicomscrub.errors import ConfigError

__all__ = ["SCHEMES", "Location", "parse_location"]

#: The schemes a :class:`Location` can have.
SCHEMES = ("file", "s3", "gs", "az", "http")

_S3_PATH_HOST = re.compile(r"^s3(?:[.-]dualstack)?(?:[.-]([a-z0-9-]+))?\.amazonaws\.com$")
_S3_VHOST = re.compile(r"^(.+?)\.s3(?:[.-]dualstack)?(?:[.-]([a-z0-9-]+))?\.amazonaws\.com$")
_GCS_HOSTS = ("storage.googleapis.com", "storage.cloud.google.com")
_GCS_VHOST = re.compile(r"^(.+)\.storage\.googleapis\.com$")
_AZ_HOST = re.compile(r"^([a-z0-9]+)\.(?:blob|dfs)\.core\.windows\.net$")
_NATIVE = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gs",
    "gcs": "gs",
    "az": "az",
    "abfs": "az",
    "abfss": "az",
}


@dataclass(frozen=True)
class Location:
    """Where one object (or prefix) lives.

    ``bucket`` is the bucket or container (empty for ``file`` and ``http``); ``key`` is
    the object key, or the local path for ``file``, or the whole URL for ``http``.
    ``account`` is the Azure storage account when the URL names one; ``region`` the AWS
    region when the URL names one.
    """

    scheme: str
    bucket: str
    key: str
    account: str | None = None
    region: str | None = None

    @property
    def path(self) -> str:
        """The path fsspec expects: ``bucket/key``, the local path, or the full URL."""
        if self.scheme in ("file", "http"):
            return self.key
        return f"{self.bucket}/{self.key}" if self.key else self.bucket

    @property
    def is_prefix(self) -> bool:
        """Whether this names a folder or prefix rather than one object."""
        return self.key == "" or self.key.endswith("/")

    def canonical(self) -> str:
        """A stable string naming the object, equal for every form of the same URL."""
        if self.scheme == "file":
            return self.key
        if self.scheme == "http":
            return self.key
        if self.account:
            return f"az://{self.bucket}@{self.account}.blob.core.windows.net/{self.key}"
        return f"{self.scheme}://{self.bucket}/{self.key}"

    def parent(self) -> Location:
        """The prefix holding this object (the bucket root for a top-level key)."""
        folder = self.key.rstrip("/").rpartition("/")[0]
        key = folder + "/" if folder else ""
        if self.scheme == "file":
            return Location("file", "", str(Path(self.key).parent))
        return Location(self.scheme, self.bucket, key, self.account, self.region)

    def child(self, relpath: str) -> Location:
        """The location ``relpath`` below this prefix."""
        base = self.key if self.key == "" or self.key.endswith("/") else self.key + "/"
        if self.scheme == "file":
            return Location("file", "", str(Path(self.key) / relpath))
        return Location(self.scheme, self.bucket, base + relpath, self.account, self.region)


def _local(url: str) -> Location:
    path = url[len("file://") :] if url.startswith("file://") else url
    return Location("file", "", path)


def _split_bucket(path: str, url: str) -> tuple[str, str]:
    bucket, _, key = path.partition("/")
    if not bucket:
        raise ConfigError(f"no bucket in URL {url!r}")
    return bucket, key


def _from_https(url: str, endpoint_url: str | None) -> Location:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = unquote(parts.path)
    if parts.query:
        return Location("http", "", url)
    if endpoint_url and url.startswith(endpoint_url.rstrip("/") + "/"):
        bucket, key = _split_bucket(url[len(endpoint_url.rstrip("/")) + 1 :], url)
        return Location("s3", bucket, unquote(key))
    if m := _S3_PATH_HOST.match(host):
        bucket, key = _split_bucket(path[1:], url)
        return Location("s3", bucket, key, region=m.group(1))
    if m := _S3_VHOST.match(host):
        return Location("s3", m.group(1), path.lstrip("/"), region=m.group(2))
    if host in _GCS_HOSTS:
        bucket, key = _split_bucket(path[1:], url)
        return Location("gs", bucket, key)
    if m := _GCS_VHOST.match(host):
        return Location("gs", m.group(1), path.lstrip("/"))
    if m := _AZ_HOST.match(host):
        bucket, key = _split_bucket(path[1:], url)
        return Location("az", bucket, key, account=m.group(1))
    return Location("http", "", url)


def parse_location(url: str, *, endpoint_url: str | None = None) -> Location:
    """Parse ``url`` (a local path or a URL of any supported form) into a :class:`Location`.

    ``endpoint_url`` is an S3-compatible integration's endpoint: ``https`` URLs below it
    are read as path-style S3 URLs. An unsupported scheme is a :class:`ConfigError`.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme == "file":
        return _local(url)
    scheme = scheme.lower()
    if scheme in ("http", "https"):
        return _from_https(url, endpoint_url)
    native = _NATIVE.get(scheme)
    if native is None:
        raise ConfigError(
            f"unsupported URL scheme {scheme!r}; use a local path, file://, s3://, gs://, "
            "az://, abfs:// or https://"
        )
    account = None
    if native == "az" and "@" in rest.split("/", 1)[0]:
        container_host, _, blob = rest.partition("/")
        container, _, host = container_host.partition("@")
        if m := _AZ_HOST.match(host.lower()):
            account = m.group(1)
        rest = f"{container}/{blob}"
    bucket, key = _split_bucket(rest, url)
    return Location(native, bucket, key, account=account)
