"""Configuration: built-in defaults, under the user's `config.toml`, under the workspace's.

Each file is checked against the schema (`config_schema`) into a layer; later layers override
earlier ones key by key, ignore patterns add up, and the merged `Config` is checked for
references that no layer alone can check (a default provider or agent that exists, a provider
with a type and a model). Every problem is a `ConfigError` naming the file and the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import platformdirs

from contextree.engine.providers.base import BUILTIN_PROVIDERS as BUILTIN_PROVIDER_CONFIGS
from contextree.engine.providers.base import PROVIDER_TYPES, ProviderConfig
from contextree.engine.workspace.config_schema import (
    DEFAULT_AGENT_PROMPTS,
    SECTION_FIELDS,
    ConfigLayer,
    parse_config_text,
)
from contextree.engine.workspace.layout import Workspace
from contextree.errors import ConfigError
from contextree.progress.retention import DEFAULT_MAX_AGE_S, DEFAULT_MAX_COUNT

HOME_ENV = "CTREE_HOME"
DEFAULT_MAX_FILE_BYTES = 256 * 1024

BUILTIN_PROVIDERS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {name: MappingProxyType(asdict(config)) for name, config in BUILTIN_PROVIDER_CONFIGS.items()}
)


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


# --- layering -----------------------------------------------------------------------------


def user_config_path() -> Path:
    """The user's `config.toml`: in `$CTREE_HOME`, or the platform config directory."""
    home = os.environ.get(HOME_ENV)
    base = Path(home).expanduser() if home else Path(platformdirs.user_config_dir("contextree"))
    return base / "config.toml"


def load_config(workspace: Workspace | None = None, *, user_path: Path | None = None) -> Config:
    """Merge built-in defaults, the user's config and the workspace's `.ctree/config.toml`."""
    layers: list[ConfigLayer] = []
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


def merge_layers(layers: list[ConfigLayer]) -> Config:
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


def _blame(layers: list[ConfigLayer], section: str, key: str) -> ConfigLayer:
    """The last layer that set `section.key` (a named table or a scalar), for an error."""
    for layer in reversed(layers):
        if key in layer.named.get(section, {}) or key in layer.sections.get(section, {}):
            return layer
    return layers[-1]


def _check_providers(layers: list[ConfigLayer], providers: dict[str, dict[str, Any]]) -> None:
    for name, table in providers.items():
        if "type" not in table:
            problem = f"missing type — set type to one of {', '.join(PROVIDER_TYPES)}"
        elif table["type"] != "local" and "model" not in table:
            problem = "missing model — set model to the name of the model to call"
        else:
            continue
        raise _blame(layers, "providers", name).fail(f"providers.{name}", problem)


def _check_defaults(layers: list[ConfigLayer], config: Config) -> None:
    for key, known in (("provider", config.providers), ("agent", config.agents)):
        value = getattr(config, f"default_{key}")
        if value not in known:
            names = ", ".join(sorted(known))
            raise _blame(layers, "defaults", key).fail(
                f"defaults.{key}", f"no {key} named {value!r} — known: {names}"
            )
