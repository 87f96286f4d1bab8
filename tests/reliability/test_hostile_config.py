"""Config fuzzing: random and mutated `config.toml` files give a `ConfigError` naming the file
and the line, never another exception — directly, and through the CLI edge as one line.

Random text, and mutations of a full valid config (characters deleted, inserted, lines
swapped or repeated, values retyped), go to the config loader as the workspace's and as the
user's file. A few known hostile shapes (deep nesting, non-UTF-8 bytes, NULs, huge numbers, a
key in the workspace file) also go through `ctree status` in a child process.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contextree.engine.workspace.config import load_config
from contextree.engine.workspace.config_schema import parse_config_text
from contextree.engine.workspace.layout import Workspace
from contextree.errors import ConfigError
from tests.reliability.figures import report_figures
from tests.reliability.forked import run_cli

EXAMPLES = 3000 if os.environ.get("CTREE_LONG") == "1" else 300
fuzz = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

VALID = """\
# a full configuration
[defaults]
agent = "docs"
provider = "myllm"

[providers.myllm]
type = "openai"
base_url = "http://127.0.0.1:8080/v1"
model = "qwen2.5-coder"
api_key_env = "MYLLM_API_KEY"
timeout_s = 60
max_concurrency = 4
requests_per_minute = 120
temperature = 0.2

[agents.docs]
system_prompt = "You write concise, accurate documentation for source code."
file_prompt = "Describe {path}: its purpose."
directory_prompt = '''Summarize {path}
from its children.'''

[sessions]
max_age = "14d"
max_count = 500

[ignore]
patterns = ["*.log", "build/"]

[limits]
max_file_bytes = 262144
"""
SOURCE = Path("/ws/.ctree/config.toml")
PIECES = ["[", "]", "=", '"', "'", "#", "\n", ".", ",", "{", "}", "[[", "]]", "x", "-1", "1e999",
          "true", "\\", "\x00", "\ufeff", "0x", "inf", "nan", " = ", "[sessions]", "api_key = 'k'",
          "[providers.p]", "type = 'local'", "max_age = '9999999999999999999999w'"]
counted = {"examples": 0, "config_errors": 0, "loaded": 0}


def _check_error_names_file_and_line(error: ConfigError, source: Path, text: str) -> None:
    message = str(error)
    assert "\n" not in message, message
    assert message.startswith(str(source)), message
    found = re.match(re.escape(str(source)) + r":(\d+): ", message)
    assert found, f"no line in {message!r}"
    assert 1 <= int(found.group(1)) <= text.count("\n") + 2, message


def _parse(text: str, source: Path = SOURCE, *, allow_api_keys: bool = False) -> None:
    counted["examples"] += 1
    try:
        parse_config_text(text, source, allow_api_keys=allow_api_keys)
    except ConfigError as error:
        counted["config_errors"] += 1
        _check_error_names_file_and_line(error, source, text)
        return
    counted["loaded"] += 1


@pytest.fixture(scope="module", autouse=True)
def _print_counts() -> object:
    yield
    report_figures("hostile config (Hypothesis + CLI)", **counted)


@fuzz
@given(st.text(alphabet=st.sampled_from(
    [*"[]{}=\"'#.,\n \t-_0123456789abcdefxyz", "\\", "\x00", "é"]), max_size=120))
def test_random_text_is_a_config_error_with_file_and_line(text: str) -> None:
    _parse(text)


mutations = st.lists(st.tuples(st.sampled_from(["delete", "insert", "swap", "repeat", "retype"]),
                               st.integers(min_value=0, max_value=10**6),
                               st.sampled_from(PIECES)), min_size=1, max_size=4)


def _mutate(text: str, steps: list[tuple[str, int, str]]) -> str:
    for operation, position, piece in steps:
        lines = text.split("\n")
        at = position % (len(text) + 1)
        line = position % len(lines)
        if operation == "delete":
            text = text[:at] + text[at + 1 + position % 7:]
        elif operation == "insert":
            text = text[:at] + piece + text[at:]
        elif operation == "swap":
            other = (line + 1 + position % 5) % len(lines)
            lines[line], lines[other] = lines[other], lines[line]
            text = "\n".join(lines)
        elif operation == "repeat":
            text = "\n".join([*lines[: line + 1], lines[line], *lines[line + 1:]])
        else:  # give one value another type
            head, equals, _ = lines[line].partition("=")
            if equals:
                lines[line] = head + ("= " + piece if "=" not in piece else "= []")
            text = "\n".join(lines)
    return text


@fuzz
@given(mutations)
def test_a_mutated_config_is_a_config_error_with_file_and_line(
    steps: list[tuple[str, int, str]],
) -> None:
    _parse(_mutate(VALID, steps))


@fuzz
@given(steps=mutations, broken_is_user=st.booleans())
def test_a_mutated_layer_is_blamed_on_its_own_file(
    steps: list[tuple[str, int, str]], broken_is_user: bool,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = tmp_path_factory.mktemp("ws")
    workspace = Workspace(root=root, store_path=root / ".ctree" / "store")
    workspace.ctree_dir.mkdir()
    user = root / "home" / "config.toml"
    user.parent.mkdir()
    mutated = _mutate(VALID, steps)
    broken, good = (user, workspace.config_path) if broken_is_user else \
        (workspace.config_path, user)
    broken.write_text(mutated, encoding="utf-8")
    good.write_text("[sessions]\nmax_count = 7\n", encoding="utf-8")
    counted["examples"] += 1
    try:
        load_config(workspace, user_path=user)
    except ConfigError as error:
        counted["config_errors"] += 1
        _check_error_names_file_and_line(error, broken, mutated)
        return
    counted["loaded"] += 1


HOSTILE_FILES: dict[str, bytes] = {
    "nested arrays": b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "nested inline tables": b"[ignore]\npatterns = []\nx = " + b"{a = " * 3000 + b"1" +
                            b"}" * 3000 + b"\n",
    "not UTF-8": b"[sessions]\nmax_age = \"\xff\xfe14d\"\n",
    "unterminated string": b"[agents.docs]\nfile_prompt = \"\"\"Describe {path}\n\n",
    "NUL byte": b"[sessions]\nmax_count = 5\x00\n",
    "negative count": b"[sessions]\nmax_count = -1\n",
    "wrong type in inline table": b"sessions = { max_count = \"many\" }\n",
    "key in the workspace": b"[providers.p]\ntype = \"openai\"\nmodel = \"m\"\napi_key = \"k\"\n",
    "unknown provider type": b"[providers.p]\ntype = \"ollama\"\nmodel = \"m\"\n",
    "bad base_url": b"[defaults]\nprovider = \"p\"\n[providers.p]\ntype = \"openai\"\n"
                    b"model = \"m\"\nbase_url = \"http://[::1\"\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_hostile_config_files_give_one_line_at_the_cli(name: str, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / ".ctree").mkdir(parents=True)
    config = workspace / ".ctree" / "config.toml"
    config.write_bytes(HOSTILE_FILES[name])
    home = tmp_path / "home"
    args = ["-C", str(workspace)]
    result = run_cli([*args, "status"], env={"CTREE_HOME": str(home), "CTREE_STORE": None})
    counted["examples"] += 1
    assert result.code == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    (line,) = result.error_lines
    assert "unexpected" not in line, line
    assert re.search(re.escape(str(config)) + r":\d+: ", line), line
    counted["config_errors"] += 1
