"""Which workspace paths the tree leaves out: gitignore semantics, plus built-ins and config.

Rules come in layers, like git's: config patterns apply from the root with the lowest
priority, then each `.gitignore` from the root down to a path's directory, the deeper file
winning and, within a file, the last matching pattern (so `!keep.log` re-includes). A path
inside an ignored directory is ignored whatever deeper files say, because the walk never
enters that directory. The built-in names (`.git`, `.ctree`, `node_modules`, `__pycache__`,
`.venv`) are ignored at any depth and cannot be re-included.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec

from contextree.engine.workspace import Workspace

BUILTIN_IGNORED_NAMES = frozenset({".git", ".ctree", "node_modules", "__pycache__", ".venv"})
GITIGNORE = ".gitignore"


@dataclass(frozen=True)
class _Layer:
    """One `.gitignore` (or the config patterns): its directory and its compiled patterns."""

    prefix: str  # the directory's workspace-relative path plus "/", or "" for the root
    spec: GitIgnoreSpec


class IgnoreMatcher:
    """The rules in force inside one directory; `enter` gives a subdirectory's matcher."""

    __slots__ = ("_extra", "_layers")

    def __init__(self, layers: tuple[_Layer, ...], extra: frozenset[str] = frozenset()) -> None:
        self._layers = layers
        self._extra = extra

    def enter(self, directory: str, gitignore_lines: Iterable[str] | None) -> IgnoreMatcher:
        """The matcher for `directory` (workspace-relative), adding its `.gitignore` if any."""
        if gitignore_lines is None:
            return self
        spec = GitIgnoreSpec.from_lines(gitignore_lines)
        if not spec.patterns:
            return self
        prefix = "" if directory == "." else directory + "/"
        return IgnoreMatcher((*self._layers, _Layer(prefix, spec)), self._extra)

    def is_ignored(self, path: str, name: str, is_dir: bool) -> bool:
        """Whether `path` (workspace-relative, its last part `name`) is left out."""
        if name in BUILTIN_IGNORED_NAMES or (self._extra and path in self._extra):
            return True
        if not self._layers:
            return False
        suffix = "/" if is_dir else ""
        for layer in reversed(self._layers):
            if not path.startswith(layer.prefix):
                continue
            verdict = layer.spec.check_file(path[len(layer.prefix) :] + suffix).include
            if verdict is not None:
                return verdict
        return False


class IgnoreRules:
    """The ignore rules of a workspace, able to judge any path, not only during a walk."""

    def __init__(self, root: Path, patterns: Sequence[str] = (), extra_paths: Sequence[str] = ()):
        """`patterns` come from config; `extra_paths` are workspace-relative paths always left
        out (such as a store kept inside the workspace outside `.ctree/`)."""
        self.root = root
        self.extra_paths = frozenset(extra_paths)
        config_spec = GitIgnoreSpec.from_lines(patterns)
        layers = (_Layer("", config_spec),) if config_spec.patterns else ()
        self._base = IgnoreMatcher(layers, self.extra_paths)
        self._matchers: dict[str, IgnoreMatcher | None] = {}

    def clear_cache(self) -> None:
        """Forget the `.gitignore` files read so far (call when they may have changed)."""
        self._matchers.clear()

    @classmethod
    def for_workspace(cls, workspace: Workspace, patterns: Sequence[str] = ()) -> IgnoreRules:
        """The rules of `workspace`, also leaving out a store kept inside it (outside
        `.ctree/`, which is ignored anyway)."""
        extra: list[str] = []
        store = workspace.store_path
        if store.is_relative_to(workspace.root) and store != workspace.root:
            extra.append(store.relative_to(workspace.root).as_posix())
        return cls(workspace.root, patterns, extra)

    def base_matcher(self) -> IgnoreMatcher:
        """The rules above the root: built-ins and config patterns, before any `.gitignore`."""
        return self._base

    def matcher_for(self, directory: str) -> IgnoreMatcher | None:
        """The matcher inside `directory`, or None when the directory itself is ignored."""
        if directory in self._matchers:
            return self._matchers[directory]
        if directory == ".":
            matcher: IgnoreMatcher | None = self._base.enter(".", read_gitignore(self.root))
        else:
            parent, _, name = directory.rpartition("/")
            outer = self.matcher_for(parent or ".")
            if outer is None or outer.is_ignored(directory, name, is_dir=True):
                matcher = None
            else:
                matcher = outer.enter(directory, read_gitignore(self.root / directory))
        self._matchers[directory] = matcher
        return matcher

    def is_ignored(self, path: str, is_dir: bool) -> bool:
        """Whether the workspace-relative `path` is left out, by its own rules or an ancestor's."""
        if path == ".":
            return False
        parent, _, name = path.rpartition("/")
        matcher = self.matcher_for(parent or ".")
        return matcher is None or matcher.is_ignored(path, name, is_dir)


def read_gitignore(directory: Path) -> list[str] | None:
    """The lines of `directory/.gitignore`, or None if it is missing or unreadable."""
    try:
        return (directory / GITIGNORE).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
