"""Tab completion for the command bar, derived from the `ctree` command tree (`command_tree`).

`complete(line)` walks the words typed so far through the root group — subcommands, options
(skipping their values), positional arguments — and offers what can come next: subcommand
names, option names, `click.Choice` values, workspace paths for path arguments and path
options, and values a `ValueSource` knows (agents, providers, session ids). Adding a command
or an option to the CLI (and to `command_tree.json`) adds it here. No Textual here.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import click

from contextree.engine.workspace.config import Config, load_config
from contextree.engine.workspace.layout import CTREE_DIR, Workspace
from contextree.errors import ContextreeError
from contextree.tui.command_tree import command_tree

PATH_PARAMS = frozenset({"path", "workspace", "store"})
VALUE_KINDS = {"agent_id": "agent", "provider_name": "provider", "session_ref": "session"}
PROVIDER_COMMANDS = frozenset({"provider show", "provider test"})
HIDDEN_DIRECTORIES = frozenset({".git", CTREE_DIR, "__pycache__", "node_modules", ".venv"})
MAX_CANDIDATES = 200

ValueSource = Callable[[str], Iterable[str]]
"""Known values of a kind (`agent`, `provider`, `session`); may return nothing."""


@dataclass(frozen=True)
class Candidate:
    """One way to complete the word under the cursor."""

    value: str
    help: str = ""
    final: bool = True
    """Complete: a space follows it (a directory is not: its children may follow)."""


@dataclass(frozen=True)
class Completion:
    """The word being completed (from `start` to the end of the line) and what fits."""

    line: str
    start: int
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def word(self) -> str:
        return self.line[self.start:]

    def apply(self, candidate: Candidate) -> str:
        """The line with the word replaced by `candidate`."""
        value = candidate.value
        quoted = shlex.quote(value) if value and shlex.quote(value) != value else value
        return self.line[:self.start] + quoted + (" " if candidate.final else "")


class KnownValues:
    """A `ValueSource` for the TUI: agents and providers from the workspace's configuration
    (read once, when first asked), `last` and the recent session ids."""

    def __init__(self, workspace: Workspace | None, *,
                 sessions: Callable[[], list[str]]) -> None:
        self.workspace = workspace
        self._sessions = sessions
        self._config: Config | None = None

    def __call__(self, kind: str) -> Iterable[str]:
        if kind == "session":
            return ["last", *self._sessions()]
        if self._config is None:
            try:
                self._config = load_config(self.workspace)
            except ContextreeError:
                return []
        if kind == "agent":
            return sorted(self._config.agents)
        if kind == "provider":
            return sorted(self._config.providers)
        return []


def complete(line: str, *, root: click.Group | None = None, workspace_root: Path | None = None,
             values: ValueSource | None = None) -> Completion:
    """What can complete the last word of `line` (the cursor is at its end)."""
    start = len(line) if not line or line[-1].isspace() else _word_start(line)
    words = _split(line[:start])
    if words[:1] == ["ctree"]:
        words = words[1:]
    word = line[start:]
    command, path, expecting, positional = _walk(root or command_tree(), words)
    source = values or (lambda kind: ())
    if expecting is not None:
        found = _param_values(expecting, path, word, workspace_root, source)
    elif word.startswith("-"):
        found = _options(command, word)
    elif isinstance(command, click.Group):
        found = _subcommands(command, word)
    else:
        arguments = [param for param in command.params if isinstance(param, click.Argument)]
        argument = arguments[positional] if positional < len(arguments) else None
        found = _param_values(argument, path, word, workspace_root, source) if argument else []
    return Completion(line, start, found[:MAX_CANDIDATES])


def _word_start(line: str) -> int:
    index = len(line)
    while index > 0 and not line[index - 1].isspace():
        index -= 1
    return index


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _walk(root: click.Group, words: list[str]
          ) -> tuple[click.Command, list[str], click.Parameter | None, int]:
    """The command the words lead to, its path, the option awaiting a value, the count of
    positional words given to the command."""
    command: click.Command = root
    path: list[str] = []
    expecting: click.Parameter | None = None
    positional = 0
    for word in words:
        if expecting is not None:
            expecting = None
            continue
        if word.startswith("-") and word != "-":
            option = _find_option(command, word.split("=", 1)[0])
            if option is not None and "=" not in word and not option.is_flag \
                    and not option.count:
                expecting = option
            continue
        if isinstance(command, click.Group):
            sub = command.get_command(click.Context(command), word)
            if sub is not None:
                command = sub
                path.append(word)
                continue
        positional += 1
    return command, path, expecting, positional


def _find_option(command: click.Command, name: str) -> click.Option | None:
    for param in command.params:
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return param
    return None


def _subcommands(group: click.Group, word: str) -> list[Candidate]:
    context = click.Context(group)
    found = []
    for name in group.list_commands(context):
        sub = group.get_command(context, name)
        if sub is None or sub.hidden or not name.startswith(word):
            continue
        found.append(Candidate(name, sub.get_short_help_str(limit=60)))
    return found


def _options(command: click.Command, word: str) -> list[Candidate]:
    found = []
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden:
            continue
        names = [name for name in (*param.opts, *param.secondary_opts) if name.startswith("--")]
        for name in names or param.opts:
            if name.startswith(word):
                found.append(Candidate(name, (param.help or "").split("\n")[0]))
    if "--help".startswith(word):
        found.append(Candidate("--help", "Show the command's options."))
    return found


def _param_values(param: click.Parameter, path: list[str], word: str,
                  workspace_root: Path | None, values: ValueSource) -> list[Candidate]:
    if isinstance(param.type, click.Choice):
        return [Candidate(str(choice)) for choice in param.type.choices
                if str(choice).startswith(word)]
    name = param.name or ""
    kind = VALUE_KINDS.get(name)
    if name == "name" and " ".join(path) in PROVIDER_COMMANDS:
        kind = "provider"
    if kind is not None:
        return [Candidate(value) for value in values(kind) if value.startswith(word)]
    if name in PATH_PARAMS or isinstance(param.type, click.Path):
        return path_candidates(word, workspace_root,
                               directories_only=name in ("workspace", "store"))
    return []


def path_candidates(word: str, root: Path | None, *,
                    directories_only: bool = False) -> list[Candidate]:
    """Entries of the directory `word` points into, relative to the workspace `root`:
    directories first (ending in `/`), each group by name; hidden ones only when asked."""
    if root is None:
        return []
    folder, _, prefix = word.rpartition("/")
    base = root / folder if folder else root
    try:
        entries = list(os.scandir(base))
    except OSError:
        return []
    found = []
    for entry in entries:
        name = entry.name
        if not name.startswith(prefix) or (name.startswith(".") and not prefix.startswith(".")):
            continue
        if name in HIDDEN_DIRECTORIES and prefix != name:
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if directories_only and not is_dir:
            continue
        value = f"{folder}/{name}" if folder else name
        found.append((not is_dir, name, Candidate(value + "/" if is_dir else value,
                                                  final=not is_dir)))
    found.sort(key=lambda item: (item[0], item[1]))
    return [candidate for _, _, candidate in found]
