"""Summarizing data files: JSON and TOML through their parsers, YAML and INI by patterns.

Each gets its top-level keys with what they hold; a document that does not parse (often a
truncated one) falls back to keys found by patterns and says so.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from contextree.engine.providers.local.code import leading_comment
from contextree.engine.providers.local.languages import Language
from contextree.engine.providers.local.manifests import manifest_summary
from contextree.engine.providers.local.summary import (
    Summary,
    capped,
    code,
    first_sentence,
    plural,
    shorten,
)


def summarize_json(text: str, language: Language) -> Summary:
    try:
        data = json.loads(text)
    except ValueError:
        keys = re.findall(r'^\s{0,4}"([^"]+)"\s*:', text, re.MULTILINE)
        return _keys_summary("JSON", _key_bullets(keys), None, parsed=False)
    if isinstance(data, list):
        return Summary(purpose=f"JSON array of {plural(len(data), 'item')}.")
    if not isinstance(data, dict):
        return Summary(purpose=f"JSON document holding a single {type(data).__name__}.")
    return _mapping_summary("JSON", data)


def summarize_toml(text: str, language: Language) -> Summary:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        names = re.findall(r"^\s*(\[[^\]]+\]|[\w.-]+)\s*(?:=|$)", text, re.MULTILINE)
        return _keys_summary("TOML", _key_bullets(names), None, parsed=False)
    return _mapping_summary("TOML", data)


def summarize_yaml(text: str, language: Language) -> Summary:
    keys = re.findall(r"^([A-Za-z_\"'][^:#\n]*?)\s*:(?:\s|$)", text, re.MULTILINE)
    described = re.search(r"^(?:description|name):\s*(.+)$", text, re.MULTILINE)
    comment = leading_comment(text, language)
    purpose = comment or (described.group(1).strip("\"' ") if described else None)
    return _keys_summary("YAML", _key_bullets(keys), purpose, parsed=True)


def summarize_ini(text: str, language: Language) -> Summary:
    sections = re.findall(r"^\s*\[([^\]]+)\]", text, re.MULTILINE)
    keys = re.findall(r"^\s*([\w.-]+)\s*[=:]", text, re.MULTILINE)
    names = [f"[{name}]" for name in sections] or keys
    purpose = leading_comment(text, language) or None
    return _keys_summary(language.name, _key_bullets(names), purpose, parsed=True)


def _mapping_summary(kind: str, data: dict[str, Any]) -> Summary:
    manifest = manifest_summary(data)
    if manifest is not None:
        bullets = [f"- {code(str(key))}: {_describe_value(value)}" for key, value in data.items()]
        manifest.add("Top-level keys", capped(bullets))
        return manifest
    description = data.get("description") or _nested(data, "project", "description")
    purpose = description if isinstance(description, str) else None
    bullets = [f"- {code(str(key))}: {_describe_value(value)}" for key, value in data.items()]
    return _keys_summary(kind, bullets, purpose, parsed=True)


def _key_bullets(keys: list[str]) -> list[str]:
    return [f"- {code(key)}" for key in dict.fromkeys(keys)]


def _keys_summary(
    kind: str, bullets: list[str], purpose: str | None, *, parsed: bool
) -> Summary:
    if purpose and purpose.strip():
        sentence = first_sentence(purpose)
    else:
        sentence = f"{kind} document with {plural(len(bullets), 'top-level key')}."
    summary = Summary(purpose=sentence)
    summary.add("Top-level keys", capped(bullets))
    if not parsed:
        summary.add("Note", ["Keys found by patterns: the document does not parse as a whole."])
    return summary


def _nested(data: dict[str, Any], *keys: str) -> object:
    value: object = data
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _describe_value(value: object) -> str:
    if isinstance(value, dict):
        return f"table of {plural(len(value), 'key')}"
    if isinstance(value, list):
        return f"list of {plural(len(value), 'item')}"
    rendered = json.dumps(value, default=str, ensure_ascii=False)
    return code(shorten(rendered, 60))
