"""The shape of drills/ read from its imports: no cycle between modules, and layers that
import one way only.

A cycle between modules makes the import order decide what works; a cycle between packages
means neither can be read without the other. The imports are read from the source (ast),
so a function-local import counts for the layers as much as one at the top; only imports
under ``if TYPE_CHECKING:`` (types, never run) are left out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "drills"

#: (lower, upper): the upper package may import the lower one, never the other way round
LAYERS = [
    ("stack", "kinds"),  # building blocks (service, endpoint, process) below the kinds
    ("stack", "runtime"),  # ... and below the runtimes that assemble a stack from them
    ("kinds", "runtime"),  # the runtimes ask the kinds' registry, never the other way round
    ("stack", "plan"),  # a plan names services; a service never reads a plan
    ("record", "measure"),  # what a drill recorded, below what is computed from it
    ("record", "report"),
    ("trends", "measure"),  # the runs database and a baseline, below the judging against them
    ("trends", "report"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in ROOT.rglob("*.py")}


def _statements(body: list[ast.stmt], nested: bool) -> Iterator[ast.stmt]:
    """The statements that run: into if/try/with blocks, into functions only if ``nested``."""
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _statements(node.orelse, nested)
            continue
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not nested:
            continue
        for field in ("body", "orelse", "finalbody", "handlers"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                yield from _statements([c for c in children if isinstance(c, ast.AST)], nested)


def imports_of(name: str, *, nested: bool) -> set[str]:
    """The drills modules ``name`` imports (at import time, or anywhere when ``nested``)."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in _statements(ast.parse(path.read_text()).body, nested):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in MODULES else base)
    return {module for module in found if module in MODULES and module != name}


def cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle through the graph reachable from ``start``, as a path, or None."""
    path: list[str] = []
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    return visit(start)


def test_no_import_cycle_between_modules() -> None:
    graph = {name: imports_of(name, nested=False) for name in MODULES}
    for name in sorted(MODULES):
        cycle = cycle_from(name, graph)
        assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _package(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


@pytest.mark.parametrize(("lower", "upper"), LAYERS)
def test_a_lower_layer_never_imports_the_upper_one(lower: str, upper: str) -> None:
    wrong = sorted(f"{name} imports {target}"
                   for name in MODULES if _package(name) == lower
                   for target in imports_of(name, nested=True) if _package(target) == upper)
    assert not wrong, f"drills/{lower} is below drills/{upper}:\n" + "\n".join(wrong)


def test_the_reader_sees_a_cycle_and_a_function_local_import() -> None:
    """The two checks above on code written to fail them."""
    source = ast.parse("from drills.a import x\n"
                       "if TYPE_CHECKING:\n    from drills.c import y\n"
                       "def f():\n    from drills.b import z\n")
    top = [n for n in _statements(source.body, nested=False) if isinstance(n, ast.ImportFrom)]
    anywhere = [n for n in _statements(source.body, nested=True) if isinstance(n, ast.ImportFrom)]
    assert [n.module for n in top] == ["drills.a"]
    assert [n.module for n in anywhere] == ["drills.a", "drills.b"]
    assert cycle_from("a", {"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_from("a", {"a": {"b"}, "b": {"c"}}) is None
