"""The spool of tracked calls: many programs write while readers ingest, every call
is stored exactly once, and what is stored adds up for the live feed and totals."""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from filelock import FileLock

from monitor_tui import spool
from monitor_tui.spool import SpoolWriter, ingest, pending_files, spool_dir
from monitor_tui.store import Store
from monitor_tui.tracked_calls import recent_calls, tracked_rows, tracked_totals
from tests.chat_api import ChatApiServer
from tests.conftest import NOW_EPOCH


def record(call_id: str, **fields) -> dict:
    """A spool record as the tracker writes it: a gpt-4o-mini chat completion of
    1000 input and 100 output tokens at the tests' fixed moment."""
    return {
        "v": 1,
        "call_id": call_id,
        "time": NOW_EPOCH,
        "api": "chat.completions",
        "model": "gpt-4o-mini-2024-07-18",
        "input_tokens": 1000,
        "cached_input_tokens": 0,
        "output_tokens": 100,
        "reasoning_tokens": 0,
        "service_tier": "default",
        "latency_ms": 12.5,
        "label": None,
        "stream": False,
        **fields,
    }


# gpt-4o-mini list prices: $0.15 per million input tokens, $0.60 per million
# output tokens.
ONE_CALL = (Decimal(1000) * Decimal("0.15") + Decimal(100) * Decimal("0.60")) / 10**6


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def writer(data_dir: Path):
    writer = SpoolWriter(spool_dir(data_dir))
    yield writer
    writer.close()


def stored_ids(store: Store) -> list[str]:
    return sorted(row["call_id"] for row in tracked_rows(store, 0, 2**40))


# Many writers, one reader


def _make_calls(base_url: str, data_dir: str, calls: int) -> None:
    """A writer program: a tracked client making chat completions, half of them
    streamed, and responses."""
    import openai

    from monitor_tui import track

    client = track(
        openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0),
        label=f"worker-{os.getpid()}",
        data_dir=data_dir,
    )
    for number in range(calls):
        if number % 3 == 0:
            client.responses.create(model="gpt-5-mini", input="Say hello.")
        else:
            answer = client.chat.completions.create(
                model="gpt-4o-mini", messages=[], stream=number % 2 == 0
            )
            if number % 2 == 0:
                list(answer)


def test_several_writer_processes_and_a_reader_record_every_call_once(
    data_dir, store, monkeypatch
):
    # Small files, so writers also hand over files while the reader reads.
    monkeypatch.setattr(spool, "ROTATE_BYTES", 2000)
    writers, calls = 4, 30
    context = multiprocessing.get_context("fork")
    with ChatApiServer() as server:
        processes = [
            context.Process(
                target=_make_calls, args=(server.base_url, str(data_dir), calls)
            )
            for _ in range(writers)
        ]
        for process in processes:
            process.start()
        ingested = 0
        # The reader keeps ingesting and reading the feed while they write.
        while any(process.is_alive() for process in processes):
            ingested += ingest(store, data_dir)
            recent_calls(store, 20)
        for process in processes:
            process.join()
        ingested += ingest(store, data_dir)

    assert [process.exitcode for process in processes] == [0] * writers
    ids = stored_ids(store)
    assert ingested == len(ids) == len(set(ids)) == writers * calls
    assert tracked_totals(store, 0, 2**40).calls == writers * calls
    assert len(tracked_totals(store, 0, 2**40).labels) == writers
    assert pending_files(data_dir) == []  # every program ended: nothing is left


def _record_one(data_dir: str, call_id: str) -> None:
    spool.writer_for(data_dir).append(record(call_id))


def test_a_forked_child_writes_its_own_file_and_leaves_the_parents_alone(
    data_dir, store
):
    spool.writer_for(data_dir).append(record("parent-1"))
    child = multiprocessing.get_context("fork").Process(
        target=_record_one, args=(str(data_dir), "child-1")
    )
    child.start()
    child.join()
    spool.writer_for(data_dir).append(record("parent-2"))

    assert child.exitcode == 0
    assert len(pending_files(data_dir)) == 2
    assert ingest(store, data_dir) == 3
    # The child has ended, so its file is gone; the parent still writes to its own.
    [left] = pending_files(data_dir)
    assert left.name.startswith(f"{os.getpid()}-")
    spool.writer_for(data_dir).close()


# Exactly once


def test_ingesting_the_same_record_twice_stores_it_once(data_dir, store, writer):
    writer.append(record("call-1"))
    writer.append(record("call-2"))
    [path] = pending_files(data_dir)
    copy = path.with_name("copy.jsonl")
    shutil.copyfile(path, copy)

    assert ingest(store, data_dir) == 2
    # Another reader process remembers nothing of what this one read.
    spool._READ_UPTO.clear()
    assert ingest(store, data_dir) == 0

    assert stored_ids(store) == ["call-1", "call-2"]
    assert not copy.exists()  # nobody writes to the copy: it was ingested
    assert tracked_totals(store, 0, 2**40).spend_usd == 2 * ONE_CALL


def test_records_appended_while_a_file_is_being_read_wait_for_the_next_ingest(
    data_dir, store, writer
):
    writer.append(record("call-1"))
    [path] = pending_files(data_dir)
    line = orjson.dumps(record("call-2")) + b"\n"
    # Half a line, as a reader may find it in the middle of a write.
    with open(path, "ab") as other_handle:
        other_handle.write(line[:40])
        other_handle.flush()

        assert ingest(store, data_dir) == 1

        other_handle.write(line[40:])
    assert ingest(store, data_dir) == 1
    assert ingest(store, data_dir) == 0
    assert stored_ids(store) == ["call-1", "call-2"]
    assert pending_files(data_dir) == [path]  # still being written to


