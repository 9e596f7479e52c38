"""The hashing key: explicit file, environment, or generated once in the config folder."""

from __future__ import annotations

import base64
import multiprocessing
import stat
from pathlib import Path

import pytest

from dicomscrub.errors import ConfigError
from dicomscrub.keys import KEY_FILE_NAME, ResolvedKey, default_config_dir, resolve_key

HEX_KEY = "00112233445566778899aabbccddeeff0123456789abcdef"


def test_explicit_key_file_wins(tmp_path: Path) -> None:
    key_file = tmp_path / "k"
    key_file.write_text(HEX_KEY + "\n")
    env = {"DICOMSCRUB_KEY": "another key from the environment"}
    resolved = resolve_key(key_file, env=env, config_dir=tmp_path / "cfg")
    assert resolved.key == bytes.fromhex(HEX_KEY)
    assert resolved.origin == f"file {key_file}"
    assert not resolved.generated
    assert not (tmp_path / "cfg").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEX_KEY, bytes.fromhex(HEX_KEY)),
        (base64.b64encode(b"k" * 24).decode(), b"k" * 24),
        ("  a passphrase that is long enough  ", b"a passphrase that is long enough"),
        # valid base64 that decodes to fewer than 16 bytes is taken as text instead
        ("correcthorsebatt", b"correcthorsebatt"),
    ],
)
def test_environment_key_forms(tmp_path: Path, text: str, expected: bytes) -> None:
    resolved = resolve_key(env={"DICOMSCRUB_KEY": text}, config_dir=tmp_path)
    assert resolved.key == expected
    assert resolved.origin == "environment DICOMSCRUB_KEY"
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_environment_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "from-env"
    key_file.write_text(HEX_KEY)
    resolved = resolve_key(env={"DICOMSCRUB_KEY_FILE": str(key_file)}, config_dir=tmp_path)
    assert resolved.key == bytes.fromhex(HEX_KEY)
    assert str(key_file) in resolved.origin


def test_binary_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "binary"
    key_file.write_bytes(bytes(range(200, 232)))
    assert resolve_key(key_file, env={}).key == bytes(range(200, 232))


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "does not exist"),
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (b"short", "too short"),
        (b"00112233", "too short"),  # 4 bytes of hex, 8 characters of text
        (b"\xff\xfe\x00", "too short"),
    ],
)
def test_bad_key_files(tmp_path: Path, content: bytes | None, fragment: str) -> None:
    key_file = tmp_path / "bad"
    if content is not None:
        key_file.write_bytes(content)
    with pytest.raises(ConfigError, match=fragment) as caught:
        resolve_key(key_file, env={})
    assert str(key_file) in str(caught.value)


def test_short_environment_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="too short") as caught:
        resolve_key(env={"DICOMSCRUB_KEY": "tiny-secret"}, config_dir=tmp_path)
    assert "tiny-secret" not in str(caught.value)


def test_generated_once_then_stable(tmp_path: Path) -> None:
    config = tmp_path / "cfg" / "nested"
    first = resolve_key(env={}, config_dir=config)
    assert first.generated
    assert first.origin == f"generated {config / KEY_FILE_NAME}"
    assert len(first.key) == 32
    mode = stat.S_IMODE((config / KEY_FILE_NAME).stat().st_mode)
    assert mode == 0o600
    second = resolve_key(env={}, config_dir=config)
    assert not second.generated
    assert second.key == first.key
    assert second.fingerprint == first.fingerprint
    assert [p.name for p in config.iterdir()] == [KEY_FILE_NAME]  # no temporary left


def test_config_dir_from_environment(tmp_path: Path) -> None:
    env = {"DICOMSCRUB_CONFIG_DIR": str(tmp_path / "via-env")}
    assert default_config_dir(env) == tmp_path / "via-env"
    resolved = resolve_key(env=env)
    assert resolved.generated
    assert (tmp_path / "via-env" / KEY_FILE_NAME).is_file()


def test_default_config_dir_is_the_platform_one() -> None:
    path = default_config_dir({})
    assert path.name == "dicomscrub"


def test_fingerprint_and_repr_hide_the_key(tmp_path: Path) -> None:
    resolved = resolve_key(env={"DICOMSCRUB_KEY": HEX_KEY}, config_dir=tmp_path)
    other = ResolvedKey(key=b"x" * 32, origin="test")
    assert len(resolved.fingerprint) == 12
    assert resolved.fingerprint != other.fingerprint
    shown = repr(resolved) + str(resolved)
    assert HEX_KEY not in shown
    assert resolved.key.hex() not in shown
    assert repr(resolved.key) not in shown
    assert resolved.fingerprint in shown


def _race(config_dir: str, barrier: object, results: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    resolved = resolve_key(env={}, config_dir=Path(config_dir))
    results.put((resolved.key.hex(), resolved.generated))  # type: ignore[attr-defined]


@pytest.mark.parametrize("round_number", range(3))
def test_concurrent_first_generation_yields_one_key(tmp_path: Path, round_number: int) -> None:
    context = multiprocessing.get_context("fork")
    workers = 4
    barrier = context.Barrier(workers)
    results = context.Queue()
    config = tmp_path / f"round{round_number}"
    processes = [
        context.Process(target=_race, args=(str(config), barrier, results)) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=30) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    keys = {key for key, _ in outcomes}
    assert len(keys) == 1
    assert sum(generated for _, generated in outcomes) == 1
    assert (config / KEY_FILE_NAME).read_text().strip() == keys.pop()
