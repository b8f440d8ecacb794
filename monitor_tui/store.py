"""The TinyDB store: usage rows, cost rows and the app's own state, on disk.

Every TinyDB write rewrites its whole file, so history is split into small files
that are read and written independently: minute rows for a trailing window in one
file, hourly rows in one file per UTC day, costs in one per UTC month, daily rows in
one per UTC year, and the app's state (sync watermarks, the last sync, the budget)
in its own file. Files are replaced atomically; writers take a short-lived file lock and
re-read what is on disk, so several processes can share one data directory. A file
found damaged anyway is moved aside and its data read again from the API.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson
from filelock import FileLock
from tinydb import Query, TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import Storage

from monitor_tui.usage import COUNT_FIELDS, VOLUME_FIELDS, CostRow, UsageRow

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
"""Layout version written to the state file. A store written by a newer layout is
refused rather than overwritten; older layouts are upgraded as they are opened (there
is none older than 1 yet)."""

STATE_FILE = "state.json"
STATE_BACKUP = "state.json.bak"
"""The state file as it was before its last write, to restore if it is damaged."""
NAMES_FILE = "names.json"
"""Project and API key names, apart from the state: a large organization's
names would otherwise be rewritten with every watermark."""

MINUTE_RETENTION_SECONDS = 3 * 3600
"""Minute rows older than this are dropped: they only feed the burn rate."""

LOCK_TIMEOUT_SECONDS = 30.0


class StoreError(Exception):
    """A store file cannot be read or written; the message names it."""


class DamagedFile(StoreError):
    """A store file that cannot be parsed or holds rows of the wrong shape."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"the store file {path} is damaged ({reason})")
        self.path = path
        self.reason = reason


def damaged(path: Path, reason: str) -> DamagedFile:
    """The error for a store file that cannot be used."""
    return DamagedFile(path, reason)


def data_dir_problem(exc: OSError, data_dir: Path) -> str:
    """Say plainly that the data directory cannot be used, and why."""
    return f"cannot use the data directory {data_dir}: {exc.strerror} ({exc.filename})"


