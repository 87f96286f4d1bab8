"""Configuration: built-in defaults, under the user's `config.toml`, under the workspace's.

Each file is parsed with `tomllib` and checked against one schema (`SECTION_FIELDS`,
`PROVIDER_FIELDS`, `AGENT_FIELDS`); later layers override earlier ones key by key, and ignore
patterns add up. Every problem is a `ConfigError` naming the file, the line when it can be
found, and the key. API keys are accepted only from the user's file, never the workspace's.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from contextree.durations import parse_duration
from contextree.engine.providers.base import BUILTIN_PROVIDERS as BUILTIN_PROVIDER_CONFIGS
from contextree.engine.providers.base import PROVIDER_TYPES, ProviderConfig
from contextree.engine.workspace.layout import Workspace
from contextree.errors import ConfigError, UsageError
from contextree.progress.retention import DEFAULT_MAX_AGE_S, DEFAULT_MAX_COUNT
from contextree.secrets import redact_url

HOME_ENV = "CTREE_HOME"
DEFAULT_MAX_FILE_BYTES = 256 * 1024

DEFAULT_AGENT_PROMPTS: Mapping[str, str] = MappingProxyType(
    {
        "system_prompt": "You write concise, accurate documentation for source code.",
        "file_prompt": "Describe {path}: its purpose, main definitions and how it is used.",
        "directory_prompt": "Summarize the directory {path} from its children's summaries.",
    }
)
BUILTIN_PROVIDERS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {name: MappingProxyType(asdict(config)) for name, config in BUILTIN_PROVIDER_CONFIGS.items()}
)


class _Invalid(Exception):
    """A value failed its check; the message says what was expected."""


@dataclass(frozen=True)
class AgentConfig:
    """An agent: prompts with `{path}`, `{node_type}` and `{file_size}` placeholders."""

    id: str
    system_prompt: str
    file_prompt: str
    directory_prompt: str


@dataclass(frozen=True)
class SessionsPolicy:
    """Pruning policy for ended sessions."""

    max_age_s: float = DEFAULT_MAX_AGE_S
    max_count: int = DEFAULT_MAX_COUNT


@dataclass(frozen=True)
class Config:
    """The merged configuration a command runs with.

    `providers` maps a provider name to a table whose keys are `ProviderConfig` fields
    (`name`, `type`, `model`, and whichever optional fields were set).
    """

    default_agent: str
    default_provider: str
    providers: Mapping[str, Mapping[str, Any]]
    agents: Mapping[str, AgentConfig]
    sessions: SessionsPolicy = SessionsPolicy()
    ignore_patterns: tuple[str, ...] = ()
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    sources: tuple[Path, ...] = ()
    api_keys: Mapping[str, str] = field(default_factory=dict, repr=False)

    def provider(self, name: str | None = None) -> Mapping[str, Any]:
        """The provider table for `name` (default provider when None)."""
        name = name or self.default_provider
        if name not in self.providers:
            known = ", ".join(sorted(self.providers))
            raise ConfigError(f"no provider named {name!r} — configured providers: {known}")
        return self.providers[name]

    def provider_config(self, name: str | None = None) -> ProviderConfig:
        """The provider `name` (default provider when None) as a `ProviderConfig`."""
        return ProviderConfig(**self.provider(name))

    def agent(self, agent_id: str | None = None) -> AgentConfig:
        """The agent `agent_id` (default agent when None)."""
        agent_id = agent_id or self.default_agent
        if agent_id not in self.agents:
            known = ", ".join(sorted(self.agents))
            raise ConfigError(f"no agent named {agent_id!r} — configured agents: {known}")
        return self.agents[agent_id]


# --- value checks -------------------------------------------------------------------------


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string, got {_kind(value)}")
    return value


def _non_negative_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Invalid(f"expected a whole number ≥ 0, got {value!r}")
    return value


def _positive_int(value: object) -> int:
    number = _non_negative_int(value)
    if number == 0:
        raise _Invalid("expected a whole number ≥ 1, got 0")
    return number


def _positive_number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _Invalid(f"expected a number > 0, got {value!r}")
    return float(value)


def _temperature(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 2:
        raise _Invalid(f"expected a number from 0 to 2, got {value!r}")
    return float(value)


def _duration(value: object) -> float:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if not isinstance(value, str):
        raise _Invalid(f'expected a duration such as "14d", got {_kind(value)}')
    try:
        return parse_duration(value)
    except UsageError as error:
        raise _Invalid(str(error)) from None


def _string_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Invalid('expected a list of strings, such as ["*.log", "build/"]')
    return tuple(value)


def _base_url(value: object) -> str:
    text = _string(value)
    try:
        parts = urlsplit(text)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a bad port or an unclosed [IPv6] bracket
        valid = False
    if not valid:
        raise _Invalid(f"expected an http(s) URL with a host, such as http://127.0.0.1:8080/v1, "
                       f"got {redact_url(text)!r}")
    return text


def _provider_type(value: object) -> str:
    text = _string(value)
    if text not in PROVIDER_TYPES:
        raise _Invalid(f"expected one of {', '.join(PROVIDER_TYPES)}, got {text!r}")
    return text


def _kind(value: object) -> str:
    return {dict: "a table", list: "a list", bool: "a boolean"}.get(
        type(value), f"{type(value).__name__} {value!r}"
    )


Check = Callable[[object], Any]

SECTION_FIELDS: Mapping[str, Mapping[str, Check]] = {
    "defaults": {"agent": _string, "provider": _string},
    "sessions": {"max_age": _duration, "max_count": _non_negative_int},
    "ignore": {"patterns": _string_list},
    "limits": {"max_file_bytes": _positive_int},
}
PROVIDER_FIELDS: Mapping[str, Check] = {
    "type": _provider_type,
    "base_url": _base_url,
    "model": _string,
    "api_key_env": _string,
    "api_key": _string,
    "timeout_s": _positive_number,
    "max_concurrency": _positive_int,
    "requests_per_minute": _positive_int,
    "max_tokens": _positive_int,
    "temperature": _temperature,
}
AGENT_FIELDS: Mapping[str, Check] = {name: _string for name in DEFAULT_AGENT_PROMPTS}
NAMED_SECTIONS: Mapping[str, Mapping[str, Check]] = {
    "providers": PROVIDER_FIELDS,
    "agents": AGENT_FIELDS,
}


# --- one file -----------------------------------------------------------------------------


@dataclass
class _Layer:
    """The checked content of one config file."""

    source: Path
    text: str
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    named: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def fail(self, dotted_key: str, problem: str) -> ConfigError:
        line = locate_key(self.text, dotted_key)
        where = f"{self.source}:{line}" if line else str(self.source)
        return ConfigError(f"{where}: {dotted_key}: {problem}")


def parse_config_text(text: str, source: Path, *, allow_api_keys: bool) -> _Layer:
    """Parse and check one config file's text; raise `ConfigError` on any problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _syntax_error(source, error, text) from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ConfigError(
            f"{source}:{_deepest_line(text)}: invalid TOML: arrays or inline tables nested too "
            "deeply — flatten them"
        ) from None
    layer = _Layer(source=source, text=text)
    for name, value in data.items():
        if name in SECTION_FIELDS:
            layer.sections[name] = _check_table(layer, name, value, SECTION_FIELDS[name])
        elif name in NAMED_SECTIONS:
            layer.named[name] = _check_named(layer, name, value, allow_api_keys)
        else:
            known = ", ".join(sorted([*SECTION_FIELDS, *NAMED_SECTIONS]))
            raise layer.fail(name, f"unknown section — expected one of {known}")
    return layer


