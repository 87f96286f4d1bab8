"""Reading a Python file that does not parse (truncated or broken) by line patterns.

The docstring, classes, function signatures, imports and a `__main__` block are found by
regular expressions, and the frame says the source did not parse and where.
"""

from __future__ import annotations

import re

from contextree.engine.providers.local.licence import purpose_paragraphs
from contextree.engine.providers.local.summary import (
    ENTRY_POINT_SECTION,
    Summary,
    capped,
    code,
    first_sentence,
    join_names,
    shorten,
)

_DOCSTRING = re.compile(r"\A(?:\s*#[^\n]*\n)*\s*[rRuU]?(\"\"\"|''')(.*?)(?:\1|\Z)", re.DOTALL)
_CLASS = re.compile(r"^class\s+(\w+)\s*(\([^)]*\))?\s*:", re.MULTILINE)
_FUNCTION = re.compile(r"^((?:async\s+)?def\s+(\w+)\s*\([^)]*\)(?:\s*->\s*[^:]+)?)", re.MULTILINE)
_IMPORT = re.compile(r"^(?:from\s+(\.*[\w.]*)\s+import|import\s+([\w.]+))", re.MULTILINE)
_MAIN = re.compile(r"^if\s+__name__\s*==\s*[\"']__main__[\"']\s*:", re.MULTILINE)


def summarize_by_patterns(text: str, problem: str) -> Summary:
    """The summary of Python source that does not parse, `problem` saying why."""
    docstring = _DOCSTRING.match(text)
    classes = [match.group(1) for match in _CLASS.finditer(text)]
    functions = [match.group(2) for match in _FUNCTION.finditer(text)]
    described = purpose_paragraphs(docstring.group(2)) if docstring else []
    if described:
        purpose = first_sentence(described[0])
    else:
        defined = classes + functions
        names = join_names([name for name in defined if not name.startswith("_")] or defined)
        purpose = f"Python module defining {names}." if names else "Python module."
    summary = Summary(purpose=purpose)
    summary.add("Note", [f"Read by patterns: the source does not parse ({problem})."])
    summary.add("Classes", capped([f"- {code(f'class {name}')}" for name in classes]))
    signatures = [" ".join(match.group(1).split()) for match in _FUNCTION.finditer(text)]
    summary.add("Functions", capped([f"- {code(shorten(sig, 160))}" for sig in signatures]))
    imports = [match.group(1) or match.group(2) for match in _IMPORT.finditer(text)]
    unique = list(dict.fromkeys(name for name in imports if name))
    summary.add("Imports", [f"- {', '.join(code(name) for name in unique[:20])}"] if unique else [])
    if _MAIN.search(text):
        summary.add(ENTRY_POINT_SECTION, ['Runs as a script (`if __name__ == "__main__"`).'])
    return summary
