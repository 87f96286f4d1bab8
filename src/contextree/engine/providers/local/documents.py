"""Summarizing documents: Markdown and reStructuredText by their outline and first paragraph,
HTML and XML by title and headings, plain text by its first line.
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
_NOT_PROSE = ("<", "![", "[![", "|")
_RST_ADORNMENT = re.compile(r"^([=\-~^\"'`#*+_:.])\1{2,}\s*$")
_RST_NOT_PROSE = (" ", "\t", "..", ":", "|", "=", "+")
_RST_ROLE = re.compile(r"(?::[\w-]+:)?``?([^`]+?)``?_{0,2}")


def summarize_markdown(text: str, language: Language) -> Summary:
    """A Markdown document: its first paragraph, word count and heading outline."""
    headings, paragraph = _markdown_structure(text)
    return _document_summary("Markdown", text, headings, paragraph)


def summarize_rst(text: str, language: Language) -> Summary:
    """A reStructuredText document: its first paragraph, word count and section outline."""
    headings, paragraph = _rst_structure(text)
    return _document_summary("reStructuredText", text, headings, _RST_ROLE.sub(r"\1", paragraph))


def _document_summary(
    kind: str, text: str, headings: list[tuple[int, str]], paragraph: str
) -> Summary:
    if paragraph:
        purpose = first_sentence(paragraph)
    elif headings:
        purpose = f"{kind} document titled “{headings[0][1]}”."
    else:
        purpose = f"Empty {kind} document."
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
    paragraph: list[str] = []
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
        elif _paragraph_open(paragraph, stripped) and not stripped.startswith(_NOT_PROSE):
            paragraph.append(plain_text(stripped))
        elif paragraph and not stripped:
            paragraph.append("")
    return headings, " ".join(paragraph).strip()


def _paragraph_open(paragraph: list[str], stripped: str) -> bool:
    """Whether `stripped` starts or continues the first paragraph (a blank line ends it)."""
    return bool(stripped) and (not paragraph or paragraph[-1] != "")


def _rst_structure(text: str) -> tuple[list[tuple[int, str]], str]:
    """Sections (a title underlined, maybe overlined; levels by order of first use of each
    adornment style) and the first paragraph that is not a directive, comment or field."""
    lines = text.splitlines()
    styles: list[tuple[str, bool]] = []
    headings: list[tuple[int, str]] = []
    paragraph: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index].rstrip()
        following = lines[index + 1].rstrip() if index + 1 < len(lines) else ""
        if line.strip() and _is_underline(following, line) and not _RST_ADORNMENT.match(line):
            overlined = index > 0 and _RST_ADORNMENT.match(lines[index - 1]) is not None
            style = (following[0], overlined)
            if style not in styles:
                styles.append(style)
            headings.append((styles.index(style) + 1, line.strip()))
            index += 2
            continue
        bullet = line.startswith(("* ", "- ", "+ "))
        if bullet and paragraph:
            paragraph.append("")  # a list's first item stands for the list
        elif _paragraph_open(paragraph, line) and not _RST_ADORNMENT.match(line):
            continues = bool(paragraph) and line[:1].isspace()
            if continues or not line.startswith(_RST_NOT_PROSE):
                paragraph.append(plain_text(line))
        elif paragraph and not line.strip():
            paragraph.append("")
        index += 1
    return headings, " ".join(paragraph).strip()


def _is_underline(line: str, title: str) -> bool:
    return _RST_ADORNMENT.match(line) is not None and len(line) >= len(title.strip())


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
