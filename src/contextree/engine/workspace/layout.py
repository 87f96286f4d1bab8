"""Workspace layout: the root a command works on and its `.ctree/` folder.

`.ctree/` holds `config.toml`, the LMDB `store/` and a `.gitignore` containing `*`, so nothing
of contextree's ever lands in the project's own version control. As git finds `.git`, the
workspace of a command is the nearest ancestor of the current directory holding `.ctree/`;
`init_workspace` creates one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from contextree.errors import WorkspaceError
from contextree.progress.retention import DEFAULT_MAX_AGE_DAYS, DEFAULT_MAX_COUNT

CTREE_DIR = ".ctree"
STORE_ENV = "CTREE_STORE"

DEFAULT_CONFIG_TOML = f"""\
# contextree configuration — see `ctree provider list` and `ctree agent list`.

[defaults]
agent = "docs"
provider = "local"

[sessions]
# Ended sessions older than max_age or beyond the newest max_count are pruned after each
# command. Active and interrupted sessions are never pruned.
max_age = "{DEFAULT_MAX_AGE_DAYS}d"
max_count = {DEFAULT_MAX_COUNT}

[ignore]
# gitignore-style patterns, on top of .gitignore files and the built-ins.
patterns = []

# An OpenAI-compatible server (Ollama, vLLM, LM Studio, llama.cpp):
# [providers.myllm]
# type = "openai"
# base_url = "http://127.0.0.1:11434/v1"
# model = "qwen2.5-coder"
# api_key_env = "MYLLM_API_KEY"
# timeout_s = 60
# max_concurrency = 4
# requests_per_minute = 120
"""


@dataclass(frozen=True)
class Workspace:
    """A workspace root and where its contextree files live."""

    root: Path
    store_path: Path

    @property
    def ctree_dir(self) -> Path:
        return self.root / CTREE_DIR

    @property
    def config_path(self) -> Path:
        return self.ctree_dir / "config.toml"

    @property
    def is_initialised(self) -> bool:
        return self.config_path.is_file()

    @property
    def exists(self) -> bool:
        """Whether `.ctree/` is there (a workspace found, or made by `init_workspace`)."""
        return self.ctree_dir.is_dir()

    def relative_path(self, path: str | os.PathLike[str] | None) -> str:
        """`path` (absolute, or relative to the root) as a workspace-relative POSIX path.

        `.` is the root. A path outside the workspace, or one that does not exist, is a
        `WorkspaceError` saying so.
        """
        if path is None or str(path) in ("", "."):
            return "."
        full = Path(os.path.normpath(self.root / Path(path)))
        if not full.is_relative_to(self.root):
            raise WorkspaceError(
                f"{path} is outside the workspace {self.root} — pass a path inside it, "
                "or choose the workspace with -C"
            )
        if not os.path.lexists(full):
            raise WorkspaceError(
                f"{path} does not exist — pass a file or directory in the workspace"
            )
        return require_utf8(full.relative_to(self.root).as_posix() or ".")


def require_utf8(relative: str) -> str:
    """`relative` if it is a valid UTF-8 path, else a `WorkspaceError`: the tree leaves names
    that are not UTF-8 out (a path from the command line may hold such bytes)."""
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        shown = relative.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        raise WorkspaceError(
            f"{shown} is not a valid UTF-8 path — contextree leaves such names out of the "
            "tree; rename it"
        ) from None
    return relative


def resolve_workspace(root: str | os.PathLike[str] | None, store: str | None = None) -> Workspace:
    """Resolve `-C/--workspace` and `--store` (or `CTREE_STORE`) into a `Workspace`.

    Without `root`, the workspace is the nearest ancestor of the current directory (itself
    included) that holds `.ctree/`; where none does, the current directory, not yet a
    workspace (`Workspace.exists` is False).
    """
    path = Path(root).expanduser() if root is not None else find_workspace_root(Path.cwd())
    try:
        return _resolve(path, store)
    except PermissionError as exc:
        raise WorkspaceError(
            f"cannot access {exc.filename or path}: permission denied — check its permissions"
        ) from exc


def find_workspace_root(start: Path) -> Path:
    """The nearest of `start` and its ancestors holding a `.ctree/` folder, else `start`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        try:
            if (folder / CTREE_DIR).is_dir():
                return folder
        except OSError:  # an unreadable ancestor: look further up
            continue
    return start


def _resolve(path: Path, store: str | None) -> Workspace:
    if not path.exists():
        raise WorkspaceError(f"workspace {path} does not exist — pass an existing directory to -C")
    if not path.is_dir():
        raise WorkspaceError(f"workspace {path} is not a directory — pass a directory to -C")
    path = path.resolve()
    store = store if store is not None else os.environ.get(STORE_ENV) or None
    store_path = Path(store).expanduser().resolve() if store else path / CTREE_DIR / "store"
    return Workspace(root=path, store_path=store_path)


def init_workspace(workspace: Workspace) -> bool:
    """Create `.ctree/` with its config and `.gitignore`; return True if anything was created."""
    created = False
    ctree_dir = workspace.ctree_dir
    if not ctree_dir.is_dir():
        ctree_dir.mkdir(mode=0o700, parents=True)
        created = True
    gitignore = ctree_dir / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("*\n", encoding="utf-8")
        created = True
    if not workspace.config_path.exists():
        workspace.config_path.write_text(DEFAULT_CONFIG_TOML, encoding="utf-8")
        created = True
    return created