def _is_amount(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


_VOLUME_FIELDS = frozenset(VOLUME_FIELDS)
_COUNTS = itemgetter(*COUNT_FIELDS)
_ONLY_INT = {int}


def _usage_row_problem(doc: dict[str, Any]) -> str | None:
    """Why a stored usage row cannot be used, or None when it can."""
    if type(doc.get("start")) is not int or not isinstance(doc.get("origin"), str):
        return "a row without its bucket start or origin"
    if not isinstance(doc.get("endpoint"), str):
        return "a row without its endpoint"
    if not isinstance(doc.get("model"), str | None):
        return "a row whose model is not a name"
    try:
        counts_ok = set(map(type, _COUNTS(doc))) == _ONLY_INT  # one C-level pass
    except KeyError:
        counts_ok = False
    if not counts_ok:
        for name in COUNT_FIELDS:
            if type(doc.get(name)) is not int:
                return f"a row whose {name} is not a count"
    for name in doc.keys() & _VOLUME_FIELDS:  # optional: only some rows have them
        if type(doc[name]) is not int:
            return f"a row whose {name} is not a count"
    cost = doc.get("cost_usd")
    if cost is not None and not _is_amount(cost):
        return "a row whose cost is not an amount"
    return None


def _cost_row_problem(doc: dict[str, Any]) -> str | None:
    """Why a stored cost row cannot be used, or None when it can."""
    if type(doc.get("start")) is not int or not isinstance(doc.get("origin"), str):
        return "a row without its day or origin"
    if not _is_amount(doc.get("amount")) or not isinstance(doc.get("currency"), str):
        return "a row whose amount is not an amount"
    return None


class OrjsonStorage(Storage):
    """A TinyDB storage that parses with orjson and replaces its file atomically.

    TinyDB's own JSON storage truncates the file before writing it, so a crash
    mid-write loses the store; this one writes a temporary file and renames it.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, keep_backup: bool = False
    ) -> None:
        self.path = Path(path)
        self.keep_backup = keep_backup
        """Copy the file aside before replacing it, to restore it if damaged."""

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            data = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError as exc:
            # TODO: move a damaged file aside and read its span again from the API
            # instead of stopping; until then the user is told which file it is.
            raise damaged(self.path, str(exc)) from None
        if data is None:
            return None
        if not isinstance(data, dict) or not all(
            isinstance(table, dict)
            and all(isinstance(doc, dict) for doc in table.values())
            for table in data.values()
        ):
            raise damaged(self.path, "not tables of documents")
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(orjson.dumps(data))
            handle.flush()
            os.fsync(handle.fileno())
        if self.keep_backup and self.path.exists():
            # Copied, not renamed: a reader without the lock must always find
            # the file itself.
            backup = self.path.with_name(f".{self.path.name}.bak.{os.getpid()}.tmp")
            shutil.copyfile(self.path, backup)
            os.replace(backup, self.path.with_name(f"{self.path.name}.bak"))
        os.replace(tmp, self.path)

    def close(self) -> None:
        pass


def _canonical(doc: dict[str, Any]) -> bytes:
    """A row as bytes that are equal exactly when the rows are."""
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


class _ReadCache:
    """The documents of the files read most recently, each with the stamp of the
    file it came from; shared by every store in the process, thread-safe."""

    def __init__(self, files: int) -> None:
        self._files = files
        self._entries: OrderedDict[tuple[str, str], tuple[Any, list]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], stamp: Any) -> list | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != stamp:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: tuple[str, str], stamp: Any, docs: list) -> None:
        with self._lock:
            self._entries[key] = (stamp, docs)
            self._entries.move_to_end(key)
            while len(self._entries) > self._files:
                self._entries.popitem(last=False)


READ_CACHE_FILES = 200
"""Enough for 90 days of hourly files, the cost months and the state file; at a
busy organization's scale that is tens of megabytes."""

_READ_CACHE = _ReadCache(READ_CACHE_FILES)


class _BatchedStorage(CachingMiddleware):
    """Caches one open-modify-close cycle so it costs one read and one write."""

    WRITE_CACHE_SIZE = 1_000_000_000


def _next_day(epoch: int) -> int:
    return epoch - epoch % 86400 + 86400


def _next_month(epoch: int) -> int:
    moment = datetime.fromtimestamp(epoch, UTC)
    year, month = divmod(moment.year * 12 + moment.month, 12)
    return int(datetime(year, month + 1, 1, tzinfo=UTC).timestamp())


def _next_year(epoch: int) -> int:
    moment = datetime.fromtimestamp(epoch, UTC)
    return int(datetime(moment.year + 1, 1, 1, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class _Partitioning:
    """How one kind of row is split into files: a folder, and a file per span."""

    folder: str
    name_format: str
    next_boundary: Callable[[int], int]


# A steady sync rewrites only the files of the buckets it re-reads, so the spans
# are small where syncs write often: a day of hourly rows is about a hundred KB
# for a busy organization.
_HOURLY = _Partitioning("hourly", "%Y-%m-%d", _next_day)
_DAILY = _Partitioning("daily", "%Y", _next_year)
_COSTS = _Partitioning("costs", "%Y-%m", _next_month)
# Calls recorded by the tracker arrive all day: a file per day keeps each ingest
# to a small rewrite.
_CALLS = _Partitioning("calls", "%Y-%m-%d", _next_day)
PARTITION_FOLDERS = (_HOURLY.folder, _DAILY.folder, _COSTS.folder, _CALLS.folder)


def _span_start(name: str, split: _Partitioning) -> int | None:
    """The start of the span a file is named for, or None for a stray file."""
    try:
        moment = datetime.strptime(name, split.name_format)
    except ValueError:
        return None
    return int(moment.replace(tzinfo=UTC).timestamp())


def _split(
    spans: list[tuple[Path, int, int]], rows: list[dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    """Sort rows into the spans (files) that hold their bucket start, in one pass;
    rows outside every span are dropped."""
    parts: list[list[dict[str, Any]]] = [[] for _ in spans]
    starts = [lo for _, lo, _ in spans]
    for row in rows:
        index = bisect_right(starts, row["start"]) - 1
        if index >= 0 and row["start"] < spans[index][2]:
            parts[index].append(row)
    return parts


class Store:
    """The data directory of one origin's usage, costs and state."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._lock = FileLock(
            str(self.data_dir / "store.lock"), timeout=LOCK_TIMEOUT_SECONDS
        )
        self.recovered: list[str] = []
        """What this store found damaged and repaired, to tell the user."""

    # Layout

    def _files(
        self, split: _Partitioning, start: int, end: int, *, existing: bool = False
    ) -> Iterator[tuple[Path, int, int]]:
        """Yield each file of ``split`` holding rows in [start, end), with the part
        of the range it holds; only files already on disk when ``existing``."""
        folder = self.data_dir / split.folder
        on_disk: set[str] | None = None
        if existing:
            # A wide range (say, all of history) must not cost a path per day.
            try:
                names = [p.stem for p in folder.iterdir() if p.suffix == ".json"]
            except FileNotFoundError:
                return
            on_disk = set(names)
            spans = [_span_start(name, split) for name in names]
            known = [span for span in spans if span is not None]
            if not known:
                return
            start = max(start, min(known))
            end = min(end, split.next_boundary(max(known)))
        cursor = start
        while cursor < end:
            upto = min(split.next_boundary(cursor), end)
            name = datetime.fromtimestamp(cursor, UTC).strftime(split.name_format)
            if on_disk is None or name in on_disk:
                yield folder / f"{name}.json", cursor, upto
            cursor = upto

    def _usage_files(
        self, width: str, start: int, end: int, *, existing: bool = False
    ) -> Iterator[tuple[Path, int, int]]:
        if width == "1m":
            yield self.data_dir / "minute.json", start, end
        elif width == "call":
            yield from self._files(_CALLS, start, end, existing=existing)
        else:
            split = _HOURLY if width == "1h" else _DAILY
            yield from self._files(split, start, end, existing=existing)

    def holds_calls(self) -> bool:
        """True when any tracked call has been stored; a listing of its folder."""
        try:
            return any(
                path.suffix == ".json"
                for path in (self.data_dir / _CALLS.folder).iterdir()
            )
        except (FileNotFoundError, NotADirectoryError):
            return False

    def _cost_files(
        self, start: int, end: int, *, existing: bool = False
    ) -> Iterator[tuple[Path, int, int]]:
        return self._files(_COSTS, start, end, existing=existing)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._lock:
            self._remove_leftovers()
            yield

    def _remove_leftovers(self) -> None:
        """Delete temporary files of writes that were killed half-way.

        Every write happens under the lock, so with the lock held no temporary
        file can belong to a write still in progress.
        """
        for pattern in (".*.tmp", "*/.*.tmp"):
            for leftover in self.data_dir.glob(pattern):
                leftover.unlink(missing_ok=True)

    def _replace_in_file(
        self,
        path: Path,
        table_name: str,
        in_window: Callable[[dict[str, Any]], bool],
        rows: list[dict[str, Any]],
    ) -> None:
        if not rows and not path.exists():
            return  # an empty span needs no file
        try:
            if self._holds_exactly(path, table_name, in_window, rows):
                # Most re-reads bring back what is stored: rewriting the file
                # would cost a write and an fsync for nothing.
                return
            self._replace_rows(path, table_name, in_window, rows)
        except DamagedFile as exc:
            self._set_aside(exc)
            self._replace_rows(path, table_name, in_window, rows)

    def _holds_exactly(
        self,
        path: Path,
        table_name: str,
        in_window: Callable[[dict[str, Any]], bool],
        rows: list[dict[str, Any]],
    ) -> bool:
        """True when the rows of ``path`` that ``in_window`` selects are
        ``rows``, in any order."""
        stored = [doc for doc in self._read_docs(path, table_name) if in_window(doc)]
        if len(stored) != len(rows):
            return False
        return sorted(map(_canonical, stored)) == sorted(map(_canonical, rows))

    @staticmethod
    def _replace_rows(
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
        except (KeyError, TypeError) as exc:
            # A stored row without the fields every row has: the file, not the
            # API, is at fault.
            raise damaged(path, f"a row without {exc}") from None
        finally:
            db.close()

    def _read_file(
        self,
        path: Path,
        table_name: str,
        problem: Callable[[dict[str, Any]], str | None] | None = None,
    ) -> list[dict[str, Any]]:
        try:
            return self._read_docs(path, table_name, problem)
        except DamagedFile as exc:
            self._set_aside(exc)
            return self._read_docs(path, table_name, problem)

    @staticmethod
    def _read_docs(
        path: Path,
        table_name: str,
        problem: Callable[[dict[str, Any]], str | None] | None = None,
    ) -> list[dict[str, Any]]:
        """The documents of one table of one file, checked by ``problem``.

        They come from the cache of files already read while the file is the
        same (the same inode, size and modification time: every write replaces
        the file, so any change is seen), and must not be changed by callers.
        """
        try:
            info = path.stat()
        except FileNotFoundError:
            return []
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
        key = (str(path), table_name)
        cached = _READ_CACHE.get(key, stamp)
        if cached is not None:
            return cached
        # Read with the storage TinyDB uses, without wrapping every row in a
        # TinyDB Document: a 90-day range is tens of thousands of rows.
        data = OrjsonStorage(path).read() or {}
        docs = list(data.get(table_name, {}).values())
        if problem is not None:
            for doc in docs:
                reason = problem(doc)
                if reason:
                    raise damaged(path, reason)
        _READ_CACHE.put(key, stamp, docs)
        return docs

    # Damaged files

    def _set_aside(self, exc: DamagedFile) -> None:
        """Move a damaged file out of the way and arrange to rebuild what it held.

        A damaged day, month or year of rows is read again from the API: every
        watermark is forgotten, so the next sync reads the whole history (each
        bucket it reads replaces what was stored, so nothing counts twice). A
        damaged state file is restored from its copy before the last write, or
        started afresh when that is damaged too.
        """
        path = exc.path
        with self._writing():
            try:
                self._read_docs(path, "_default")
                if path.name != STATE_FILE:
                    self._check_rows(path)
                return  # another process has repaired it meanwhile
            except DamagedFile:
                pass
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            aside = path.with_name(f"{path.name}.damaged-{stamp}")
            os.replace(path, aside)
            if path.name == STATE_FILE:
                outcome = self._restore_state()
            elif path.parent.name == _CALLS.folder:
                # Recorded calls exist nowhere else: they cannot be read again.
                outcome = "the calls recorded in it are left out of the totals"
            else:
                self._forget_watermarks()
                outcome = "the next sync reads the history again from the API"
        message = (
            f"the store file {path} was damaged ({exc.reason}); it was moved to "
            f"{aside.name} and {outcome}"
        )
        log.warning("%s", message)
        self.recovered.append(message)

    @staticmethod
    def _check_rows(path: Path) -> None:
        problem = _cost_row_problem if path.parent.name == _COSTS.folder else None
        table = "costs" if problem else "usage"
        Store._read_docs(path, table, problem or _usage_row_problem)

    def _restore_state(self) -> str:
        state = self.data_dir / STATE_FILE
        backup = self.data_dir / STATE_BACKUP
        try:
            self._read_docs(backup, "meta")
        except DamagedFile:
            backup.unlink()
        if backup.exists():
            shutil.copyfile(backup, state)
            return (
                "it was restored as it was before its last change (a sync may "
                "read a little again)"
            )
        return (
            "the next sync reads the history again; the budget, if one was set, "
            "must be set again"
        )

    def _forget_watermarks(self) -> None:
        db = self._open_state()
        try:
            db.table("watermarks").truncate()
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
        if horizon is not None:
            rows = [r for r in rows if r["start"] >= horizon]
        with self._writing():
            spans = list(self._usage_files(width, start, end))
            for (path, lo, hi), part in zip(spans, _split(spans, rows), strict=True):

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
        for path, lo, hi in self._usage_files(width, start, end, existing=True):
            found.extend(
                doc
                for doc in self._read_file(path, "usage", _usage_row_problem)
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
            spans = list(self._cost_files(start, end))
            for (path, lo, hi), part in zip(spans, _split(spans, rows), strict=True):

                def in_window(doc: dict[str, Any], lo: int = lo, hi: int = hi) -> bool:
                    return lo <= doc["start"] < hi and doc["origin"] == origin

                self._replace_in_file(path, "costs", in_window, part)
                written += len(part)
        return written

    def cost_rows(self, origin: str, start: int, end: int) -> list[CostRow]:
        """Return the cost rows of ``origin`` whose day starts in [start, end)."""
        found: list[CostRow] = []
        for path, lo, hi in self._cost_files(start, end, existing=True):
            found.extend(
                doc
                for doc in self._read_file(path, "costs", _cost_row_problem)
                if lo <= doc["start"] < hi and doc["origin"] == origin
            )
        return found

    # State: sync watermarks, the last sync, the budget

    def _state(self) -> TinyDB:
        return TinyDB(
            self.data_dir / STATE_FILE,
            storage=_BatchedStorage(OrjsonStorage),
            keep_backup=True,
        )

    def _read_state(self, table: str) -> list[dict[str, Any]]:
        return self._read_file(self.data_dir / STATE_FILE, table)

    def _write_state(
        self, table: str, doc: dict[str, Any], key: dict[str, Any]
    ) -> None:
        with self._writing():
            db = self._open_state()
            try:
                db.table("meta").upsert(
                    {"schema": SCHEMA_VERSION}, Query().schema.exists()
                )
                cond = Query().fragment(key) if key else Query().noop()
                db.table(table).upsert({**key, **doc}, cond)
            finally:
                db.close()

    def _open_state(self) -> TinyDB:
        """Open the state file for a change, under the lock: repaired first if it
        is damaged, and refused if a newer monitor-tui laid it out."""
        for doc in self._read_state("meta"):
            schema = doc.get("schema")
            if type(schema) is int and schema > SCHEMA_VERSION:
                raise StoreError(
                    f"the store in {self.data_dir} was written by a newer "
                    f"monitor-tui (layout {schema}; this one knows {SCHEMA_VERSION}); "
                    "upgrade monitor-tui, or use another --data-dir"
                )
        return self._state()

    def watermark(
        self, origin: str, endpoint: str, width: str
    ) -> dict[str, Any] | None:
        """Return what has been read of one endpoint and width: ``synced_from``,
        ``synced_until`` (epoch seconds), or None if it was never read."""
        key = {"origin": origin, "endpoint": endpoint, "width": width}
        for doc in self._read_state("watermarks"):
            if all(doc.get(k) == v for k, v in key.items()):
                if type(doc.get("synced_from")) is int and (
                    type(doc.get("synced_until")) is int
                ):
                    return dict(doc)
                # Unreadable: as if never read, so the next sync reads it again.
                return None
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

    def set_watermarks(self, marks: Iterable[tuple[str, str, str, int, int]]) -> None:
        """``set_watermark`` for each of ``marks`` (origin, endpoint, width,
        synced_from, synced_until), in one write of the state file."""
        marks = list(marks)
        if not marks:
            return
        with self._writing():
            db = self._open_state()
            try:
                table = db.table("watermarks")
                for origin, endpoint, width, synced_from, synced_until in marks:
                    key = {"origin": origin, "endpoint": endpoint, "width": width}
                    table.upsert(
                        {
                            **key,
                            "synced_from": synced_from,
                            "synced_until": synced_until,
                        },
                        Query().fragment(key),
                    )
            finally:
                db.close()

    def last_sync(self, origin: str) -> dict[str, Any] | None:
        """Return the record of the last sync of ``origin``, or None."""
        for doc in self._read_state("syncs"):
            if doc.get("origin") == origin:
                record = dict(doc)
                if type(record.get("last_ok_at")) is not int:
                    record["last_ok_at"] = None
                return record
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

    # Pruning

    def first_call_day(self) -> int | None:
        """The start of the UTC day of the oldest stored tracked call's file,
        or None when no call is stored."""
        spans = [
            _span_start(path.stem, _CALLS)
            for path in (self.data_dir / _CALLS.folder).glob("*.json")
        ]
        known = [span for span in spans if span is not None]
        return min(known) if known else None

    def files_before(self, cutoff: int) -> list[Path]:
        """The row files whose whole span ends at or before ``cutoff``."""
        old = []
        for split in (_HOURLY, _DAILY, _COSTS, _CALLS):
            folder = self.data_dir / split.folder
            for path in sorted(folder.glob("*.json")):
                start = _span_start(path.stem, split)
                if start is not None and split.next_boundary(start) <= cutoff:
                    old.append(path)
        return old

    def delete_files_before(self, origin: str, cutoff: int) -> int:
        """Delete the row files that end by ``cutoff``; the history read then
        starts at ``cutoff``, so the next sync does not read them again.

        Returns:
            How many files were deleted.
        """
        with self._writing():
            old = self.files_before(cutoff)
            for path in old:
                path.unlink(missing_ok=True)
            db = self._open_state()
            try:
                table = db.table("watermarks")
                for doc in table.search(Query().origin == origin):
                    if type(doc.get("synced_from")) is int and doc["width"] != "1m":
                        table.update(
                            {"synced_from": max(doc["synced_from"], cutoff)},
                            doc_ids=[doc.doc_id],
                        )
            finally:
                db.close()
        return len(old)

    def clear_budget(self) -> None:
        """Remove the budget record: no budget is set afterwards."""
        with self._writing():
            db = self._open_state()
            try:
                db.table("budget").truncate()
            finally:
                db.close()

    # Prices: what the stored rows were priced on

    def price_basis(self) -> str | None:
        """What the stored usage rows were priced on (the price data's version and
        the overrides), or None before any pricing was recorded."""
        for doc in self._read_state("pricing"):
            basis = doc.get("basis")
            return basis if isinstance(basis, str) else None
        return None

    def reprice_usage(
        self, price_rows: Callable[[list[UsageRow]], list[UsageRow]], basis: str
    ) -> int:
        """Price every stored usage row again with ``price_rows`` and record
        ``basis`` as what they are priced on, all under the lock so no sync
        stores rows priced the old way meanwhile.

        Returns:
            How many rows were priced again.
        """
        repriced = 0
        with self._writing():
            paths = [self.data_dir / "minute.json"]
            for split in (_HOURLY, _DAILY, _CALLS):
                paths.extend(sorted((self.data_dir / split.folder).glob("*.json")))
            for path in paths:
                try:
                    docs = self._read_docs(path, "usage", _usage_row_problem)
                except DamagedFile as exc:
                    self._set_aside(exc)
                    continue
                if not docs:
                    continue
                data = OrjsonStorage(path).read() or {}
                table = data.get("usage", {})
                rows = price_rows([dict(doc) for doc in table.values()])
                data["usage"] = dict(zip(table, rows, strict=True))
                OrjsonStorage(path).write(data)
                repriced += len(rows)
            self._write_state("pricing", {"basis": basis}, {})
        return repriced

    def set_price_basis(self, basis: str) -> None:
        """Record what the stored rows are priced on, without pricing them."""
        self._write_state("pricing", {"basis": basis}, {})

    # Project and API key names

    def names(self, origin: str) -> dict[str, Any] | None:
        """Return the names record of ``origin`` (projects, api_keys, read_at,
        attempted_at, error, pending), or None when they were never read or their file
        is damaged (they are read from the API again then)."""
        try:
            docs = self._read_docs(self.data_dir / NAMES_FILE, "names")
        except DamagedFile as exc:
            log.warning("%s; the names are read again at the next sync", exc)
            return None
        for doc in docs:
            if doc.get("origin") == origin:
                return dict(doc)
        return None

    def update_names(
        self,
        origin: str,
        update: Callable[[dict[str, Any] | None], dict[str, Any]],
    ) -> None:
        """Replace ``origin``'s names record with what ``update`` makes of the
        one on disk, under the lock.

        Raises:
            ValueError: an API key's ``redacted_value`` does not look redacted
                (it has no ``...``): a full key is never written.
        """
        path = self.data_dir / NAMES_FILE
        with self._writing():
            current = self.names(origin)
            if current is None and path.exists():
                try:
                    self._read_docs(path, "names")
                except DamagedFile:
                    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
                    os.replace(path, path.with_name(f"{path.name}.damaged-{stamp}"))
            record = {**update(current), "origin": origin}
            keys = record.get("api_keys") or {}
            for key_id, key in keys.items():
                redacted = key.get("redacted_value")
                if redacted is not None and "..." not in str(redacted):
                    raise ValueError(f"the value of API key {key_id} is not redacted")
            db = TinyDB(path, storage=_BatchedStorage(OrjsonStorage))
            try:
                db.table("names").upsert(record, Query().origin == origin)
            finally:
                db.close()

    # Preferences the app remembers (the theme)

    def preference(self, name: str) -> Any:
        """The stored value of a preference, or None."""
        for doc in self._read_state("preferences"):
            if doc.get("name") == name:
                return doc.get("value")
        return None

    def set_preference(self, name: str, value: Any) -> None:
        """Remember a preference (a JSON value) for the next start."""
        if self.preference(name) != value:
            self._write_state("preferences", {"value": value}, {"name": name})

    # Alerts: what has fired this period, and the log of fired alerts

    def alert_state(self, origin: str) -> dict[str, Any] | None:
        """Return what has fired in ``origin``'s current period, or None."""
        for doc in self._read_state("alert_state"):
            if doc.get("origin") == origin:
                return dict(doc)
        return None

    def update_alert_state(
        self,
        origin: str,
        update: Callable[
            [dict[str, Any] | None], tuple[dict[str, Any], list[dict[str, Any]]]
        ],
        *,
        keep: int,
    ) -> list[dict[str, Any]]:
        """Read ``origin``'s alert state, let ``update`` decide, write the result.

        ``update`` gets the state on disk and returns the new state and the log
        records of the alerts it fired. Reading and writing happen under the
        store's lock, so two processes never fire the same alert.

        Returns:
            The log records written.
        """
        with self._writing():
            db = self._open_state()
            try:
                table = db.table("alert_state")
                found = table.get(Query().origin == origin)
                current = dict(found) if isinstance(found, dict) else None
                state, fired = update(current)
                state = {**state, "origin": origin}
                # Unchanged state is not written: a write moves the file's
                # mtime, which makes every reader of the store read it again.
                if state != current:
                    table.upsert(state, Query().origin == origin)
                if fired:
                    log = db.table("alerts")
                    log.insert_multiple(fired)
                    mine = sorted(
                        (doc for doc in log.all() if doc.get("origin") == origin),
                        key=lambda doc: doc.get("at") or 0,
                    )
                    stale = [doc.doc_id for doc in mine[: max(len(mine) - keep, 0)]]
                    if stale:
                        log.remove(doc_ids=stale)
            finally:
                db.close()
        return fired

    def alert_log(self, origin: str) -> list[dict[str, Any]]:
        """Return the fired alerts of ``origin`` that the log still keeps."""
        return [
            dict(doc)
            for doc in self._read_state("alerts")
            if doc.get("origin") == origin
        ]
