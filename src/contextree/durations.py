"""Human durations such as `14d` or `1h30m`, used by config files and command options, and
measured durations written for people (`format_ms`).

A duration is one or more `<number><unit>` parts, units `s`, `m`, `h`, `d` and `w`; the parts
add up (`1h30m` is 5,400 seconds). Anything else is a `UsageError` listing the accepted forms.
"""

from __future__ import annotations

import re

from contextree.errors import UsageError

UNIT_SECONDS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
ACCEPTED_FORMS = "a number and a unit s, m, h, d or w, such as 45s, 30m, 12h, 14d, 2w or 1h30m"

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?\s*[smhdw]\s*)+", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Return the number of seconds `text` stands for; raise `UsageError` if it is malformed."""
    stripped = text.strip() if isinstance(text, str) else ""
    if not stripped or not _WHOLE.fullmatch(stripped):
        raise UsageError(f"bad duration {text!r} — use {ACCEPTED_FORMS}")
    return float(
        sum(float(number) * UNIT_SECONDS[unit.lower()] for number, unit in _PART.findall(stripped))
    )


def format_duration(seconds: float) -> str:
    """The shortest exact `parse_duration` form of a whole number of seconds (`1209600` → `2w`)."""
    whole = int(seconds)
    if whole != seconds or whole < 0:
        return f"{seconds}s"
    if whole == 0:
        return "0s"
    parts: list[str] = []
    for unit in ("w", "d", "h", "m", "s"):
        count, whole = divmod(whole, UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def format_ms(ms: int | None) -> str:
    """A measured duration for people: `412 ms`, `3.2 s`, `2m05s`, `1h03m`; `—` if unknown."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
