"""Named integrations: the TOML store, its permissions, and what reaches fsspec."""

from __future__ import annotations

import json
import stat

import pytest

from dicomscrub.errors import ConfigError
from dicomscrub.storage.integrations import (
    Integration,
    describe_integration,
    integrations_path,
    load_integration,
    load_integrations,
    remove_integration,
    save_integration,
    storage_options,
)

SECRET = "s3cr3t-VALUE-never-shown"


def _s3(name: str = "prod") -> Integration:
    return Integration(
        name=name,
        kind="s3",
        endpoint_url="http://127.0.0.1:9000",
        region="eu-west-1",
        credentials={"access_key_id": "AKIDEXAMPLE", "secret_access_key": SECRET},
    )


def test_save_load_remove_round_trip() -> None:
    save_integration(_s3())
    save_integration(Integration(name="pub", kind="gcs", anonymous=True))
    assert load_integration("prod") == _s3()
    assert sorted(load_integrations()) == ["prod", "pub"]
    remove_integration("prod")
    assert sorted(load_integrations()) == ["pub"]


def test_file_is_private() -> None:
    save_integration(_s3())
    mode = stat.S_IMODE(integrations_path().stat().st_mode)
    assert mode == 0o600


def test_replacing_needs_consent() -> None:
    save_integration(_s3())
    with pytest.raises(ConfigError, match="exists"):
        save_integration(_s3())
    save_integration(Integration(name="prod", kind="azure"), replace=True)
    assert load_integration("prod").kind == "azure"


def test_unknown_integration_is_a_config_error() -> None:
    save_integration(_s3())
    with pytest.raises(ConfigError, match=r"unknown integration 'nope' \(known: prod\)"):
        load_integration("nope")
    with pytest.raises(ConfigError, match="unknown integration"):
        remove_integration("nope")


def test_secrets_never_in_repr_str_or_description() -> None:
    integration = _s3()
    for text in (
        repr(integration),
        str(integration),
        json.dumps(describe_integration(integration)),
    ):
        assert SECRET not in text
        assert "AKIDEXAMPLE" not in text
    assert describe_integration(integration)["credentials"] == {
        "access_key_id": "set",
        "secret_access_key": "set",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "ftp"}, "unknown kind"),
        ({"kind": "s3", "credentials": {"password": "x"}}, "unknown credential"),
        ({"kind": "gcs", "profile": "default"}, "profile is only"),
        ({"kind": "s3", "endpoint_url": "minio:9000"}, "endpoint_url"),
        ({"kind": "s3", "name": "bad name"}, "letters, digits"),
    ],
)
def test_invalid_integrations(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"name": "x", **kwargs}
    with pytest.raises(ConfigError, match=message):
        Integration(**args)  # type: ignore[arg-type]


def test_malformed_file_does_not_echo_its_content() -> None:
    integrations_path().parent.mkdir(parents=True, exist_ok=True)
    integrations_path().write_text(f'[integrations.x]\nkind = "s3"\nsecret = "{SECRET}\n')
    with pytest.raises(ConfigError) as info:
        load_integrations()
    assert SECRET not in str(info.value)


def test_s3_options() -> None:
    assert storage_options(_s3()) == {
        "key": "AKIDEXAMPLE",
        "secret": SECRET,
        "endpoint_url": "http://127.0.0.1:9000",
        "client_kwargs": {"region_name": "eu-west-1"},
    }
    profile = Integration(name="p", kind="s3", profile="research")
    assert storage_options(profile) == {"profile": "research"}


def test_credentials_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    integration = Integration(
        name="envy",
        kind="s3",
        credentials_env={"access_key_id": "MY_KEY_ID", "secret_access_key": "MY_SECRET"},
    )
    monkeypatch.setenv("MY_KEY_ID", "id-from-env")
    monkeypatch.setenv("MY_SECRET", SECRET)
    assert storage_options(integration) == {"key": "id-from-env", "secret": SECRET}
    monkeypatch.delenv("MY_SECRET")
    with pytest.raises(ConfigError, match="MY_SECRET") as info:
        storage_options(integration)
    assert SECRET not in str(info.value)


def test_gcs_and_azure_and_http_options() -> None:
    sa = json.dumps({"type": "service_account", "client_email": "a@b"})
    gcs = Integration(name="g", kind="gcs", credentials={"service_account_json": sa})
    assert storage_options(gcs) == {"token": json.loads(sa)}
    anon = Integration(name="g2", kind="gcs", anonymous=True, endpoint_url="http://127.0.0.1:1")
    assert storage_options(anon) == {"token": "anon", "endpoint_url": "http://127.0.0.1:1"}
    azure = Integration(
        name="a",
        kind="azure",
        endpoint_url="http://127.0.0.1:10000/acct",
        credentials={"account_name": "acct", "account_key": "k3y"},
    )
    conn = storage_options(azure)["connection_string"]
    assert "BlobEndpoint=http://127.0.0.1:10000/acct;" in conn
    assert "AccountKey=k3y;" in conn
    http = Integration(name="h", kind="http", credentials={"bearer_token": "tok"})
    assert storage_options(http) == {"client_kwargs": {"headers": {"Authorization": "Bearer tok"}}}
