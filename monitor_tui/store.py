"""The TinyDB store: usage rows, cost rows and the app's own state, on disk.

Every TinyDB write rewrites its whole file, so history is split into small files
that are read and written independently: minute rows for a trailing window in one
file, hourly rows in one file per UTC month, daily rows and costs in one file per
UTC year, and the app's state (sync watermarks, the last sync, the budget) in its
own file. Files are replaced atomically; writers take a short-lived file lock and
re-read what is on disk, so several processes can share one data directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from filelock import FileLock
from tinydb import Query, TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import Storage

from monitor_tui.usage import CostRow, UsageRow

SCHEMA_VERSION = 1
"""Layout version written to the state file, for later upgrades."""

MINUTE_RETENTION_SECONDS = 3 * 3600
"""Minute rows older than this are dropped: they only feed the burn rate."""

LOCK_TIMEOUT_SECONDS = 30.0


class OrjsonStorage(Storage):
    """A TinyDB storage that parses with orjson and replaces its file atomically.

    TinyDB's own JSON storage truncates the file before writing it, so a crash
    mid-write loses the store; this one writes a temporary file and renames it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return orjson.loads(raw) if raw else None

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(orjson.dumps(data))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def close(self) -> None:
        pass


class _BatchedStorage(CachingMiddleware):
    """Caches one open-modify-close cycle so it costs one read and one write."""

    WRITE_CACHE_SIZE = 1_000_000_000


