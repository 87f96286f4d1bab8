"""Summarizing a Python file from its syntax tree, or from regexes when it does not parse.

The module docstring gives the purpose; top-level classes (with their methods), functions
(with signatures and the first docstring line), constants, imports grouped by origin and a
`__main__` entry point give the sections. A truncated or broken file falls back to line-based
patterns and says so.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import PurePosixPath

from contextree.engine.providers.local.summary import (
    Summary,
    capped,
    code,
    first_sentence,
    join_names,
    plural,
    shorten,
)

MAX_SIGNATURE_CHARS = 160
MAX_METHODS = 15
_Function = ast.FunctionDef | ast.AsyncFunctionDef


def summarize_python(path: str, text: str) -> Summary:
    """The summary of Python source `text` found at workspace path `path`."""
    try:
        module = ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        return _summarize_by_patterns(text, _parse_problem(exc))
    return _summarize_tree(path, module)


def _parse_problem(exc: Exception) -> str:
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f"line {exc.lineno}: {exc.msg}"
    return str(exc) or type(exc).__name__


# -- from the syntax tree -------------------------------------------------------------------


def _summarize_tree(path: str, module: ast.Module) -> Summary:
    classes = [node for node in module.body if isinstance(node, ast.ClassDef)]
    functions = [node for node in module.body if isinstance(node, _Function)]
    docstring = ast.get_docstring(module) or ""
    entry = _entry_point(module)
    summary = Summary(purpose=_purpose(docstring, classes, functions, entry is not None))
    tests = _count_tests(classes, functions)
    if tests:
        summary.facts.append(plural(tests, "test"))
    summary.add("Overview", _overview(docstring))
    summary.add("Classes", capped([line for cls in classes for line in _class_lines(cls)]))
    summary.add("Functions", _function_lines(functions))
    summary.add("Constants", capped(_constant_lines(module)))
    summary.add("Imports", _import_lines(path, module))
    if entry is not None:
        summary.add("Entry point", [f'Runs as a script: `if __name__ == "__main__"` → {entry}.'])
    return summary


def _purpose(
    docstring: str, classes: list[ast.ClassDef], functions: list[_Function], is_script: bool
) -> str:
    if docstring.strip():
        return first_sentence(docstring.split("\n\n")[0])
    parts = []
    if classes:
        noun = "class" if len(classes) == 1 else "classes"
        parts.append(f"{noun} {join_names([cls.name for cls in classes])}")
    if functions:
        noun = "function" if len(functions) == 1 else "functions"
        parts.append(f"{noun} {join_names([function.name for function in functions])}")
    if not parts:
        kind = "script" if is_script else "module"
        return f"Python {kind} without top-level classes or functions."
    kind = "script" if is_script else "module"
    return f"Python {kind} defining " + " and ".join(parts) + "."


def _overview(docstring: str) -> list[str]:
    paragraph = " ".join(docstring.split("\n\n")[0].split())
    if not paragraph or first_sentence(paragraph) == paragraph:
        return []
    return [shorten(paragraph, 600)]


def _class_lines(cls: ast.ClassDef) -> list[str]:
    bases = ", ".join(ast.unparse(base) for base in [*cls.bases, *cls.keywords])
    header = f"class {cls.name}({bases})" if bases else f"class {cls.name}"
    decorators = " ".join(f"@{ast.unparse(item)}" for item in cls.decorator_list)
    signature = f"{decorators} {header}" if decorators else header
    lines = [f"- {code(shorten(signature, MAX_SIGNATURE_CHARS))}{_doc_suffix(cls)}"]
    methods = [node.name for node in cls.body if isinstance(node, _Function)]
    if methods:
        shown = ", ".join(code(name) for name in methods[:MAX_METHODS])
        more = f" and {len(methods) - MAX_METHODS} more" if len(methods) > MAX_METHODS else ""
        lines.append(f"  - methods: {shown}{more}")
    return lines


def _function_lines(functions: list[_Function]) -> list[str]:
    """Public functions with signatures; private helpers named on one line."""
    public = [function for function in functions if not function.name.startswith("_")]
    helpers = [function.name for function in functions if function.name.startswith("_")]
    lines = capped([_function_line(function) for function in public])
    if helpers:
        shown = ", ".join(code(name) for name in helpers[:MAX_METHODS])
        more = f" and {len(helpers) - MAX_METHODS} more" if len(helpers) > MAX_METHODS else ""
        lines.append(f"- private helpers: {shown}{more}")
    return lines


def _function_line(function: _Function) -> str:
    prefix = "async def" if isinstance(function, ast.AsyncFunctionDef) else "def"
    signature = f"{prefix} {function.name}({ast.unparse(function.args)})"
    if function.returns is not None:
        signature += f" -> {ast.unparse(function.returns)}"
    return f"- {code(shorten(signature, MAX_SIGNATURE_CHARS))}{_doc_suffix(function)}"


def _doc_suffix(node: ast.ClassDef | _Function) -> str:
    docstring = ast.get_docstring(node)
    if not docstring or not docstring.strip():
        return ""
    return " — " + first_sentence(docstring.strip().split("\n\n")[0], limit=160)


def _constant_lines(module: ast.Module) -> list[str]:
    lines = []
    for node in module.body:
        target, value = _assignment(node)
        if target is None or not (target.isupper() or target == "__all__"):
            continue
        rendered = ast.unparse(value) if value is not None else ""
        shown = f"{target} = {rendered}" if rendered and len(rendered) <= 60 else target
        lines.append(f"- {code(shown)}")
    return lines


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        return (target.id if isinstance(target, ast.Name) else None), node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    return None, None


def _count_tests(classes: list[ast.ClassDef], functions: list[_Function]) -> int:
    methods = [node for cls in classes for node in cls.body if isinstance(node, _Function)]
    return sum(1 for node in [*functions, *methods] if node.name.startswith("test"))


def _entry_point(module: ast.Module) -> str | None:
    for node in module.body:
        if isinstance(node, ast.If) and _is_main_guard(node.test):
            first = node.body[0] if node.body else None
            return code(shorten(ast.unparse(first), 80)) if first is not None else "nothing"
    return None


def _is_main_guard(test: ast.expr) -> bool:
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1:
        return False
    sides = [test.left, test.comparators[0]]
    names = [side.id for side in sides if isinstance(side, ast.Name)]
    values = [side.value for side in sides if isinstance(side, ast.Constant)]
    return names == ["__name__"] and values == ["__main__"]


# -- imports --------------------------------------------------------------------------------


def _import_lines(path: str, module: ast.Module) -> list[str]:
    groups: dict[str, list[str]] = {"Standard library": [], "Third-party": [], "Local": []}
    local_roots = set(PurePosixPath(path).parts[:-1])
    for name in _imported_modules(module):
        groups[_import_origin(name, local_roots)].append(name)
    lines = []
    for title, names in groups.items():
        if names:
            shown = ", ".join(code(name) for name in names[:20])
            more = f" and {len(names) - 20} more" if len(names) > 20 else ""
            lines.append(f"- {title}: {shown}{more}")
    return lines


def _imported_modules(module: ast.Module) -> list[str]:
    names: list[str] = []
    for node in _top_level_statements(module.body):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            candidates = ["." * node.level + (node.module or "")]
        else:
            continue
        names.extend(
            name for name in candidates if name and name != "__future__" and name not in names
        )
    return names


def _top_level_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module statements, including those inside top-level `if` and `try` blocks."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from _top_level_statements([*node.body, *node.orelse])
        elif isinstance(node, ast.Try):
            handlers = [stmt for handler in node.handlers for stmt in handler.body]
            yield from _top_level_statements([*node.body, *handlers, *node.orelse])


def _import_origin(name: str, local_roots: set[str]) -> str:
    root = name.split(".")[0]
    if name.startswith(".") or root in local_roots:
        return "Local"
    if root in sys.stdlib_module_names or root == "__future__":
        return "Standard library"
    return "Third-party"


# -- from patterns, when the tree is unavailable --------------------------------------------

_DOCSTRING = re.compile(r"\A(?:\s*#[^\n]*\n)*\s*[rRuU]?(\"\"\"|''')(.*?)(?:\1|\Z)", re.DOTALL)
_CLASS = re.compile(r"^class\s+(\w+)\s*(\([^)]*\))?\s*:", re.MULTILINE)
_FUNCTION = re.compile(r"^((?:async\s+)?def\s+(\w+)\s*\([^)]*\)(?:\s*->\s*[^:]+)?)", re.MULTILINE)
_IMPORT = re.compile(r"^(?:from\s+(\.*[\w.]*)\s+import|import\s+([\w.]+))", re.MULTILINE)
_MAIN = re.compile(r"^if\s+__name__\s*==\s*[\"']__main__[\"']\s*:", re.MULTILINE)


def _summarize_by_patterns(text: str, problem: str) -> Summary:
    docstring = _DOCSTRING.match(text)
    classes = [match.group(1) for match in _CLASS.finditer(text)]
    functions = [match.group(2) for match in _FUNCTION.finditer(text)]
    if docstring and docstring.group(2).strip():
        purpose = first_sentence(docstring.group(2).strip().split("\n\n")[0])
    else:
        names = join_names(classes + functions)
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
        summary.add("Entry point", ['Runs as a script (`if __name__ == "__main__"`).'])
    return summary
