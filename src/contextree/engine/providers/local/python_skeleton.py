"""A Python module's skeleton: its source with every function body cut down to its docstring.

The outline needs signatures, docstrings, classes and module-level statements, never what a
function does, and parsing bodies is most of `ast.parse`'s cost. `skeleton` blanks each body
after its docstring, keeping every line in place (so line numbers and definition sizes stay
true) and ending the body with `...`. It is a text transformation, so a body it cannot
delimit safely (a one-line `def`, a string reaching column 0) is left whole, and a skeleton
that does not parse sends the caller back to the full source.

Line starts are found from the newline before them: a pattern that begins with a literal
`\n` lets the regex engine jump from newline to newline instead of trying every character.
"""

from __future__ import annotations

import re
from functools import lru_cache

_DEF = re.compile(r"([ \t]*)(?:async[ \t]+)?def[ \t]")
_DEF_AFTER_NEWLINE = re.compile(r"\n([ \t]*)(?:async[ \t]+)?def[ \t]")
_HEADER_END = re.compile(r":[ \t]*(?:#[^\n]*)?\n")
_DOCSTRING_START = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*[rRbBuU]{0,2}(\"\"\"|'''|\"|')")
_MODULE_DOCSTRING = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*[rRuU]?(\"\"\"|''')")
_NOISE_LINE = re.compile(r"[ \t]*(?:#[^\n]*)?")


def skeleton(text: str) -> str:
    """`text` with function bodies blanked after their docstrings (see the module docstring)."""
    parts: list[str] = []
    position = 0
    search_from = _after_module_docstring(text)
    while (found := _next_def(text, search_from)) is not None:
        header_start, indent = found
        cut = _body_span(text, header_start, indent)
        if cut is None:
            search_from = header_start
            continue
        body_start, body_end, body_indent = cut
        parts.append(text[position:body_start])
        lines = text.count("\n", body_start, body_end)
        ends_line = text[body_end - 1] == "\n"
        if not ends_line:
            lines += 1
        parts.append("\n" * (lines - 1) + body_indent + "..." + ("\n" if ends_line else ""))
        position = search_from = body_end
    parts.append(text[position:])
    return "".join(parts)


def _next_def(text: str, start: int) -> tuple[int, str] | None:
    """The next `def` line starting at or after `start`: where its header continues (after
    `def `) and its indentation."""
    if start == 0:
        match = _DEF.match(text)
        if match is not None:
            return match.end(), match.group(1)
    match = _DEF_AFTER_NEWLINE.search(text, max(start - 1, 0))
    return (match.end(), match.group(1)) if match is not None else None


def _body_span(text: str, header_start: int, indent: str) -> tuple[int, int, str] | None:
    """Where the body of the `def` whose header continues at `header_start` starts (after
    its docstring) and ends, and its indentation; None when it cannot be told safely."""
    header = _HEADER_END.search(text, header_start)
    if header is None:
        return None
    end_of_body = _body_end_pattern(indent).search(text, header.end() - 1)
    body_end = end_of_body.start() + 1 if end_of_body else len(text)
    multiline = text.find("\n", header_start, header.start()) != -1
    if multiline and _header_break_pattern(indent).search(text, header_start, header.start()):
        return None  # the "header" runs past a line at the def's level: a one-liner
    first_line_end = text.find("\n", header.end())
    first_line = text[header.end() : first_line_end if first_line_end != -1 else len(text)]
    body_indent = first_line[: len(first_line) - len(first_line.lstrip())]
    if len(body_indent) <= len(indent):
        return None
    body_start = _after_docstring(text, header.end(), body_end)
    if body_start is None or body_start >= body_end:
        return None
    noise_start = _trailing_noise_start(text, body_start, body_end)
    if noise_start > body_start:
        body_end = noise_start + 1  # keep trailing blank and comment lines as they are
    quotes = text.count('"""', body_start, body_end) + text.count("'''", body_start, body_end)
    if quotes % 2:
        return None  # the cut would end inside a string that reaches column 0
    return body_start, min(body_end, len(text)), body_indent


@lru_cache(maxsize=64)
def _body_end_pattern(indent: str) -> re.Pattern[str]:
    """A newline before the first line that is neither blank, a comment, nor indented deeper
    than `indent`."""
    return re.compile(rf"\n(?!{re.escape(indent)}[ \t]|[ \t]*(?:#[^\n]*)?(?:\n|\Z))")


@lru_cache(maxsize=64)
def _header_break_pattern(indent: str) -> re.Pattern[str]:
    """A newline before a line inside a `def` header that cannot belong to it: one at the
    def's level that does not close the parameter list."""
    return re.compile(rf"\n(?!{re.escape(indent)}[ \t)\]]|[ \t]*(?:#[^\n]*)?(?:\n|\Z))")


def _trailing_noise_start(text: str, start: int, end: int) -> int:
    """Where the blank and comment lines that end `text[start:end]` begin: the newline
    before the first of them (the newline ending the body, or `end`, when there are none)."""
    position = end - 1 if end > start and text[end - 1] == "\n" else end
    while True:
        newline = text.rfind("\n", start, position)
        if newline == -1 or not _NOISE_LINE.fullmatch(text, newline + 1, position):
            return position
        position = newline


def _after_module_docstring(text: str) -> int:
    """Where the module docstring ends (0 without one), so examples in it stay untouched."""
    opening = _MODULE_DOCSTRING.match(text)
    if opening is None:
        return 0
    closing = text.find(opening.group(1), opening.end())
    return 0 if closing == -1 else closing


def _after_docstring(text: str, start: int, body_end: int) -> int | None:
    """Where the body continues after its docstring (`start` when it has none)."""
    opening = _DOCSTRING_START.match(text, start)
    if opening is None:
        return start
    quote = opening.group(1)
    closing = text.find(quote, opening.end(), body_end)
    if closing == -1:
        return None
    line_end = text.find("\n", closing + len(quote))
    return body_end if line_end == -1 else line_end + 1
