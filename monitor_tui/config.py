"""Settings: command-line flags, then the environment, then the TOML config file in
the user config dir, then defaults."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from monitor_tui.price_overrides import (
    PriceOverride,
    PriceOverrideError,
    parse_price_overrides,
)

APP_NAME = "monitor-tui"


class ConfigError(ValueError):
    """The configuration is unusable; the message says what to fix."""


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about where and how to run."""

    admin_key: str | None = field(default=None, repr=False)
    """The organization admin key; never written anywhere by the app."""
    base_url: str | None = None
    """The API base URL; None means the SDK's default."""
    data_dir: Path = Path(".")
    """Where the store lives; demo data lives in its own ``demo`` folder below."""
    config_path: Path | None = None
    """The config file that was read, if there was one."""
    timezone: str = "UTC"
    """The display zone (IANA name); also the budget's zone unless it sets one."""
    history_days: int = 90
    """How far back hourly usage and daily costs are kept."""
    poll_interval_seconds: int = 60
    """How often the app syncs."""
    stale_after_minutes: int = 180
    """A last sync older than this makes the data stale."""
    demo: bool = False
    """Use built-in demo data instead of the API."""
    burn_alert_multiple: Decimal = Decimal(3)
    """Alert when the last hour's spend exceeds this many times the trailing
    7-day hourly average; 0 turns the burn-rate alert off."""
    bell: bool = True
    """Ring the terminal bell when an alert fires."""
    desktop_notifications: bool = True
    """Also show alerts as desktop notifications where the system has them."""
    webhook_url: str | None = field(default=None, repr=False)
    """Where alerts are POSTed as Slack-compatible JSON; it carries a secret, so
    it is never shown or logged in full."""
    log_dir: Path = Path(".")
    """Where ``monitor-tui.log`` is kept."""
    warnings: tuple[str, ...] = ()
    """Problems worth telling the user that do not stop anything."""
    price_overrides: Mapping[str, PriceOverride] = field(default_factory=dict)
    """Negotiated token rates by model, from the ``[prices]`` table; they win
    over the price data."""
    chosen_origin: str | None = None
    """The origin to read when it is chosen rather than implied by the key:
    ``tracked`` once calls recorded with ``track`` are found and there is no
    admin key (``tracked_source.choose_source``), or ``export --origin``."""

    @property
    def use_demo(self) -> bool:
        """Demo data is used when asked for, or when there is neither an admin
        key nor a recorded call."""
        return self.origin == "demo"

    @property
    def origin(self) -> str:
        """The origin of the rows the commands read and write."""
        if self.chosen_origin is not None:
            return self.chosen_origin
        return "demo" if self.demo or not self.admin_key else "openai"

    @property
    def store_dir(self) -> Path:
        """The data directory of the active origin: demo rows never mix with real."""
        return self.data_dir / "demo" if self.use_demo else self.data_dir

    @property
    def zone(self) -> ZoneInfo:
        """The display zone as a tzinfo."""
        return ZoneInfo(self.timezone)


MIN_HISTORY_DAYS, MAX_HISTORY_DAYS = 35, 3650
"""Hourly history must hold a whole billing period (up to 31 days and a bit)."""
# TODO: read daily buckets for time before the hourly history, so that a short
# history, or a range before it, is still counted.

LIMITS = {
    # Faster than every 10 s would only meet the API's rate limits; data in
    # minute buckets arrives minutes late anyway.
    "poll_interval_seconds": (10, 86_400),
    "stale_after_minutes": (1, 525_600),
}

_FILE_KEYS: dict[str, type | tuple[type, ...]] = {
    "admin_key": str,
    "timezone": str,
    "history_days": int,
    "poll_interval_seconds": int,
    "stale_after_minutes": int,
    "burn_alert_multiple": (int, float),
    "bell": bool,
    "desktop_notifications": bool,
    "webhook_url": str,
    "prices": dict,
}

