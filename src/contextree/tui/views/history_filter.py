"""Which sessions the history shows: a text filter, a status and a date range.

`HistoryFilter` is a value: the view keeps one, applies it to every snapshot (so sessions that
arrive live are filtered too), and says it in its title. Statuses and ranges are cycled by a
key each, in the order of `STATUSES` and `PERIODS`; the date of a session is its start, in
local time, measured against the snapshot's clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from contextree.progress.session import ACTIVE, COMPLETED, FAILED, INTERRUPTED
from contextree.tui.data import SessionRow
from contextree.tui.format import ts_epoch

ALL = "all"
RUNNING = "running"
STATUSES = (ALL, RUNNING, COMPLETED, FAILED, INTERRUPTED)
"""The status choices, in the order the key cycles them; `running` is the `active` status."""
_STORED_STATUS = {RUNNING: ACTIVE}
TODAY, WEEK, MONTH = "today", "7 days", "30 days"
PERIODS = (ALL, TODAY, WEEK, MONTH)
"""The date ranges, in the order the key cycles them."""
_PERIOD_DAYS = {WEEK: 7, MONTH: 30}
DAY_S = 86_400.0


@dataclass(frozen=True)
class HistoryFilter:
    """The sessions to show; the default shows every one."""

    text: str = ""
    """Words that must all appear in the id, command, status or start time."""
    status: str = ALL
    period: str = ALL

    def matches(self, row: SessionRow, now_s: float) -> bool:
        return (text_matches(row, self.text) and self._status_matches(row)
                and self._period_matches(row, now_s))

    def next_status(self) -> HistoryFilter:
        return replace(self, status=_next(STATUSES, self.status))

    def next_period(self) -> HistoryFilter:
        return replace(self, period=_next(PERIODS, self.period))

    def describe(self) -> list[str]:
        """What narrows the list, most telling first: `failed`, `7 days`, `"scan"`."""
        parts = [] if self.status == ALL else [self.status]
        if self.period != ALL:
            parts.append(self.period)
        if self.text.strip():
            parts.append(f"“{self.text.strip()}”")
        return parts

    def _status_matches(self, row: SessionRow) -> bool:
        return self.status == ALL or row.status == _STORED_STATUS.get(self.status, self.status)

    def _period_matches(self, row: SessionRow, now_s: float) -> bool:
        if self.period == ALL:
            return True
        started = ts_epoch(row.record.started_at)
        if started is None:
            return False
        if self.period == TODAY:
            return time.localtime(started)[:3] == time.localtime(now_s)[:3]
        return started >= now_s - _PERIOD_DAYS[self.period] * DAY_S


def text_matches(row: SessionRow, needle: str) -> bool:
    """Whether every word of `needle` appears in the session's id, command, status or start."""
    needle = needle.strip().lower()
    if not needle:
        return True
    record = row.record
    haystack = f"{record.session_id} {record.command} {row.status} {record.started_at}".lower()
    return all(word in haystack for word in needle.split())


def _next(choices: tuple[str, ...], current: str) -> str:
    return choices[(choices.index(current) + 1) % len(choices)]
