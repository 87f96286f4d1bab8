"""Markdown lines for the definitions of a Python module's public surface.

A class is its header and docstring sentence, then its constructor, public methods (with
signatures when there are few, by name when there are many — never hidden behind a count
below `MAX_NAMES`), properties (each once), fields and special methods. Functions get their
signatures, constants their value when it is short.
"""

from __future__ import annotations

import ast
import re

from contextree.engine.providers.local.python_api import (
    Definition,
    assigned_value,
    class_members,
)
from contextree.engine.providers.local.summary import code, first_sentence, shorten

MAX_SIGNATURE_CHARS = 160
MAX_DOC_CHARS = 160
MAX_METHODS_WITH_SIGNATURES = 8
MAX_NAMES = 80
MAX_VALUE_CHARS = 60
_Function = ast.FunctionDef | ast.AsyncFunctionDef
_RECEIVER = re.compile(r"^(?:self|cls)(?:, |$)")


def class_lines(definition: Definition, *, brief: bool = False) -> list[str]:
    """The bullet of a class and, unless `brief`, the sub-bullets of its members."""
    cls = definition.node
    assert isinstance(cls, ast.ClassDef)
    bases = ", ".join(ast.unparse(base) for base in [*cls.bases, *cls.keywords])
    header = f"class {cls.name}({bases})" if bases else f"class {cls.name}"
    decorators = " ".join(f"@{ast.unparse(item)}" for item in cls.decorator_list)
    signature = f"{decorators} {header}" if decorators else header
    lines = [f"- {code(shorten(signature, MAX_SIGNATURE_CHARS))}{doc_suffix(cls)}"]
    if brief:
        return lines
    members = class_members(cls)
    if members.constructor is not None:
        arguments = _arguments(members.constructor)
        if arguments:
            constructor = shorten(f"{cls.name}({arguments})", MAX_SIGNATURE_CHARS)
            lines.append(f"  - constructor: {code(constructor)}")
    if len(members.methods) <= MAX_METHODS_WITH_SIGNATURES:
        lines += [f"  - {code(_method_signature(method))}{doc_suffix(method)}"
                  for method in members.methods]
    else:
        lines.append("  " + names_line("methods", [method.name for method in members.methods]))
    for title, names in (("properties", members.properties), ("fields", members.fields),
                         ("special methods", members.special)):
        if names:
            lines.append("  " + names_line(title, names))
    return lines


def function_line(definition: Definition) -> str:
    """`- `def name(args) -> result` — first docstring sentence`."""
    function = definition.node
    assert isinstance(function, _Function)
    prefix = "async def" if isinstance(function, ast.AsyncFunctionDef) else "def"
    signature = f"{prefix} {function.name}({ast.unparse(function.args)})"
    if function.returns is not None:
        signature += f" -> {ast.unparse(function.returns)}"
    return f"- {code(shorten(signature, MAX_SIGNATURE_CHARS))}{doc_suffix(function)}"


def constant_line(definition: Definition) -> str:
    """`- `NAME = value`` when the value is short, else the name alone."""
    value = assigned_value(definition.node)
    rendered = ast.unparse(value) if value is not None else ""
    if rendered and len(rendered) <= MAX_VALUE_CHARS and "\n" not in rendered:
        return f"- {code(f'{definition.name} = {rendered}')}"
    return f"- {code(definition.name)}"


def names_line(label: str, names: list[str]) -> str:
    """`- label: `a`, `b`` with everything past `MAX_NAMES` counted."""
    shown = ", ".join(code(name) for name in names[:MAX_NAMES])
    more = f" and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else ""
    return f"- {label}: {shown}{more}"


def definition_names(definitions: list[Definition]) -> list[str]:
    return [definition.name for definition in definitions]


def doc_suffix(node: ast.ClassDef | _Function) -> str:
    """` — first sentence of the docstring`, or `""` without one."""
    docstring = ast.get_docstring(node)
    if not docstring or not docstring.strip():
        return ""
    return " — " + first_sentence(docstring.strip().split("\n\n")[0], limit=MAX_DOC_CHARS)


def _method_signature(method: _Function) -> str:
    prefix = "async " if isinstance(method, ast.AsyncFunctionDef) else ""
    signature = f"{prefix}{method.name}({_arguments(method)})"
    if method.returns is not None:
        signature += f" -> {ast.unparse(method.returns)}"
    return shorten(signature, MAX_SIGNATURE_CHARS)


def _arguments(function: _Function) -> str:
    """The parameters without the leading `self` or `cls`."""
    return _RECEIVER.sub("", ast.unparse(function.args))
