"""Service settings: TOML < environment < flags, and refusals that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicomscrub.errors import ConfigError
from dicomscrub.service.settings import load_settings


def test_flags_beat_environment_beat_toml(tmp_path: Path) -> None:
    config = tmp_path / "service.toml"
    config.write_text('port = 9001\nhost = "0.0.0.0"\njob_processes = 3\nlog_level = "debug"\n')
    env = {"DICOMSCRUB_PORT": "9002", "DICOMSCRUB_DATA_DIR": str(tmp_path / "d")}
    settings = load_settings({"job_processes": 4, "host": None}, config_file=config, env=env)
    assert settings.port == 9002  # env over TOML
    assert settings.job_processes == 4  # flag over TOML
    assert settings.host == "0.0.0.0"  # TOML; the flag was not given
    assert settings.log_level == "debug"
    assert settings.data_dir == tmp_path / "d"
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'd' / 'service.db'}"


def test_service_table_and_config_from_environment(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text('[service]\ndatabase_url = "postgresql://db/x"\n')
    settings = load_settings(env={"DICOMSCRUB_SERVICE_CONFIG": str(config)})
    assert settings.effective_database_url == "postgresql://db/x"


@pytest.mark.parametrize(
    ("toml", "env", "needle"),
    [
        ("colour = 1\n", {}, "colour"),
        ("port = 'x'\n", {}, "'port'"),
        ("", {"DICOMSCRUB_JOB_PROCESSES": "0"}, "job_processes"),
        ("", {"DICOMSCRUB_PORT": "70000"}, "port"),
        ("port = [\n", {}, "not valid TOML"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_setting(
    tmp_path: Path, toml: str, env: dict[str, str], needle: str
) -> None:
    config = tmp_path / "s.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError, match=needle):
        load_settings(config_file=config, env={"DICOMSCRUB_DATA_DIR": str(tmp_path), **env})


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_file=tmp_path / "nope.toml", env={})


def test_every_setting_is_documented_and_has_a_flag() -> None:
    import argparse
    import dataclasses

    from dicomscrub.cli import serve_cmd
    from dicomscrub.service import settings as module
    from dicomscrub.service.settings import ServiceSettings

    parser = argparse.ArgumentParser()
    serve_cmd.register(parser.add_subparsers())
    serve = parser._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    flags = {opt for action in serve._actions for opt in action.option_strings}
    for setting in dataclasses.fields(ServiceSettings):
        assert f"\n{setting.name} = " in (module.__doc__ or "").replace("    ", ""), setting.name
        assert "--" + setting.name.replace("_", "-") in flags, setting.name
