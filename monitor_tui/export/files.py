"""Where an export goes: a timestamped default name, the checks that keep a
user's file safe, and an atomic write that refuses to replace a file unless told."""

from __future__ import annotations

import errno
import os
import secrets
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

STDOUT = "-"
"""The destination that means standard output."""

EXTENSIONS = {"csv": "csv", "json": "json", "md": "md"}


class ExportError(Exception):
    """An export cannot be made as asked; the message says why and what to do."""


class DestinationExists(ExportError):
    """The export's file exists and was not to be replaced."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} already exists; nothing was written")
        self.path = path


def default_file_name(now: datetime, zone: ZoneInfo, fmt: str, group_by: str) -> str:
    """``monitor-tui-2026-12-04-1530-by-model.csv``: the local time of ``now``,
    the grouping (``summary`` for the Markdown report) and the format."""
    what = "summary" if fmt == "md" else f"by-{group_by.replace('_', '-')}"
    stamp = now.astimezone(zone).strftime("%Y-%m-%d-%H%M")
    return f"monitor-tui-{stamp}-{what}.{EXTENSIONS[fmt]}"


def destination_path(text: str, default_name: str, cwd: Path | None = None) -> Path:
    """The file an export is written to: ``text`` (relative to ``cwd``), the
    default name in it when it is a directory, the default name in ``cwd`` when
    it is empty."""
    cwd = Path.cwd() if cwd is None else cwd
    text = text.strip()
    path = cwd / Path(text).expanduser() if text else cwd / default_name
    if path.is_dir():
        path = path / default_name
    return path


def check_destination(path: Path, *, force: bool) -> None:
    """Refuse a destination that cannot or must not be written, before any work.

    Raises:
        ExportError: the file exists (and ``force`` is false), is a directory,
            or its directory is missing or not writable.
    """
    folder = path.parent
    if path.is_dir():
        raise ExportError(f"{path} is a directory; give a file name")
    if not folder.is_dir():
        raise ExportError(f"the directory {folder} does not exist; create it first")
    if path.exists() and not force:
        raise DestinationExists(path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write to the directory {folder}: permission denied")


def _open_new(path: Path) -> int:
    """Create ``path``, which must not exist, for writing (mode 666 less umask,
    as any file the user creates)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)


def _unwritable(path: Path, exc: OSError) -> ExportError:
    reason = exc.strerror or str(exc)
    return ExportError(f"cannot write to the directory {path.parent}: {reason}")


def _put_in_place(temp: Path, path: Path, *, force: bool) -> None:
    if force:
        os.replace(temp, path)
        return
    # A hard link never replaces a file, so one that appeared since the check
    # is still refused; where links are not supported, check and rename.
    try:
        os.link(temp, path)
    except FileExistsError:
        raise DestinationExists(path) from None
    except OSError:
        if path.exists():
            raise DestinationExists(path) from None
        os.replace(temp, path)
    else:
        temp.unlink()


def write_atomic(path: Path, text: str, *, force: bool = False) -> int:
    """Write ``text`` (UTF-8) to ``path`` in one step: a temporary file in the
    same directory, then a rename, so a reader never sees half a file and a
    failed write leaves nothing behind.

    Returns:
        The number of bytes written.

    Raises:
        ExportError: the file exists (and ``force`` is false) or the directory
            cannot be written; nothing is left behind.
    """
    check_destination(path, force=force)
    data = text.encode("utf-8")
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        handle = _open_new(temp)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    try:
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise ExportError(f"no space left for {path}") from None
            raise _unwritable(path, exc) from None
        _put_in_place(temp, path, force=force)
    finally:
        temp.unlink(missing_ok=True)
    return len(data)
