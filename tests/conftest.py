"""Shared fixtures: a fixed key, a key file, and the isolated config and cache folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

TEST_KEY = b"dicomscrub-test-key-0123456789abcdef"


@pytest.fixture
def key() -> bytes:
    return TEST_KEY


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "test.key"
    path.write_text(TEST_KEY.hex())
    return path


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Derived OCR models (dicomscrub.pixels.models) go to a folder of this session, not
    the user's cache: derived once per session, shared with the CLI and server
    subprocesses the tests start (they inherit the environment)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(autouse=True)
def _isolated_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """No test reads or writes the real user's config folder or key."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("DICOMSCRUB_CONFIG_DIR", str(folder))
    monkeypatch.delenv("DICOMSCRUB_KEY", raising=False)
    monkeypatch.delenv("DICOMSCRUB_KEY_FILE", raising=False)
    yield
