"""Setting up and cleaning up: ``config init`` writes a template only the owner
can read, ``doctor`` says what works and what to fix, ``prune`` and ``reset``
delete only after asking (or ``--yes``)."""

from __future__ import annotations

import io
import json
import stat
import tomllib

from monitor_tui.cli import main
from monitor_tui.config import load_settings
from monitor_tui.store import Store
from tests.conftest import ADMIN_KEY, NOW, NOW_EPOCH
from tests.factories import HAND_COMPUTED, usage_row


def run(argv, env):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env, clock=lambda: NOW, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def live_env(server, data_dir, key=ADMIN_KEY) -> dict[str, str]:
    return {
        "OPENAI_ADMIN_KEY": key,
        "OPENAI_BASE_URL": server.base_url,
        "MONITOR_TUI_DATA_DIR": str(data_dir),
        "MONITOR_TUI_TIMEZONE": "UTC",
    }


def test_config_init_writes_a_template_only_the_owner_can_read(tmp_path):
    path = tmp_path / "conf" / "config.toml"
    env = {"MONITOR_TUI_CONFIG": str(path)}
    code, out, _ = run(["config", "init"], env)
    assert code == 0 and str(path) in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tomllib.loads(path.read_text()) == {}, "every setting is commented out"
    assert "# admin_key" in path.read_text()
    assert "# webhook_url" in path.read_text()

    code, _, err = run(["config", "init"], env)
    assert code == 2 and "already exists" in err
    path.write_text('timezone = "UTC"\n')
    assert run(["config", "init", "--force"], env)[0] == 0
    assert "timezone = " not in path.read_text().replace("# timezone", "")


def test_a_config_file_holding_the_key_that_others_can_read_is_warned_of(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'admin_key = "{ADMIN_KEY}"\n')
    path.chmod(0o644)
    settings = load_settings(env={}, config_path=path, data_dir=tmp_path)
    [warning] = settings.warnings
    assert "other users can read it" in warning and "chmod 600" in warning
    assert ADMIN_KEY not in warning
    code, _, err = run(
        ["--config", str(path), "--data-dir", str(tmp_path), "budget", "show"], {}
    )
    assert code == 0 and "chmod 600" in err
    path.chmod(0o600)
    assert load_settings(env={}, config_path=path, data_dir=tmp_path).warnings == ()


def test_doctor_says_the_key_works_when_it_does(api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)
    env = live_env(api_server, tmp_path)
    assert run(["sync"], env)[0] == 0
    code, out, _ = run(["doctor"], env)
    assert code == 0, out
    assert "✓ the admin key reads the organization's usage" in out
    assert "✓ the store opens; the last sync was 0 min ago" in out
    assert "✗" not in out and ADMIN_KEY not in out


def test_doctor_says_what_to_fix_for_a_key_that_cannot_read_usage(api_server, tmp_path):
    code, out, _ = run(["doctor"], live_env(api_server, tmp_path, key="sk-wrong"))
    assert code == 1
    assert "✗ the API refused the key (401)" in out
    assert "api.usage.read" in out and "admin-keys" in out
    assert "sk-wrong" not in out


def test_doctor_without_a_key_points_to_the_admin_key(tmp_path):
    code, out, _ = run(["doctor"], {"MONITOR_TUI_DATA_DIR": str(tmp_path)})
    assert code == 1
    assert "✗ no admin key: the app shows demo data; set OPENAI_ADMIN_KEY" in out
    assert "✓ the data directory" in out


def test_prune_deletes_only_whole_files_older_than_the_cutoff(api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)
    env = live_env(api_server, tmp_path)
    assert run(["sync"], env)[0] == 0
    old_day = NOW_EPOCH - NOW_EPOCH % 86400 - 200 * 86400
    Store(tmp_path).replace_usage(
        "openai",
        "completions",
        "1h",
        (old_day, old_day + 86400),
        [usage_row(old_day, cost_usd="1")],
        now=NOW_EPOCH,
    )
    old_files = [p.name for p in Store(tmp_path).files_before(NOW_EPOCH - 90 * 86400)]
    assert old_files == ["2026-05-18.json"]
    before = json.loads(run(["report", "--json"], env)[1])

    code, _, err = run(["prune", "--older-than", "100"], env)
    assert code == 2 and "add --yes" in err, "no terminal to ask on"
    code, _, err = run(["prune", "--older-than", "30", "--yes"], env)
    assert code == 2 and "history_days is 90" in err
    code, out, _ = run(["prune", "--older-than", "100", "--yes"], env)
    assert code == 0 and "deleted 1 files of rows from before" in out
    assert not (tmp_path / "hourly" / "2026-05-18.json").exists()
    assert (tmp_path / "hourly" / "2026-12-04.json").exists()
    assert json.loads(run(["report", "--json"], env)[1]) == before


def test_reset_empties_the_store_after_asking(api_server, tmp_path, monkeypatch):
    api_server.set_records(HAND_COMPUTED)
    env = live_env(api_server, tmp_path)
    assert run(["sync"], env)[0] == 0
    monkeypatch.setattr("monitor_tui.upkeep.can_ask", lambda: True)
    monkeypatch.setattr("builtins.input", lambda question: "n")
    code, out, _ = run(["reset"], env)
    assert code == 0 and out.strip() == "nothing was deleted"
    assert (tmp_path / "hourly").exists()

    monkeypatch.setattr("builtins.input", lambda question: "yes")
    code, out, _ = run(["reset"], env)
    assert code == 0 and "is empty" in out
    assert not (tmp_path / "hourly").exists()
    assert not (tmp_path / "state.json").exists()
    assert json.loads(run(["report", "--json"], env)[1])["last_sync_at"] is None