def test_a_file_is_deleted_once_its_writer_lets_go_and_it_is_ingested(
    data_dir, store, writer
):
    writer.append(record("call-1"))
    assert ingest(store, data_dir) == 1
    assert len(pending_files(data_dir)) == 1

    writer.append(record("call-2"))
    writer.close()

    assert ingest(store, data_dir) == 1
    assert pending_files(data_dir) == []
    writer.append(record("call-3"))  # a new file
    assert ingest(store, data_dir) == 1


def test_a_writer_hands_over_full_files(data_dir, store, writer, monkeypatch):
    monkeypatch.setattr(spool, "ROTATE_BYTES", 1)

    for number in range(3):
        writer.append(record(f"call-{number}"))

    assert len(pending_files(data_dir)) == 3
    assert ingest(store, data_dir) == 3
    assert len(pending_files(data_dir)) == 1  # the one still open


def test_a_reader_that_will_not_wait_skips_while_another_ingests(
    data_dir, store, writer
):
    writer.append(record("call-1"))

    with FileLock(str(spool_dir(data_dir) / spool.INGEST_LOCK)):
        assert ingest(store, data_dir, wait=0) == 0

    assert ingest(store, data_dir, wait=0) == 1


def test_a_store_that_cannot_be_written_leaves_the_spool_for_the_next_ingest(
    data_dir, tmp_path, writer
):
    writer.append(record("call-1"))
    writer.close()
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")

    with pytest.raises(OSError):
        ingest(Store(blocked), data_dir)

    assert len(pending_files(data_dir)) == 1
    store = Store(tmp_path / "store")
    assert ingest(store, data_dir) == 1
    assert pending_files(data_dir) == []


def test_unreadable_records_are_skipped_and_the_rest_stored(
    data_dir, store, writer, caplog
):
    writer.append(record("good-1"))
    writer.append(record("bad-count", output_tokens=-5))
    writer.append(record("bad-api", api="images.generate"))
    writer.append({"call_id": "no-version"})
    writer.append(record("good-2"))
    writer.close()
    [path] = pending_files(data_dir)
    with open(path, "ab") as handle:
        handle.write(b"not json\n")
        handle.write(b'{"v": 1, "call_id": "cut off')  # its program was killed

    with caplog.at_level(logging.WARNING):
        assert ingest(store, data_dir) == 2

    assert stored_ids(store) == ["good-1", "good-2"]
    messages = " / ".join(r.getMessage() for r in caplog.records)
    assert "a record whose output_tokens is not a count" in messages
    assert "a record of an API the tracker does not record" in messages
    assert "a record without a version" in messages
    assert "unfinished last line" in messages
    assert pending_files(data_dir) == []


def test_nothing_to_ingest_is_cheap_and_creates_nothing(data_dir, store):
    assert ingest(store, data_dir) == 0
    assert not data_dir.exists()


# What the app reads


def test_recent_calls_are_the_newest_first(data_dir, store, writer):
    for number in range(5):
        writer.append(record(f"call-{number}", time=NOW_EPOCH - 3600 * number))
    writer.append(record("last-year", time=NOW_EPOCH - 400 * 86400))
    ingest(store, data_dir)

    latest = recent_calls(store, 3, now=NOW_EPOCH)

    assert [call.call_id for call in latest] == ["call-0", "call-1", "call-2"]
    assert latest[0].cost_usd == ONE_CALL
    assert latest[0].latency_ms == 12.5
    everything = recent_calls(store, 100, now=NOW_EPOCH)
    assert everything[-1].call_id == "last-year"


def test_tracked_totals_add_up_a_span_and_name_unpriced_models(data_dir, store, writer):
    writer.append(record("a", label="search", time=NOW_EPOCH - 10))
    writer.append(record("b", label="search", reasoning_tokens=7))
    writer.append(record("c", label="chat", model="gpt-unknown-model"))
    writer.append(record("d", label="chat"))
    writer.append(record("before", time=NOW_EPOCH - 86400))
    ingest(store, data_dir)

    totals = tracked_totals(store, NOW_EPOCH - 3600, NOW_EPOCH + 3600)

    assert totals.calls == 4
    assert totals.spend_usd == 3 * ONE_CALL  # the unknown model adds nothing
    assert totals.unpriced_models == ("gpt-unknown-model",)
    assert totals.spend_is_lower_bound
    assert (totals.input_tokens, totals.output_tokens) == (4000, 400)
    assert totals.reasoning_tokens == 7
    search, chat = totals.labels
    assert (search.label, search.calls, search.spend_usd) == ("search", 2, 2 * ONE_CALL)
    assert (chat.label, chat.calls, chat.unpriced_calls) == ("chat", 2, 1)


def test_tracked_rows_keep_to_their_origin(data_dir, store, writer):
    writer.append(record("call-1"))
    ingest(store, data_dir)

    assert store.usage_rows("openai", "1d", 0, 2**40) == []
    [row] = tracked_rows(store, 0, 2**40)
    assert (row["origin"], row["endpoint"], row["width"]) == (
        "tracked",
        "completions",
        "call",
    )
    assert row["requests"] == 1
