"""Which workspace paths the tree leaves out: gitignore semantics, plus built-ins and config.

Rules come in layers, like git's: config patterns apply from the root with the lowest
priority, then each `.gitignore` from the root down to a path's directory, the deeper file
winning and, within a file, the last matching pattern (so `!keep.log` re-includes). A path
inside an ignored directory is ignored whatever deeper files say, because the walk never
enters that directory. The built-in names (`.git`, `.ctree`, `node_modules`, `__pycache__`,
`.venv`) are ignored at any depth and cannot be re-included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec

from contextree.engine.workspace.layout import Workspace

BUILTIN_IGNORED_NAMES = frozenset({".git", ".ctree", "node_modules", "__pycache__", ".venv"})
GITIGNORE = ".gitignore"
_ANY_DEPTH = "^(?:.+/)?"  # how pathspec starts a pattern that matches at any depth


@dataclass(frozen=True)
class _Layer:
    """One `.gitignore` (or the config patterns): its directory and its compiled patterns.

    `any_match` searches one expression matching whatever any pattern matches, so the
    paths no pattern matches — nearly all of them — skip the pattern-by-pattern check.
    """

    prefix: str  # the directory's workspace-relative path plus "/", or "" for the root
    spec: GitIgnoreSpec
    any_match: Callable[[str], object] | None


def _layer(prefix: str, spec: GitIgnoreSpec) -> _Layer:
    return _Layer(prefix, spec, any_pattern_search(spec))


def any_pattern_search(spec: GitIgnoreSpec) -> Callable[[str], object] | None:
    """`search` of the alternation of `spec`'s patterns, or None when it cannot be built.

    A path matches the alternation exactly when it matches one of the patterns, so a miss
    proves that `spec.check_file` would find no verdict. One search of it costs about a
    tenth of trying fifty patterns one by one, because the patterns that match at any depth
    share one prefix, tried once. Named groups (pathspec marks directory matches with one)
    become plain groups, as a name may not repeat in one expression. A pattern whose meaning
    could change once joined — a backreference or conditional, `(?P` text that is not one
    of its own named groups — means no search is built.
    """
    branches: list[str] = []
    any_depth: list[str] = []
    flags: set[int] = set()
    for pattern in spec.patterns:
        if pattern.include is None:
            continue  # a comment or blank line: check_file skips it too
        regex = getattr(pattern, "regex", None)
        if not isinstance(regex, re.Pattern) or not isinstance(regex.pattern, str):
            return None
        source = regex.pattern
        if source.count("(?P") != len(regex.groupindex) or _REFERENCES.search(source):
            return None
        for name in regex.groupindex:
            source = source.replace(f"(?P<{name}>", "(?:")
        rest = source[len(_ANY_DEPTH) :]
        if source.startswith(_ANY_DEPTH) and not _alternates_at_top(rest):
            any_depth.append(f"(?:{rest})")
        else:
            branches.append(f"(?:{source})")
        flags.add(regex.flags)
    if any_depth:
        branches.append(f"{_ANY_DEPTH}(?:{'|'.join(any_depth)})")
    if len(flags) != 1:
        return None
    try:
        return re.compile("|".join(branches), flags.pop()).search
    except re.error:
        return None


_REFERENCES = re.compile(r"\\[0-9]|\(\?\(")  # numbered backreferences, conditionals


def _alternates_at_top(source: str) -> bool:
    """Whether `source` has a `|` outside every group and set (a prefix would bind to its
    first branch only)."""
    depth, index, in_set = 0, 0, False
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 1  # the escaped character is a literal
        elif in_set:
            in_set = char != "]"
        elif char == "[":
            in_set = True
            index += 2 if source.startswith("^]", index + 1) else source.startswith("]", index + 1)
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth <= 0:
            return True
        index += 1
    return False


class IgnoreMatcher:
    """The rules in force inside one directory; `enter` gives a subdirectory's matcher."""

    __slots__ = ("_extra", "_layers", "has_rules")

    def __init__(self, layers: tuple[_Layer, ...], extra: frozenset[str] = frozenset()) -> None:
        self._layers = layers
        self._extra = extra
        # False when only the built-in names are ignored here (a walk checks those itself)
        self.has_rules = bool(layers or extra)

    def enter(self, directory: str, gitignore_lines: Iterable[str] | None) -> IgnoreMatcher:
        """The matcher for `directory` (workspace-relative), adding its `.gitignore` if any."""
        if gitignore_lines is None:
            return self
        spec = GitIgnoreSpec.from_lines(gitignore_lines)
        if not spec.patterns:
            return self
        prefix = "" if directory == "." else directory + "/"
        return IgnoreMatcher((*self._layers, _layer(prefix, spec)), self._extra)

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
            relative = path[len(layer.prefix) :] + suffix
            if (
                layer.any_match is not None
                and layer.any_match(relative) is None
                and not relative.startswith(("/", "./"))  # those check_file would rewrite
            ):
                continue
            verdict = layer.spec.check_file(relative).include
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
        layers = (_layer("", config_spec),) if config_spec.patterns else ()
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
