"""The store: re-reading a bucket replaces it, files stay small and independent,
and writes are atomic."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor_tui.store import MINUTE_RETENTION_SECONDS, Store
from tests.conftest import NOW_EPOCH
from tests.factories import usage_row

HOUR = NOW_EPOCH - NOW_EPOCH % 3600


def test_rereading_a_bucket_replaces_its_rows_never_adds(store):
    window = (HOUR - 3600, HOUR + 3600)
    store.replace_usage(
        "openai",
        "completions",
        "1h",
        window,
        [usage_row(HOUR, input_tokens=100_000)],
        now=NOW_EPOCH,
    )
    store.replace_usage(
        "openai",
        "completions",
        "1h",
        window,
        [usage_row(HOUR, input_tokens=250_000)],
        now=NOW_EPOCH,
    )
    rows = store.usage_rows("openai", "1h", *window)
    assert [r["input_tokens"] for r in rows] == [250_000]


def test_a_group_missing_from_a_reread_bucket_is_dropped(store):
    window = (HOUR, HOUR + 3600)
    store.replace_usage(
        "openai",
        "completions",
        "1h",
        window,
        [usage_row(HOUR, model="a"), usage_row(HOUR, model="b")],
        now=NOW_EPOCH,
    )
    store.replace_usage(
        "openai",
        "completions",
        "1h",
        window,
        [usage_row(HOUR, model="a")],
        now=NOW_EPOCH,
    )
    assert [r["model"] for r in store.usage_rows("openai", "1h", *window)] == ["a"]


def test_rows_outside_the_window_and_of_other_endpoints_are_kept(store):
    before = usage_row(HOUR - 7200, model="old")
    other = usage_row(HOUR, endpoint="embeddings", model="text-embedding-3-small")
    store.replace_usage(
        "openai",
        "completions",
        "1h",
        (HOUR - 7200, HOUR - 3600),
        [before],
        now=NOW_EPOCH,
    )
    store.replace_usage(
        "openai", "embeddings", "1h", (HOUR, HOUR + 3600), [other], now=NOW_EPOCH
    )
    store.replace_usage(
        "openai", "completions", "1h", (HOUR - 3600, HOUR + 3600), [], now=NOW_EPOCH
    )
    models = {r["model"] for r in store.usage_rows("openai", "1h", 0, HOUR + 3600)}
    assert models == {"old", "text-embedding-3-small"}


def test_hourly_rows_are_split_into_one_file_per_utc_day(store):
    nov_30 = int(datetime(2026, 11, 30, 23, tzinfo=UTC).timestamp())
    dec_1 = int(datetime(2026, 12, 1, 0, tzinfo=UTC).timestamp())
    store.replace_usage(
        "openai",
        "completions",
        "1h",
        (nov_30, dec_1 + 3600),
        [usage_row(nov_30), usage_row(dec_1)],
        now=NOW_EPOCH,
    )
    files = sorted(p.name for p in (store.data_dir / "hourly").iterdir())
    assert files == ["2026-11-30.json", "2026-12-01.json"]
    assert len(store.usage_rows("openai", "1h", nov_30, dec_1 + 3600)) == 2
    assert len(store.usage_rows("openai", "1h", dec_1, dec_1 + 3600)) == 1


def test_minute_rows_older_than_the_retention_age_out(store):
    minute = NOW_EPOCH - NOW_EPOCH % 60
    old = minute - MINUTE_RETENTION_SECONDS - 60
    store.replace_usage(
        "openai",
        "completions",
        "1m",
        (old, old + 60),
        [usage_row(old, width="1m")],
        now=old + 120,
    )
    store.replace_usage(
        "openai",
        "completions",
        "1m",
        (minute, minute + 60),
        [usage_row(minute, width="1m")],
        now=NOW_EPOCH,
    )
    starts = [r["start"] for r in store.usage_rows("openai", "1m", 0, NOW_EPOCH + 60)]
    assert starts == [minute]


def test_store_files_are_plain_json_that_another_process_can_read(store):
    store.replace_usage(
        "openai",
        "completions",
        "1h",
        (HOUR, HOUR + 3600),
        [usage_row(HOUR, input_tokens=7)],
        now=NOW_EPOCH,
    )
    raw = json.loads((store.data_dir / "hourly" / "2026-12-04.json").read_text())
    (doc,) = raw["usage"].values()
    assert doc["input_tokens"] == 7
    assert not list(store.data_dir.glob(".*.tmp")), "no temporary file is left"


def test_a_second_store_on_the_same_directory_sees_the_first_ones_writes(tmp_path):
    first, second = Store(tmp_path), Store(tmp_path)
    first.set_budget({"amount_usd": "100", "start_day": 1, "timezone": None})
    second.set_watermark("openai", "completions", "1h", 10, 20)
    assert second.budget()["amount_usd"] == "100"
    assert first.watermark("openai", "completions", "1h")["synced_until"] == 20


def test_state_carries_a_schema_version(store):
    store.set_watermark("openai", "completions", "1h", 10, 20)
    raw = json.loads((store.data_dir / "state.json").read_text())
    assert list(raw["meta"].values()) == [{"schema": 1}]


def test_demo_and_real_rows_never_mix(store):
    store.replace_usage(
        "demo",
        "completions",
        "1h",
        (HOUR, HOUR + 3600),
        [usage_row(HOUR, origin="demo")],
        now=NOW_EPOCH,
    )
    assert store.usage_rows("openai", "1h", HOUR, HOUR + 3600) == []


# Windows and rows over 30 hours that straddle a UTC midnight, so that writes
# cross from one file to the next.
BASE = int(datetime(2026, 12, 3, 10, tzinfo=UTC).timestamp())
writes = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=29),
        st.integers(min_value=1, max_value=12),
        st.dictionaries(
            st.tuples(st.integers(min_value=0, max_value=29), st.sampled_from("abc")),
            st.integers(min_value=0, max_value=10**9),
            max_size=12,
        ),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40)
@given(writes)
def test_the_store_holds_exactly_the_last_read_of_every_bucket(sequence):
    expected: dict[tuple[int, str], int] = {}
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder))
        for first, span, counts in sequence:
            lo, hi = first, min(first + span, 30)
            rows = [
                usage_row(BASE + hour * 3600, model=model, input_tokens=tokens)
                for (hour, model), tokens in counts.items()
                if lo <= hour < hi
            ]
            store.replace_usage(
                "openai",
                "completions",
                "1h",
                (BASE + lo * 3600, BASE + hi * 3600),
                rows,
                now=NOW_EPOCH,
            )
            for key in [k for k in expected if lo <= k[0] < hi]:
                del expected[key]
            expected.update(
                ((hour, model), tokens)
                for (hour, model), tokens in counts.items()
                if lo <= hour < hi
            )
        stored = store.usage_rows("openai", "1h", BASE, BASE + 30 * 3600)
    found = {
        ((r["start"] - BASE) // 3600, r["model"]): r["input_tokens"] for r in stored
    }
    assert len(stored) == len(found), "no bucket holds a group twice"
    assert found == expected


WRITER = """
import sys
from pathlib import Path
from monitor_tui.store import Store
from tests.factories import usage_row
folder, index = Path(sys.argv[1]), int(sys.argv[2])
store = Store(folder)
for round in range(5):
    hour = {base} + (index * 5 + round) * 3600
    store.replace_usage("openai", "completions", "1h", (hour, hour + 3600),
                        [usage_row(hour, model=f"m{{index}}")], now={now})
    store.set_watermark("openai", f"endpoint{{index}}", "1h", round, hour)
