"""Where an export goes: a timestamped default name, the checks that keep a
user's file safe, and an atomic write that refuses to replace a file unless told."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

STDOUT = "-"
"""The destination that means standard output."""

EXTENSIONS = {"csv": "csv", "json": "json", "md": "md"}

SYSTEM_DIRS = (Path("/dev"), Path("/proc"), Path("/sys"))
"""Directories of devices and kernel views: their entries are never a file an
export replaces, even the ones that look like files (``/dev/stdout`` leads to a
regular file when the output is redirected to one)."""


class ExportError(Exception):
    """An export cannot be made as asked; the message says why and what to do."""


class DestinationExists(ExportError):
    """The export's file exists and was not to be replaced."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} already exists; nothing was written")
        self.path = path


class NotAFile(ExportError):
    """The destination is a device, pipe, socket or system file: an export never
    writes to one or replaces it, even when told to replace files."""

    def __init__(self, path: Path, what: str) -> None:
        if what == "a system file":
            reason = f"{path} is a system file, not a file to export to"
        else:
            reason = f"{path} is {what}, not a regular file"
        super().__init__(f"{reason}; nothing was written")
        self.path = path


def default_file_name(
    now: datetime, zone: ZoneInfo, fmt: str, group_by: str, *, source: str = "openai"
) -> str:
    """``monitor-tui-2026-12-04-153020-by-model.csv``: the local time of ``now``
    to the second, the grouping (``summary`` for the Markdown report) and the
    format; demo exports are ``monitor-tui-demo-...``, so they are never taken
    for real figures."""
    what = "summary" if fmt == "md" else f"by-{group_by.replace('_', '-')}"
    stamp = now.astimezone(zone).strftime("%Y-%m-%d-%H%M%S")
    prefix = "monitor-tui-demo" if source == "demo" else "monitor-tui"
    return f"{prefix}-{stamp}-{what}.{EXTENSIONS[fmt]}"


def destination_path(text: str, default_name: str, cwd: Path | None = None) -> Path:
    """The file an export is written to: ``text`` (relative to ``cwd``), the
    default name in it when it is a directory or ends with a slash, the default
    name in ``cwd`` when it is empty."""
    cwd = Path.cwd() if cwd is None else cwd
    text = text.strip()
    path = cwd / Path(text).expanduser() if text else cwd / default_name
    # ``newdir/`` names a directory even before it exists: its absence is then
    # reported, instead of a file called newdir being written.
    if text.endswith(("/", os.sep)) or path.is_dir():
        path = path / default_name
    return path


def _in_system_dir(path: Path) -> bool:
    plain = Path(os.path.abspath(path))
    return any(plain.is_relative_to(folder) for folder in SYSTEM_DIRS)


def _system_file(path: Path) -> NotAFile:
    """The refusal of ``path`` in ``SYSTEM_DIRS``, saying what it is when it
    can be told without opening it (``/dev/null`` is a device)."""
    try:
        what = _what(path.stat().st_mode)
    except OSError:
        what = None
    return NotAFile(path, what or "a system file")


