"""The skeleton as first written, with line-start (`^`, `$`) regexes: slower, plainly right.

`test_local_skeleton.py` checks that the production `skeleton`, which finds line starts from
the newline before them, cuts every body exactly as this one does.
"""

from __future__ import annotations

import re

_DEF = re.compile(r"^([ \t]*)(?:async[ \t]+)?def[ \t]", re.MULTILINE)
_HEADER_END = re.compile(r":[ \t]*(?:#[^\n]*)?\n")
_DOCSTRING_START = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*[rRbBuU]{0,2}(\"\"\"|'''|\"|')")
_MODULE_DOCSTRING = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*[rRuU]?(\"\"\"|''')")
_TRAILING_NOISE = re.compile(r"(?:\n[ \t]*(?:#[^\n]*)?)*\n?\Z")


def reference_skeleton(text: str) -> str:
    parts: list[str] = []
    position = 0
    search_from = _after_module_docstring(text)
    while (match := _DEF.search(text, search_from)) is not None:
        cut = _body_span(text, match)
        if cut is None:
            search_from = match.end()
            continue
        body_start, body_end, indent = cut
        parts.append(text[position:body_start])
        removed = text[body_start:body_end]
        ends_line = removed.endswith("\n")
        lines = removed.count("\n") + (0 if ends_line else 1)
        parts.append("\n" * (lines - 1) + indent + "..." + ("\n" if ends_line else ""))
        position = search_from = body_end
    parts.append(text[position:])
    return "".join(parts)


def _body_span(text: str, match: re.Match[str]) -> tuple[int, int, str] | None:
    indent = match.group(1)
    header = _HEADER_END.search(text, match.end())
    if header is None:
        return None
    end_of_body = _line_pattern(r"[ \t]", indent).search(text, header.end())
    body_end = end_of_body.start() if end_of_body else len(text)
    multiline = "\n" in text[match.end() : header.start()]
    if multiline and _line_pattern(r"[ \t)\]]", indent).search(text, match.end(),
                                                               header.start()):
        return None
    first_line_end = text.find("\n", header.end())
    first_line = text[header.end() : first_line_end if first_line_end != -1 else len(text)]
    body_indent = first_line[: len(first_line) - len(first_line.lstrip())]
    if len(body_indent) <= len(indent):
        return None
    body_start = _after_docstring(text, header.end(), body_end)
    if body_start is None or body_start >= body_end:
        return None
    noise = _TRAILING_NOISE.search(text, body_start, body_end)
    if noise is not None and noise.start() > body_start:
        body_end = noise.start() + 1
    body = text[body_start:body_end]
    if (body.count('"""') + body.count("'''")) % 2:
        return None
    return body_start, min(body_end, len(text)), body_indent


def _line_pattern(continuation: str, indent: str) -> re.Pattern[str]:
    return re.compile(rf"^(?!{re.escape(indent)}{continuation}|[ \t]*(?:#[^\n]*)?$)",
                      re.MULTILINE)


def _after_module_docstring(text: str) -> int:
    opening = _MODULE_DOCSTRING.match(text)
    if opening is None:
        return 0
    closing = text.find(opening.group(1), opening.end())
    return 0 if closing == -1 else closing


def _after_docstring(text: str, start: int, body_end: int) -> int | None:
    opening = _DOCSTRING_START.match(text, start)
    if opening is None:
        return start
    quote = opening.group(1)
    closing = text.find(quote, opening.end(), body_end)
    if closing == -1:
        return None
    line_end = text.find("\n", closing + len(quote))
    return body_end if line_end == -1 else line_end + 1
