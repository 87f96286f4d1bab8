"""The configuration's schema and the check of one file against it.

`SECTION_FIELDS`, `PROVIDER_FIELDS` and `AGENT_FIELDS` map every key a `config.toml` may set
to the check of its value; `parse_config_text` parses one file with `tomllib` and checks it,
raising a `ConfigError` that names the file, the line when it can be found, and the key. API
keys are accepted only where the caller allows them (the user's file, never the workspace's).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from contextree.durations import parse_duration
from contextree.engine.providers.base import PROVIDER_TYPES
from contextree.engine.workspace.toml_lines import deepest_line, locate_key, syntax_error
from contextree.errors import ConfigError, UsageError
from contextree.secrets import redact_url

DEFAULT_AGENT_PROMPTS: Mapping[str, str] = MappingProxyType(
    {
        "system_prompt": "You write concise, accurate documentation for source code.",
        "file_prompt": "Describe {path}: its purpose, main definitions and how it is used.",
        "directory_prompt": "Summarize the directory {path} from its children's summaries.",
    }
)


class _Invalid(Exception):
    """A value failed its check; the message says what was expected."""


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
class ConfigLayer:
    """The checked content of one config file."""

    source: Path
    text: str
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    named: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def fail(self, dotted_key: str, problem: str) -> ConfigError:
        line = locate_key(self.text, dotted_key)
        where = f"{self.source}:{line}" if line else str(self.source)
        return ConfigError(f"{where}: {dotted_key}: {problem}")


def parse_config_text(text: str, source: Path, *, allow_api_keys: bool) -> ConfigLayer:
    """Parse and check one config file's text; raise `ConfigError` on any problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise syntax_error(source, error, text) from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ConfigError(
            f"{source}:{deepest_line(text)}: invalid TOML: arrays or inline tables nested too "
            "deeply — flatten them"
        ) from None
    layer = ConfigLayer(source=source, text=text)
    for name, value in data.items():
        if name in SECTION_FIELDS:
            layer.sections[name] = _check_table(layer, name, value, SECTION_FIELDS[name])
        elif name in NAMED_SECTIONS:
            layer.named[name] = _check_named(layer, name, value, allow_api_keys)
        else:
            known = ", ".join(sorted([*SECTION_FIELDS, *NAMED_SECTIONS]))
            raise layer.fail(name, f"unknown section — expected one of {known}")
    return layer


def _check_table(
    layer: ConfigLayer, dotted: str, value: object, fields: Mapping[str, Check]
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
    layer: ConfigLayer, section: str, value: object, allow_api_keys: bool
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
