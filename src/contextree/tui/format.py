"""How the TUI writes things: status icons and colours, times, sizes, counts and progress.

Plain functions over the state model, shared by every view (no Textual here), so a status
looks the same in the activity list, the node detail and the history. Times are shown to
people in local time (events store UTC ISO, which only JSON output repeats); bytes in one unit
family (KiB, MiB: powers of 1024); counts with thousands separators and plurals that agree.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable

from contextree import sizes
from contextree.durations import format_ms
from contextree.progress.state import (
    CANCELLED,
    COMPLETED,
    FAILED,
    PENDING,
    QUEUED,
    RETRYING,
    SENDING,
    SKIPPED,
    WAITING,
    NodeState,
)
from contextree.tui.data import Progress

__all__ = [
    "NODE_ICONS",
    "NODE_LABELS",
    "NODE_STYLES",
    "SESSION_STYLES",
    "SKIP_REASONS",
    "format_bytes",
    "format_count",
    "format_ms",
    "format_progress",
    "format_start",
    "node_summary",
    "plural",
    "short_id",
    "skip_reason_text",
    "ts_epoch",
    "unique_prefixes",
]

NODE_ICONS = {
    PENDING: "·", QUEUED: "○", SENDING: "↗", WAITING: "◷",
    RETRYING: "↻", COMPLETED: "✓", FAILED: "✗", SKIPPED: "↷", CANCELLED: "⊘",
}
NODE_LABELS = {
    PENDING: "pending", QUEUED: "queued", SENDING: "sending", WAITING: "waiting for provider",
    RETRYING: "retrying", COMPLETED: "completed", FAILED: "failed", SKIPPED: "skipped",
    CANCELLED: "cancelled",
}
NODE_STYLES = {
    PENDING: "dim", QUEUED: "bright_black", SENDING: "cyan", WAITING: "yellow",
    RETRYING: "dark_orange", COMPLETED: "green", FAILED: "bold red", SKIPPED: "dim",
    CANCELLED: "yellow",
}
SESSION_STYLES = {
    "active": "cyan", "completed": "green", "failed": "red", "interrupted": "yellow",
}

_second_cache: dict[str, int] = {}


def ts_epoch(ts: str | None) -> float | None:
    """Seconds since the epoch of an event timestamp (fast: caches the whole-second part)."""
    if not ts or len(ts) != 24:
        return None
    head = ts[:19]
    second = _second_cache.get(head)
    if second is None:
        try:
            second = calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S"))
        except ValueError:
            return None
        if len(_second_cache) > 4096:
            _second_cache.clear()
        _second_cache[head] = second
    try:
        return second + int(ts[20:23]) / 1000
    except ValueError:
        return None


def short_id(session_id: str | None) -> str:
    return session_id[:10] if session_id else "—"


def format_start(ts: str | None, now_s: float | None = None) -> str:
    """An event time in local time, as short as it can be said: `13:33:59` today (given
    `now_s`), `Nov 24 13:33` this year, `2025-11-24 13:33` before."""
    epoch = ts_epoch(ts)
    if epoch is None:
        return "—"
    moment = time.localtime(epoch)
    if now_s is None:
        return time.strftime("%Y-%m-%d %H:%M:%S", moment)
    today = time.localtime(now_s)
    if moment[:3] == today[:3]:
        return time.strftime("%H:%M:%S", moment)
    if moment.tm_year == today.tm_year:
        return time.strftime("%b %d %H:%M", moment)
    return time.strftime("%Y-%m-%d %H:%M", moment)


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 session`, `2 sessions`, `1,204 entries` (with `many`)."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def unique_prefixes(ids: Iterable[str], shortest: int = 8) -> dict[str, str]:
    """Each id shortened to the shortest prefix (at least `shortest` characters) that no other
    id of `ids` shares — what `ctree` accepts in place of a full id."""
    ordered = sorted(set(ids))
    found = {}
    for index, value in enumerate(ordered):
        length = shortest
        for neighbour in ordered[max(0, index - 1):index] + ordered[index + 1:index + 2]:
            common = next((at for at, (a, b) in enumerate(zip(value, neighbour, strict=False))
                           if a != b), min(len(value), len(neighbour)))
            length = max(length, common + 1)
        found[value] = value[:length]
    return found


def format_progress(progress: Progress | None) -> str:
    """`42/120 35% · level 2/4`; `1,234 nodes` while the total is unknown (a scan)."""
    if progress is None:
        return "starting…"
    if progress.total is None or progress.ratio is None:
        return plural(progress.done, "node")
    text = f"{progress.done:,}/{progress.total:,} {progress.ratio:.0%}"
    if progress.level is not None and progress.levels:
        text += f" · level {progress.level}/{progress.levels}"
    return text


def format_count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def format_bytes(size: int | None) -> str:
    """A size in binary units (`contextree.sizes`), or `—` when unknown."""
    return "—" if size is None else sizes.format_bytes(size)


SKIP_REASONS = {"head_reuse": "up to date", "parent_of_failed": "a child failed"}
"""Why a node was skipped, in words a user understands (the event says `head_reuse`)."""


def skip_reason_text(reason: str | None) -> str:
    """`up to date`, `a child failed`; an unknown reason as written, without underscores."""
    if not reason:
        return "skipped"
    return SKIP_REASONS.get(reason, reason.replace("_", " "))


def format_seconds(seconds: float) -> str:
    """A live timer: `0.4 s`, `12.3 s`, `2m05s`."""
    return format_ms(max(0, int(seconds * 1000)))


def node_summary(node: NodeState, now_s: float) -> str:
    """The last column of the activity list: a live timer, the duration, or the error."""
    status = node.status
    if status == WAITING:
        sent = ts_epoch(node.sent_ts)
        return f"for {format_seconds(now_s - sent)}" if sent is not None else "…"
    if status == SENDING:
        return f"attempt {node.attempt}" if node.attempt > 1 else ""  # the status says sending
    if status == RETRYING:
        return retry_summary(node, now_s)
    if status == FAILED:
        return (node.error or "failed").splitlines()[0]
    if status == SKIPPED:
        return skip_reason_text(node.skip_reason)
    if status == COMPLETED:
        return format_ms(node.duration_ms if node.duration_ms is not None else node.provider_ms)
    if status == QUEUED:
        started = ts_epoch(node.started_ts)
        # the status column says queued: here only for how long
        return f"for {format_seconds(now_s - started)}" if started is not None else ""
    return ""


def retry_due(node: NodeState) -> float | None:
    """When the node's next attempt is due (seconds since the epoch), if it is retrying."""
    retry = node.retries[-1] if node.retries else None
    scheduled = ts_epoch(retry.ts) if retry is not None else None
    return None if retry is None or scheduled is None else scheduled + retry.delay_ms / 1000


def retry_summary(node: NodeState, now_s: float) -> str:
    """`retry 2 in 3.2 s` while the backoff runs, then `retry 2 queued 1.4 s`."""
    retry = node.retries[-1] if node.retries else None
    if retry is None:
        return "retrying"
    due = retry_due(node)
    if due is None:
        return f"retry {retry.attempt} after {format_ms(retry.delay_ms)}"
    if now_s < due:
        return f"retry {retry.attempt} in {format_seconds(due - now_s)}"
    return f"retry {retry.attempt} queued {format_seconds(now_s - due)}"
