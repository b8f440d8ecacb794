"""Shared fixtures: a store in a temporary directory, a fixed clock, and the local
Usage/Costs API server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from tests.usage_api import UsageApiServer

from monitor_tui.store import Store

# Property tests draw the same examples on every run, and a busy CI machine does
# not fail them for being slow.
settings.register_profile(
    "deterministic",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("deterministic")

ADMIN_KEY = "sk-admin-test-0123456789abcdefghijklmnopqrstuvwxyz"
"""The admin key the local server accepts; tests check it never leaks."""

NOW = datetime(2026, 12, 4, 15, 30, 20, tzinfo=UTC)
"""The fixed moment most tests run at: a Friday afternoon in December 2026."""
NOW_EPOCH = int(NOW.timestamp())

LOG_DIRS: list[Path] = []
"""The log directory of each test, the current one last."""


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Nothing a developer has configured may leak into a test.
    for name in (
        "OPENAI_ADMIN_KEY",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "MONITOR_TUI_DATA_DIR",
        "MONITOR_TUI_TIMEZONE",
        # Each app reads these when it is built: no colour, or another theme,
        # would change every screen the tests look at.
        "NO_COLOR",
        "TEXTUAL_THEME",
    ):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path_factory.mktemp("config") / "config.toml"
    config.write_text("")
    monkeypatch.setenv("MONITOR_TUI_CONFIG", str(config))
    # Commands that are given their own environment still log here, never to
    # the developer's own state directory.
    log_dir = tmp_path_factory.mktemp("logs")
    LOG_DIRS.append(log_dir)
    monkeypatch.setattr("monitor_tui.config.default_log_dir", lambda: log_dir)


@pytest.fixture(autouse=True)
def _the_key_never_lands_in_a_file(tmp_path: Path) -> Iterator[None]:
    """After every test, no file it wrote in its directory or the log directory
    (stores, logs, exports) holds the admin key; config files a test wrote with
    the key on purpose are the exception."""
    yield
    secret = ADMIN_KEY.encode()
    for folder in (tmp_path, LOG_DIRS[-1]):
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix != ".toml":
                assert secret not in path.read_bytes(), f"the key is in {path}"


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "data")


@pytest.fixture
def api_server() -> Iterator[UsageApiServer]:
    from tests.usage_api import UsageApiServer

    with UsageApiServer(records=[], now=NOW_EPOCH, admin_key=ADMIN_KEY) as server:
        yield server
