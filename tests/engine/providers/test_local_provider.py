"""The local provider on other languages, data, binaries and directories; its contract."""

from __future__ import annotations

import pytest

from contextree.engine.providers.base import (
    BUILTIN_PROVIDERS,
    ChildSummary,
    GenerationRequest,
)
from contextree.engine.providers.local.provider import LocalProvider, describe


def file_request(
    path: str,
    text: str | None,
    *,
    is_binary: bool = False,
    truncated: bool = False,
    size: int | None = None,
) -> GenerationRequest:
    return GenerationRequest(
        path=path,
        node_type="file",
        system_prompt="You write concise documentation.",
        user_prompt=f"Describe {path}.\n\n{text or ''}",
        file_text=text,
        file_size=size if size is not None else len((text or "").encode()),
        is_binary=is_binary,
        truncated=truncated,
    )


def directory_request(path: str, children: list[ChildSummary]) -> GenerationRequest:
    return GenerationRequest(
        path=path,
        node_type="directory",
        system_prompt="s",
        user_prompt=f"Summarize {path}.",
        file_text=None,
        file_size=0,
        is_binary=False,
        truncated=False,
        children=tuple(children),
    )


# -- other languages ------------------------------------------------------------------------

GO_SOURCE = """\
// Copyright 2024 The Authors. Licensed under MIT.

// Package server runs the HTTP API. It wires handlers.
package server

const Version = "1.0"

type Server struct {
\taddr string
}

func New(addr string) *Server {
\treturn &Server{addr: addr}
}

func (s *Server) Start() error {
\treturn nil
}
"""

TS_SOURCE = """\
/**
 * @file HTTP client helpers for the dashboard.
 */
import { foo } from "./foo";
export interface Options { retries: number }
export const DEFAULT_TIMEOUT = 30;
export const fetchJson = async (url: string): Promise<unknown> => {
  return null;
};
export default class Client extends Base {
}
export async function request<T>(url: string): Promise<T> {
}
"""

RUST_SOURCE = """\
//! A tiny ring buffer.
pub const CAPACITY: usize = 64;
pub struct Ring<T> { items: Vec<T> }
impl<T> Ring<T> {
    pub fn push(&mut self, item: T) -> bool { true }
}
"""

C_SOURCE = """\
/* Copyright (c) 2020 ACME. All rights reserved. */
/* String helpers. */
#define MAX_LEN 256
typedef struct buffer {
    char *data;
} buffer_t;
int string_length(const char *s)
{
    return 0;
}
"""


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("srv/server.go", GO_SOURCE, [
            "Package server runs the HTTP API.", "Go · 18 lines", "package `server`",
            "- `func New(addr string) *Server`", "- `func (s *Server) Start() error`",
            "- `type Server struct`", "- `const Version = \"1.0\"`"]),
        ("web/client.ts", TS_SOURCE, [
            "HTTP client helpers for the dashboard.", "TypeScript",
            "- `export default class Client extends Base`", "- `export interface Options`",
            "- `export async function request<T>(url: string): Promise<T>`",
            "- `export const fetchJson = async (url: string): Promise<unknown>`",
            "## Exported constants\n\n- `export const DEFAULT_TIMEOUT = 30`"]),
        ("src/ring.rs", RUST_SOURCE, [
            "A tiny ring buffer.", "Rust", "- `pub struct Ring<T>`", "- `impl<T> Ring<T>`",
            "- `pub fn push(&mut self, item: T) -> bool`", "- `pub const CAPACITY: usize = 64`"]),
        ("lib/strings.c", C_SOURCE, [
            "String helpers.", "- `int string_length(const char *s)`",
            "- `typedef struct buffer`", "- `#define MAX_LEN 256`"]),
        ("App.java", "package a.b;\n\nimport x.Y;\n\n/** Entry point. */\npublic class App {\n"
         "    public static void main(String[] args) {\n    }\n}\n", [
            "Entry point.", "- `public class App`", "- `public static void main(String[] args)`"]),
        ("lib/config.rb", "# Parses config files.\nmodule Config\n  class Parser\n"
         "    def self.load(path)\n    end\n  end\nend\n", [
            "Parses config files.", "- `module Config`", "- `class Parser`",
            "- `def self.load(path)`"]),
        ("deploy.sh", "#!/bin/sh\n# Deploy the site.\nbuild() {\n  make\n}\n", [
            "Deploy the site.", "Shell", "- `build()`"]),
        ("db/schema.sql", "-- Users schema.\nCREATE TABLE IF NOT EXISTS users (id INT);\n", [
            "Users schema.", "- `CREATE TABLE IF NOT EXISTS users (id INT)`"]),
        ("Makefile", "all: build\nbuild:\n\tgo build\n", [
            "Makefile", "- `all: build`", "- `build`"]),
        ("lib/util.js", "function helper(x) { return x }\n", [
            "JavaScript file defining 1 function.", "- `function helper(x)`"]),
    ],
)
def test_code_in_other_languages_lists_definitions(
    path: str, source: str, expected: list[str]
) -> None:
    frame = describe(file_request(path, source))

    for fragment in expected:
        assert fragment in frame, fragment


def test_license_header_is_not_taken_as_the_purpose() -> None:
    frame = describe(file_request("srv/server.go", GO_SOURCE))

    assert "Copyright" not in frame.splitlines()[2]


