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
        config_path=write(tmp_path / "empty.toml", ""),
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
        env={}, config_path=write(tmp_path / "empty.toml", ""), data_dir=tmp_path
    )
    assert settings.use_demo and settings.origin == "demo"
    assert settings.store_dir == tmp_path / "demo"


def test_the_key_never_shows_in_the_settings_repr(tmp_path):
    settings = load_settings(
        env={"OPENAI_ADMIN_KEY": "sk-admin-secret"},
        config_path=write(tmp_path / "empty.toml", ""),
    )
    assert "sk-admin-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("timezone = 'Mars/Olympus'", "unknown time zone 'Mars/Olympus'"),
        ("history_days = 7", "history_days must be 35 to 3650"),
        ("history_days = '90'", "history_days must be a whole number"),
        ("polling = 5", "unknown setting polling"),
        ("admin_key = ", "not valid TOML"),
    ],
)
def test_bad_config_values_are_refused_with_a_message(tmp_path, text, message):
    config = write(tmp_path / "c.toml", text + "\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(env={}, config_path=config)


def test_a_named_config_file_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(env={}, config_path=tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(env={"MONITOR_TUI_CONFIG": str(tmp_path / "missing.toml")})


def test_a_config_file_that_is_not_utf8_is_refused(tmp_path):
    config = tmp_path / "c.toml"
    config.write_bytes(b"\xff\xfe timezone")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(env={}, config_path=config)


def test_blanks_around_the_key_are_dropped(tmp_path):
    settings = load_settings(
        env={"OPENAI_ADMIN_KEY": "  sk-admin-abc\n"},
        config_path=write(tmp_path / "c.toml", ""),
    )
    assert settings.admin_key == "sk-admin-abc"


@pytest.mark.parametrize("key", ["sk-admin a b", "sk-admin-\u00e9t\u00e9", "sk\nadmin"])
def test_a_key_that_cannot_be_a_key_is_refused_without_echoing_it(tmp_path, key):
    with pytest.raises(ConfigError, match="copy it again") as caught:
        load_settings(
            env={"OPENAI_ADMIN_KEY": key}, config_path=write(tmp_path / "c.toml", "")
        )
    assert key.strip() not in str(caught.value)


def test_an_empty_data_dir_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="data-dir is empty"):
        load_settings(env={}, config_path=write(tmp_path / "c.toml", ""), data_dir="")


def test_an_empty_timezone_flag_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="--timezone is empty"):
        load_settings(env={}, config_path=write(tmp_path / "c.toml", ""), timezone="")


def test_the_system_zone_is_named_utc_not_by_an_alias(monkeypatch):
    import tzlocal

    from monitor_tui.config import system_zone

    monkeypatch.setattr(tzlocal, "get_localzone_name", lambda: "Etc/UTC")
    assert system_zone() == "UTC"
    monkeypatch.setattr(tzlocal, "get_localzone_name", lambda: "Europe/Paris")
    assert system_zone() == "Europe/Paris"
