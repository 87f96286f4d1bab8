"""The local provider's outlines of other languages and formats: public surface first,
documents by their sections, manifests by what they configure, build files by stages and
targets."""

from __future__ import annotations

import textwrap

from contextree.engine.providers.base import ChildSummary, GenerationRequest
from contextree.engine.providers.local.provider import describe


def frame_of(path: str, source: str) -> str:
    text = textwrap.dedent(source)
    return describe(GenerationRequest(
        path=path, node_type="file", system_prompt="", user_prompt="", file_text=text,
        file_size=len(text), is_binary=False, truncated=False,
    ))


def test_go_lists_exported_identifiers_and_counts_the_rest() -> None:
    frame = frame_of("srv/s.go", """\
        package srv

        func New() *Server { return nil }
        func helper() {}
        type Server struct{}
        type state int
        """)

    assert "- `func New() *Server`" in frame and "- `type Server struct`" in frame
    assert "helper" not in frame and "state" not in frame
    assert "2 non-public definitions not listed" in frame


def test_rust_lists_pub_items_and_impls() -> None:
    frame = frame_of("src/lib.rs", """\
        //! Parsing of things.
        pub mod parse;
        mod internal;
        pub fn run() {}
        fn secret() {}
        impl Thing {}
        """)

    assert frame.splitlines()[2] == "Parsing of things."
    assert "- `pub mod parse`" in frame and "- `pub fn run()`" in frame
    assert "- `impl Thing`" in frame
    assert "secret" not in frame and "internal" not in frame


def test_typescript_lists_exports_including_export_lists() -> None:
    frame = frame_of("web/a.ts", """\
        function local(): void {}
        function shared(): void {}
        export class Api {}
        export { shared };
        """)

    assert "- `export class Api`" in frame and "- `function shared(): void`" in frame
    assert "local" not in frame


def test_java_lists_public_members_only() -> None:
    frame = frame_of("App.java", """\
        public class App {
            public void start() {}
            private void stop() {}
        }
        """)

    assert "- `public class App`" in frame and "- `public void start()`" in frame
    assert "stop" not in frame


def test_c_header_lists_functions_and_types_but_not_static_helpers() -> None:
    frame = frame_of("include/buf.h", """\
        /* Growable byte buffers. */
        typedef struct buffer { char *data; } buffer_t;
        int buffer_append(buffer_t *b, const char *s);
        static int grow(buffer_t *b);
        """)

    assert frame.splitlines()[2] == "Growable byte buffers."
    assert "- `int buffer_append(buffer_t *b, const char *s)`" in frame
    assert "grow" not in frame


def test_shell_script_gives_its_usage_line() -> None:
    frame = frame_of("bin/deploy.sh", """\
        #!/bin/sh
        # Deploy the site.
        # Usage: deploy.sh [--dry-run] TARGET
        main() { :; }
        """)

    assert "## Usage\n\n`deploy.sh [--dry-run] TARGET`" in frame
    assert "- `main()`" in frame


def test_rst_gives_its_first_paragraph_and_section_outline() -> None:
    frame = frame_of("docs/guide.rst", """\
        =====
        Guide
        =====

        How to use the :mod:`tool` with ``care``.
        It is short.

        Install
        -------

        .. note:: skipped

        Usage
        -----
        """)

    assert frame.splitlines()[2] == "How to use the tool with care."
    assert "## Outline\n\n- Guide\n  - Install\n  - Usage\n" in frame


def test_pyproject_names_the_project_its_dependencies_and_scripts() -> None:
    frame = frame_of("pyproject.toml", """\
        [project]
        name = "demo"
        description = "Demo tool. More."
        dependencies = ["click>=8", "rich"]

        [project.scripts]
        demo = "demo.cli:main"

        [tool.ruff]
        line-length = 100
        """)

    assert frame.splitlines()[2] == "Python project `demo`: Demo tool."
    assert "- `click>=8`\n- `rich`" in frame
    assert "## Scripts\n\n- `demo` → `demo.cli:main` (project.scripts)" in frame
    assert "## Tools configured\n\n`ruff`" in frame


def test_console_scripts_of_a_pyproject_are_entry_points_of_its_directory() -> None:
    pyproject = frame_of("pyproject.toml", '[project]\nname = "d"\n[project.scripts]\n'
                         'd = "d.cli:main"\n')
    children = (ChildSummary("pyproject.toml", "pyproject.toml", "file", pyproject),)

    frame = describe(GenerationRequest(
        path=".", node_type="directory", system_prompt="", user_prompt="", file_text=None,
        file_size=0, is_binary=False, truncated=False, children=children,
    ))

    assert "## Entry points\n\n- `pyproject.toml`: `d` → `d.cli:main`" in frame


def test_package_json_and_cargo_toml_say_what_they_build() -> None:
    npm = frame_of("package.json", '{"name": "web", "bin": "cli.js", '
                   '"scripts": {"test": "jest"}, "dependencies": {"react": "18"}}')
    cargo = frame_of("Cargo.toml", '[package]\nname = "ring"\nversion = "0.1.0"\n'
                     '[dependencies]\nserde = "1"\n[[bin]]\nname = "ringd"\n')

    assert "- `web` → `cli.js` (bin)" in npm and "- `test`: `jest`" in npm
    assert "## Dependencies\n\n- `react`" in npm
    assert cargo.splitlines()[2] == "Rust crate `ring`."
    assert "- `serde`" in cargo and "- `ringd` (binary target)" in cargo


def test_dockerfile_gives_stages_ports_and_command() -> None:
    frame = frame_of("Dockerfile", """\
        FROM python:3.11 AS build
        RUN pip wheel .
        FROM python:3.11-slim
        EXPOSE 8080
        CMD ["serve"]
        """)

    assert frame.splitlines()[2] == (
        "Container image built in 2 stages, the last from `python:3.11-slim`.")
    assert "- `python:3.11` as `build`" in frame and "exposes `8080`" in frame
    assert '- CMD `["serve"]`' in frame


def test_makefile_gives_targets_default_first_with_help_and_no_special_targets() -> None:
    frame = frame_of("Makefile", """\
        .PHONY: all test
        all: test ## Build and test
        test:
        \tpytest
        """)

    assert frame.splitlines()[2] == "Makefile with 2 targets; the default is `all`."
    assert "- `all: test` — Build and test" in frame and "- `test`" in frame
    assert "PHONY" not in frame
