"""Definition patterns per language family, for code read without a parser.

Each family maps to `(section title, pattern)` pairs; a pattern's `name` group is the
definition's name, and the first pattern that matches a line wins.
"""

from __future__ import annotations

import re

_JS_NAME = r"[A-Za-z_$][\w$]*"
DEFINITION_PATTERNS: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    "js": [
        (
            "Classes",
            re.compile(
                rf"^\s*(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+(?P<name>{_JS_NAME})"
            ),
        ),
        (
            "Functions",
            re.compile(
                rf"^(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*(?P<name>{_JS_NAME})"
            ),
        ),
        (
            "Functions",
            re.compile(
                rf"^(?:export\s+)?(?:const|let|var)\s+(?P<name>{_JS_NAME})\s*(?::[^=]+)?=\s*"
                rf"(?:async\s+)?(?:function\b|\([^)]*\)\s*(?::\s*[^=]+)?=>|{_JS_NAME}\s*=>)"
            ),
        ),
        (
            "Types",
            re.compile(
                rf"^(?:export\s+)?(?:declare\s+)?(?:interface|type|enum)\s+(?P<name>{_JS_NAME})"
            ),
        ),
        ("Exported constants", re.compile(rf"^export\s+(?:const|let|var)\s+(?P<name>{_JS_NAME})")),
    ],
    "go": [
        ("Functions", re.compile(r"^func\s+(?:\([^)]*\)\s*)?(?P<name>\w+)\s*[\[(]")),
        ("Types", re.compile(r"^type\s+(?P<name>\w+)\s+")),
        ("Exported constants", re.compile(r"^(?:const|var)\s+(?P<name>[A-Z]\w*)")),
    ],
    "rust": [
        (
            "Functions",
            re.compile(
                r"^(?: {4})?(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?"
                r"(?:extern\s+\"[^\"]*\"\s+)?fn\s+(?P<name>\w+)"
            ),
        ),
        (
            "Types",
            re.compile(
                r"^(?:pub(?:\([^)]*\))?\s+)?(?:struct|enum|trait|union|type)\s+(?P<name>\w+)"
            ),
        ),
        ("Implementations", re.compile(r"^impl(?:<[^>]*>)?\s+(?P<name>[^{]+?)\s*(?:\{|where|$)")),
        ("Modules", re.compile(r"^(?:pub(?:\([^)]*\))?\s+)?mod\s+(?P<name>\w+)")),
        (
            "Constants",
            re.compile(
                r"^(?:pub(?:\([^)]*\))?\s+)?(?:const|static)\s+(?:mut\s+)?(?P<name>[A-Z_][A-Z0-9_]*)"
            ),
        ),
    ],
    "jvm": [
        (
            "Types",
            re.compile(
                r"^\s*(?:@\w+\s+)*(?:(?:public|private|protected|internal|abstract|final|static|"
                r"sealed|data|open|partial|inner|enum|annotation|case)\s+)*"
                r"(?:class|interface|enum|record|object|struct|protocol|trait|message|service)\s+"
                r"(?P<name>\w+)"
            ),
        ),
        (
            "Functions",
            re.compile(
                r"^\s{0,4}(?:(?:public|protected|internal|private|static|open|override|suspend|"
                r"inline|final)\s+)*(?:fun|func|def)\s+(?:<[^>]*>\s*)?(?:[\w.]+\.)?(?P<name>\w+)"
            ),
        ),
        (
            "Functions",
            re.compile(
                r"^\s{0,4}(?:public|protected|internal)\s+(?:(?:static|final|abstract|override|"
                r"virtual|async|synchronized)\s+)*[\w<>\[\],.? ]+?\s+(?P<name>\w+)\s*\("
            ),
        ),
    ],
    "c": [
        (
            "Types",
            re.compile(
                r"^\s*(?:typedef\s+)?(?:struct|union|enum|class)\s+(?P<name>\w+)\s*(?:[:{]|$)"
            ),
        ),
        (
            "Functions",
            re.compile(
                r"^(?!(?:if|else|for|while|switch|return|do|case|typedef|using|namespace|template|"
                r"struct|enum|union|class)\b)[A-Za-z_][\w\s*&:<>,~]*?\b(?P<name>[A-Za-z_~][\w:~]*)"
                r"\s*\([^;{}]*\)?\s*(?:const\s*)?(?:\{|;)?\s*$"
            ),
        ),
        ("Macros", re.compile(r"^#\s*define\s+(?P<name>[A-Z_][A-Z0-9_]*)")),
        ("Namespaces", re.compile(r"^namespace\s+(?P<name>[\w:]+)")),
    ],
    "ruby": [
        (
            "Classes and modules",
            re.compile(r"^\s*(?:class|module|defmodule)\s+(?P<name>[A-Z][\w:.]*)"),
        ),
        ("Methods", re.compile(r"^\s*(?:def|defp)\s+(?P<name>(?:self\.)?[\w?!=]+)")),
    ],
    "php": [
        (
            "Classes",
            re.compile(
                r"^\s*(?:abstract\s+|final\s+)?(?:class|interface|trait|enum)\s+(?P<name>\w+)"
            ),
        ),
        (
            "Functions",
            re.compile(
                r"^\s*(?:(?:public|private|protected|static|abstract|final)\s+)*function\s+"
                r"(?P<name>\w+)"
            ),
        ),
    ],
    "shell": [
        ("Functions", re.compile(r"^\s*(?:function\s+)?(?P<name>[A-Za-z_][\w-]*)\s*\(\)")),
        ("Functions", re.compile(r"^\s*function\s+(?P<name>[A-Za-z_][\w-]*)")),
    ],
    "lua": [("Functions", re.compile(r"^\s*(?:local\s+)?function\s+(?P<name>[\w.:]+)"))],
    "perl": [
        ("Packages", re.compile(r"^\s*package\s+(?P<name>[\w:]+)")),
        ("Subroutines", re.compile(r"^\s*sub\s+(?P<name>\w+)")),
    ],
    "sql": [
        (
            "Objects",
            re.compile(
                r"(?i)^\s*create\s+(?:or\s+replace\s+)?(?:temp(?:orary)?\s+)?(?:unique\s+)?"
                r"(?P<kind>table|view|materialized\s+view|index|function|procedure|trigger|type|"
                r"schema|sequence)\s+(?:if\s+not\s+exists\s+)?(?P<name>[\w.\"`\[\]]+)"
            ),
        ),
    ],
    "make": [("Targets", re.compile(r"^(?P<name>[A-Za-z0-9_./-]+)\s*:(?![=:])"))],
    "docker": [
        (
            "Instructions",
            re.compile(r"(?i)^(?P<name>(?:FROM|EXPOSE|ENTRYPOINT|CMD|WORKDIR|USER)\s+.+)$"),
        ),
    ],
    "css": [
        ("Rules", re.compile(r"^(?P<name>[^\s@{}/][^{};]*?)\s*\{")),
        (
            "At-rules",
            re.compile(r"^(?P<name>@(?:media|keyframes|font-face|supports|import)[^{;]*)"),
        ),
    ],
}
