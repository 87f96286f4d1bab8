"""How the TUI writes things, as plain functions: local times, plurals, unique id prefixes,
progress."""

from __future__ import annotations

import calendar
import time

from contextree.tui.data import Progress
from contextree.tui.format import (
    format_progress,
    format_start,
    plural,
    skip_reason_text,
    unique_prefixes,
)


def test_times_are_local_and_as_short_as_the_day_allows() -> None:
    ts = "2026-11-24T13:33:59.827Z"
    epoch = calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))
    assert format_start(ts, epoch + 60) == "13:33:59"  # the same day (UTC in tests)
    assert format_start(ts, epoch + 3 * 86400) == "Nov 24 13:33"
    assert format_start(ts, epoch + 400 * 86400) == "2026-11-24 13:33"
    assert format_start(ts) == "2026-11-24 13:33:59"
    assert format_start(None) == "—" and format_start("garbage") == "—"


def test_local_time_follows_the_time_zone() -> None:
    import os

    previous = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"  # UTC+5:30, no daylight saving
    time.tzset()
    try:
        assert format_start("2026-11-24T13:33:59.827Z") == "2026-11-24 19:03:59"
    finally:
        os.environ["TZ"] = previous or "UTC"
        time.tzset()


def test_plurals_agree_with_their_count() -> None:
    assert plural(1, "session") == "1 session"
    assert plural(0, "session") == "0 sessions"
    assert plural(2126, "event") == "2,126 events"
    assert plural(2, "entry", "entries") == "2 entries"


def test_ids_shorten_to_the_shortest_unique_prefix() -> None:
    ids = ["01JD0000000000000000000001", "01JD0000000000000000000002",
           "01JE5555555555555555555555"]
    short = unique_prefixes(ids)
    assert short[ids[2]] == "01JE5555"  # eight characters at least
    assert short[ids[0]] == ids[0] and short[ids[1]] == ids[1]  # they differ only at the end
    assert all(not other.startswith(short[value]) for value in ids for other in ids
               if other != value)
    assert unique_prefixes([]) == {}


def test_progress_reads_done_total_percent_and_a_level_counted_from_one() -> None:
    assert format_progress(Progress(done=42, total=120, level=2, levels=4)) == \
        "42/120 35% · level 2/4"
    assert format_progress(Progress(done=1234, total=None)) == "1,234 nodes"
    assert format_progress(Progress(done=1, total=None)) == "1 node"
    assert format_progress(None) == "starting…"


def test_skip_reasons_are_words_a_user_understands() -> None:
    assert skip_reason_text("head_reuse") == "up to date"
    assert skip_reason_text("parent_of_failed") == "a child failed"
    assert skip_reason_text("some_new_reason") == "some new reason"
    assert skip_reason_text(None) == "skipped"
