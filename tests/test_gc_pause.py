"""The cycle collector is off while a heavy read runs and back as it was after,
even when the read fails or two reads overlap."""

from __future__ import annotations

import gc

import pytest

from monitor_tui.gc_pause import collector_paused


def test_the_collector_is_off_inside_and_back_on_after_even_on_error():
    assert gc.isenabled()

    @collector_paused()
    def read() -> bool:
        return gc.isenabled()

    assert read() is False
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("a damaged file")
    assert gc.isenabled()


def test_overlapping_pauses_leave_the_collector_on_after_the_last():
    outer = collector_paused()
    inner = collector_paused()
    outer.__enter__()
    inner.__enter__()  # found it off: must not turn it on when it ends
    outer.__exit__(None, None, None)
    inner.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_program_stays_off():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
