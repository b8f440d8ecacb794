"""The spool of tracked calls: each program appends its calls to a file of its own,
and readers ingest the files into the store, so a writer never waits for a reader.

A writer holds an exclusive ``flock`` on its file for as long as it writes to it
and lets go when the file is full, old, or the program ends (or dies: the system
lets go then). A reader that can take a shared lock on a file knows that nobody will
write to it again: it ingests the rest and deletes it. A file still held is read up
to its last complete line, and the reader remembers how far it got.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from monitor_tui.price_overrides import PriceOverride
    from monitor_tui.store import Store

log = logging.getLogger(__name__)

SPOOL_FOLDER = "spool"
"""The folder of the data directory that holds the spool files."""
SPOOL_SUFFIX = ".jsonl"
OPENING_SUFFIX = ".opening"
"""A writer's file while it is being opened. Not ``.tmp``: the store deletes
``.*.tmp`` files anywhere in the data directory as leftovers of its own writes."""
INGEST_LOCK = "ingest.lock"
"""Taken by readers only, so that two readers never store the same file at once."""

ROTATE_BYTES = 1 << 20
"""A writer starts a new file past this size, so readers can delete the old one."""
ROTATE_SECONDS = 600
"""... or when its file is this old: a long-lived program's calls are not re-read
by every new reader for the rest of its life."""
STALE_TEMPORARY_SECONDS = 3600
"""A writer's file still under its temporary name this long after it was created
belongs to a program killed while it was opening the file."""


def spool_dir(data_dir: str | os.PathLike[str]) -> Path:
    """The spool folder of a data directory."""
    return Path(data_dir) / SPOOL_FOLDER


# Writing


class SpoolWriter:
    """Appends records to this process's own spool file, one JSON line each.

    Safe to share between threads. After a fork the child leaves the parent's
    file alone and opens its own on its first record.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._fd: int | None = None
        self._size = 0
        self._opened_at = 0.0
        self._warned = False

    def append(self, record: Mapping[str, Any]) -> bool:
        """Append one record; never raises.

        Returns:
            Whether the record was written. The first failure is logged as a
            warning, later ones only at debug level.
        """
        try:
            line = orjson.dumps(record) + b"\n"
            with self._lock:
                if self._pid != os.getpid():
                    self.forget_inherited_file()
                self._write(line)
        except Exception as exc:  # recording must never raise
            self._warn(exc)
            return False
        return True

    def _write(self, line: bytes) -> None:
        if self._fd is not None and (
            self._size >= ROTATE_BYTES
            or time.monotonic() - self._opened_at >= ROTATE_SECONDS
        ):
            self._close()
        if self._fd is None:
            self._open()
        assert self._fd is not None
        try:
            # One write per record, to a file opened for appending: a reader sees
            # either the whole line or none of it once the write returns.
            written = os.write(self._fd, line)
        except OSError:
            self._close()
            raise
        if written != len(line):
            # A part of a line (a full disk) must stay the last thing in its
            # file, where readers drop it, instead of spoiling the next record.
            self._close()
            raise OSError(f"only {written} of {len(line)} bytes were written")
        self._size += written

    def _open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{os.getpid()}-{secrets.token_hex(4)}"
        final = self.folder / f"{name}{SPOOL_SUFFIX}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND
        if fcntl is None:
            # TODO: lock the file on Windows too; until then readers never know
            # its writer is done, so spool files are never deleted there.
            self._fd = os.open(final, flags, 0o600)
        else:
            # Created under a name readers ignore and locked before it gets its
            # real name: a reader must never find it unlocked while it is in use.
            temporary = self.folder / f".{name}{OPENING_SUFFIX}"
            fd = os.open(temporary, flags, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.rename(temporary, final)
            except OSError:
                os.close(fd)
                temporary.unlink(missing_ok=True)
                raise
            self._fd = fd
        self._size = 0
        self._opened_at = time.monotonic()

    def _close(self) -> None:
        """Let go of the current file; readers then ingest and delete it."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def close(self) -> None:
        """Let go of the current file; a later record opens a new one."""
        with self._lock:
            self._close()

    def forget_inherited_file(self) -> None:
        """In a forked child: drop the parent's file without letting go of it.

        The child's copy of the descriptor is closed without unlocking, which
        would unlock the parent's file too.
        """
        if self._fd is not None:
            os.close(self._fd)
        self._fd = None
        self._size = 0
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def _warn(self, exc: Exception) -> None:
        if self._warned:
            log.debug("a tracked call was not recorded: %s", exc)
            return
        self._warned = True
        log.warning(
            "tracked calls cannot be recorded in %s (%s); the calls themselves go "
            "on as usual, but monitor-tui will not see them",
            self.folder,
            exc,
        )


_WRITERS: dict[Path, SpoolWriter] = {}
_WRITERS_LOCK = threading.Lock()


def writer_for(data_dir: str | os.PathLike[str]) -> SpoolWriter:
    """This process's writer for the spool of ``data_dir``; one per folder."""
    folder = spool_dir(data_dir).absolute()
    with _WRITERS_LOCK:
        writer = _WRITERS.get(folder)
        if writer is None:
            writer = _WRITERS[folder] = SpoolWriter(folder)
        return writer


def _after_fork_in_child() -> None:
    global _WRITERS_LOCK
    _WRITERS_LOCK = threading.Lock()
    for writer in _WRITERS.values():
        writer.forget_inherited_file()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# Reading

_READ_UPTO: dict[tuple[str, int], int] = {}
"""How far this process has ingested each spool file still being written, by
path and inode."""


@dataclass
class _Claim:
    """One spool file as a reader found it."""

    path: Path
    inode: int
    fd: int
    released: bool
    """Its writer is done with it: after ingesting, it is deleted."""
    start: int
    end: int = 0
    """Where the complete lines read end, once read."""


def _claim(path: Path) -> _Claim | None:
    """Open one spool file for reading, and learn whether its writer is done."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        released = False
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                released = True
            except BlockingIOError:
                pass
        inode = os.fstat(fd).st_ino
    except OSError:
        os.close(fd)
        raise
    start = _READ_UPTO.get((str(path), inode), 0)
    return _Claim(path, inode, fd, released, start)


def _read_lines(claim: _Claim) -> list[bytes]:
    """The complete lines of a claimed file after what was already ingested."""
    size = os.fstat(claim.fd).st_size
    if size < claim.start:
        claim.start = 0  # not the file we read before
    os.lseek(claim.fd, claim.start, os.SEEK_SET)
    chunks = []
    left = size - claim.start
    while left > 0:
        chunk = os.read(claim.fd, left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    data = b"".join(chunks)
    complete = data.rfind(b"\n") + 1
    if claim.released and complete < len(data):
        log.warning(
            "dropped the unfinished last line of %s (%d bytes): its program "
            "stopped while writing it",
            claim.path.name,
            len(data) - complete,
        )
    claim.end = claim.start + complete
    return data[:complete].splitlines()


def _finish(claim: _Claim) -> None:
    """After the records are stored: delete a released file, remember how far a
    file still being written was read."""
    key = (str(claim.path), claim.inode)
    if claim.released:
        claim.path.unlink(missing_ok=True)
        _READ_UPTO.pop(key, None)
    else:
        _READ_UPTO[key] = claim.end


def _forget_gone(folder: Path, files: list[Path]) -> None:
    """Forget how far files were read that another reader has deleted since."""
    present = {str(path) for path in files}
    for key in list(_READ_UPTO):
        if os.path.dirname(key[0]) == str(folder) and key[0] not in present:
            del _READ_UPTO[key]


def _remove_stale_temporaries(folder: Path, now: float) -> None:
    if fcntl is None:
        return
    for path in folder.glob(f".*{OPENING_SUFFIX}"):
        try:
            if now - path.stat().st_mtime < STALE_TEMPORARY_SECONDS:
                continue
            claim = _claim(path)
        except OSError:
            continue
        if claim is not None:
            try:
                if claim.released:
                    path.unlink(missing_ok=True)
            finally:
                os.close(claim.fd)


def pending_files(data_dir: str | os.PathLike[str]) -> list[Path]:
    """The spool files of ``data_dir``, oldest name first."""
    try:
        return sorted(
            path
            for path in spool_dir(data_dir).iterdir()
            if path.suffix == SPOOL_SUFFIX and not path.name.startswith(".")
        )
    except (FileNotFoundError, NotADirectoryError):
        return []


@contextmanager
def _ingest_lock(folder: Path, wait: float) -> Iterator[bool]:
    # Imported here: programs that only record calls never load it.
    from filelock import FileLock, Timeout

    lock = FileLock(str(folder / INGEST_LOCK), timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def ingest(
    store: Store,
    data_dir: str | os.PathLike[str],
    *,
    now: int | None = None,
    wait: float = 10.0,
    price_overrides: Mapping[str, PriceOverride] | None = None,
) -> int:
    """Store every call recorded in the spool of ``data_dir``, then delete what no
    program will write to again.

    Each call is stored once, however often its record is read (a call id
    identifies it). Records a program appends meanwhile wait for the next ingest.
    Readers take turns; one that waits more than ``wait`` seconds for another
    stores nothing this time (pass 0 never to wait).

    Args:
        store: The store that receives the calls (the real data directory's,
            also when the app shows demo data).
        data_dir: The data directory whose ``spool`` folder is read.
        now: Epoch seconds; the clock by default.
        wait: Seconds to wait for another reader.
        price_overrides: The config's ``[prices]``, which price the calls.

    Returns:
        The number of calls stored that were not stored before.

    Raises:
        StoreError: the store cannot be written; the spool is left as it was.
    """
    # Imported here: the recording half of this module is imported by user
    # programs, which must not load the store or the price data.
    from monitor_tui.tracked_calls import call_row, store_calls

    files = pending_files(data_dir)
    if not files:
        return 0
    folder = spool_dir(data_dir)
    moment = time.time() if now is None else now
    with _ingest_lock(folder, wait) as locked:
        if not locked:
            log.info("another reader is ingesting %s; skipped", folder)
            return 0
        _remove_stale_temporaries(folder, moment)
        claims: list[_Claim] = []
        try:
            rows = []
            skipped: Counter[str] = Counter()
            for path in files:
                claim = _claim(path)
                if claim is None:
                    continue
                claims.append(claim)
                for line in _read_lines(claim):
                    try:
                        rows.append(call_row(orjson.loads(line)))
                    except (ValueError, TypeError) as exc:
                        skipped[str(exc)] += 1
            for reason, count in skipped.items():
                log.warning("skipped %d tracked call records: %s", count, reason)
            stored = (
                store_calls(
                    store, rows, now=int(moment), price_overrides=price_overrides
                )
                if rows
                else 0
            )
            for claim in claims:
                _finish(claim)
            _forget_gone(folder, files)
        finally:
            for claim in claims:
                os.close(claim.fd)
    if stored:
        log.info("ingested %d tracked calls from %d spool files", stored, len(claims))
    return stored
