"""Widgets of the TUI: the virtualised activity list, node detail, progress header, metrics,
status bar and confirmation dialog."""
