"""Summarizing documents: Markdown by its outline and first paragraph, HTML and XML by title
and headings, plain text by its first line.
"""

from __future__ import annotations

import re

from contextree.engine.providers.local.code import leading_comment
from contextree.engine.providers.local.languages import Language
from contextree.engine.providers.local.summary import (
    Summary,
    capped,
    code,
    first_sentence,
    plain_text,
    plural,
)

# -- markdown -------------------------------------------------------------------------------

_ATX_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def summarize_markdown(text: str, language: Language) -> Summary:
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


# -- markup and plain text ------------------------------------------------------------------


def summarize_markup(text: str, language: Language) -> Summary:
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


def summarize_plain(text: str, language: Language) -> Summary:
    comment = leading_comment(text, language) if language.line_comments else ""
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    source = comment or first_line
    purpose = first_sentence(source) if source else f"Empty {language.name} file."
    summary = Summary(purpose=purpose)
    if language.family == "plain" and language.name in ("Text", "License", "reStructuredText"):
        summary.facts.append(plural(len(text.split()), "word"))
    return summary