def _syntax_error(source: Path, error: tomllib.TOMLDecodeError, text: str) -> ConfigError:
    message = str(error)
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if not found:
        end = message.find("(at end of document)")
        if end >= 0:  # an unterminated string, table or key: the problem ends the last line
            last_line = text.rstrip().count("\n") + 1
            return ConfigError(f"{source}:{last_line}: invalid TOML at the end of the file: "
                               f"{message[:end].strip()}")
        return ConfigError(f"{source}: invalid TOML: {message} — fix the syntax")
    problem = message[: found.start()].strip()
    line, column = found.groups()
    return ConfigError(f"{source}:{line}: invalid TOML at column {column}: {problem}")


def _deepest_line(text: str) -> int:
    """The 1-based line where brackets and braces nest deepest (strings are not skipped:
    this only points a person at the right place)."""
    depth = deepest = 0
    line = found = 1
    for char in text:
        if char == "\n":
            line += 1
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, found = depth, line
        elif char in "]}":
            depth = max(0, depth - 1)
    return found


def _check_table(
    layer: _Layer, dotted: str, value: object, fields: Mapping[str, Check]
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise layer.fail(dotted, f"expected a table [{dotted}], got {_kind(value)}")
    checked: dict[str, Any] = {}
    for key, item in value.items():
        full_key = f"{dotted}.{key}"
        if key not in fields:
            raise layer.fail(full_key, f"unknown key — expected one of {', '.join(fields)}")
        try:
            checked[key] = fields[key](item)
        except _Invalid as error:
            raise layer.fail(full_key, str(error)) from None
    return checked


def _check_named(
    layer: _Layer, section: str, value: object, allow_api_keys: bool
) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise layer.fail(section, f"expected tables such as [{section}.NAME]")
    tables: dict[str, dict[str, Any]] = {}
    for name, table in value.items():
        dotted = f"{section}.{name}"
        tables[name] = _check_table(layer, dotted, table, NAMED_SECTIONS[section])
        if "api_key" in tables[name] and not allow_api_keys:
            raise layer.fail(
                f"{dotted}.api_key",
                "API keys are never read from the workspace config — set api_key_env to the "
                "name of an environment variable holding the key",
            )
    return tables


def locate_key(text: str, dotted_key: str) -> int | None:
    """The 1-based line defining `dotted_key` (a key or a table header), if it can be found.

    Lines inside multi-line strings are text, not headers or keys. If the exact key cannot be
    placed, the line assigning its last part is the best guess.
    """
    table = ""
    open_quote: str | None = None
    fallback: int | None = None
    last_part = dotted_key.rpartition(".")[2]
    for number, raw in enumerate(text.splitlines(), start=1):
        if open_quote is not None:
            if raw.count(open_quote) % 2 == 1:
                open_quote = None
            continue
        open_quote = _opens_multiline_string(raw)
        line = raw.split("#", 1)[0].strip()
        header = re.fullmatch(r"\[\[?\s*([^\]]+?)\s*\]?\]", line)
        if header:
            table = _unquote_dotted(header.group(1))
            if table == dotted_key or table.startswith(dotted_key + "."):
                return number
            continue
        assignment = re.match(r"([A-Za-z0-9_.\-\"' ]+?)\s*=", line)
        if assignment:
            key = _unquote_dotted(assignment.group(1))
            full = f"{table}.{key}" if table else key
            if full == dotted_key or full.startswith(dotted_key + ".") or (
                dotted_key.startswith(full + ".") and "{" in line  # inside an inline table
            ):
                return number
            if fallback is None and key.rpartition(".")[2] == last_part:
                fallback = number
    return fallback


def _opens_multiline_string(line: str) -> str | None:
    for quote in ('"""', "'''"):
        if line.count(quote) % 2 == 1:
            return quote
    return None


def _unquote_dotted(text: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in text.split("."))


# --- layering -----------------------------------------------------------------------------


def user_config_path() -> Path:
    """The user's `config.toml`: in `$CTREE_HOME`, or the platform config directory."""
    home = os.environ.get(HOME_ENV)
    base = Path(home).expanduser() if home else Path(platformdirs.user_config_dir("contextree"))
    return base / "config.toml"


def load_config(workspace: Workspace | None = None, *, user_path: Path | None = None) -> Config:
    """Merge built-in defaults, the user's config and the workspace's `.ctree/config.toml`."""
    layers: list[_Layer] = []
    user_file = user_path if user_path is not None else user_config_path()
    if user_file.is_file():
        layers.append(parse_config_text(_read(user_file), user_file, allow_api_keys=True))
    if workspace is not None and workspace.config_path.is_file():
        path = workspace.config_path
        layers.append(parse_config_text(_read(path), path, allow_api_keys=False))
    return merge_layers(layers)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text ({error.reason}) — save it as UTF-8"
        ) from None
    except OSError as error:
        raise ConfigError(
            f"{path}: cannot be read: {error.strerror} — check its permissions"
        ) from None


