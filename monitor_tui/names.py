"""Project and API key names: read now and then from the admin list endpoints,
kept in the store, and used wherever a project id or key id would be shown.

Only a key's redacted value (``sk-abc...def``) is ever kept; a value that does
not look redacted is refused, so a full key can never reach a file or a screen.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from monitor_tui.sources import SyncError
from monitor_tui.store import Store

log = logging.getLogger(__name__)

REFRESH_AFTER_SECONDS = 6 * 3600
"""Names older than this are read again at the next sync."""
RETRY_AFTER_SECONDS = 3600
"""The least time between two reads of the names: a project unknown to them, or
a refused read, would otherwise make every sync read them again."""
REDACTION_MARK = "..."
"""What every redacted key value contains where the secret part was."""
LONGEST_REDACTED = 40
"""A redacted value is a prefix and a few last characters; anything longer might
be a whole key, and is refused with it."""
KEY_SEPARATOR = " · "

NO_PROJECT = "(no project)"
NO_KEY = "(no key)"


@dataclass(frozen=True)
class ProjectName:
    """A project as the projects list names it."""

    id: str
    name: str
    archived: bool = False


@dataclass(frozen=True)
class KeyName:
    """A project API key as its project's key list names it."""

    id: str
    name: str
    redacted_value: str | None
    """``sk-abc...def``; None when the API sent none that looked redacted."""
    project_id: str


@dataclass(frozen=True)
class Directory:
    """Every project and API key one read of the list endpoints found."""

    projects: tuple[ProjectName, ...] = ()
    keys: tuple[KeyName, ...] = ()


class NameSource(Protocol):
    """A source that can list the organization's projects and API keys."""

    def read_names(self) -> Directory:
        """Every project (archived ones too) and every project's API keys.

        Raises:
            SyncError: the lists could not be read; the message holds no key.
        """
        ...


def safe_redacted(value: Any) -> str | None:
    """``value`` if it looks like a redacted key, else None: the store must
    never hold something that could be a whole key."""
    if not isinstance(value, str) or REDACTION_MARK not in value:
        return None
    if len(value) > LONGEST_REDACTED:
        return None
    return value


@dataclass(frozen=True)
class Names:
    """The names known for one origin's project ids and key ids."""

    projects: Mapping[str, ProjectName] = field(default_factory=dict)
    keys: Mapping[str, KeyName] = field(default_factory=dict)
    read_at: int | None = None
    """When they were last read (epoch seconds); None if never."""

    def project_name(self, project_id: str | None) -> str | None:
        """The project's name, or None when it has none known."""
        project = self.projects.get(project_id or "")
        return project.name if project is not None and project.name else None

    def key_name(self, key_id: str | None) -> str | None:
        """The key's name with its redacted value (``ci-bot · sk-abc...def``),
        or None when it has none known."""
        key = self.keys.get(key_id or "")
        if key is None or not key.name:
            return None
        redacted = safe_redacted(key.redacted_value)
        return f"{key.name}{KEY_SEPARATOR}{redacted}" if redacted else key.name

    def project_label(self, project_id: str | None, none: str = NO_PROJECT) -> str:
        """What to call a project: its name, else its id, else ``none``."""
        return self.project_name(project_id) or project_id or none

    def key_label(self, key_id: str | None, none: str = NO_KEY) -> str:
        """What to call a key: its name and redacted value, else its id."""
        return self.key_name(key_id) or key_id or none


def _project(project_id: str, doc: Any) -> ProjectName | None:
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        return None
    return ProjectName(project_id, doc["name"], doc.get("archived") is True)


def _key(key_id: str, doc: Any) -> KeyName | None:
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        return None
    project = doc.get("project_id")
    return KeyName(
        key_id,
        doc["name"],
        safe_redacted(doc.get("redacted_value")),
        project if isinstance(project, str) else "",
    )


def names_from_record(record: Mapping[str, Any] | None) -> Names:
    """The names in a stored record; entries of the wrong shape are left out."""
    if not record:
        return Names()
    projects = record.get("projects")
    keys = record.get("api_keys")
    read_at = record.get("read_at")
    found_projects = {
        pid: p
        for pid, doc in (projects.items() if isinstance(projects, dict) else ())
        if (p := _project(pid, doc)) is not None
    }
    found_keys = {
        kid: k
        for kid, doc in (keys.items() if isinstance(keys, dict) else ())
        if (k := _key(kid, doc)) is not None
    }
    return Names(found_projects, found_keys, read_at if type(read_at) is int else None)


