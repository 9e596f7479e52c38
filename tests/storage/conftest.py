"""Fixtures for the storage tests: real servers on 127.0.0.1, unique buckets."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.storage.servers import (
    Server,
    azurite_available,
    azurite_server,
    create_bucket,
    gcs_emulator,
    moto_server,
)

GCS_BUCKET = "dicomscrub-gcs"


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries as in production, with short waits, and no ambient cloud configuration."""
    monkeypatch.setenv("DICOMSCRUB_STORAGE_ATTEMPTS", "4")
    monkeypatch.setenv("DICOMSCRUB_STORAGE_BACKOFF", "0.01")
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "STORAGE_EMULATOR_HOST"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def moto() -> Iterator[Server]:
    with moto_server() as server:
        yield server


@pytest.fixture
def s3_bucket(moto: Server) -> str:
    """A new, empty bucket on the moto server."""
    name = f"bkt-{uuid.uuid4().hex[:12]}"
    create_bucket(moto, name)
    return name


@pytest.fixture(scope="session")
def azurite() -> Iterator[Server]:
    if not azurite_available():
        pytest.skip(
            "Azurite not installed: npm install --prefix .cache/azurite azurite (needs node)"
        )
    with azurite_server() as server:
        yield server


@pytest.fixture(scope="session")
def gcs() -> Iterator[Server]:
    with gcs_emulator(GCS_BUCKET) as server:
        yield server


@pytest.fixture
def unique() -> Callable[[str], str]:
    """A unique name with a readable stem, for prefixes that must not collide."""
    return lambda stem: f"{stem}-{uuid.uuid4().hex[:10]}"
