"""The modules of api/ and spatial/ import each other without cycles: every import counts, at the
top of a module or inside a function (an import put in a function to dodge a cycle is still
one); only ``if TYPE_CHECKING:`` blocks, which never run, are left out. Pure ``ast``: nothing is
imported, so the test sees the source as written."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "spatial")


def module_files() -> dict[str, Path]:
    """Dotted name -> file, for every module of the packages (a package is its __init__)."""
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(name: str, path: Path, modules: set[str]) -> dict[str, int]:
    """The modules of the packages that ``name`` imports, each with the line of its first import."""
    is_package = path.name == "__init__.py"
    found: dict[str, int] = {}

    def add(target: str, line: int) -> None:
        if target in modules and target != name:
            found.setdefault(target, line)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[:len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                add(sub if sub in modules else base, node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return found


def import_graph() -> dict[str, dict[str, int]]:
    files = module_files()
    return {name: imports_of(name, path, set(files)) for name, path in files.items()}


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each shown as one
    cycle through its first module, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def strongconnect(v: str) -> None:  # recursion depth: the graph's few hundred modules at most
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return sorted(_one_cycle(graph, c) for c in components)


def _one_cycle(graph: dict[str, dict[str, int]], component: list[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first inside it)."""
    start, members = component[0], set(component)
    previous = {start: None}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v]):
            if w == start:
                path = [v]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return path[::-1] + [start]
            if w in members and w not in previous:
                previous[w] = v
                queue.append(w)
    raise AssertionError(f"no cycle through {start}")  # a component of two or more always has one


def describe(graph: dict[str, dict[str, int]], cycle: list[str]) -> str:
    steps = zip(cycle, cycle[1:], strict=False)  # each module and the next on the cycle
    return " -> ".join(f"{a} (line {graph[a][b]})" for a, b in steps) + f" -> {cycle[-1]}"


def test_the_packages_import_each_other_without_cycles():
    graph = import_graph()
    assert len(graph) > 50 and "api.main" in graph and graph["api.main"]  # the walk found the code
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(describe(graph, c) for c in found)


def test_the_error_module_knows_no_other_part_of_the_api():
    """api.errors is what every layer raises and answers with: it imports no api module (a
    standard's error body, Open311's, is registered by that standard's routes)."""
    graph = import_graph()
    assert not [m for m in graph["api.errors"] if m.startswith("api.")], graph["api.errors"]


def test_the_check_finds_a_cycle_and_a_function_level_import(tmp_path):
    """The checker itself: a cycle closed by an import inside a function is found and named; a
    TYPE_CHECKING import is not an edge."""
    (tmp_path / "a.py").write_text("import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from a import g\n")
    (tmp_path / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\n")
    files = {p.stem: p for p in tmp_path.glob("*.py")}
    graph = {name: imports_of(name, path, set(files)) for name, path in files.items()}
    assert graph == {"a": {"b": 1}, "b": {"a": 2}, "c": {}}
    assert cycles(graph) == [["a", "b", "a"]]
    assert describe(graph, ["a", "b", "a"]) == "a (line 1) -> b (line 2) -> a"
