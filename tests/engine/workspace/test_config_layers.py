"""config.toml: layering, schema checks, error messages that name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from contextree.durations import format_duration, parse_duration
from contextree.engine.providers.base import ProviderConfig
from contextree.engine.workspace.config import load_config, user_config_path
from contextree.engine.workspace.layout import DEFAULT_CONFIG_TOML, Workspace, init_workspace
from contextree.engine.workspace.toml_lines import locate_key
from contextree.errors import ConfigError, UsageError


def configured(workspace: Workspace, text: str) -> Path:
    init_workspace(workspace)
    workspace.config_path.write_text(text, encoding="utf-8")
    return workspace.config_path


def user_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "home" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_defaults_without_any_file(workspace: Workspace, tmp_path: Path) -> None:
    config = load_config(workspace, user_path=tmp_path / "missing.toml")
    assert config.default_agent == "docs" and config.default_provider == "local"
    assert config.sessions.max_age_s == 14 * 86400 and config.sessions.max_count == 500
    assert config.provider_config() == ProviderConfig(
        name="local", type="local", model="local-summarizer-1"
    )
    assert "{path}" in config.agent().file_prompt
    assert config.sources == ()


def test_the_default_workspace_file_loads(workspace: Workspace, tmp_path: Path) -> None:
    configured(workspace, DEFAULT_CONFIG_TOML)
    config = load_config(workspace, user_path=tmp_path / "missing.toml")
    assert config.sources == (workspace.config_path,)
    assert config.ignore_patterns == ()


def test_workspace_overrides_user_which_overrides_builtins(
    workspace: Workspace, tmp_path: Path
) -> None:
    user = user_file(tmp_path, """
[providers.myllm]
type = "openai"
base_url = "http://127.0.0.1:8080/v1"
model = "small"
api_key_env = "MYLLM_KEY"
timeout_s = 30
requests_per_minute = 60

[sessions]
max_age = "2w"
max_count = 10

[ignore]
patterns = ["*.log"]
""")
    configured(workspace, """
[defaults]
provider = "myllm"

[providers.myllm]
model = "large"
max_concurrency = 2

[agents.reviewer]
system_prompt = "You review code."

[sessions]
max_count = 3

[ignore]
patterns = ["build/"]

[limits]
max_file_bytes = 1000
""")
    config = load_config(workspace, user_path=user)
    provider = config.provider_config()
    assert provider == ProviderConfig(
        name="myllm", type="openai", model="large", base_url="http://127.0.0.1:8080/v1",
        api_key_env="MYLLM_KEY", timeout_s=30.0, max_concurrency=2, requests_per_minute=60,
    )
    assert config.sessions.max_age_s == 14 * 86400 and config.sessions.max_count == 3
    assert config.ignore_patterns == ("*.log", "build/")
    assert config.max_file_bytes == 1000
    reviewer = config.agent("reviewer")
    assert reviewer.system_prompt == "You review code."
    assert reviewer.file_prompt == config.agent("docs").file_prompt
    assert config.sources == (user, workspace.config_path)


def test_user_config_lives_in_ctree_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTREE_HOME", str(tmp_path / "elsewhere"))
    assert user_config_path() == tmp_path / "elsewhere" / "config.toml"
    monkeypatch.delenv("CTREE_HOME")
    assert user_config_path().name == "config.toml"
    assert "contextree" in str(user_config_path())


def test_api_keys_only_from_the_user_config(workspace: Workspace, tmp_path: Path) -> None:
    user = user_file(tmp_path, '[providers.openai]\napi_key = "sk-user"\n')
    config = load_config(workspace, user_path=user)
    assert config.api_keys == {"openai": "sk-user"}
    assert "api_key" not in config.provider("openai")
    assert "sk-user" not in repr(config)
    path = configured(workspace, '[providers.openai]\nmodel = "m"\napi_key = "sk-ws"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(workspace, user_path=user)
    message = str(caught.value)
    assert f"{path}:3:" in message and "api_key_env" in message and "sk-ws" not in message


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("[defaults]\nagent = 3\n", 2, "defaults.agent: expected a string"),
        ('[providers.x]\ntype = "openai"\nmodle = "a"\n', 3, "providers.x.modle: unknown key"),
        ('[sessions]\nmax_age = "14 days"\n', 2, "sessions.max_age: bad duration '14 days'"),
        ("[sessions]\nmax_count = -1\n", 2, "sessions.max_count: expected a whole number"),
        ('[providers.x]\ntype = "gemini"\n', 2, "providers.x.type: expected one of"),
        ('[providers.x]\ntype = "openai"\n', 1, "providers.x: missing model"),
        ('[defaults]\nprovider = "nope"\n', 2, "no provider named 'nope'"),
        ("[bogus]\nkey = 1\n", 1, "bogus: unknown section"),
        ("[ignore]\npatterns = 'x'\n", 2, "ignore.patterns: expected a list of strings"),
        ("[limits]\nmax_file_bytes = 0\n", 2, "limits.max_file_bytes: expected a whole number"),
        ("\n\n[defaults\nagent = 1\n", 3, "invalid TOML"),
    ],
)
def test_malformed_config_names_file_line_and_problem(
    workspace: Workspace, tmp_path: Path, text: str, line: int, expected: str
) -> None:
    path = configured(workspace, text)
    with pytest.raises(ConfigError) as caught:
        load_config(workspace, user_path=tmp_path / "missing.toml")
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert expected in message


def test_an_error_in_the_user_file_blames_the_user_file(
    workspace: Workspace, tmp_path: Path
) -> None:
    user = user_file(tmp_path, '[defaults]\nagent = "ghost"\n')
    with pytest.raises(ConfigError, match=rf"^{user}:2: defaults.agent: no agent named 'ghost'"):
        load_config(workspace, user_path=user)


def test_locate_key_handles_dotted_and_quoted_keys() -> None:
    text = '# c\n[providers."my.llm"]\ntype = "x"\n\n[sessions]\nmax_age = 1 # note\n'
    assert locate_key(text, "sessions.max_age") == 6
    assert locate_key(text, "providers.my.llm.type") == 3
    assert locate_key(text, "nowhere") is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("45s", 45), ("30m", 1800), ("12h", 43200), ("14d", 1209600), ("2w", 1209600),
     ("1h30m", 5400), (" 1.5h ", 5400), ("10S", 10)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "14", "d", "14 days", "-1d", "1y", "1h x"])
def test_parse_duration_rejects_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(UsageError, match=r"bad duration .* 45s, 30m, 12h, 14d, 2w"):
        parse_duration(text)


def test_format_duration_round_trips() -> None:
    for seconds in (0, 45, 5400, 86400, 1209600, 1209601):
        assert parse_duration(format_duration(seconds)) == seconds
    assert format_duration(1209600) == "2w"