"""


def test_several_processes_writing_at_once_lose_nothing(tmp_path):
    script = WRITER.format(base=BASE, now=NOW_EPOCH)
    writers = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path), str(index)])
        for index in range(4)
    ]
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0, 0, 0]
    store = Store(tmp_path)
    rows = store.usage_rows("openai", "1h", BASE, BASE + 20 * 3600)
    assert len(rows) == 20
    assert {r["model"] for r in rows} == {"m0", "m1", "m2", "m3"}
    for index in range(4):
        assert store.watermark("openai", f"endpoint{index}", "1h")["synced_from"] == 4


def test_reading_all_of_history_skips_stray_files(store):
    store.replace_usage(
        "openai",
        "completions",
        "1h",
        (HOUR, HOUR + 3600),
        [usage_row(HOUR)],
        now=NOW_EPOCH,
    )
    (store.data_dir / "hourly" / "notes.json").write_text("{}")
    assert len(store.usage_rows("openai", "1h", 0, 2**40)) == 1


def test_an_empty_read_of_a_long_window_creates_no_files(store):
    year_ago = HOUR - 365 * 86400
    store.replace_usage(
        "openai", "completions", "1h", (year_ago, HOUR), [], now=NOW_EPOCH
    )
    assert not (store.data_dir / "hourly").exists()


def test_a_write_killed_half_way_leaves_no_temporary_file_for_long(store):
    leftover = store.data_dir / "hourly" / ".2026-12-04.json.999.tmp"
    leftover.parent.mkdir(parents=True)
    leftover.write_text('{"usage": {"1": ')
    store.set_watermark("openai", "completions", "1h", 1, 2)
    assert not leftover.exists()
