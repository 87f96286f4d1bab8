"""Summarizing a text file that is not Python: code by definition patterns, data by keys.

Code gets its top-level definitions from the family's patterns in `languages` and its
purpose from the leading comment block (license headers skipped); markdown gets its headings
outline; JSON, TOML, YAML and INI get their top-level keys; anything else its first line.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from contextree.engine.providers.local.languages import DEFINITION_PATTERNS, Language
from contextree.engine.providers.local.summary import (
    Summary,
    capped,
    code,
    first_sentence,
    plain_text,
    plural,
    shorten,
)

MAX_SIGNATURE_CHARS = 120
_LICENSE_WORDS = re.compile(r"(?i)copyright|licen[cs]e|spdx|all rights reserved")
_DOC_TAG = re.compile(r"^@(?:file(?:overview)?|module|brief|package)\s*")
_PREAMBLE = re.compile(r"^(?:package|import)\s")
_SINGULAR = {
    "Classes": "class",
    "Classes and modules": "class or module",
    "Exported constants": "exported constant",
    "Subroutines": "subroutine",
    "At-rules": "at-rule",
}


def summarize_text(text: str, language: Language) -> Summary:
    """The summary of `text`, read the way its `language` family is read."""
    readers = {
        "markdown": _summarize_markdown,
        "json": _summarize_json,
        "toml": _summarize_toml,
        "yaml": _summarize_yaml,
        "ini": _summarize_ini,
        "html": _summarize_markup,
        "xml": _summarize_markup,
    }
    if language.family in readers:
        return readers[language.family](text, language)
    if language.family in DEFINITION_PATTERNS:
        return _summarize_code(text, language)
    return _summarize_plain(text, language)


# -- code -----------------------------------------------------------------------------------


def _summarize_code(text: str, language: Language) -> Summary:
    groups = _definitions(text, language)
    comment = leading_comment(text, language)
    summary = Summary(purpose=first_sentence(comment) if comment else "")
    package = re.search(r"^package\s+([\w.]+)", text, re.MULTILINE)
    if package and language.family in ("go", "jvm"):
        summary.facts.append(f"package {code(package.group(1))}")
    if not summary.purpose:
        summary.purpose = _definitions_purpose(language.name, groups)
    for title, lines in groups.items():
        summary.add(title, capped(lines))
    return summary


def _definitions(text: str, language: Language) -> dict[str, list[str]]:
    """Section title → one bullet per definition, in source order, each name once.

    Sections come in the order of the family's patterns, whatever the order in the file.
    """
    patterns = DEFINITION_PATTERNS[language.family]
    groups: dict[str, list[str]] = {title: [] for title, _ in patterns}
    seen: set[str] = set()
    for line in _code_lines(text, language):
        for title, pattern in patterns:
            match = pattern.match(line)
            if match is None or match.group("name") in seen:
                continue
            seen.add(match.group("name"))
            groups[title].append(f"- {code(_signature(line))}")
            break
    return {title: lines for title, lines in groups.items() if lines}


def _code_lines(text: str, language: Language) -> list[str]:
    """Lines outside block comments that are not line comments."""
    lines = []
    in_block = False
    opener, closer = language.block_comment or ("", "")
    for line in text.splitlines():
        stripped = line.strip()
        if in_block:
            in_block = closer not in stripped
            continue
        if opener and stripped.startswith(opener):
            in_block = closer not in stripped[len(opener) :]
            continue
        if any(stripped.startswith(prefix) for prefix in language.line_comments):
            continue
        lines.append(line)
    return lines


def _signature(line: str) -> str:
    signature = " ".join(line.split())
    signature = re.sub(r"\s*(?:\{.*|=>.*|:\s*$|;\s*$)", "", signature) or signature
    return shorten(signature, MAX_SIGNATURE_CHARS)


def _definitions_purpose(language_name: str, groups: dict[str, list[str]]) -> str:
    if not groups:
        return f"{language_name} file without recognisable top-level definitions."
    counts = [
        plural(len(lines), _SINGULAR.get(title, title.lower().rstrip("s")), title.lower())
        for title, lines in groups.items()
    ]
    listing = ", ".join(counts[:-1]) + " and " + counts[-1] if len(counts) > 1 else counts[0]
    return f"{language_name} file defining {listing}."


def leading_comment(text: str, language: Language) -> str:
    """The first comment block before any code that is not a license header."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped or stripped.startswith("#!") or "-*-" in stripped:
            index += 1
            continue
        if language.family == "jvm" and _PREAMBLE.match(stripped):
            index += 1
            continue
        block, index = _comment_block(lines, index, language)
        if block is None:
            return ""
        if block and not _LICENSE_WORDS.search(block):
            return block
    return ""


