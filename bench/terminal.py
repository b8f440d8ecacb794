"""The real ``monitor-tui`` app in a new process on a pseudo-terminal.

The benchmark drives the app as a user would: it starts the process, reads what
the app paints, presses keys, and reads the process's CPU time and peak memory
from ``/proc`` (Linux only).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_ESCAPES = re.compile(
    r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][0-9A-Za-z]|[@-Z\\-_])"
)
"""Terminal escape sequences: CSI, OSC (ended by BEL), character sets, and the
two-byte ones."""


class AppInTerminal:
    """One app process whose terminal is a pty this object reads and types into.

    Args:
        argv: The command to run.
        env: Its environment; TERM is set to a common colour terminal.
        size: The terminal's (columns, rows).
        cwd: Its working directory.
    """

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        size: tuple[int, int] = (120, 40),
        cwd: Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self.env = {**env, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
        self.size = size
        self.cwd = cwd
        self.started_at = 0.0
        """``time.perf_counter()`` just before the process was spawned."""
        self._process: subprocess.Popen[bytes] | None = None
        self._master = -1
        self._output = bytearray()
        self._chunks: list[tuple[int, float]] = []
        """(output length after a chunk, when the chunk was read)."""
        self._changed = threading.Condition()
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        """The app's process id."""
        if self._process is None:
            raise RuntimeError("the app is not started")
        return self._process.pid

    def start(self) -> AppInTerminal:
        """Spawn the app; ``started_at`` is taken just before."""
        master, slave = pty.openpty()
        columns, rows = self.size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._master = master
        self.started_at = time.perf_counter()
        self._process = subprocess.Popen(
            self.argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def __enter__(self) -> AppInTerminal:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.quit()

    def _read(self) -> None:
        # Read without pause: a terminal that is not read makes the app block
        # on its writes, which would show up as a slow app.
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # EIO: every copy of the other end is closed
                chunk = b""
            now = time.perf_counter()
            with self._changed:
                if not chunk:
                    self._chunks.append((-1, now))
                    self._changed.notify_all()
                    return
                self._output += chunk
                self._chunks.append((len(self._output), now))
                self._changed.notify_all()

    def wait_for(self, text: str, timeout: float, after: int = 0) -> float:
        """Wait until the app has written ``text``; return when it was read.

        Args:
            text: What to look for in the raw output (escape sequences and all;
                a line of one style is written as one run of text).
            timeout: Seconds to wait at most.
            after: Look only at output from this offset on (see ``mark``).

        Raises:
            TimeoutError: the text did not come in time, or the app ended.
        """
        needle = text.encode()
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self._output.find(needle, after)
                if found >= 0:
                    end = found + len(needle)
                    return next(t for size, t in self._chunks if size >= end)
                if self._chunks and self._chunks[-1][0] == -1:
                    raise TimeoutError(
                        f"the app ended before showing {text!r}; it wrote last: "
                        f"{self._tail()}"
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"the app did not show {text!r} in {timeout} s; it wrote "
                        f"last: {self._tail()}"
                    )
                self._changed.wait(left)

    def _tail(self, size: int = 600) -> str:
        """The end of the output as text, without escape sequences, for errors."""
        text = _ESCAPES.sub("", self._output[-size * 4 :].decode(errors="replace"))
        return " ".join(text.split())[-size:]

    def mark(self) -> int:
        """The length of the output so far, to look only at what follows."""
        with self._changed:
            return len(self._output)

    def press(self, keys: str) -> None:
        """Type ``keys`` into the app's terminal."""
        os.write(self._master, keys.encode())

    def cpu_seconds(self) -> float:
        """User and system CPU time the app has used so far, all threads."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        # Fields after the command name, which may hold spaces, start at state.
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def peak_rss_mb(self) -> float:
        """The app's peak resident memory (VmHWM) so far, in megabytes."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc status")

    def quit(self, timeout: float = 10.0) -> int | None:
        """Press q and wait for the app to end; terminate it if it does not."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            try:
                self.press("q")
                process.wait(timeout=timeout)
            except (OSError, subprocess.TimeoutExpired):
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        os.close(self._master)
        self._process = None
        return process.returncode