def read_names(store: Store, origin: str) -> Names:
    """The names stored for ``origin``; none when they were never read."""
    return names_from_record(store.names(origin))


def directory_record(directory: Directory) -> dict[str, Any]:
    """The stored form of what a read found: only redacted key values."""
    refused = [
        key.id
        for key in directory.keys
        if key.redacted_value is not None and safe_redacted(key.redacted_value) is None
    ]
    keys = {
        key.id: {
            "name": key.name,
            "redacted_value": safe_redacted(key.redacted_value),
            "project_id": key.project_id,
        }
        for key in directory.keys
    }
    if refused:
        # The value itself is never logged: it may be the very thing refused.
        log.warning(
            "names: %d API key value(s) did not look redacted and were not kept "
            "(keys %s)",
            len(refused),
            ", ".join(refused[:5]),
        )
    return {
        "projects": {
            p.id: {"name": p.name, "archived": p.archived} for p in directory.projects
        },
        "api_keys": keys,
    }


def refresh_reason(
    record: Mapping[str, Any] | None, now: int, seen_projects: Collection[str]
) -> str | None:
    """Why the names should be read now, or None when they need not be.

    They are read when never read or older than ``REFRESH_AFTER_SECONDS``, or
    when usage named a project they do not know (``seen_projects`` holds the
    projects usage named since the last read); but never twice within
    ``RETRY_AFTER_SECONDS``, so a refused read or a project the lists do not
    know is not asked about at every sync.
    """
    record = record or {}
    attempted = record.get("attempted_at")
    if type(attempted) is int and now - attempted < RETRY_AFTER_SECONDS:
        return None
    read_at = record.get("read_at")
    if type(read_at) is not int:
        return "never read"
    if now - read_at >= REFRESH_AFTER_SECONDS:
        return "older than 6 hours"
    known = names_from_record(record).projects
    unknown = sorted(p for p in seen_projects if p and p not in known)
    if unknown:
        return f"usage names unknown project {unknown[0]}"
    return None


def _pending(record: Mapping[str, Any] | None) -> set[str]:
    """Project ids usage named that the names did not know, waiting for a read."""
    pending = (record or {}).get("pending")
    if not isinstance(pending, list):
        return set()
    return {p for p in pending if isinstance(p, str)}


@dataclass(frozen=True)
class NamesOutcome:
    """What a sync did about names."""

    read: bool
    """True when the lists were read and stored."""
    projects: int = 0
    keys: int = 0
    error: str | None = None
    """Why the read failed; the names stored before are kept."""


def refresh_names(
    store: Store,
    origin: str,
    source: NameSource,
    now: int,
    seen_projects: Collection[str] = (),
) -> NamesOutcome | None:
    """Read the names if they are due (see ``refresh_reason``) and store them.

    Never raises for API trouble: a failed read keeps the names stored before,
    and is logged once (not again at each retry while it fails the same way).

    Returns:
        What happened; None when the names were not due.
    """
    current = store.names(origin)
    known = names_from_record(current).projects
    waiting = _pending(current)
    pending = waiting | {p for p in seen_projects if p and p not in known}
    reason = refresh_reason(current, now, pending)
    if reason is None:
        if pending != waiting:
            # Remembered, so that the read an hour on still happens when the
            # sync then re-reads only recent buckets, which may not name them.
            store.update_names(
                origin, lambda record: {**(record or {}), "pending": sorted(pending)}
            )
        return None
    try:
        directory = source.read_names()
    except SyncError as exc:
        error = str(exc)
        previous = (current or {}).get("error")

        def failed(record: dict[str, Any] | None) -> dict[str, Any]:
            return {
                **(record or {}),
                "attempted_at": now,
                "error": error,
                "pending": sorted(pending),
            }

        store.update_names(origin, failed)
        if error != previous:
            log.warning("names: could not read project and key names: %s", error)
        return NamesOutcome(read=False, error=error)

    fresh = directory_record(directory)

    def succeeded(record: dict[str, Any] | None) -> dict[str, Any]:
        # Projects the lists did not have are forgotten: only usage naming
        # them again asks again.
        return {
            **fresh,
            "read_at": now,
            "attempted_at": now,
            "error": None,
            "pending": [],
        }

    store.update_names(origin, succeeded)
    log.info(
        "names read (%s): %d projects, %d API keys",
        reason,
        len(directory.projects),
        len(directory.keys),
    )
    return NamesOutcome(True, len(directory.projects), len(directory.keys))
