"""Prompts: templates, file text with truncation, binary files, directories' children."""

from __future__ import annotations

from pathlib import Path

import pytest

from contextree.engine.generation.agents import Agent, list_agents, render_template, resolve_agent
from contextree.engine.generation.frames import Frame
from contextree.engine.generation.prompts import (
    FileChangedError,
    decode_text,
    directory_request,
    file_request,
)
from contextree.engine.workspace.config import Config, load_config
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.scan import scan_workspace
from contextree.engine.workspace.tree import NodeRecord, TreeStore
from contextree.errors import ConfigError
from contextree.progress import EventStore

from .helpers import CheckedEmitter, write_tree


def scanned(workspace: Workspace, store: EventStore) -> dict[str, NodeRecord]:
    scan_workspace(workspace, store, CheckedEmitter())
    return TreeStore(store).load_records()


@pytest.fixture
def agent(workspace: Workspace) -> Agent:
    return resolve_agent(load_config(workspace))


def test_templates_fill_the_three_placeholders_and_leave_other_braces() -> None:
    text = render_template("{path} is a {node_type} of {file_size} bytes; {other} {{x}}",
                           path="a.py", node_type="file", file_size=12)
    assert text == "a.py is a file of 12 bytes; {other} {{x}}"


def test_agents_come_from_the_built_ins_and_config(workspace: Workspace) -> None:
    workspace.config_path.write_text(
        '[agents.arch]\nfile_prompt = "Architecture of {path}"\n', encoding="utf-8")
    config = load_config(workspace)
    agents = {agent.id: agent for agent in list_agents(config)}
    assert list(agents) == ["docs", "arch"], "the default agent first"
    assert agents["docs"].builtin and not agents["docs"].customised
    assert agents["arch"].frame_type == "context-arch" and agents["arch"].customised
    assert agents["arch"].directory_prompt == agents["docs"].directory_prompt
    with pytest.raises(ConfigError, match="no agent named 'nope'"):
        resolve_agent(config, "nope")


def test_a_file_prompt_holds_the_rendered_template_and_the_text(
    workspace: Workspace, store: EventStore, agent: Agent
) -> None:
    records = scanned(workspace, store)
    request = file_request(workspace.root, records["pkg/core.py"], agent, max_file_bytes=10_000)
    assert request.user_prompt.startswith("Describe pkg/core.py: its purpose")
    assert "def add(a: int, b: int) -> int:" in request.user_prompt
    assert request.file_text is not None and request.file_text.startswith('"""Core logic.')
    assert request.system_prompt == agent.system_prompt
    assert not request.truncated and not request.is_binary
    assert request.file_size == records["pkg/core.py"].size


def test_long_files_are_truncated_at_the_limit(
    workspace: Workspace, store: EventStore, agent: Agent
) -> None:
    write_tree(workspace.root, {"big.txt": "é" * 5000})  # two bytes a character
    records = scanned(workspace, store)
    request = file_request(workspace.root, records["big.txt"], agent, max_file_bytes=1001)
    assert request.truncated
    assert request.file_text == "é" * 500, "a character cut in half is dropped"
    assert "truncated to the first 1001 bytes" in request.user_prompt


@pytest.mark.parametrize(("text", "fence"), [
    ("plain `code` and ``two``\n", "```"),
    ("```python\nx = 1\n```\n", "````"),
    ("````\nnested ``` fence\n`````\n", "``````"),
])
def test_a_file_is_fenced_by_one_backtick_more_than_its_longest_run(
    workspace: Workspace, store: EventStore, agent: Agent, text: str, fence: str
) -> None:
    write_tree(workspace.root, {"notes.md": text})
    records = scanned(workspace, store)

    request = file_request(workspace.root, records["notes.md"], agent, max_file_bytes=10_000)

    assert f"bytes):\n\n{fence}\n{text}\n{fence}\n" in request.user_prompt


def test_binary_files_are_described_not_sent(
    workspace: Workspace, store: EventStore, agent: Agent
) -> None:
    write_tree(workspace.root, {"data.bin": b"abc\x00\x01\x02secret-bytes"})
    records = scanned(workspace, store)
    for path in ("data.bin", "assets/logo.png"):
        request = file_request(workspace.root, records[path], agent, max_file_bytes=10_000)
        assert request.is_binary and request.file_text is None
        assert "binary file" in request.user_prompt
    request = file_request(workspace.root, records["data.bin"], agent, max_file_bytes=10_000)
    assert "secret-bytes" not in request.user_prompt


def test_a_file_changed_after_the_scan_is_refused(
    workspace: Workspace, store: EventStore, agent: Agent
) -> None:
    records = scanned(workspace, store)
    (workspace.root / "pkg/core.py").write_text("changed\n", encoding="utf-8")
    with pytest.raises(FileChangedError, match="changed after it was scanned"):
        file_request(workspace.root, records["pkg/core.py"], agent, max_file_bytes=10_000)


def test_a_directory_prompt_holds_its_childrens_head_frames(
    workspace: Workspace, store: EventStore, agent: Agent
) -> None:
    records = scanned(workspace, store)
    children = [records["pkg/__init__.py"], records["pkg/core.py"], records["pkg/util"]]
    head = Frame(frame_id="f" * 64, node_id=children[1].id, path="pkg/core.py",
                 node_type="file", agent_id="docs", frame_type="context-docs",
                 provider_name="local", provider_type="local", model="m", input_tokens=None,
                 output_tokens=None, created_at="2026-01-01T00:00:00.000Z",
                 content="CORE FRAME " * 400)
    request = directory_request(records["pkg"], children, {children[1].id: head}, agent,
                                max_prompt_chars=3000)
    assert request.user_prompt.startswith("Summarize the directory pkg")
    assert "### `core.py`\n\nCORE FRAME" in request.user_prompt
    assert "### `util/` (directory)\n\n*(no context yet)*" in request.user_prompt
    assert request.truncated, "each child gets a fair share of the limit"
    assert [(c.name, c.content is not None) for c in request.children] == [
        ("__init__.py", False), ("core.py", True), ("util", False)]


def test_decode_text_replaces_bad_bytes_in_untruncated_text() -> None:
    assert decode_text(b"ok \xff there", truncated=False) == "ok \ufffd there"


def test_max_file_bytes_comes_from_the_limits_section(workspace: Workspace) -> None:
    workspace.config_path.write_text("[limits]\nmax_file_bytes = 2048\n", encoding="utf-8")
    config: Config = load_config(workspace)
    assert config.max_file_bytes == 2048
    assert Path(workspace.config_path).is_file()


def test_a_large_directory_prompt_stays_near_the_limit(agent: Agent) -> None:
    children = [NodeRecord(id=f"{i:064x}", path=f"d/f{i}.py", type="file", size=1, mtime_ns=0,
                           inode=0) for i in range(50)]
    heads = {
        child.id: Frame(frame_id="f" * 64, node_id=child.id, path=child.path, node_type="file",
                        agent_id="docs", frame_type="context-docs", provider_name="local",
                        provider_type="local", model="m", input_tokens=None, output_tokens=None,
                        created_at="2026-01-01T00:00:00.000Z", content="x" * 5000)
        for child in children
    }
    directory = NodeRecord(id="d" * 64, path="d", type="directory", size=50, mtime_ns=0,
                           inode=0, children=tuple(child.id for child in children))
    request = directory_request(directory, children, heads, agent, max_prompt_chars=10_000)
    context_chars = request.user_prompt.count("x")
    assert 9_000 <= context_chars <= 10_000 + len("context") and request.truncated
    assert all(f"`f{i}.py`" in request.user_prompt for i in range(50)), "every child is named"
