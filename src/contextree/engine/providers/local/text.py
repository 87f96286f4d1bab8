"""Summarizing a text file that is not Python, by the family its language belongs to.

Code goes to `code` (definition patterns), documents to `documents`, data to `data`.
"""

from __future__ import annotations

from collections.abc import Callable

from contextree.engine.providers.local.build_files import (
    summarize_dockerfile,
    summarize_makefile,
)
from contextree.engine.providers.local.code import summarize_code
from contextree.engine.providers.local.data import (
    summarize_ini,
    summarize_json,
    summarize_toml,
    summarize_yaml,
)
from contextree.engine.providers.local.documents import (
    summarize_markdown,
    summarize_markup,
    summarize_plain,
    summarize_rst,
)
from contextree.engine.providers.local.languages import Language
from contextree.engine.providers.local.patterns import DEFINITION_PATTERNS
from contextree.engine.providers.local.summary import Summary

_READERS: dict[str, Callable[[str, Language], Summary]] = {
    "markdown": summarize_markdown,
    "rst": summarize_rst,
    "json": summarize_json,
    "toml": summarize_toml,
    "yaml": summarize_yaml,
    "ini": summarize_ini,
    "docker": summarize_dockerfile,
    "make": summarize_makefile,
    "html": summarize_markup,
    "xml": summarize_markup,
}


def summarize_text(text: str, language: Language) -> Summary:
    """The summary of `text`, read the way its `language` family is read."""
    if language.family in _READERS:
        return _READERS[language.family](text, language)
    if language.family in DEFINITION_PATTERNS:
        return summarize_code(text, language)
    return summarize_plain(text, language)
