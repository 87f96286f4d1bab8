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
_HIDDEN_MODIFIERS = re.compile(r"\b(?:private|internal|fileprivate)\b")
_SHOWN_MODIFIERS = re.compile(r"\b(?:public|protected)\b")
_EXPORT_LIST = re.compile(r"^export\s*\{([^}]*)\}", re.MULTILINE)
_COMMONJS_EXPORT = re.compile(r"^(?:module\.)?exports\.(\w+)\s*=", re.MULTILINE)
_COMMONJS_OBJECT = re.compile(r"^module\.exports\s*=\s*\{([^}]*)\}", re.MULTILINE)
_USAGE = re.compile(r"(?im)^[#\s]*(?:echo\s+[\"']?)?usage:\s*(.+)$")
_SINGULAR = {
    "Classes": "class",
    "Classes and modules": "class or module",
    "Exported constants": "exported constant",
    "Subroutines": "subroutine",
    "At-rules": "at-rule",
}


def summarize_code(text: str, language: Language) -> Summary:
    """Definitions by the family's patterns — public ones only, when there are any — and the
    purpose from the leading comment."""
    groups, hidden = _definitions(text, language)
    comment = leading_comment(text, language)
    summary = Summary(purpose=first_sentence(comment) if comment else "")
    package = re.search(r"^package\s+([\w.]+)", text, re.MULTILINE)
    if package and language.family in ("go", "jvm"):
        summary.facts.append(f"package {code(package.group(1))}")
    if hidden:
        summary.facts.append(f"{plural(hidden, 'non-public definition')} not listed")
    usage = _USAGE.search(text) if language.family == "shell" else None
    if usage:
        summary.add("Usage", [code(shorten(usage.group(1).strip(" \"'"), MAX_SIGNATURE_CHARS))])
    if not summary.purpose:
        summary.purpose = _definitions_purpose(language.name, groups)
    for title, lines in groups.items():
        summary.add(title, capped(lines))
    return summary


def _definitions(text: str, language: Language) -> tuple[dict[str, list[str]], int]:
    """Section title → one bullet per definition, in source order, each name once; and how
    many non-public definitions were left out (none are when nothing is public).

    Sections come in the order of the family's patterns, whatever the order in the file.
    """
    patterns = DEFINITION_PATTERNS[language.family]
    found: list[tuple[str, str, bool]] = []
    seen: set[str] = set()
    exported = _exported_names(text) if language.family == "js" else set()
    for line in _code_lines(text, language):
        for title, pattern in patterns:
            match = pattern.match(line)
            if match is None or match.group("name") in seen:
                continue
            name = match.group("name")
            seen.add(name)
            public = is_public(line, name, language, exported)
            found.append((title, f"- {code(_signature(line))}", public))
            break
    shown = [item for item in found if item[2]] or found
    groups: dict[str, list[str]] = {title: [] for title, _ in patterns}
    for title, bullet, _ in shown:
        groups[title].append(bullet)
    return {title: lines for title, lines in groups.items() if lines}, len(found) - len(shown)


def is_public(line: str, name: str, language: Language, exported: set[str]) -> bool:
    """Whether a definition is part of the file's public surface, by its family's rule."""
    stripped = line.strip()
    family = language.family
    if family == "go":
        return name[:1].isupper()
    if family == "rust":
        return stripped.startswith(("pub", "impl", "#[macro_export]"))
    if family == "js":
        return stripped.startswith("export") or name in exported
    if family == "jvm":
        if _HIDDEN_MODIFIERS.search(stripped):
            return False
        return language.name not in ("Java", "C#") or _SHOWN_MODIFIERS.search(stripped) is not None
    if family == "c":
        return not stripped.startswith("static")
    return True


def _exported_names(text: str) -> set[str]:
    """Names a JavaScript file exports by list (`export { a, b as c }`) or CommonJS."""
    names: set[str] = set()
    for group in _EXPORT_LIST.findall(text):
        names.update(part.split(" as ")[0].strip() for part in group.split(","))
    names.update(_COMMONJS_EXPORT.findall(text))
    for group in _COMMONJS_OBJECT.findall(text):
        names.update(part.split(":")[0].strip() for part in group.split(","))
    return names


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
