"""The TUI's views, one per key: dashboard (1), session (2), history (4)."""