_EXPECTED = {
    int: "a whole number",
    str: "a quoted string",
    bool: "true or false",
    dict: 'a table of models, e.g. [prices."gpt-4o"]',
}


def default_config_path() -> Path:
    """The config file in the platform's user config dir."""
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def default_data_dir() -> Path:
    """The platform's user data dir for this app."""
    return platformdirs.user_data_path(APP_NAME)


def default_log_dir() -> Path:
    """The platform's user state dir for this app, where its log is kept."""
    return platformdirs.user_state_path(APP_NAME)


def _exposed_secrets(path: Path, file: Mapping[str, Any]) -> str | None:
    """A warning when the config file holds a secret others can read."""
    secrets = [name for name in ("admin_key", "webhook_url") if file.get(name)]
    if not secrets or os.name != "posix":
        return None
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & 0o077 == 0:
        return None
    return (
        f"{path} holds the {' and the '.join(s.replace('_', ' ') for s in secrets)} "
        f"and other users can read it; make it yours alone: chmod 600 {path}"
    )


CONFIG_TEMPLATE = """\
# monitor-tui configuration. Uncomment a line to change a setting; the
# environment (OPENAI_ADMIN_KEY, MONITOR_TUI_TIMEZONE, ...) and command-line
# flags win over this file. This file is readable by you alone: keep it so.

# An organization admin key with the api.usage.read scope (created by an
# organization owner under Settings > Organization > Admin keys). Prefer the
# OPENAI_ADMIN_KEY environment variable if you can.
# admin_key = "sk-admin-..."

# The zone days, hours and times are shown in (an IANA name); default: the
# system's.
# timezone = "Europe/Paris"

# Days of hourly history kept (35 to 3650).
# history_days = 90

# Seconds between the app's syncs (10 to 86400).
# poll_interval_seconds = 60

# Minutes after which the data is marked STALE and `budget check` says UNKNOWN.
# stale_after_minutes = 180

# Alert when the last hour's spend is this many times the 7-day hourly average
# (0 turns it off).
# burn_alert_multiple = 3

# Ring the terminal bell, and show desktop notifications, when an alert fires.
# bell = true
# desktop_notifications = true

# POST alerts as Slack-compatible JSON to this URL (it is a secret: it is never
# logged or shown in full).
# webhook_url = "https://hooks.slack.com/services/..."

# Negotiated prices, in dollars per million tokens, win over the built-in price
# data for the models named (a name without its date covers every dated
# snapshot). Rows priced this way are marked "override".
# [prices."gpt-4o"]
# input = 2.00
# cached_input = 1.00
# output = 8.00
"""


def write_config_template(path: Path, *, force: bool = False) -> None:
    """Write the commented template to ``path``, readable by the owner alone.

    Raises:
        ConfigError: the file exists (without ``force``) or cannot be written.
    """
    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists; edit it, or pass --force to replace it with "
            "the template"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        # Created owner-only, so the key is never readable by others, not even
        # for a moment.
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(CONFIG_TEMPLATE)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None


def system_zone() -> str:
    """The system's IANA time zone name, or UTC when it cannot be told."""
    import tzlocal

    try:
        name = tzlocal.get_localzone_name() or "UTC"
    except Exception:  # tzlocal raises several kinds on odd systems
        return "UTC"
    # Containers often name UTC by an alias; show the name people know.
    return "UTC" if name in ("Etc/UTC", "Etc/Universal", "Etc/Zulu", "UCT") else name


