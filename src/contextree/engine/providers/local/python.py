"""Summarizing a Python file from its syntax tree, or from patterns when it does not parse.

The purpose comes from the module docstring or leading comment (licence text never counts);
then the public surface (`python_api`): classes with their public methods and properties,
exceptions, functions with signatures and the first sentence of their docstrings, constants
and re-exports; imports grouped by origin; and how the file runs. A file is a script only
when running is its main job: `__main__.py`, or a `__main__` block with nothing public but a
`main`-like function.
"""

from __future__ import annotations

import ast
import sys
import threading
from pathlib import PurePosixPath

from contextree.engine.providers.local.languages import file_name
from contextree.engine.providers.local.licence import purpose_paragraphs
from contextree.engine.providers.local.python_api import (
    CLASS,
    CONSTANT,
    EXCEPTION,
    FUNCTION,
    Surface,
    read_surface,
    top_level_statements,
)
from contextree.engine.providers.local.python_fallback import summarize_by_patterns
from contextree.engine.providers.local.python_render import (
    class_lines,
    constant_line,
    definition_names,
    function_line,
    names_line,
)
from contextree.engine.providers.local.python_skeleton import skeleton
from contextree.engine.providers.local.summary import (
    DEMO_ENTRY,
    ENTRY_POINT_SECTION,
    Summary,
    after_first_sentence,
    capped,
    code,
    first_sentence,
    plural,
    shorten,
)

MAX_OVERVIEW_CHARS = 500
RUNNER_NAMES = frozenset({"main", "run", "cli", "parse_args", "create_parser", "build_parser"})
_Function = ast.FunctionDef | ast.AsyncFunctionDef


_PARSE_LOCK = threading.Lock()
"""CPython 3.11 keeps the syntax tree builder's recursion depth per interpreter, not per
thread: two threads parsing at once can make either fail with a spurious `SystemError`
("AST constructor recursion depth mismatch"). Parsing holds the GIL anyway, so this costs
nothing."""

_UNPARSEABLE = (SyntaxError, ValueError, RecursionError, MemoryError, SystemError)
"""What `ast.parse` raises for a file it cannot turn into a tree: bad syntax, NUL bytes, an
expression nested too deep to build, or the interpreter's builder in a bad state."""


def summarize_python(path: str, text: str) -> Summary:
    """The summary of Python source `text` found at workspace path `path`, parsed once: its
    skeleton (function bodies blanked), or the whole source when the skeleton does not parse,
    or patterns when neither does."""
    try:
        module = _parse(skeleton(text))
    except _UNPARSEABLE:
        try:
            module = _parse(text)
        except _UNPARSEABLE as exc:
            return summarize_by_patterns(text, _parse_problem(exc))
    return summarize_module(path, text, module)


def _parse(source: str) -> ast.Module:
    with _PARSE_LOCK:
        return ast.parse(source)


def _parse_problem(exc: Exception) -> str:
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f"line {exc.lineno}: {exc.msg}"
    if isinstance(exc, RecursionError | MemoryError):
        return "nested too deeply to parse"
    return str(exc) or type(exc).__name__


def summarize_module(path: str, text: str, module: ast.Module) -> Summary:
    """The summary of a parsed module."""
    surface = read_surface(module)
    entry = _main_block(module)
    script = _is_script(path, text, surface, entry is not None)
    described = purpose_paragraphs(ast.get_docstring(module) or "")
    if not described:
        described = purpose_paragraphs(leading_comment(text))
    purpose = first_sentence(described[0]) if described else _made_up_purpose(surface, script)
    summary = Summary(purpose=purpose)
    tests = _count_tests(module)
    if tests:
        summary.facts.append(plural(tests, "test"))
    summary.add("Overview", _overview(described))
    _add_surface(summary, surface)
    summary.add("Imports", _import_lines(path, module))
    summary.add(ENTRY_POINT_SECTION, _entry_lines(path, surface, entry, script))
    return summary


def _add_surface(summary: Summary, surface: Surface) -> None:
    classes = surface.of_kind(CLASS)
    summary.add("Classes", capped([line for cls in classes for line in class_lines(cls)], 60))
    summary.add("Exceptions", capped([line for exc in surface.of_kind(EXCEPTION)
                                      for line in class_lines(exc, brief=True)]))
    summary.add("Functions", capped([function_line(d) for d in surface.of_kind(FUNCTION)], 40))
    summary.add("Constants", capped([constant_line(d) for d in surface.of_kind(CONSTANT)]))
    reexports = [f"- {code(name)} from {code(source)}" for name, source in surface.reexports]
    if surface.star_sources:
        reexports.append(names_line("everything public from", surface.star_sources))
    summary.add("Re-exports", capped(reexports))
    if surface.unexported:
        title = "not in `__all__`"
        summary.add("Also defined", [names_line(title, definition_names(surface.unexported))])
    if not surface.public and not surface.reexports and surface.private:
        summary.add("Private definitions", [
            names_line("names", definition_names(surface.private)),
        ])


