"""Where in a TOML file a problem is: the line of a dotted key, of a syntax error, of the
deepest nesting.

`tomllib` reports no positions for the values it parses, so a configuration error finds its
line here by reading the text once more; lines inside multi-line strings are never taken for
keys or headers.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from contextree.errors import ConfigError


def locate_key(text: str, dotted_key: str) -> int | None:
    """The 1-based line defining `dotted_key` (a key or a table header), if it can be found.

    Lines inside multi-line strings are text, not headers or keys. If the exact key cannot be
    placed, the line assigning its last part is the best guess.
    """
    table = ""
    open_quote: str | None = None
    fallback: int | None = None
    last_part = dotted_key.rpartition(".")[2]
    for number, raw in enumerate(text.splitlines(), start=1):
        if open_quote is not None:
            if raw.count(open_quote) % 2 == 1:
                open_quote = None
            continue
        open_quote = _opens_multiline_string(raw)
        line = raw.split("#", 1)[0].strip()
        header = re.fullmatch(r"\[\[?\s*([^\]]+?)\s*\]?\]", line)
        if header:
            table = _unquote_dotted(header.group(1))
            if table == dotted_key or table.startswith(dotted_key + "."):
                return number
            continue
        assignment = re.match(r"([A-Za-z0-9_.\-\"' ]+?)\s*=", line)
        if assignment:
            key = _unquote_dotted(assignment.group(1))
            full = f"{table}.{key}" if table else key
            if full == dotted_key or full.startswith(dotted_key + ".") or (
                dotted_key.startswith(full + ".") and "{" in line  # inside an inline table
            ):
                return number
            if fallback is None and key.rpartition(".")[2] == last_part:
                fallback = number
    return fallback


def _opens_multiline_string(line: str) -> str | None:
    for quote in ('"""', "'''"):
        if line.count(quote) % 2 == 1:
            return quote
    return None


def _unquote_dotted(text: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in text.split("."))


def syntax_error(source: Path, error: tomllib.TOMLDecodeError, text: str) -> ConfigError:
    """A `ConfigError` naming the file, line and column of a TOML syntax error."""
    message = str(error)
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if not found:
        end = message.find("(at end of document)")
        if end >= 0:  # an unterminated string, table or key: the problem ends the last line
            last_line = text.rstrip().count("\n") + 1
            return ConfigError(f"{source}:{last_line}: invalid TOML at the end of the file: "
                               f"{message[:end].strip()}")
        return ConfigError(f"{source}: invalid TOML: {message} — fix the syntax")
    problem = message[: found.start()].strip()
    line, column = found.groups()
    return ConfigError(f"{source}:{line}: invalid TOML at column {column}: {problem}")


def deepest_line(text: str) -> int:
    """The 1-based line where brackets and braces nest deepest (strings are not skipped:
    this only points a person at the right place)."""
    depth = deepest = 0
    line = found = 1
    for char in text:
        if char == "\n":
            line += 1
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, found = depth, line
        elif char in "]}":
            depth = max(0, depth - 1)
    return found
