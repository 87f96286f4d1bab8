"""The Textual TUI: dashboard, live session view, history and replay (`ctree tui`).

The TUI reads only from the store: worker threads (`feeds`, `poller`) read LMDB and hand
batches to the UI through bounded buffers, and the UI folds events through the same reducer
as replay and the CLI (`contextree.progress.reducer`), painting at a frame rate, not per event.
"""