def merge_layers(layers: list[_Layer]) -> Config:
    """Fold checked layers over the built-in defaults and check cross references."""
    scalars: dict[str, dict[str, Any]] = {name: {} for name in SECTION_FIELDS}
    providers: dict[str, dict[str, Any]] = {k: dict(v) for k, v in BUILTIN_PROVIDERS.items()}
    agents: dict[str, dict[str, Any]] = {"docs": dict(DEFAULT_AGENT_PROMPTS)}
    patterns: list[str] = []
    for layer in layers:
        for name, values in layer.sections.items():
            scalars[name].update(values)
        patterns.extend(layer.sections.get("ignore", {}).get("patterns", ()))
        for name, table in layer.named.get("providers", {}).items():
            providers.setdefault(name, {}).update(table)
        for name, table in layer.named.get("agents", {}).items():
            agents.setdefault(name, dict(DEFAULT_AGENT_PROMPTS)).update(table)
    _check_providers(layers, providers)
    api_keys = {name: t.pop("api_key") for name, t in providers.items() if "api_key" in t}
    config = Config(
        default_agent=scalars["defaults"].get("agent", "docs"),
        default_provider=scalars["defaults"].get("provider", "local"),
        providers=MappingProxyType(
            {name: MappingProxyType({"name": name, **table}) for name, table in providers.items()}
        ),
        agents=MappingProxyType({name: AgentConfig(id=name, **t) for name, t in agents.items()}),
        sessions=SessionsPolicy(
            max_age_s=scalars["sessions"].get("max_age", SessionsPolicy.max_age_s),
            max_count=scalars["sessions"].get("max_count", SessionsPolicy.max_count),
        ),
        ignore_patterns=tuple(patterns),
        max_file_bytes=scalars["limits"].get("max_file_bytes", DEFAULT_MAX_FILE_BYTES),
        sources=tuple(layer.source for layer in layers),
        api_keys=MappingProxyType(api_keys),
    )
    _check_defaults(layers, config)
    return config


def _blame(layers: list[_Layer], section: str, key: str) -> _Layer:
    """The last layer that set `section.key` (a named table or a scalar), for an error."""
    for layer in reversed(layers):
        if key in layer.named.get(section, {}) or key in layer.sections.get(section, {}):
            return layer
    return layers[-1]


def _check_providers(layers: list[_Layer], providers: dict[str, dict[str, Any]]) -> None:
    for name, table in providers.items():
        if "type" not in table:
            problem = f"missing type — set type to one of {', '.join(PROVIDER_TYPES)}"
        elif table["type"] != "local" and "model" not in table:
            problem = "missing model — set model to the name of the model to call"
        else:
            continue
        raise _blame(layers, "providers", name).fail(f"providers.{name}", problem)


def _check_defaults(layers: list[_Layer], config: Config) -> None:
    for key, known in (("provider", config.providers), ("agent", config.agents)):
        value = getattr(config, f"default_{key}")
        if value not in known:
            names = ", ".join(sorted(known))
            raise _blame(layers, "defaults", key).fail(
                f"defaults.{key}", f"no {key} named {value!r} — known: {names}"
            )
