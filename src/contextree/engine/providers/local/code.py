"""Summarizing source code in languages without a parser here: definitions by patterns.

Each family's patterns (in `patterns`) pick its top-level definitions; the purpose comes from
the leading comment block, licence headers skipped.
"""

from __future__ import annotations

import re

from contextree.engine.providers.local.languages import Language
from contextree.engine.providers.local.licence import is_licence_text
from contextree.engine.providers.local.patterns import DEFINITION_PATTERNS
from contextree.engine.providers.local.summary import (
    Summary,
    capped,
    code,
    first_sentence,
    plural,
    shorten,
)

MAX_SIGNATURE_CHARS = 120
_DOC_TAG = re.compile(r"^@(?:file(?:overview)?|module|brief|package)\s*")
_PREAMBLE = re.compile(r"^(?:package|import)\s")
_SINGULAR = {
    "Classes": "class",
    "Classes and modules": "class or module",
    "Exported constants": "exported constant",
    "Subroutines": "subroutine",
    "At-rules": "at-rule",
}


def summarize_code(text: str, language: Language) -> Summary:
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
        if block and not is_licence_text(block):
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
