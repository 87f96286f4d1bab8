"""The interpreter settings the TUI applies while it runs, and that it gives them back."""

from __future__ import annotations

import gc
import sys
import threading
import weakref
from collections.abc import Iterator

import pytest

from contextree.tui.tuning import (
    UI_GC_YOUNG_THRESHOLD,
    UI_SWITCH_INTERVAL_S,
    UiTuning,
    building_state,
)


@pytest.fixture(autouse=True)
def restore_interpreter() -> Iterator[None]:
    interval, thresholds, enabled = sys.getswitchinterval(), gc.get_threshold(), gc.isenabled()
    yield
    sys.setswitchinterval(interval)
    gc.set_threshold(*thresholds)
    gc.unfreeze()
    if enabled:
        gc.enable()


def test_apply_then_release_gives_the_interpreter_its_settings_back() -> None:
    sys.setswitchinterval(0.005)
    gc.set_threshold(700, 10, 10)
    tuning = UiTuning()
    tuning.apply()
    tuning.apply()  # twice: still restores the first settings
    assert sys.getswitchinterval() == pytest.approx(UI_SWITCH_INTERVAL_S)
    assert gc.get_threshold() == (UI_GC_YOUNG_THRESHOLD, 10, 10)
    tuning.release()
    assert sys.getswitchinterval() == pytest.approx(0.005)
    assert gc.get_threshold() == (700, 10, 10)


class Cycle:
    """An object in a reference cycle: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_building_a_state_pauses_collection_then_freezes_what_survives() -> None:
    gc.enable()
    with building_state():
        assert not gc.isenabled()
        kept = [Cycle() for _ in range(100)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(kept)  # the state is out of later collections


def test_the_next_build_collects_the_garbage_frozen_by_the_last() -> None:
    with building_state():
        garbage = Cycle()
    assert gc.get_freeze_count() > 0
    probe = threading.Event()
    weakref.finalize(garbage, probe.set)
    del garbage  # now cyclic garbage, frozen: no collection sees it
    gc.collect()
    assert not probe.is_set()
    with building_state():
        pass
    assert probe.is_set()


def test_nested_builds_enable_collection_only_after_the_last() -> None:
    gc.enable()
    with building_state():
        with building_state():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_build_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    with building_state():
        pass
    assert not gc.isenabled()
