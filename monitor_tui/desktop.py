"""Shows an alert as a desktop notification, where the system has a notifier,
without waiting for it and without a shell."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Callable

from monitor_tui.notify import Notice

log = logging.getLogger(__name__)

_NOTIFY_SEND_URGENCY = {
    "information": "low",
    "warning": "normal",
    "critical": "critical",
}
_NOTIFY_SEND_ICON = {
    "information": "dialog-information",
    "warning": "dialog-warning",
    "critical": "dialog-error",
}
# The script is constant and the notice travels as its arguments, so no text can
# change what osascript runs. The last two items are read because whether "--"
# reaches the script as an argument is not documented.
_OSASCRIPT = (
    "on run argv",
    "display notification (item -1 of argv) with title (item -2 of argv)",
    "end run",
)
_TITLE_LIMIT = 120
_TEXT_LIMIT = 500


def desktop_command(
    notice: Notice,
    *,
    which: Callable[[str], str | None] = shutil.which,
    platform: str = sys.platform,
) -> list[str] | None:
    """The command that shows ``notice`` on this desktop, or None when there is
    none: ``osascript`` on macOS, ``notify-send`` elsewhere except Windows.

    The notice is passed as separate arguments, never through a shell, with
    control characters removed and its length capped.
    """
    title = _plain(notice.title, _TITLE_LIMIT, keep_newlines=False)
    text = _plain(notice.text, _TEXT_LIMIT, keep_newlines=True)
    if platform == "darwin":
        osascript = which("osascript")
        if osascript is None:
            return None
        script = [arg for line in _OSASCRIPT for arg in ("-e", line)]
        return [osascript, *script, "--", title, text]
    if platform.startswith("win"):
        # TODO: Windows has no notifier command that needs no PowerShell script;
        # the toast and the bell still reach a Windows user.
        return None
    notify_send = which("notify-send")
    if notify_send is None:
        return None
    return [
        notify_send,
        "--app-name=monitor-tui",
        f"--urgency={_NOTIFY_SEND_URGENCY[notice.severity]}",
        f"--icon={_NOTIFY_SEND_ICON[notice.severity]}",
        "--",
        title,
        # Most notification servers read a subset of HTML in the body.
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
    ]


def spawn_detached(argv: list[str]) -> subprocess.Popen[bytes]:
    """Start ``argv`` without waiting for it, cut off from the app's terminal.

    Its own session keeps the terminal's Ctrl+C away from it, and it gets no
    stdin, so it can never read the keys meant for the app.
    """
    return subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        start_new_session=True,
    )


def desktop_notify(
    notice: Notice,
    *,
    which: Callable[[str], str | None] = shutil.which,
    platform: str = sys.platform,
    spawn: Callable[[list[str]], object] = spawn_detached,
) -> bool:
    """Show ``notice`` as a desktop notification, without waiting for it.

    Returns:
        True when a notifier was started (not a promise that it was shown: a
        session without a notification server fails quietly); False when this
        system has no notifier or it could not be started.
    """
    argv = desktop_command(notice, which=which, platform=platform)
    if argv is None:
        return False
    try:
        spawn(argv)
    except OSError as exc:
        log.warning("Desktop notification could not start %s: %s", argv[0], exc)
        return False
    return True


def _plain(text: str, limit: int, *, keep_newlines: bool) -> str:
    # Control and format characters (escapes, bidi overrides) could garble or
    # disguise the text a notifier shows.
    kept = []
    for char in text:
        if char == "\n" and keep_newlines:
            kept.append(char)
        elif unicodedata.category(char) in ("Cc", "Cf"):
            kept.append(" " if char in "\t\n\r" else "")
        else:
            kept.append(char)
    plain = "".join(kept).strip()
    return plain if len(plain) <= limit else plain[: limit - 1] + "…"
