"""The package's import graph: one way only, and the two front ends apart.

Read from the source (every ``import`` statement, those inside functions too, since hiding an
import in a function is how a cycle would slip back in), so no module needs to be imported.
Imports only for the type checker (``if TYPE_CHECKING:``) are not run and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "flask_mailproof"


def module_name(path: Path) -> str:
    parts = ["flask_mailproof", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Return the package's modules that ``path`` imports."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in run_time_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            candidates = [target, *(f"{target}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found.update(c for c in candidates if c in modules and c != name)
    return found


def run_time_nodes(tree: ast.AST):
    """Walk ``tree``, leaving out ``if TYPE_CHECKING:`` blocks."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *run_time_nodes(child)])
            continue
        yield node
        yield from run_time_nodes(node)


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imports_of(p, modules) for p in paths}


def test_the_graph_is_read(graph):
    assert "flask_mailproof.guards" in graph["flask_mailproof.api.account_endpoints"]
    assert "flask_mailproof.flows.confirmation" in graph["flask_mailproof.flows.registration"]


def test_the_json_api_imports_nothing_from_the_html_views(graph):
    crossing = {
        (module, target)
        for module, targets in graph.items()
        if module.startswith("flask_mailproof.api")
        for target in targets
        if target.startswith("flask_mailproof.web")
    }

    assert crossing == set()


def test_there_is_no_import_cycle(graph):
    # A package's __init__ re-exports its modules; importing it is not a dependency back.
    edges = {
        module: {t for t in targets if not graph_is_package_of(t, module)}
        for module, targets in graph.items()
    }
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(edges):
        if module not in state:
            cycle = visit(module)
            assert cycle is None, " -> ".join(cycle)


def graph_is_package_of(target: str, module: str) -> bool:
    return module.startswith(f"{target}.")
