"""Interpreter settings that keep the UI thread's frames short beside the reader threads.

- **Thread switching.** The feeds and the store poller read LMDB on their own threads, and every
  time one of them comes back from a read or a poll's sleep it needs the GIL, which the UI
  thread holds while it renders. Python hands the GIL over only every switch interval (5 ms
  by default), so a reader waiting behind a 20 ms frame got in up to 5 ms late at every step.
  While the app runs, the interval is 1 ms (`UI_SWITCH_INTERVAL_S`).
- **Garbage collection.** A full collection walks every tracked object: the app's widgets and
  the loaded session's state, 100,000 objects and more, 35–100 ms in one piece (a frame's
  budget twice over), again every few seconds while events stream in, and again and again
  while a large state is built. `building_state()` collects once (the previous state's
  garbage with it), pauses automatic collection while a feed builds the new state, then moves
  everything alive to the permanent generation (`gc.freeze()`), so later collections walk
  only what was made since. The next build unfreezes before it collects: nothing outlives the
  session it belonged to by more than one load. (The collection runs before the build, not
  after: then it walks the app without the new state, and a state is mostly what it walks.)
  A frame allocates thousands of short-lived objects (Textual's strips and segments), so the
  youngest generation is collected every `UI_GC_YOUNG_THRESHOLD` allocations instead of 700:
  a few milliseconds each, not several collections per frame, and the older generations'
  turns come that much less often.
  `UiTuning.release()` undoes all of it.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

UI_SWITCH_INTERVAL_S = 0.001
UI_GC_YOUNG_THRESHOLD = 20_000

_lock = threading.Lock()
_builds = 0
_enable_after = False


class UiTuning:
    """Applies the switch interval and the collector's threshold while a UI runs;
    `release()` restores the interpreter's and lets the collector see the frozen objects."""

    def __init__(self) -> None:
        self._saved: tuple[float, tuple[int, int, int]] | None = None

    def apply(self) -> None:
        if self._saved is None:
            switch_interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
            self._saved = switch_interval, thresholds
            sys.setswitchinterval(min(switch_interval, UI_SWITCH_INTERVAL_S))
            gc.set_threshold(max(thresholds[0], UI_GC_YOUNG_THRESHOLD), *thresholds[1:])

    def release(self) -> None:
        if self._saved is not None:
            switch_interval, thresholds = self._saved
            sys.setswitchinterval(switch_interval)
            gc.set_threshold(*thresholds)
            self._saved = None
        gc.unfreeze()


@contextmanager
def building_state() -> Iterator[None]:
    """One full collection, then none while the block builds a large, long-lived state; at
    the end of the last such block everything alive is frozen."""
    global _builds, _enable_after
    with _lock:
        _builds += 1
        if _builds == 1:
            _enable_after = gc.isenabled()
            gc.disable()
            gc.unfreeze()
            gc.collect()
    try:
        yield
    finally:
        with _lock:
            _builds -= 1
            if _builds == 0:
                gc.freeze()
                if _enable_after:
                    gc.enable()
