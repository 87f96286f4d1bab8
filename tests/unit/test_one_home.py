"""Facts defined once: the prune defaults, the Ctrl-C mapping and the byte units."""

from __future__ import annotations

from pathlib import Path

from contextree.engine.workspace.config import load_config
from contextree.engine.workspace.layout import Workspace, init_workspace
from contextree.progress.retention import DEFAULT_MAX_AGE_S, DEFAULT_MAX_COUNT
from contextree.progress.session import CANCELLED, failure_message
from contextree.sizes import format_bytes
from contextree.tui.format import format_bytes as tui_format_bytes


def test_a_new_workspace_config_states_the_prune_defaults(tmp_path: Path) -> None:
    workspace = Workspace(root=tmp_path, store_path=tmp_path / ".ctree" / "store")
    init_workspace(workspace)
    text = workspace.config_path.read_text(encoding="utf-8")
    assert f"max_count = {DEFAULT_MAX_COUNT}" in text

    policy = load_config(workspace, user_path=tmp_path / "no-user-config.toml").sessions

    assert (policy.max_age_s, policy.max_count) == (DEFAULT_MAX_AGE_S, DEFAULT_MAX_COUNT)
    assert (DEFAULT_MAX_AGE_S, DEFAULT_MAX_COUNT) == (14 * 86400, 500)  # SPEC §5


def test_ctrl_c_is_recorded_as_cancelled_and_other_errors_by_their_message() -> None:
    assert failure_message(KeyboardInterrupt()) == CANCELLED == "cancelled"
    assert failure_message(ValueError("disk full")) == "disk full"
    assert failure_message(RuntimeError()) == "RuntimeError"


def test_sizes_read_in_binary_units_in_the_cli_and_the_tui() -> None:
    assert format_bytes(3 * 1024 + 100) == "3.1 KiB"
    assert format_bytes(5 << 30) == "5.0 GiB"
    assert tui_format_bytes(2 << 20) == "2.0 MiB"
    assert tui_format_bytes(None) == "—"
