"""Scan and watch metrics of a session: what the scanner counted, what the watcher saw."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from contextree.progress.catalog import EventType
from contextree.progress.state import SessionState
from contextree.tui.format import format_bytes, format_count, format_ms

RECENT_CHANGES_SHOWN = 12
_CHANGE_STYLES = {"added": "green", "modified": "yellow", "deleted": "red"}


class MetricsPanel(Static):
    """Scan metrics (files, dirs, bytes, rehashed, changed, root) and watch metrics."""

    DEFAULT_CSS = """
    MetricsPanel { height: auto; padding: 0 1; }
    """

    _shown: Text | None = None

    def show(self, state: SessionState, *, compact: bool = False) -> bool:
        """Repaint from `state` if anything changed; return whether there is anything to show.

        `compact` shortens long ids (the panel then shares the width with the activity list).
        """
        types = state.event_types
        if not (types[EventType.SCAN_STARTED] or types[EventType.WATCH_STARTED]):
            return False
        text = metrics_text(state, compact=compact)
        if text != self._shown:
            lines_changed = self._shown is None or \
                len(text.plain.splitlines()) != len(self._shown.plain.splitlines())
            self._shown = text
            self.update(text, layout=lines_changed)
        return bool(text.plain)


def metrics_text(state: SessionState, *, compact: bool = False) -> Text:
    text = Text()
    if state.event_types[EventType.SCAN_STARTED]:
        _scan(text, state, compact)
    if state.event_types[EventType.WATCH_STARTED]:
        if text.plain:
            text.append("\n")
        _watch(text, state, compact)
    text.rstrip()
    return text


def _row(text: Text, label: str, value: str, style: str = "") -> None:
    text.append(f"{label:<12}", style="dim")
    text.append(value + "\n", style=style)


def _short_id(value: str | None, compact: bool) -> str:
    if not value:
        return "—"
    return value[:16] + "…" if compact and len(value) > 16 else value


def _scan(text: Text, state: SessionState, compact: bool) -> None:
    scan = state.scan
    text.append("Scan" + (" — done" if scan.done else " — scanning…") + "\n", style="bold")
    _row(text, "files", format_count(scan.file_count))
    _row(text, "directories", format_count(scan.dir_count))
    _row(text, "nodes", format_count(scan.node_count))
    _row(text, "hashed", format_bytes(scan.bytes_hashed))
    if scan.done:
        _row(text, "rehashed", format_count(scan.files_rehashed))
        changed = "yes" if scan.changed else "no"
        _row(text, "changed", changed, "yellow" if scan.changed else "")
        _row(text, "root id", _short_id(scan.root_id, compact))
        _row(text, "duration", format_ms(scan.duration_ms))
    if scan.skipped_count:
        _row(text, "skipped", format_count(scan.skipped_count), "yellow")


def _watch(text: Text, state: SessionState, compact: bool) -> None:
    watch = state.watch
    stopped = f" — stopped ({watch.stopped_reason})" if watch.stopped_reason else ""
    text.append(f"Watch{stopped}\n", style="bold")
    _row(text, "root", watch.root or "—")
    _row(text, "debounce", format_ms(watch.debounce_ms))
    _row(text, "generate", "yes" if watch.generate else "no")
    _row(text, "batches", format_count(watch.batches))
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(watch.by_change.items()))
    _row(text, "changes", format_count(watch.changes) + (f" ({kinds})" if kinds else ""))
    _row(text, "updated", f"{format_count(watch.nodes_updated)} nodes")
    if watch.root_id:
        _row(text, "root id", _short_id(watch.root_id, compact))
    if watch.recent_changes:
        text.append("recent changes\n", style="dim")
        for path, change in watch.recent_changes[-RECENT_CHANGES_SHOWN:][::-1]:
            text.append(f"  {change:<9}", style=_CHANGE_STYLES.get(change, ""))
            text.append(path + "\n")


def metrics_line(state: SessionState) -> Text | None:
    """The scan and watch metrics on one line, for the header when there is no room for the
    pane: `scan 120 files · 14 dirs · 3.4 MiB hashed · 7 rehashed · changed`."""
    parts: list[str] = []
    if state.event_types["scan_started"]:
        scan = state.scan
        scan_parts = [f"{format_count(scan.file_count)} files",
                      f"{format_count(scan.dir_count)} dirs",
                      f"{format_bytes(scan.bytes_hashed)} hashed"]
        if scan.done:
            scan_parts.append(f"{format_count(scan.files_rehashed)} rehashed")
            scan_parts.append("changed" if scan.changed else "unchanged")
        parts.append("scan " + " · ".join(scan_parts))
    if state.event_types["watch_started"]:
        watch = state.watch
        parts.append(f"watch {format_count(watch.batches)} batches · "
                     f"{format_count(watch.changes)} changes · "
                     f"{format_count(watch.nodes_updated)} nodes updated")
    if not parts:
        return None
    return Text("  ".join(parts), style="dim")
