"""Agents: who writes a frame, with which prompts, under which frame type.

An agent is an id, a system prompt and two prompt templates (one for files, one for
directories) with the placeholders `{path}`, `{node_type}` and `{file_size}`. The built-in
agent `docs` ships with the defaults; `[agents.ID]` tables in `config.toml` add more or
override its prompts. An agent writes frames of type `context-<id>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from contextree.engine.generation.frames import default_frame_type
from contextree.engine.workspace.config import AgentConfig, Config
from contextree.engine.workspace.config_schema import DEFAULT_AGENT_PROMPTS

BUILTIN_AGENTS = ("docs",)
_PLACEHOLDER = re.compile(r"\{(path|node_type|file_size)\}")


@dataclass(frozen=True)
class Agent:
    """A resolved agent: its prompts, its frame type and where it was defined."""

    id: str
    system_prompt: str
    file_prompt: str
    directory_prompt: str
    frame_type: str
    builtin: bool
    customised: bool

    @classmethod
    def from_config(cls, config: AgentConfig) -> Agent:
        prompts = {
            "system_prompt": config.system_prompt,
            "file_prompt": config.file_prompt,
            "directory_prompt": config.directory_prompt,
        }
        return cls(
            id=config.id,
            **prompts,
            frame_type=default_frame_type(config.id),
            builtin=config.id in BUILTIN_AGENTS,
            customised=prompts != dict(DEFAULT_AGENT_PROMPTS),
        )

    def template_for(self, node_type: str) -> str:
        return self.directory_prompt if node_type == "directory" else self.file_prompt


def resolve_agent(config: Config, agent_id: str | None = None) -> Agent:
    """The agent `agent_id` (the configured default when None); `ConfigError` if unknown."""
    return Agent.from_config(config.agent(agent_id))


def list_agents(config: Config) -> list[Agent]:
    """Every configured agent, the default first, then by id."""
    agents = [Agent.from_config(agent) for agent in config.agents.values()]
    return sorted(agents, key=lambda agent: (agent.id != config.default_agent, agent.id))


def render_template(template: str, *, path: str, node_type: str, file_size: int) -> str:
    """Fill `{path}`, `{node_type}` and `{file_size}`; any other brace text is left as is."""
    values = {"path": path, "node_type": node_type, "file_size": str(file_size)}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)