def test_markdown_gets_its_first_paragraph_and_headings_outline() -> None:
    text = (
        "# Contextree\n\n[![ci](badge.svg)](x)\n\nKeeps **AI context** for a codebase. More.\n\n"
        "## Install\n\n```sh\n# not a heading\n```\n\n### From source\n\n## Usage\n"
    )

    frame = describe(file_request("README.md", text))

    assert frame.splitlines()[2] == "Keeps AI context for a codebase."
    assert "## Outline\n\n- Contextree\n  - Install\n    - From source\n  - Usage\n" in frame
    assert "not a heading" not in frame


def test_json_lists_top_level_keys_and_uses_description_as_purpose() -> None:
    text = '{"name": "demo", "description": "A demo package. Extra.", "scripts": {"t": "x"}}'

    frame = describe(file_request("package.json", text))

    assert frame.splitlines()[2] == "JavaScript package `demo`: A demo package."
    assert '- `name`: `"demo"`' in frame
    assert "- `scripts`: table of 1 key" in frame


def test_truncated_json_still_yields_keys_by_patterns() -> None:
    text = '{\n  "name": "demo",\n  "dependencies": {\n    "a": "1",\n'

    frame = describe(file_request("package.json", text, truncated=True))

    assert "- `name`" in frame and "- `dependencies`" in frame
    assert "does not parse as a whole" in frame


def test_toml_and_yaml_list_top_level_keys() -> None:
    toml = describe(file_request("pyproject.toml", '[project]\nname = "x"\n\n[tool.ruff]\n'))
    yaml = describe(file_request(".github/ci.yml", "# CI: lint and test.\nname: CI\non: push\n"))

    assert "- `project`: table of 1 key" in toml and "- `tool`: table of 1 key" in toml
    assert "CI: lint and test." in yaml
    assert "- `name`\n- `on`" in yaml


def test_html_uses_its_title_and_headings() -> None:
    frame = describe(file_request("index.html", "<html><title>My Site</title><h1>Hi</h1></html>"))

    assert "HTML document titled “My Site”." in frame
    assert "- Hi" in frame


# -- binary ---------------------------------------------------------------------------------


def test_binary_is_described_by_name_and_size_and_never_read() -> None:
    frame = describe(
        file_request("assets/logo.png", "CANARY-BYTES", is_binary=True, size=12_345)
    )

    assert frame.splitlines()[2] == "Binary file: PNG image, 12.1 KiB."
    assert "CANARY-BYTES" not in frame


def test_unknown_binary_is_binary_data() -> None:
    frame = describe(file_request("blob.xyz", None, is_binary=True, size=10))

    assert "Binary file: binary data, 10 B." in frame


# -- directories ----------------------------------------------------------------------------

CHILDREN = [
    ChildSummary("util.py", "pkg/util.py", "file", "# `pkg/util.py`\n\nSmall helpers. More.\n"),
    ChildSummary("api", "pkg/api", "directory",
                 "# api\n\n## Purpose\n\n**Purpose:** Serves the [HTTP](x) API. Also more.\n"),
    ChildSummary("__init__.py", "pkg/__init__.py", "file", "# x\n\nEmpty Python file.\n"),
    ChildSummary("logo.png", "pkg/logo.png", "file", None),
    ChildSummary("empty", "pkg/empty", "directory", None),
    ChildSummary("notes.md", "pkg/notes.md", "file", "# Notes\n\n```\ncode\n```\n"),
]


def test_directory_lists_each_child_with_its_first_sentence() -> None:
    frame = describe(directory_request("pkg", CHILDREN))

    assert "- `api/` — Serves the HTTP API." in frame
    assert "- `util.py` — Small helpers." in frame
    assert "- `__init__.py` — Empty Python file." in frame
    assert "- `notes.md` — *(context without a summary line)*" in frame
    assert frame.index("## Subdirectories") < frame.index("## Files")


def test_directory_counts_files_by_language_and_notes_missing_frames() -> None:
    frame = describe(directory_request("pkg", CHILDREN))

    assert frame.splitlines()[2] == (
        "Python package with 4 files (2 Python, 1 Markdown, 1 binary) and 2 subdirectories."
    )
    assert "4 files · 2 subdirectories · Python 2, Markdown 1, binary 1" in frame
    assert "- `logo.png` — *(no context yet)*" in frame
    assert "No context yet for `empty/`, `logo.png`." in frame


def test_directory_takes_its_purpose_from_a_readme() -> None:
    readme = ChildSummary("README.md", "docs/README.md", "file",
                          "# `docs/README.md`\n\nUser guide for the tool.\n")

    frame = describe(directory_request("docs", [readme]))

    assert frame.splitlines()[2] == "User guide for the tool."


def test_empty_directory() -> None:
    assert "Empty directory." in describe(directory_request(".", []))


# -- provider contract ----------------------------------------------------------------------


def test_output_is_deterministic_and_independent_of_child_order() -> None:
    forward = describe(directory_request("pkg", CHILDREN))
    backward = describe(directory_request("pkg", list(reversed(CHILDREN))))
    again = describe(file_request("srv/server.go", GO_SOURCE))

    assert forward == backward
    assert again == describe(file_request("srv/server.go", GO_SOURCE))


async def test_generate_returns_model_and_estimated_tokens() -> None:
    provider = LocalProvider(BUILTIN_PROVIDERS["local"])
    request = file_request("srv/server.go", GO_SOURCE)

    first = await provider.generate(request)
    second = await LocalProvider(BUILTIN_PROVIDERS["local"]).generate(request)

    assert first == second
    assert first.content == describe(request)
    assert first.model == "local-summarizer-1"
    prompt_chars = len(request.system_prompt) + len(request.user_prompt)
    assert first.input_tokens == (prompt_chars + 3) // 4
    assert first.output_tokens == (len(first.content) + 3) // 4
