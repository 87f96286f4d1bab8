"""The TUI's views, one per key: dashboard (1), session (2), content (3), history (4)."""

VIEWS = ("dashboard", "session", "content", "history")
"""The views in the order of their keys (`1`–`4`)."""


def view_title(name: str) -> str:
    """How the help names a view: `Session (2)`."""
    return f"{name.capitalize()} ({VIEWS.index(name) + 1})"
