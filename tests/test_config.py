"""Settings: flags over environment over the config file over defaults, and a
clear message for every bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor_tui.config import ConfigError, load_settings


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_environment_wins_over_the_file(tmp_path):
    config = write(
        tmp_path / "c.toml", 'admin_key = "sk-admin-file"\ntimezone = "UTC"\n'
    )
    env = {"OPENAI_ADMIN_KEY": "sk-admin-env", "MONITOR_TUI_TIMEZONE": "Asia/Tokyo"}
    settings = load_settings(env=env, config_path=config)
    assert settings.admin_key == "sk-admin-env"
    assert settings.timezone == "Asia/Tokyo"


def test_flags_win_over_the_environment(tmp_path):
    env = {"MONITOR_TUI_DATA_DIR": str(tmp_path / "env"), "MONITOR_TUI_TIMEZONE": "UTC"}
    settings = load_settings(
        env=env,
        config_path=tmp_path / "none.toml",
        data_dir=tmp_path / "flag",
        timezone="Europe/Paris",
    )
    assert settings.data_dir == tmp_path / "flag"
    assert settings.timezone == "Europe/Paris"


def test_the_file_supplies_the_key_when_the_environment_has_none(tmp_path):
    config = write(tmp_path / "c.toml", 'admin_key = "sk-admin-file"\n')
    settings = load_settings(env={}, config_path=config)
    assert settings.admin_key == "sk-admin-file"
    assert not settings.use_demo and settings.origin == "openai"


def test_without_a_key_the_demo_runs_in_its_own_directory(tmp_path):
    settings = load_settings(
        env={}, config_path=tmp_path / "none.toml", data_dir=tmp_path
    )
    assert settings.use_demo and settings.origin == "demo"
    assert settings.store_dir == tmp_path / "demo"


def test_the_key_never_shows_in_the_settings_repr(tmp_path):
    settings = load_settings(
        env={"OPENAI_ADMIN_KEY": "sk-admin-secret"}, config_path=tmp_path / "none.toml"
    )
    assert "sk-admin-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("timezone = 'Mars/Olympus'", "unknown time zone 'Mars/Olympus'"),
        ("history_days = 0", "history_days must be at least 1"),
        ("history_days = '90'", "history_days must be a whole number"),
        ("polling = 5", "unknown setting polling"),
        ("admin_key = ", "not valid TOML"),
    ],
)
def test_bad_config_values_are_refused_with_a_message(tmp_path, text, message):
    config = write(tmp_path / "c.toml", text + "\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(env={}, config_path=config)