def _comment_block(lines: list[str], index: int, language: Language) -> tuple[str | None, int]:
    """The comment block starting at `index` (None if code starts there) and the next index."""
    stripped = lines[index].strip()
    if language.block_comment and stripped.startswith(language.block_comment[0]):
        opener, closer = language.block_comment
        body = [stripped[len(opener) :]]
        while closer not in body[-1] and index + 1 < len(lines):
            index += 1
            body.append(lines[index].strip())
        body[-1] = body[-1].split(closer)[0]
        return _clean_comment(body), index + 1
    prefix = next((p for p in language.line_comments if stripped.startswith(p)), None)
    if prefix is None:
        return None, index
    body = []
    while index < len(lines) and lines[index].strip().startswith(prefix):
        body.append(lines[index].strip()[len(prefix) :])
        index += 1
    return _clean_comment(body), index


def _clean_comment(body: list[str]) -> str:
    cleaned = [_DOC_TAG.sub("", line.lstrip("/*!#-; ").rstrip("*/ ")) for line in body]
    paragraph: list[str] = []
    for line in cleaned:
        if not line and paragraph:
            break
        if line:
            paragraph.append(line)
    return " ".join(paragraph)


# -- markdown -------------------------------------------------------------------------------

_ATX_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def _summarize_markdown(text: str, language: Language) -> Summary:
    headings, paragraph = _markdown_structure(text)
    if paragraph:
        purpose = first_sentence(paragraph)
    elif headings:
        purpose = f"Markdown document titled “{headings[0][1]}”."
    else:
        purpose = "Empty Markdown document."
    summary = Summary(purpose=purpose)
    summary.facts.append(plural(len(text.split()), "word"))
    if headings:
        top = min(level for level, _ in headings)
        outline = [f"{'  ' * (level - top)}- {title}" for level, title in headings]
        summary.add("Outline", capped(outline, 40))
    return summary


def _markdown_structure(text: str) -> tuple[list[tuple[int, str]], str]:
    """The `(level, title)` headings outside code fences and the first prose paragraph."""
    headings: list[tuple[int, str]] = []
    paragraph = ""
    in_fence = False
    for line in _without_front_matter(text).splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        heading = _ATX_HEADING.match(stripped)
        if heading:
            headings.append((len(heading.group(1)), plain_text(heading.group(2))))
        elif not paragraph and stripped and not stripped.startswith(("<", "![", "[![", "|")):
            paragraph = plain_text(stripped)
    return headings, paragraph


def _without_front_matter(text: str) -> str:
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            return text[end + 4 :]
    return text


# -- data -----------------------------------------------------------------------------------


def _summarize_json(text: str, language: Language) -> Summary:
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


def _summarize_toml(text: str, language: Language) -> Summary:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        names = re.findall(r"^\s*(\[[^\]]+\]|[\w.-]+)\s*(?:=|$)", text, re.MULTILINE)
        return _keys_summary("TOML", _key_bullets(names), None, parsed=False)
    return _mapping_summary("TOML", data)


def _summarize_yaml(text: str, language: Language) -> Summary:
    keys = re.findall(r"^([A-Za-z_\"'][^:#\n]*?)\s*:(?:\s|$)", text, re.MULTILINE)
    described = re.search(r"^(?:description|name):\s*(.+)$", text, re.MULTILINE)
    comment = leading_comment(text, language)
    purpose = comment or (described.group(1).strip("\"' ") if described else None)
    return _keys_summary("YAML", _key_bullets(keys), purpose, parsed=True)


def _summarize_ini(text: str, language: Language) -> Summary:
    sections = re.findall(r"^\s*\[([^\]]+)\]", text, re.MULTILINE)
    keys = re.findall(r"^\s*([\w.-]+)\s*[=:]", text, re.MULTILINE)
    names = [f"[{name}]" for name in sections] or keys
    purpose = leading_comment(text, language) or None
    return _keys_summary(language.name, _key_bullets(names), purpose, parsed=True)


def _mapping_summary(kind: str, data: dict[str, Any]) -> Summary:
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


# -- markup and plain text ------------------------------------------------------------------


def _summarize_markup(text: str, language: Language) -> Summary:
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    headings = re.findall(r"<h([1-3])[^>]*>(.*?)</h\1>", text, re.IGNORECASE | re.DOTALL)
    root = re.search(r"<([A-Za-z][\w:.-]*)[\s>]", re.sub(r"<[?!][^>]*>", "", text))
    if title and title.group(1).strip():
        purpose = f"{language.name} document titled “{' '.join(title.group(1).split())}”."
    elif root:
        purpose = f"{language.name} document with root element {code(root.group(1))}."
    else:
        purpose = f"{language.name} document."
    summary = Summary(purpose=purpose)
    outline = [
        f"{'  ' * (int(level) - 1)}- {' '.join(re.sub(r'<[^>]+>', '', body).split())}"
        for level, body in headings
    ]
    summary.add("Headings", capped(outline))
    return summary


def _summarize_plain(text: str, language: Language) -> Summary:
    comment = leading_comment(text, language) if language.line_comments else ""
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    source = comment or first_line
    purpose = first_sentence(source) if source else f"Empty {language.name} file."
    summary = Summary(purpose=purpose)
    if language.family == "plain" and language.name in ("Text", "License", "reStructuredText"):
        summary.facts.append(plural(len(text.split()), "word"))
    return summary