def _read_file(path: Path, *, required: bool) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: the config file does not exist") from None
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from exc
    unknown = sorted(set(raw) - set(_FILE_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting {', '.join(unknown)}; "
            f"known settings are {', '.join(_FILE_KEYS)}"
        )
    for key, kind in _FILE_KEYS.items():
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if key in raw and type(raw[key]) not in kinds:
            expected = "a number" if isinstance(kind, tuple) else _EXPECTED[kind]
            raise ConfigError(f"{path}: {key} must be {expected}")
    return raw


def _clean_key(key: str | None) -> str | None:
    """The admin key without surrounding blanks; refused if it cannot be a key."""
    if key is None or not key.strip():
        return None
    key = key.strip()
    if not key.isascii() or not key.isprintable() or " " in key:
        # Never echo the key: the message must be safe to paste anywhere.
        raise ConfigError(
            "the admin key has spaces or characters an API key cannot have; "
            "copy it again from the organization's admin keys page"
        )
    return key


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _check(settings: Settings) -> Settings:
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {settings.timezone!r}; use an IANA name such as "
            "'Europe/Paris' or 'UTC'"
        ) from exc
    multiple = settings.burn_alert_multiple
    if not multiple.is_finite() or not 0 <= multiple <= 1000:
        raise ConfigError("burn_alert_multiple must be 0 (off) to 1000")
    url = settings.webhook_url
    if url is not None and not _is_web_url(url):
        # Never echo the URL: a webhook URL carries its secret in the path.
        raise ConfigError(
            "webhook_url must be an http:// or https:// URL with a host (and a "
            "numeric port, if any)"
        )
    for name, (low, high) in LIMITS.items():
        if not low <= getattr(settings, name) <= high:
            raise ConfigError(f"{name} must be {low} to {high}")
    if not MIN_HISTORY_DAYS <= settings.history_days <= MAX_HISTORY_DAYS:
        raise ConfigError(
            f"history_days must be {MIN_HISTORY_DAYS} to {MAX_HISTORY_DAYS}: the "
            "hourly history has to reach back over a whole billing period"
        )
    return settings


def load_settings(
    *,
    env: Mapping[str, str] | None = None,
    config_path: str | Path | None = None,
    data_dir: str | Path | None = None,
    demo: bool = False,
    timezone: str | None = None,
) -> Settings:
    """Build the settings from flags (the keyword arguments), environment, file.

    Raises:
        ConfigError: a value is invalid; the message names it and what is expected.
    """
    env = os.environ if env is None else env
    named = config_path or env.get("MONITOR_TUI_CONFIG") or None
    path = Path(named) if named else default_config_path()
    # A file the user named must exist; the default one is optional.
    file = _read_file(path, required=named is not None)
    env_data_dir = env.get("MONITOR_TUI_DATA_DIR")
    if data_dir is not None and not str(data_dir).strip():
        raise ConfigError("--data-dir is empty; give a directory")
    if timezone is not None and not timezone.strip():
        raise ConfigError("--timezone is empty; give an IANA name such as UTC")
    try:
        price_overrides = parse_price_overrides(file.get("prices"))
    except PriceOverrideError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    settings = Settings(
        admin_key=_clean_key(env.get("OPENAI_ADMIN_KEY") or file.get("admin_key")),
        base_url=env.get("OPENAI_BASE_URL") or None,
        data_dir=Path(data_dir or env_data_dir or default_data_dir()).expanduser(),
        config_path=path if path.exists() else None,
        timezone=timezone
        or env.get("MONITOR_TUI_TIMEZONE")
        or file.get("timezone")
        or system_zone(),
        history_days=file.get("history_days", 90),
        poll_interval_seconds=file.get("poll_interval_seconds", 60),
        stale_after_minutes=file.get("stale_after_minutes", 180),
        demo=demo,
        burn_alert_multiple=Decimal(str(file.get("burn_alert_multiple", 3))),
        bell=file.get("bell", True),
        desktop_notifications=file.get("desktop_notifications", True),
        webhook_url=env.get("MONITOR_TUI_WEBHOOK_URL")
        or file.get("webhook_url")
        or None,
        log_dir=Path(env.get("MONITOR_TUI_LOG_DIR") or default_log_dir()),
        warnings=tuple(w for w in [_exposed_secrets(path, file)] if w),
        price_overrides=price_overrides,
    )
    return _check(settings)
