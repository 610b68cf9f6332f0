"""api/context.py and api/app.py, api/ci.py and api/objects.py do not import each other, directly or
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
