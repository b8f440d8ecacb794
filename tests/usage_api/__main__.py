"""Runs the fake Usage and Costs API in the foreground, for trying the monitor by
hand: ``python -m tests.usage_api --scenario busy``.
"""

from __future__ import annotations

import argparse
import sys
import time

from .directory import directory_for
from .scenarios import busy_org, small_org
from .server import UsageApiServer


def main(argv: list[str] | None = None) -> int:
    """Runs the server in the foreground until interrupted.

    Args:
        argv: Command-line arguments; None reads ``sys.argv``.

    Returns:
        The process exit code.
    """
    parser = argparse.ArgumentParser(
        prog="python -m tests.usage_api",
        description="Serve a fake OpenAI Usage and Costs API on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--admin-key", default="sk-admin-test")
    parser.add_argument("--scenario", choices=("small", "busy"), default="small")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--days", type=int, default=90, help="history of --scenario busy"
    )
    args = parser.parse_args(argv)

    now = int(time.time())
    if args.scenario == "busy":
        records = busy_org(now, days=args.days, seed=args.seed)
    else:
        records = small_org(now)
    server = UsageApiServer(
        records,
        admin_key=args.admin_key,
        projects=directory_for(records),
        port=args.port,
    )
    try:
        server.start()
    except OSError as exc:
        print(
            f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}; "
            "pick another --port",
            file=sys.stderr,
        )
        return 2
    print(f"Fake OpenAI Usage API ({args.scenario}, {len(records)} records)")
    print(f"  base URL: {server.base_url}")
    print("Point the monitor at it with:")
    print(
        f"  OPENAI_BASE_URL={server.base_url} OPENAI_ADMIN_KEY={args.admin_key} "
        "monitor-tui"
    )
    print("Ctrl-C stops it.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
