"""``dicomscrub integrations add | list | remove | test``, through the real CLI entry point."""

from __future__ import annotations

import io
import json
import stat
from collections.abc import Iterator

import pytest

from dicomscrub.cli.main import main
from dicomscrub.storage import iter_inputs, write_atomic
from dicomscrub.storage.integrations import integrations_path, load_integration
from tests.storage.servers import MOTO_KEY, MOTO_SECRET, Server, create_bucket, moto_server

SECRET = "wJalrXUtnFEMI-do-not-print"


@pytest.fixture(scope="module")
def moto() -> Iterator[Server]:
    with moto_server() as server:
        yield server


def test_add_list_remove(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The second secret comes on standard input, as from a password manager's pipe.
    monkeypatch.setattr("sys.stdin", io.StringIO("token-from-stdin\n"))
    code = main(
        [
            "integrations", "add", "prod", "--kind", "s3", "--region", "eu-west-1",
            "--credential", "access_key_id=AKIDEXAMPLE",
            "--credential", "secret_access_key",
            "--credential-env", "session_token=MY_SESSION_TOKEN",
        ]
    )  # fmt: skip
    assert code == 0
    stored = load_integration("prod")
    assert stored.credentials["secret_access_key"] == "token-from-stdin"
    assert stored.credentials_env == {"session_token": "MY_SESSION_TOKEN"}
    assert stat.S_IMODE(integrations_path().stat().st_mode) == 0o600

    assert main(["integrations", "list"]) == 0
    listed = capsys.readouterr().out
    assert "prod" in listed and "secret_access_key=set" in listed
    assert "session_token=env:MY_SESSION_TOKEN" in listed
    assert "token-from-stdin" not in listed and "AKIDEXAMPLE" not in listed

    assert main(["integrations", "list", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["name"] == "prod" and row["kind"] == "s3"
    assert "token-from-stdin" not in json.dumps(row)

    assert main(["integrations", "add", "prod", "--kind", "s3"]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["integrations", "remove", "prod"]) == 0
    assert main(["integrations", "remove", "prod"]) == 2
    assert "unknown integration" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["integrations", "add", "x", "--kind", "ftp"],
        ["integrations", "add", "x", "--kind", "s3", "--credential", "password=p"],
        ["integrations", "add", "x", "--kind", "s3", "--credential-env", "access_key_id"],
        ["integrations", "test", "nope", "s3://bucket/"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    assert main(argv) == 2


def _add_moto(moto: Server, name: str = "moto") -> None:
    argv = [
        "integrations", "add", name, "--kind", "s3", "--endpoint-url", moto.endpoint,
        "--region", "us-east-1",
        "--credential", f"access_key_id={MOTO_KEY}",
        "--credential", f"secret_access_key={MOTO_SECRET}",
    ]  # fmt: skip
    assert main(argv) == 0


@pytest.mark.slow
def test_test_lists_and_probes(moto: Server, capsys: pytest.CaptureFixture[str]) -> None:
    _add_moto(moto)
    create_bucket(moto, "cli-probe-bucket")
    write_atomic("s3://cli-probe-bucket/raw/a.dcm", b"x", integration=moto.integration)
    assert main(["integrations", "test", "moto", "s3://cli-probe-bucket/raw/"]) == 0
    out = capsys.readouterr().out
    assert "1 object listed" in out and "probe" in out
    left = list(iter_inputs(["s3://cli-probe-bucket/"], integration=moto.integration))
    assert [r.relpath for r in left] == ["raw/a.dcm"]
    assert main(["integrations", "test", "moto", "s3://cli-probe-bucket/raw/", "--read-only"]) == 0


@pytest.mark.slow
def test_test_reports_missing_bucket_and_wrong_kind(
    moto: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    _add_moto(moto)
    assert main(["integrations", "test", "moto", "s3://no-such-bucket-cli/"]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["integrations", "test", "moto", "gs://bucket/"]) == 2
    assert "s3:// URLs, not gs://" in capsys.readouterr().err
