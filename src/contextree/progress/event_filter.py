"""A predicate over events: which of a session's events a filtered reader shows.

Filters by event type, by node path (a glob), by level (0-based, as events carry it) and by
errors. The predicate only chooses what is shown: a follower still reads every event, so a
filter can never make it miss or reorder one.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from contextree.errors import UsageError
from contextree.progress.catalog import EVENT_CATALOG, EventType
from contextree.progress.event import Event, decode_event_or_none

ERROR_TYPES = frozenset({
    *(name for name in EVENT_CATALOG if name.endswith("_failed")),
    EventType.PROVIDER_REQUEST_RETRYING,
})
"""Event types that report an error whatever their data says."""


@dataclass(frozen=True)
class EventFilter:
    """Keep an event when it passes every criterion given (an empty filter keeps all)."""

    types: frozenset[str] = frozenset()
    path_glob: str | None = None
    level_index: int | None = None
    errors: bool = False

    @property
    def empty(self) -> bool:
        return not (self.types or self.path_glob is not None or self.level_index is not None
                    or self.errors)

    def matches(self, event: Event) -> bool:
        data = event.data
        if self.types and event.type not in self.types:
            return False
        if self.path_glob is not None:
            path = data.get("path")
            if not isinstance(path, str) or not fnmatchcase(path, self.path_glob):
                return False
        if self.level_index is not None and not _same_int(data.get("level_index"),
                                                          self.level_index):
            return False
        return not self.errors or is_error(event)

    def matches_raw(self, raw: bytes) -> bool:
        """`matches` on a stored value; an empty filter keeps even an undecodable one."""
        if self.empty:
            return True
        event = decode_event_or_none(raw)
        return event is not None and self.matches(event)


def is_error(event: Event) -> bool:
    """An event that reports a failure: an error type, a failed end, or an `error` field."""
    if event.type in ERROR_TYPES:
        return True
    if event.type == EventType.SESSION_ENDED and event.data.get("status") == "failed":
        return True
    return bool(event.data.get("error"))


def _same_int(value: object, wanted: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value == wanted


def check_event_types(types: tuple[str, ...] | list[str]) -> frozenset[str]:
    """The event types asked for, or `UsageError` naming the closest known type."""
    for name in types:
        if name not in EVENT_CATALOG:
            import difflib  # only a mistyped name needs it: `sessions events` starts lighter

            close = difflib.get_close_matches(name, [str(known) for known in EVENT_CATALOG], n=1)
            hint = f"did you mean {close[0]!r}?" if close else "see the event catalog"
            raise UsageError(f"unknown event type {name!r} — {hint}")
    return frozenset(types)
