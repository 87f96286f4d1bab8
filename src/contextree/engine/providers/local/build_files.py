"""Summarizing build files: a Dockerfile by its stages, a Makefile by its targets.

A Dockerfile gives its stages (`FROM image AS name`), exposed ports and the command the image
runs; a Makefile its targets in order (the first is the default), with the `## text` help
comments many Makefiles put after a target. The purpose is the leading comment, if any.
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
    plural,
    shorten,
)

_FROM = re.compile(r"(?im)^\s*FROM\s+(?:--\S+\s+)*(?P<image>\S+)(?:\s+AS\s+(?P<name>\S+))?")
_EXPOSE = re.compile(r"(?im)^\s*EXPOSE\s+(.+)$")
_RUNS = re.compile(r"(?im)^\s*(ENTRYPOINT|CMD)\s+(.+)$")
_TARGET = re.compile(r"^(?P<names>[A-Za-z0-9_][\w./ -]*?)\s*:(?![=:])(?P<rest>[^=\n]*)$", re.M)
_HELP = re.compile(r"##\s*(.+)$")


def summarize_dockerfile(text: str, language: Language) -> Summary:
    """A Dockerfile: stages, ports and what the image runs."""
    stages = [(match.group("image"), match.group("name")) for match in _FROM.finditer(text)]
    comment = leading_comment(text, language)
    if comment:
        purpose = first_sentence(comment)
    elif stages:
        purpose = (f"Container image built in {plural(len(stages), 'stage')}, "
                   f"the last from {code(stages[-1][0])}.")
    else:
        purpose = "Dockerfile without a FROM instruction."
    summary = Summary(purpose=purpose)
    summary.add("Stages", [f"- {code(image)}" + (f" as {code(name)}" if name else "")
                           for image, name in stages])
    ports = [port for match in _EXPOSE.finditer(text) for port in match.group(1).split()]
    if ports:
        summary.facts.append("exposes " + ", ".join(code(port) for port in ports))
    runs = list(_RUNS.finditer(text))
    summary.add("Runs", [f"- {match.group(1).upper()} {code(shorten(match.group(2), 100))}"
                         for match in runs[-2:]])
    return summary


def summarize_makefile(text: str, language: Language) -> Summary:
    """A Makefile: its targets, the first one being the default."""
    targets: dict[str, tuple[str, str]] = {}
    for match in _TARGET.finditer(text):
        rest = match.group("rest")
        help_text = _HELP.search(rest)
        prerequisites = " ".join(rest.split("#")[0].split())
        for name in match.group("names").split():
            if not name.startswith(".") and "%" not in name and name not in targets:
                targets[name] = (prerequisites, help_text.group(1).strip() if help_text else "")
    comment = leading_comment(text, language)
    if comment:
        purpose = first_sentence(comment)
    elif targets:
        purpose = (f"Makefile with {plural(len(targets), 'target')}; "
                   f"the default is {code(next(iter(targets)))}.")
    else:
        purpose = "Makefile without targets."
    summary = Summary(purpose=purpose)
    summary.add("Targets", capped([
        f"- {code(f'{name}: {needs}' if needs else name)}" + (f" — {text}" if text else "")
        for name, (needs, text) in targets.items()
    ], 40))
    return summary
