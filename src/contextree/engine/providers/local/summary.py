"""The shape of a local summary and the text helpers every local summarizer shares.

A `Summary` is a one-sentence purpose, a line of facts and titled sections of markdown lines;
`render_summary` turns it into a frame whose first prose line is the purpose, so a directory
(or a reader) can quote any frame by its first sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_PURPOSE_CHARS = 200
MAX_ITEMS = 30
ENTRY_POINT_SECTION = "Entry point"
ENTRY_POINTS_SECTION = "Entry points"
DEMO_ENTRY = "Also runs directly"
SCRIPTS_SECTION = "Scripts"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9`\"'(\[*])")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029\udc80-\udcff]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_DERIVED_PURPOSE = re.compile(
    r"^(?:Empty |Binary (?:file|data)|Python (?:module|script) (?:defining|without)"
    r"|(?:Python package|Directory|Workspace root) with |[\w+#./ -]+ (?:file|document) "
    r"(?:defining|without|with|of|holding|titled))"
)
_LABEL = re.compile(r"^(?:purpose|summary|overview|description)\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Section:
    """A `## title` followed by markdown lines (bullets or paragraphs)."""

    title: str
    lines: tuple[str, ...]


@dataclass
class Summary:
    """What a local summarizer found out about one node."""

    purpose: str
    facts: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def add(self, title: str, lines: list[str]) -> None:
        """Append a section unless it has no lines."""
        if lines:
            self.sections.append(Section(title, tuple(lines)))


def render_summary(path: str, summary: Summary) -> str:
    """The markdown frame: heading, purpose, facts, then each section."""
    parts = [f"# {code(escaped(path))}", "", summary.purpose]
    if summary.facts:
        parts += ["", " · ".join(summary.facts)]
    for section in summary.sections:
        parts += ["", f"## {section.title}", "", *section.lines]
    return "\n".join(parts) + "\n"


def first_sentence(text: str, limit: int = MAX_PURPOSE_CHARS) -> str:
    """The first sentence of `text` on one line, ending in punctuation, at most `limit` chars."""
    flat = " ".join(text.split())
    if not flat:
        return ""
    sentence = _SENTENCE_END.split(flat, maxsplit=1)[0]
    sentence = shorten(sentence, limit)
    if sentence[-1] not in ".!?…:":
        sentence += "."
    return sentence


def escaped(name: str) -> str:
    """`name` on one printable line: control characters and bytes that are not UTF-8
    (which arrive as lone surrogates) written as `\\n`, `\\t`, `\\xNN` escapes."""
    if name.isprintable() and _UNPRINTABLE.search(name) is None:
        return name
    return _UNPRINTABLE.sub(_escape_character, name)


def _escape_character(match: re.Match[str]) -> str:
    character = match.group(0)
    if character in _ESCAPES:
        return _ESCAPES[character]
    point = ord(character)
    if 0xDC80 <= point <= 0xDCFF:
        return f"\\x{point - 0xDC00:02x}"
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def is_derived_purpose(sentence: str) -> bool:
    """Whether a purpose is one the local provider made up from structure (counts, names)
    rather than one the file states about itself (a docstring, a README, a leading comment)."""
    return _DERIVED_PURPOSE.match(sentence) is not None


def frame_section(markdown: str, title: str) -> list[str]:
    """The non-empty lines of the `## title` section of a frame (`[]` when it has none)."""
    heading = f"\n## {title}\n"
    start = markdown.find(heading)
    if start == -1:
        return []
    body = markdown[start + len(heading) :]
    end = body.find("\n## ")
    return [line for line in (body if end == -1 else body[:end]).splitlines() if line.strip()]


def after_first_sentence(text: str) -> str:
    """What follows the first sentence of `text`, on one line (`""` when nothing does)."""
    parts = _SENTENCE_END.split(" ".join(text.split()), maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plain_text(markdown_line: str) -> str:
    """A markdown line without links, emphasis, list or quote markers and a leading label."""
    line = markdown_line.strip()
    line = re.sub(r"^(?:[-*+>]|\d+[.)])\s+", "", line)
    line = _LINK.sub(r"\1", line)
    line = _EMPHASIS.sub(r"\2", line)
    return _LABEL.sub("", line).strip()


def frame_purpose(markdown: str) -> str:
    """The first prose sentence of a frame: headings, fences, tables and rules skipped."""
    in_fence = False
    for raw in markdown.splitlines():
        line = raw.strip()
        if line.startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence or not line or _is_structure(line):
            continue
        text = plain_text(line)
        if text:
            return first_sentence(text)
    return ""


def _is_structure(line: str) -> bool:
    return line.startswith(("#", "|", "<!--", "<", "![", "[![")) or set(line) <= set("-=*_ ")


def count_lines(text: str) -> int:
    """Lines in `text`, a last line without a newline included."""
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def capped(items: list[str], limit: int = MAX_ITEMS) -> list[str]:
    """`items` with everything past `limit` replaced by one `… and N more` line."""
    if len(items) <= limit:
        return items
    return [*items[:limit], f"- … and {len(items) - limit} more"]


def code(text: str) -> str:
    """`text` as an inline code span, safe for backticks inside."""
    fence = "``" if "`" in text else "`"
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def join_names(names: list[str], limit: int = 3) -> str:
    """`a`, `b` and `c` — or `a`, `b`, `c` and 4 more."""
    shown = [code(name) for name in names[:limit]]
    rest = len(names) - len(shown)
    if rest > 0:
        return ", ".join(shown) + f" and {rest} more"
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """`1 function`, `3 functions`, `2 classes`."""
    if count == 1:
        return f"1 {noun}"
    return f"{count} {plural_form or noun + 's'}"