def _what(mode: int) -> str | None:
    """What a file of ``mode`` is, for a person; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def _link_target(path: Path) -> Path:
    """The file the link ``path`` leads to, through every link on the way.

    Raises:
        ExportError: the link leads to nothing, or round in a loop.
    """
    try:
        return Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        target = path.parent / os.readlink(path)
        raise ExportError(
            f"{path} is a link to {target}, which does not exist; nothing was written"
        ) from None
    except OSError as exc:
        raise ExportError(
            f"{path} is a link that cannot be followed ({exc.strerror}); nothing "
            "was written"
        ) from None


def _check_folder(folder: Path) -> None:
    if not folder.exists():
        raise ExportError(f"the directory {folder} does not exist; create it first")
    if not folder.is_dir():
        raise ExportError(f"{folder} is not a directory; nothing was written")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write to the directory {folder}: permission denied")


def check_destination(path: Path, *, force: bool) -> Path:
    """Refuse a destination that cannot or must not be written, before any work.

    Only a regular file is ever replaced, and only with ``force``. A link to a
    regular file counts as that file: it is the file written, and the link stays.

    Returns:
        The file to write: ``path``, or the regular file a link at ``path``
        leads to.

    Raises:
        DestinationExists: the file exists and ``force`` is false.
        NotAFile: ``path`` is (or leads to) a directory, pipe, socket, device
            or a file in ``SYSTEM_DIRS``, whatever ``force`` says.
        ExportError: a link leads nowhere, or the directory is missing or not
            writable.
    """
    if _in_system_dir(path):
        raise _system_file(path)
    try:
        info = path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        _check_folder(path.parent)
        return path
    target = path
    if stat.S_ISLNK(info.st_mode):
        target = _link_target(path)
        if _in_system_dir(target):
            raise _system_file(path)
        info = target.stat()
    what = _what(info.st_mode)
    if what is not None:
        if what == "a directory":
            raise ExportError(f"{path} is a directory; give a file name")
        raise NotAFile(path, what)
    if not force:
        raise DestinationExists(path)
    _check_folder(target.parent)
    return target


def _open_new(path: Path) -> int:
    """Create ``path``, which must not exist, for writing (mode 666 less umask,
    as any file the user creates)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)


def _unwritable(path: Path, exc: OSError) -> ExportError:
    reason = exc.strerror or str(exc)
    return ExportError(f"cannot write to the directory {path.parent}: {reason}")


def _take_over(temp: Path, replaced: os.stat_result) -> None:
    """Give the new file the permissions (and, where allowed, the owner) of the
    file it replaces, so replacing a private file never makes it readable."""
    os.chmod(temp, stat.S_IMODE(replaced.st_mode))
    if (replaced.st_uid, replaced.st_gid) != (os.geteuid(), os.getegid()):
        # Only root may give a file away; the permission bits are what matter.
        with contextlib.suppress(OSError):
            os.chown(temp, replaced.st_uid, replaced.st_gid)


def _replace(temp: Path, path: Path) -> None:
    # Checked again just before the rename, so that a pipe or device put in
    # the file's place since the first check is not replaced either.
    try:
        info = path.lstat()
    except FileNotFoundError:
        info = None
    if info is not None:
        what = _what(info.st_mode)
        if what is not None:
            raise NotAFile(path, what)
        _take_over(temp, info)
    os.replace(temp, path)


def _link_in_place(temp: Path, path: Path) -> None:
    # A hard link never replaces a file, so one that appeared since the check
    # is still refused; where links are not supported, check and rename.
    try:
        os.link(temp, path)
    except FileExistsError:
        raise DestinationExists(path) from None
    except OSError:
        if os.path.lexists(path):
            raise DestinationExists(path) from None
        os.replace(temp, path)
    else:
        temp.unlink()


def write_atomic(path: Path, text: str, *, force: bool = False) -> int:
    """Write ``text`` (UTF-8) to ``path`` in one step: a temporary file in the
    same directory, then a rename, so a reader never sees half a file and a
    failed write leaves nothing behind. A link to a regular file is written
    through: its target is replaced, in the target's directory.

    Returns:
        The number of bytes written.

    Raises:
        ExportError: the file exists (and ``force`` is false), is not a regular
            file, or the directory cannot be written; nothing is left behind.
    """
    target = check_destination(path, force=force)
    existed = os.path.lexists(target)
    data = text.encode("utf-8")
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    try:
        handle = _open_new(temp)
    except OSError as exc:
        raise _unwritable(target, exc) from None
    try:
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise ExportError(f"no space left for {target}") from None
            raise _unwritable(target, exc) from None
        # Only a file that was checked is replaced: one that appears in an
        # empty place meanwhile is refused, as without ``force``.
        if existed:
            _replace(temp, target)
        else:
            _link_in_place(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return len(data)
