"""What a project manifest configures: `pyproject.toml`, `Cargo.toml` and `package.json`.

Recognised by their shape (a `[project]` or `[tool.poetry]` table with a name, a `[package]`
table, a JSON object with a name and dependencies or scripts), each gives the project's name
and description, its dependencies, its console scripts (under `SCRIPTS_SECTION`, which a
directory frame gathers as entry points) and the tools it configures.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from contextree.engine.providers.local.summary import (
    SCRIPTS_SECTION,
    Summary,
    capped,
    code,
    first_sentence,
    shorten,
)

_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def manifest_summary(data: Mapping[str, object]) -> Summary | None:
    """The summary of a manifest, or None when `data` is not one."""
    project = _table(data, "project")
    poetry = _table(_table(data, "tool"), "poetry")
    if isinstance(project.get("name"), str):
        return _python_project(data, project, "project.scripts")
    if isinstance(poetry.get("name"), str):
        return _python_project(data, poetry, "tool.poetry.scripts")
    package = _table(data, "package")
    if isinstance(package.get("name"), str):
        return _cargo(data, package)
    if isinstance(data.get("name"), str) and any(
        key in data for key in ("dependencies", "devDependencies", "scripts", "bin")
    ):
        return _npm(data)
    return None


def _python_project(
    data: Mapping[str, object], project: Mapping[str, object], scripts_key: str
) -> Summary:
    summary = Summary(purpose=_purpose("Python project", project))
    summary.facts += _version_facts(project, "version", "requires-python")
    dependencies = project.get("dependencies")
    if isinstance(dependencies, list):
        summary.add("Dependencies", capped([f"- {code(str(item))}" for item in dependencies]))
    elif isinstance(dependencies, dict):
        summary.add("Dependencies", capped([f"- {code(str(name))}" for name in dependencies]))
    extras = _table(project, "optional-dependencies")
    summary.add("Optional dependencies", capped([
        f"- {code(str(group))}: " + ", ".join(code(_requirement(r)) for r in _list(items))
        for group, items in extras.items()
    ]))
    scripts = {**_table(project, "scripts"), **_table(project, "gui-scripts")}
    summary.add(SCRIPTS_SECTION, [f"- {code(str(name))} → {code(str(target))} ({scripts_key})"
                                  for name, target in scripts.items()])
    tools = [name for name in _table(data, "tool") if name != "poetry"]
    summary.add("Tools configured", [", ".join(code(name) for name in tools)] if tools else [])
    backend = _table(data, "build-system").get("build-backend")
    if isinstance(backend, str):
        summary.facts.append(f"built with {code(backend)}")
    return summary


def _cargo(data: Mapping[str, object], package: Mapping[str, object]) -> Summary:
    summary = Summary(purpose=_purpose("Rust crate", package))
    summary.facts += _version_facts(package, "version", "edition")
    for key, title in (("dependencies", "Dependencies"), ("dev-dependencies", "Dev dependencies")):
        summary.add(title, capped([f"- {code(str(name))}" for name in _table(data, key)]))
    binaries = [item.get("name") for item in _list(data.get("bin")) if isinstance(item, dict)]
    summary.add(SCRIPTS_SECTION, [f"- {code(str(name))} (binary target)"
                                  for name in binaries if name])
    return summary


def _npm(data: Mapping[str, object]) -> Summary:
    summary = Summary(purpose=_purpose("JavaScript package", data))
    summary.facts += _version_facts(data, "version")
    binaries = data.get("bin")
    if isinstance(binaries, str):
        binaries = {str(data["name"]): binaries}
    summary.add(SCRIPTS_SECTION, [f"- {code(str(name))} → {code(str(target))} (bin)"
                                  for name, target in _mapping(binaries).items()])
    entry = data.get("main") or data.get("module")
    if isinstance(entry, str):
        summary.facts.append(f"entry {code(entry)}")
    summary.add("npm scripts", capped([
        f"- {code(str(name))}: {code(shorten(str(command), 80))}"
        for name, command in _table(data, "scripts").items()
    ]))
    for key, title in (("dependencies", "Dependencies"), ("devDependencies", "Dev dependencies")):
        summary.add(title, capped([f"- {code(str(name))}" for name in _table(data, key)]))
    return summary


def _purpose(kind: str, table: Mapping[str, object]) -> str:
    description = table.get("description")
    name = code(str(table.get("name")))
    if isinstance(description, str) and description.strip():
        return f"{kind} {name}: {first_sentence(description)}"
    return f"{kind} {name}."


def _version_facts(table: Mapping[str, object], *keys: str) -> list[str]:
    return [f"{key} {code(str(table[key]))}" for key in keys if isinstance(table.get(key), str)]


def _requirement(requirement: object) -> str:
    match = _REQUIREMENT_NAME.match(str(requirement))
    return match.group(1) if match else str(requirement)


def _table(data: Mapping[str, object], key: str) -> Mapping[str, object]:
    return _mapping(data.get(key))


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []
