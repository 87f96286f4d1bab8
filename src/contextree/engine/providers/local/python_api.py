"""A Python module's public surface, read from its syntax tree.

`read_surface` finds what the module offers: the names of `__all__` when it lists them
literally, else its public top-level definitions ranked by size (the biggest class of a
module is usually the one it exists for). Each definition is classified as a class, an
exception, a function or a constant; private names stay aside, shown only when nothing
is public.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

_Function = ast.FunctionDef | ast.AsyncFunctionDef
_EXCEPTION_SUFFIXES = ("Error", "Exception", "Warning", "Exit", "Interrupt")
_PROPERTY_DECORATORS = ("property", "cached_property", "setter", "getter", "deleter")
_CONSTRUCTORS = ("__init__", "__new__")

CLASS = "class"
EXCEPTION = "exception"
FUNCTION = "function"
CONSTANT = "constant"


@dataclass(frozen=True)
class Definition:
    """One top-level name the module defines: its kind, node and place in the source."""

    name: str
    kind: str
    node: ast.stmt
    index: int

    @property
    def size(self) -> int:
        end = self.node.end_lineno or self.node.lineno
        return end - self.node.lineno + 1


@dataclass
class Surface:
    """What a module offers: public definitions in rank order, re-exports and the rest."""

    exported: list[str] | None
    public: list[Definition] = field(default_factory=list)
    reexports: list[tuple[str, str]] = field(default_factory=list)
    unexported: list[Definition] = field(default_factory=list)
    private: list[Definition] = field(default_factory=list)
    star_sources: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Definition]:
        return [definition for definition in self.public if definition.kind == kind]


def read_surface(module: ast.Module) -> Surface:
    """The public surface of `module` (see the module docstring)."""
    definitions = _definitions(module)
    exported = exported_names(module)
    surface = Surface(exported=exported, star_sources=_star_sources(module))
    by_name = {definition.name: definition for definition in definitions}
    if exported is not None:
        imported = _imported_names(module)
        for name in exported:
            if name in by_name:
                surface.public.append(by_name[name])
            elif name in imported:
                surface.reexports.append((name, imported[name]))
        listed = set(exported)
        surface.unexported = [d for d in definitions if d.name not in listed and _public(d.name)]
    else:
        ranked = sorted(definitions, key=lambda d: (-d.size if d.kind != CONSTANT else 0, d.index))
        surface.public = [d for d in ranked if _public(d.name)]
    surface.private = [d for d in definitions if not _public(d.name)]
    return surface


def exported_names(module: ast.Module) -> list[str] | None:
    """The names `__all__` lists literally (with `+=`, `extend`, `append`), else None."""
    names: list[str] | None = None
    for node in module.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and _targets_all(node):
            names = _literal_names(node.value)
        elif isinstance(node, ast.AugAssign) and _is_all(node.target) and names is not None:
            names += _literal_names(node.value) or []
        elif names is not None and isinstance(node, ast.Expr):
            names += _appended_names(node.value)
    return list(dict.fromkeys(names)) if names else None


def _targets_all(node: ast.Assign | ast.AnnAssign) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return any(_is_all(target) for target in targets)


def _is_all(target: ast.expr) -> bool:
    return isinstance(target, ast.Name) and target.id == "__all__"


def _literal_names(value: ast.expr | None) -> list[str] | None:
    if isinstance(value, ast.List | ast.Tuple):
        names = [item.value for item in value.elts if isinstance(item, ast.Constant)]
        return [name for name in names if isinstance(name, str)]
    return None


def _appended_names(call: ast.expr) -> list[str]:
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return []
    if not (_is_all(call.func.value) and call.args):
        return []
    if call.func.attr == "append" and isinstance(call.args[0], ast.Constant):
        return [str(call.args[0].value)]
    if call.func.attr == "extend":
        return _literal_names(call.args[0]) or []
    return []


def _public(name: str) -> bool:
    return not name.startswith("_")


def _definitions(module: ast.Module) -> list[Definition]:
    """Top-level classes, functions and named constants, each name once (first wins)."""
    found: dict[str, Definition] = {}
    for index, node in enumerate(top_level_statements(module.body)):
        for name, kind in _defined_names(node):
            if name not in found:
                found[name] = Definition(name, kind, node, index)
    return list(found.values())


def _defined_names(node: ast.stmt) -> list[tuple[str, str]]:
    if isinstance(node, ast.ClassDef):
        return [(node.name, EXCEPTION if is_exception(node) else CLASS)]
    if isinstance(node, _Function):
        return [(node.name, FUNCTION)]
    target = assigned_name(node)
    if target is not None and (target.isupper() or _is_type_alias(node)) and target != "__all__":
        return [(target, CONSTANT)]
    return []


def _is_type_alias(node: ast.stmt) -> bool:
    annotation = node.annotation if isinstance(node, ast.AnnAssign) else None
    return annotation is not None and ast.unparse(annotation).endswith("TypeAlias")


def assigned_name(node: ast.stmt) -> str | None:
    """The single plain name an assignment statement binds, if any."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        return target.id if isinstance(target, ast.Name) else None
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def assigned_value(node: ast.stmt) -> ast.expr | None:
    return node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None