def _month_key(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m")


def _year_key(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y")


def _next_month(epoch: int) -> int:
    moment = datetime.fromtimestamp(epoch, UTC)
    year, month = (
        (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    )
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp())


def _next_year(epoch: int) -> int:
    moment = datetime.fromtimestamp(epoch, UTC)
    return int(datetime(moment.year + 1, 1, 1, tzinfo=UTC).timestamp())


class Store:
    """The data directory of one origin's usage, costs and state."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._lock = FileLock(
            str(self.data_dir / "store.lock"), timeout=LOCK_TIMEOUT_SECONDS
        )

    # Layout

    def _usage_files(
        self, width: str, start: int, end: int
    ) -> Iterator[tuple[Path, int, int]]:
        """Yield each file holding ``width`` rows in [start, end), with its slice."""
        if width == "1m":
            yield self.data_dir / "minute.json", start, end
            return
        name, key, step = (
            ("hourly", _month_key, _next_month)
            if width == "1h"
            else ("daily", _year_key, _next_year)
        )
        cursor = start
        while cursor < end:
            upto = min(step(cursor), end)
            yield self.data_dir / f"{name}-{key(cursor)}.json", cursor, upto
            cursor = upto

    def _cost_files(self, start: int, end: int) -> Iterator[tuple[Path, int, int]]:
        cursor = start
        while cursor < end:
            upto = min(_next_year(cursor), end)
            yield self.data_dir / f"costs-{_year_key(cursor)}.json", cursor, upto
            cursor = upto

    @contextmanager
    def _writing(self) -> Iterator[None]:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._lock:
            yield

    @staticmethod
    def _replace_in_file(
        path: Path,
        table_name: str,
        in_window: Callable[[dict[str, Any]], bool],
        rows: list[dict[str, Any]],
    ) -> None:
        db = TinyDB(path, storage=_BatchedStorage(OrjsonStorage))
        try:
            table = db.table(table_name)
            table.remove(in_window)
            if rows:
                table.insert_multiple(rows)
        finally:
            db.close()

    @staticmethod
    def _read_file(path: Path, table_name: str) -> list[dict[str, Any]]:
        if not path.exists():
            return []
        db = TinyDB(path, storage=OrjsonStorage)
        try:
            return db.table(table_name).all()
        finally:
            db.close()

    # Usage rows

    def replace_usage(
        self,
        origin: str,
        endpoint: str,
        width: str,
        window: tuple[int, int],
        rows: Iterable[UsageRow],
        *,
        now: int,
    ) -> int:
        """Replace every stored row of the buckets in ``window`` with ``rows``.

        The whole bucket is the unit: a group that vanished from a re-read bucket
        vanishes from the store too, and a re-read never adds to what was there.

        Returns:
            The number of rows written.
        """
        start, end = window
        rows = list(rows)
        written = 0
        # Minute rows also age out here, whatever endpoint wrote them.
        horizon = now - MINUTE_RETENTION_SECONDS if width == "1m" else None
        with self._writing():
            for path, lo, hi in self._usage_files(width, start, end):
                part = [
                    r
                    for r in rows
                    if lo <= r["start"] < hi
                    and (horizon is None or r["start"] >= horizon)
                ]

                def in_window(doc: dict[str, Any], lo: int = lo, hi: int = hi) -> bool:
                    if horizon is not None and doc["start"] < horizon:
                        return True
                    return (
                        lo <= doc["start"] < hi
                        and doc["origin"] == origin
                        and doc["endpoint"] == endpoint
                        and doc["width"] == width
                    )

                self._replace_in_file(path, "usage", in_window, part)
                written += len(part)
        return written

    def usage_rows(
        self, origin: str, width: str, start: int, end: int
    ) -> list[UsageRow]:
        """Return the ``width`` rows of ``origin`` starting in [start, end)."""
        found: list[UsageRow] = []
        for path, lo, hi in self._usage_files(width, start, end):
            found.extend(
                doc
                for doc in self._read_file(path, "usage")
                if lo <= doc["start"] < hi and doc["origin"] == origin
            )
        return found

    # Cost rows

    def replace_costs(
        self, origin: str, window: tuple[int, int], rows: Iterable[CostRow]
    ) -> int:
        """Replace every stored cost row of the daily buckets in ``window``."""
        start, end = window
        rows = list(rows)
        written = 0
        with self._writing():
            for path, lo, hi in self._cost_files(start, end):
                part = [r for r in rows if lo <= r["start"] < hi]

                def in_window(doc: dict[str, Any], lo: int = lo, hi: int = hi) -> bool:
                    return lo <= doc["start"] < hi and doc["origin"] == origin

                self._replace_in_file(path, "costs", in_window, part)
                written += len(part)
        return written

    def cost_rows(self, origin: str, start: int, end: int) -> list[CostRow]:
        """Return the cost rows of ``origin`` whose day starts in [start, end)."""
        found: list[CostRow] = []
        for path, lo, hi in self._cost_files(start, end):
            found.extend(
                doc
                for doc in self._read_file(path, "costs")
                if lo <= doc["start"] < hi and doc["origin"] == origin
            )
        return found

    # State: sync watermarks, the last sync, the budget

    def _state(self) -> TinyDB:
        return TinyDB(
            self.data_dir / "state.json", storage=_BatchedStorage(OrjsonStorage)
        )

    def _read_state(self, table: str) -> list[dict[str, Any]]:
        return self._read_file(self.data_dir / "state.json", table)

    def _write_state(
        self, table: str, doc: dict[str, Any], key: dict[str, Any]
    ) -> None:
        with self._writing():
            db = self._state()
            try:
                db.table("meta").upsert(
                    {"schema": SCHEMA_VERSION}, Query().schema.exists()
                )
                cond = Query().fragment(key) if key else Query().noop()
                db.table(table).upsert({**key, **doc}, cond)
            finally:
                db.close()

    def watermark(
        self, origin: str, endpoint: str, width: str
    ) -> dict[str, Any] | None:
        """Return what has been read of one endpoint and width: ``synced_from``,
        ``synced_until`` (epoch seconds), or None if it was never read."""
        key = {"origin": origin, "endpoint": endpoint, "width": width}
        for doc in self._read_state("watermarks"):
            if all(doc.get(k) == v for k, v in key.items()):
                return dict(doc)
        return None

    def set_watermark(
        self,
        origin: str,
        endpoint: str,
        width: str,
        synced_from: int,
        synced_until: int,
    ) -> None:
        """Record that [synced_from, synced_until) has been read completely."""
        key = {"origin": origin, "endpoint": endpoint, "width": width}
        self._write_state(
            "watermarks",
            {"synced_from": synced_from, "synced_until": synced_until},
            key,
        )

    def last_sync(self, origin: str) -> dict[str, Any] | None:
        """Return the record of the last sync of ``origin``, or None."""
        for doc in self._read_state("syncs"):
            if doc.get("origin") == origin:
                return dict(doc)
        return None

    def record_sync(self, origin: str, record: dict[str, Any]) -> None:
        """Store the outcome of a sync (started, finished, ok, error, counts)."""
        self._write_state("syncs", record, {"origin": origin})

    def budget(self) -> dict[str, Any] | None:
        """Return the budget record, or None when no budget is set."""
        docs = self._read_state("budget")
        return dict(docs[0]) if docs else None

    def set_budget(self, record: dict[str, Any]) -> None:
        """Replace the budget record (amount as a decimal string, start day, zone)."""
        self._write_state("budget", record, {})
