"""The busy organization's fake Usage and Costs API in a process of its own.

The server is ``tests.usage_api.UsageApiServer`` answering from ``busy_org``: 20
(model, project, key) groups on completions and 4 on embeddings, one record per
hour for 90 days and one per minute for the last day, with daily costs. It runs
apart from the benchmark so that building its pages never competes with the
measured code for the interpreter. A line protocol on stdin and stdout tells the
benchmark how many requests it answered and how long answering them took.

Run by ``BusyApi``; by hand: ``python bench/busy_api.py`` then type ``stats``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ADMIN_KEY = "sk-admin-bench-0123456789abcdefghijklmnop"


class BusyApi:
    """The fake API process, started on entering and stopped on leaving."""

    def __init__(self, *, days: int = 90, groups: int = 20, seed: int = 0) -> None:
        self.days = days
        self.groups = groups
        self.seed = seed
        self.base_url = ""
        """The SDK's ``base_url``, once started."""
        self.records = 0
        """How many usage and costs records the server answers from."""
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> BusyApi:
        self._process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--days",
                str(self.days),
                "--groups",
                str(self.groups),
                "--seed",
                str(self.seed),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self._answer()
        self.base_url = ready["base_url"]
        self.records = ready["records"]
        return self

    def __exit__(self, *exc_info: object) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()  # end of input stops the server
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stats(self) -> dict[str, Any]:
        """Requests answered since the last ``clear``: ``requests`` (count),
        ``by_path`` (count per path), ``errors`` (non-200 answers) and
        ``answer_seconds`` (time spent building the answers)."""
        return self._ask("stats")

    def clear(self) -> None:
        """Forget the requests counted so far."""
        self._ask("clear")

    def _ask(self, command: str) -> dict[str, Any]:
        process = self._process
        if process is None or process.stdin is None:
            raise RuntimeError("the fake API is not running")
        process.stdin.write(command + "\n")
        process.stdin.flush()
        return self._answer()

    def _answer(self) -> dict[str, Any]:
        process = self._process
        assert process is not None and process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(
                f"the fake API stopped (exit code {process.wait(timeout=10)})"
            )
        return json.loads(line)


def _serve(days: int, groups: int, seed: int) -> int:
    """The server process: serve until stdin ends, answering commands on it."""
    sys.path.insert(0, str(ROOT))
    from tests.usage_api import UsageApiServer, busy_org

    class TimedServer(UsageApiServer):
        """Counts the time spent building each answer: the server's share of
        the HTTP time the benchmark leaves out of a sync's local work."""

        answer_seconds = 0.0
        timing = threading.Lock()

        def _answer(
            self, endpoint: Any, params: Mapping[str, list[str]], fault: Any
        ) -> str:
            began = time.perf_counter()
            try:
                return super()._answer(endpoint, params, fault)
            finally:
                with self.timing:
                    self.answer_seconds += time.perf_counter() - began

    records = busy_org(int(time.time()), days=days, groups=groups, seed=seed)
    server = TimedServer(records, admin_key=ADMIN_KEY).start()
    print(json.dumps({"base_url": server.base_url, "records": len(records)}))
    sys.stdout.flush()
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "clear":
                server.clear_requests()
                with server.timing:
                    server.answer_seconds = 0.0
                answer: dict[str, Any] = {}
            elif command == "stats":
                seen = server.requests
                answer = {
                    "requests": len(seen),
                    "by_path": dict(Counter(path for path, _, _ in seen)),
                    "errors": sum(1 for _, _, status in seen if status != 200),
                    "answer_seconds": server.answer_seconds,
                }
            else:
                answer = {"error": f"unknown command {command!r}"}
            print(json.dumps(answer))
            sys.stdout.flush()
    finally:
        server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the server process; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    return _serve(args.days, args.groups, args.seed)


if __name__ == "__main__":
    sys.exit(main())
