"""Every URL form a user may paste names the right scheme, bucket and key."""

from __future__ import annotations

import pytest

from dicomscrub.errors import ConfigError
from dicomscrub.storage.urls import Location, parse_location


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://bucket/raw/x.dcm", Location("s3", "bucket", "raw/x.dcm")),
        ("s3://bucket/raw/", Location("s3", "bucket", "raw/")),
        ("s3://bucket", Location("s3", "bucket", "")),
        ("s3a://bucket/k", Location("s3", "bucket", "k")),
        (
            "https://s3.eu-west-1.amazonaws.com/bucket/raw/x.dcm",
            Location("s3", "bucket", "raw/x.dcm", region="eu-west-1"),
        ),
        (
            "https://bucket.s3.eu-west-1.amazonaws.com/raw/x.dcm",
            Location("s3", "bucket", "raw/x.dcm", region="eu-west-1"),
        ),
        ("https://bucket.s3.amazonaws.com/raw/x.dcm", Location("s3", "bucket", "raw/x.dcm")),
        ("https://s3.amazonaws.com/bucket/raw/x.dcm", Location("s3", "bucket", "raw/x.dcm")),
        (
            "https://my.bucket.s3-us-west-2.amazonaws.com/a%20b.dcm",
            Location("s3", "my.bucket", "a b.dcm", region="us-west-2"),
        ),
        ("gs://bucket/raw/x.dcm", Location("gs", "bucket", "raw/x.dcm")),
        ("gcs://bucket/raw/x.dcm", Location("gs", "bucket", "raw/x.dcm")),
        ("https://storage.googleapis.com/bucket/raw/x.dcm", Location("gs", "bucket", "raw/x.dcm")),
        ("https://bucket.storage.googleapis.com/raw/x.dcm", Location("gs", "bucket", "raw/x.dcm")),
        ("az://container/raw/x.dcm", Location("az", "container", "raw/x.dcm")),
        ("abfs://container/raw/x.dcm", Location("az", "container", "raw/x.dcm")),
        (
            "abfss://container@acct.dfs.core.windows.net/raw/x.dcm",
            Location("az", "container", "raw/x.dcm", account="acct"),
        ),
        (
            "https://acct.blob.core.windows.net/container/raw/x.dcm",
            Location("az", "container", "raw/x.dcm", account="acct"),
        ),
        ("https://example.org/x.dcm", Location("http", "", "https://example.org/x.dcm")),
        # A pre-signed URL only works with its query: it stays a plain https URL.
        (
            "https://bucket.s3.amazonaws.com/x.dcm?X-Amz-Signature=ab",
            Location("http", "", "https://bucket.s3.amazonaws.com/x.dcm?X-Amz-Signature=ab"),
        ),
        ("/data/raw/x.dcm", Location("file", "", "/data/raw/x.dcm")),
        ("file:///data/raw/x.dcm", Location("file", "", "/data/raw/x.dcm")),
        ("relative/x.dcm", Location("file", "", "relative/x.dcm")),
    ],
)
def test_forms(url: str, expected: Location) -> None:
    assert parse_location(url) == expected


def test_endpoint_of_s3_compatible_store_is_path_style() -> None:
    loc = parse_location(
        "http://minio.local:9000/bucket/raw/x.dcm", endpoint_url="http://minio.local:9000"
    )
    assert loc == Location("s3", "bucket", "raw/x.dcm")
    other = parse_location(
        "http://elsewhere:9000/bucket/raw/x.dcm", endpoint_url="http://minio.local:9000"
    )
    assert other.scheme == "http"


@pytest.mark.parametrize("url", ["ftp://host/x.dcm", "sftp://host/x", "hdfs://nn/x"])
def test_unsupported_scheme(url: str) -> None:
    with pytest.raises(ConfigError, match="unsupported URL scheme"):
        parse_location(url)


def test_no_bucket_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no bucket"):
        parse_location("s3:///key")


def test_all_forms_of_one_object_share_a_canonical_name() -> None:
    forms = [
        "s3://bucket/raw/x.dcm",
        "https://bucket.s3.amazonaws.com/raw/x.dcm",
        "https://s3.us-east-1.amazonaws.com/bucket/raw/x.dcm",
    ]
    assert len({parse_location(f).canonical() for f in forms}) == 1


def test_parent_and_child() -> None:
    loc = parse_location("s3://bucket/raw/sub/x.dcm")
    assert loc.parent() == Location("s3", "bucket", "raw/sub/")
    assert loc.parent().child("y.dcm") == Location("s3", "bucket", "raw/sub/y.dcm")
    assert parse_location("s3://bucket/x.dcm").parent() == Location("s3", "bucket", "")
