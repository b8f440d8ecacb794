"""The list of recent exports, kept in the data directory so the Export tab shows
what the app and the command line wrote."""

from __future__ import annotations

import os
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any

import orjson
from filelock import FileLock

from monitor_tui.store import LOCK_TIMEOUT_SECONDS

# TODO: keep these records in the store's state file (``Store.add_export``,
# ``Store.recent_exports``) so they share its lock and its damaged-file advice;
# until the store has them they live in their own small file beside it.
LOG_FILE = "recent-exports.json"
KEEP = 20
"""How many exports the list keeps, newest first."""


@dataclass(frozen=True)
class ExportRecord:
    """One export that was written to a file."""

    at: int
    """When it was written, epoch seconds."""
    path: str
    """The absolute path of the file."""
    format: str
    group_by: str
    range_label: str
    range_start: int
    range_end: int
    """The range, [start, end) in epoch seconds."""
    rows: int
    bytes: int
    source: str
    """``openai`` or ``demo``."""
    project: str | None = None
    """The project the export was limited to; None for every project."""

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ExportRecord | None:
        """The record kept in ``doc``, or None when it is not one. A field added
        since the record was written takes its default."""
        values = {}
        for field in fields(cls):
            if field.name in doc:
                values[field.name] = doc[field.name]
            elif field.default is MISSING:
                return None
        try:
            return cls(**values)
        except TypeError:
            return None


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        docs = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return []
    except orjson.JSONDecodeError:
        return []  # a list of past exports is not worth refusing to work over
    return (
        [doc for doc in docs if isinstance(doc, dict)] if isinstance(docs, list) else []
    )


def recent_exports(data_dir: Path) -> list[ExportRecord]:
    """The exports kept in ``data_dir``, newest first."""
    records = (ExportRecord.from_dict(doc) for doc in _read(data_dir / LOG_FILE))
    return [record for record in records if record is not None]


def add_export(data_dir: Path, record: ExportRecord, *, keep: int = KEEP) -> None:
    """Put ``record`` first in ``data_dir``'s list, keeping the newest ``keep``.

    Raises:
        OSError: the data directory cannot be written.
    """
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / LOG_FILE
    with FileLock(str(data_dir / "recent-exports.lock"), timeout=LOCK_TIMEOUT_SECONDS):
        docs = [asdict(record), *_read(path)][:keep]
        temp = path.with_name(f"{path.name}.{os.getpid()}.partial")
        temp.write_bytes(orjson.dumps(docs))
        os.replace(temp, path)