def is_exception(cls: ast.ClassDef) -> bool:
    """A class named like an exception, or derived from one by name."""
    names = [cls.name, *(last_name(base) for base in cls.bases)]
    return any(name.endswith(_EXCEPTION_SUFFIXES) for name in names)


def top_level_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module statements, including those inside top-level `if` and `try` blocks."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from top_level_statements([*node.body, *node.orelse])
        elif isinstance(node, ast.Try):
            handlers = [stmt for handler in node.handlers for stmt in handler.body]
            yield from top_level_statements([*node.body, *handlers, *node.orelse])


def _imported_names(module: ast.Module) -> dict[str, str]:
    """Name bound by a top-level `from … import` → the module it comes from."""
    names: dict[str, str] = {}
    for node in top_level_statements(module.body):
        if isinstance(node, ast.ImportFrom):
            source = "." * node.level + (node.module or "")
            for alias in node.names:
                names.setdefault(alias.asname or alias.name, source)
    return names


def _star_sources(module: ast.Module) -> list[str]:
    sources = []
    for node in top_level_statements(module.body):
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            sources.append("." * node.level + (node.module or ""))
    return list(dict.fromkeys(sources))


# -- the members of a class -----------------------------------------------------------------


@dataclass
class Members:
    """A class's public methods, properties (each once), fields and special methods."""

    constructor: _Function | None = None
    methods: list[_Function] = field(default_factory=list)
    properties: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    special: list[str] = field(default_factory=list)


def class_members(cls: ast.ClassDef) -> Members:
    """The members of `cls` a user of the class sees."""
    members = Members()
    method_names: set[str] = set()
    for node in cls.body:
        if isinstance(node, _Function):
            _add_function(members, node, method_names)
        else:
            name = assigned_name(node)
            if name is not None and _public(name) and name not in members.fields:
                members.fields.append(name)
    return members


def _add_function(members: Members, node: _Function, method_names: set[str]) -> None:
    name = node.name
    if name in _CONSTRUCTORS:
        members.constructor = members.constructor or node
    elif name.startswith("__") and name.endswith("__"):
        if name not in members.special:
            members.special.append(name)
    elif not _public(name):
        return
    elif _is_property(node):
        if name not in members.properties:
            members.properties.append(name)
    elif name not in method_names:
        method_names.add(name)
        members.methods.append(node)


def _is_property(node: _Function) -> bool:
    return any(last_name(decorator) in _PROPERTY_DECORATORS for decorator in node.decorator_list)


def last_name(expression: ast.expr) -> str:
    """What follows the last dot of `expression` as written (`b` for `a.b`); a plain name or
    attribute is read without unparsing it."""
    if isinstance(expression, ast.Name):
        return expression.id
    if isinstance(expression, ast.Attribute):
        return expression.attr
    return ast.unparse(expression).rsplit(".", 1)[-1]
