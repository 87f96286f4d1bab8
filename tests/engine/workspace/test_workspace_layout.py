"""Workspace resolution and `.ctree/` initialisation."""

from __future__ import annotations

from pathlib import Path

import pytest

from contextree.engine.workspace.layout import init_workspace, resolve_workspace
from contextree.errors import WorkspaceError


def test_resolve_defaults_to_ctree_store_inside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CTREE_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    workspace = resolve_workspace(None)
    assert workspace.root == tmp_path.resolve()
    assert workspace.store_path == tmp_path.resolve() / ".ctree" / "store"
    assert workspace.config_path == tmp_path.resolve() / ".ctree" / "config.toml"
    assert workspace.is_initialised is False


def test_store_comes_from_option_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTREE_STORE", str(tmp_path / "from-env"))
    assert resolve_workspace(tmp_path).store_path == tmp_path / "from-env"
    assert resolve_workspace(tmp_path, str(tmp_path / "opt")).store_path == tmp_path / "opt"


def test_missing_or_non_directory_workspace_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="does not exist"):
        resolve_workspace(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(WorkspaceError, match="not a directory"):
        resolve_workspace(tmp_path / "file")


def test_init_creates_private_dir_config_and_gitignore_once(tmp_path: Path) -> None:
    workspace = resolve_workspace(tmp_path, str(tmp_path / ".ctree" / "store"))
    assert init_workspace(workspace) is True
    assert (workspace.ctree_dir.stat().st_mode & 0o777) == 0o700
    assert (workspace.ctree_dir / ".gitignore").read_text() == "*\n"
    assert workspace.is_initialised
    workspace.config_path.write_text("# mine\n")
    assert init_workspace(workspace) is False
    assert workspace.config_path.read_text() == "# mine\n"