def leading_comment(text: str) -> str:
    """The `#` comments before the first statement, without shebang and coding lines."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            if stripped:
                break
            lines.append("")
            continue
        if stripped.startswith("#!") or "-*-" in stripped or "coding" in stripped[:20]:
            continue
        lines.append(stripped.lstrip("#").strip())
    return "\n".join(lines)


def _made_up_purpose(surface: Surface, script: bool) -> str:
    kind = "script" if script else "module"
    shown = surface.public or surface.private
    parts = []
    for kind_of, singular, plural_form in (
        (CLASS, "class", "classes"), (EXCEPTION, "exception", "exceptions"),
        (FUNCTION, "function", "functions"), (CONSTANT, "constant", "constants"),
    ):
        names = [d.name for d in shown if d.kind == kind_of]
        if names:
            noun = singular if len(names) == 1 else plural_form
            parts.append(f"{noun} {_join(names)}")
    if surface.reexports and not parts:
        parts.append(f"re-exports {_join([name for name, _ in surface.reexports])}")
    if not parts:
        return f"Python {kind} without top-level classes or functions."
    return f"Python {kind} defining " + " and ".join(parts[:2]) + "."


def _join(names: list[str], limit: int = 3) -> str:
    shown = [code(name) for name in names[:limit]]
    rest = len(names) - len(shown)
    if rest > 0:
        return ", ".join(shown) + f" and {rest} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _overview(described: list[str]) -> list[str]:
    """What the docstring says beyond its first sentence: prose only, no examples."""
    if not described:
        return []
    remainder = after_first_sentence(described[0])
    pieces = [remainder] if remainder else []
    for paragraph in described[1:]:
        if not _is_prose(paragraph):
            continue
        pieces.append(" ".join(paragraph.split()))
        if sum(len(piece) for piece in pieces) > MAX_OVERVIEW_CHARS:
            break
    text = " ".join(pieces).strip()
    return [shorten(text, MAX_OVERVIEW_CHARS)] if text else []


def _is_prose(paragraph: str) -> bool:
    """Not a code example, a shell session or a lead-in to one."""
    if paragraph[:1].isspace() or paragraph.startswith(("$", ">>>", "..", "-")):
        return False
    return ">>>" not in paragraph and not paragraph.endswith("::")


def _count_tests(module: ast.Module) -> int:
    count = 0
    for node in module.body:
        if isinstance(node, _Function) and node.name.startswith("test"):
            count += 1
        elif isinstance(node, ast.ClassDef):
            count += sum(1 for item in node.body
                         if isinstance(item, _Function) and item.name.startswith("test"))
    return count


# -- how the file runs ----------------------------------------------------------------------


def _main_block(module: ast.Module) -> str | None:
    for node in module.body:
        if isinstance(node, ast.If) and _is_main_guard(node.test):
            return _first_action(node.body)
    return None


def _first_action(body: list[ast.stmt]) -> str:
    """The first call the block makes (or its first line), as inline code."""
    for node in body:
        for inner in ast.walk(node):
            if isinstance(inner, ast.Expr | ast.Assign) and isinstance(inner.value, ast.Call):
                return code(shorten(ast.unparse(inner), 80))
    if not body:
        return "nothing"
    return code(shorten(ast.unparse(body[0]).splitlines()[0], 80))


def _is_main_guard(test: ast.expr) -> bool:
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1:
        return False
    sides = [test.left, test.comparators[0]]
    names = [side.id for side in sides if isinstance(side, ast.Name)]
    values = [side.value for side in sides if isinstance(side, ast.Constant)]
    return names == ["__name__"] and values == ["__main__"]


def _is_script(path: str, text: str, surface: Surface, has_main_block: bool) -> bool:
    if file_name(path) == "__main__.py":
        return True
    if not (has_main_block or text.startswith("#!")):
        return False
    offered = [d for d in surface.public if d.name not in RUNNER_NAMES]
    return not offered and not surface.reexports


def _entry_lines(path: str, surface: Surface, entry: str | None, script: bool) -> list[str]:
    lines = []
    posix = PurePosixPath(path)
    if posix.name == "__main__.py" and len(posix.parts) > 1:
        lines.append(f"Runs as `python -m {'.'.join(posix.parts[:-1])}`.")
    if entry is not None:
        verb = "Runs as a script" if script else DEMO_ENTRY
        lines.append(f'{verb}: `if __name__ == "__main__"` → {entry}.')
    runner = next((d for d in surface.public if d.name == "main" and d.kind == FUNCTION), None)
    if runner is not None and not lines:
        lines.append(f"Defines {code('main()')}, the usual entry function.")
    return lines


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
    for node in top_level_statements(module.body):
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


def _import_origin(name: str, local_roots: set[str]) -> str:
    root = name.split(".")[0]
    if name.startswith(".") or root in local_roots:
        return "Local"
    if root in sys.stdlib_module_names or root == "__future__":
        return "Standard library"
    return "Third-party"

