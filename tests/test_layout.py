"""The package's shape: its modules import one another without a cycle (counting the
imports inside functions too), so each can be read and changed on its own, and the
model layer never reaches up to the doors built on it (the API, the web app, the commands).

`python tests/test_layout.py` prints the import graph, one module and what it imports per line.
"""

import ast
import os

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "groove_vae")


def import_graph() -> dict[str, set[str]]:
    """{module: the groove_vae modules it imports anywhere in its file}."""
    modules = {}
    for directory, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                module = os.path.relpath(path, os.path.dirname(ROOT))[:-3].replace(os.sep, ".")
                modules[module.removesuffix(".__init__")] = path
    graph = {}
    for module, path in modules.items():
        with open(path) as f:
            tree = ast.parse(f.read())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("groove_vae"):
                imported |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                             for a in node.names}
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("groove_vae")}
        graph[module] = {m for m in imported if m in modules and m not in (module, "groove_vae")}
    return graph


def find_cycle(graph):
    """One import cycle as a list of modules, or None."""
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for other in sorted(graph[module]):
            if state.get(other) == "open":
                return stack[stack.index(other):] + [other]
            if other not in state and (cycle := visit(other)):
                return cycle
        stack.pop()
        state[module] = "done"
        return None

    return next((cycle for module in sorted(graph) if module not in state and (cycle := visit(module))), None)


UPPER_LAYERS = ("groove_vae.api", "groove_vae.webapp", "groove_vae.commands", "groove_vae.cli")


def reachable(graph, module) -> set[str]:
    """The modules `module` imports, directly or through others."""
    seen, todo = set(), [module]
    while todo:
        for other in graph[todo.pop()] - seen:
            seen.add(other)
            todo.append(other)
    return seen


def upper(modules) -> set[str]:
    return {m for m in modules if any(m == u or m.startswith(u + ".") for u in UPPER_LAYERS)}


def test_the_model_never_imports_the_api_the_web_app_or_the_commands():
    graph = import_graph()
    for module in ("groove_vae.model", "groove_vae.training", "groove_vae.evaluation.runners"):
        assert not upper(reachable(graph, module)), f"{module} reaches {sorted(upper(reachable(graph, module)))}"
    # The check itself sees a layer reached through another module.
    assert upper(reachable({"groove_vae.model": {"groove_vae.x"}, "groove_vae.x": {"groove_vae.webapp.app"},
                            "groove_vae.webapp.app": set()}, "groove_vae.model")) == {"groove_vae.webapp.app"}


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert {"groove_vae.api", "groove_vae.training", "groove_vae.runs", "groove_vae.bundled"} <= set(graph)
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


if __name__ == "__main__":
    graph = import_graph()
    for module in sorted(graph):
        print(f"{module:<32} -> {', '.join(sorted(m.removeprefix('groove_vae.') for m in graph[module])) or '-'}")
    print("cycle:", find_cycle(graph))
