"""Recognising licence and copyright text, so it is never taken for a file's purpose.

The markers are phrases the common licences (MIT, BSD, Apache, GPL/LGPL, MPL, PSF, ISC) and
copyright notices open with; a paragraph holding one is licence text. `purpose_paragraphs`
keeps the paragraphs of a docstring or comment that say what the file is about.
"""

from __future__ import annotations

import re

LICENCE_MARKERS = re.compile(
    r"(?im)copyright\s*(?:\(c\)|©|\d{4}|by\b|notice)"
    r"|\(c\)\s*\d{4}"
    r"|permission is hereby granted"
    r"|permission to use, copy, modify"
    r"|licensed under\b"
    r"|\blicen[cs]e:\s*\w"
    r"|adapted with permission"
    r"|licensed to the apache"
    r"|spdx-license-identifier"
    r"|all rights reserved"
    r"|redistribution and use in source and binary forms"
    r"|the software is provided \"?as is"
    r"|this (?:program|library|file) is free software"
    r"|gnu (?:lesser |library |affero )?general public license"
    r"|mozilla public license"
    r"|apache license,? version"
    r"|python software foundation license"
    r"|^\s*(?:the )?(?:mit|bsd|isc) licen[cs]e\s*$"
)


def is_licence_text(text: str) -> bool:
    """Whether `text` holds a licence or copyright notice."""
    return LICENCE_MARKERS.search(text) is not None


def paragraphs(text: str) -> list[str]:
    """`text` split at blank lines, empty ones dropped; a paragraph keeps its indentation."""
    blocks = re.split(r"\n\s*\n", text.strip("\n"))
    return [block.strip("\n").rstrip() for block in blocks if block.strip()]


def purpose_paragraphs(text: str) -> list[str]:
    """The paragraphs of `text` that are not licence text nor a lead-in to it.

    A paragraph ending in a colon right before licence text ("Spinners are from:") introduces
    the licence and goes with it.
    """
    blocks = paragraphs(text)
    licence = [is_licence_text(block) for block in blocks]
    kept = []
    for index, block in enumerate(blocks):
        leads_in = block.endswith(":") and index + 1 < len(blocks) and licence[index + 1]
        if not licence[index] and not leads_in:
            kept.append(block)
    return kept
