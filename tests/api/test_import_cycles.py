"""No import cycles in the package (and, as first asked, api/context.py and api/app.py, api/ci.py and
api/objects.py do not import each other), directly or
through other modules -- counting every import statement (in functions and under TYPE_CHECKING too)."""

from __future__ import annotations

import ast
import os

import cosbeauty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(cosbeauty.__file__)))


def import_graph() -> dict[str, set[str]]:
    modules: dict[str, str] = {}
    for dirpath, _, files in os.walk(os.path.join(ROOT, "cosbeauty")):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                module = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".").removesuffix(".__init__")
                modules[module] = path
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    deps.add(full if full in modules else base)
        graph[module] = {d for d in deps if d in modules and d != module}
    return graph


def reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return False


def test_no_cycle_between_context_and_app_nor_ci_and_objects():
    graph = import_graph()
    for a, b in (("cosbeauty.api.context", "cosbeauty.api.app"), ("cosbeauty.api.ci", "cosbeauty.api.objects")):
        assert not (reaches(graph, a, b) and reaches(graph, b, a)), f"{a} and {b} import each other"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_anywhere():
    """No two modules of the package import each other, directly or through others, counting
    imports inside functions and under TYPE_CHECKING (type-only needs use a Protocol instead)."""
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
