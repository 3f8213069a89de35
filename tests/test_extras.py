"""`pip install -e '.[demo]'` brings every distribution the demo imports, directly or through
the modules of the package it imports (``flask_mailproof.api`` needs the ``api`` extra...)."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "flask_mailproof"


def _imported(path: Path) -> set[str]:
    """Return the absolute module names ``path`` imports (relative ones made absolute)."""
    tree = ast.parse(path.read_text())
    top = ROOT if path.is_relative_to(ROOT / "demo") else PACKAGE.parent
    module = ".".join(path.relative_to(top).with_suffix("").parts)
    package = module.rpartition(".")[0]  # of a package's __init__ too: "x.y.__init__" -> "x.y"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            name = node.module or ""
            if node.level:
                name = f"{base}.{name}" if name else base
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def _file_of(module: str) -> Path | None:
    parts = module.split(".")
    if parts[0] == "flask_mailproof":
        base = PACKAGE.parent.joinpath(*parts)
    elif parts[0] == "demo":
        base = ROOT.joinpath(*parts)
    else:
        return None
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def imported_by_the_demo() -> set[str]:
    """Return the top-level names of the third-party modules the demo's code imports."""
    todo = list((ROOT / "demo").glob("*.py"))
    seen: set[Path] = set()
    outside: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _imported(path):
            top = module.partition(".")[0]
            if top in ("demo", "flask_mailproof"):
                file = _file_of(module)
                if file is not None:
                    todo.append(file)
            elif top and top not in sys.stdlib_module_names and top != "__future__":
                outside.add(top)
    return outside


def installed_by(name: str, extras: set[str]) -> set[str]:
    """Return the distributions ``pip install name[extras]`` installs, by canonical name."""
    found: set[tuple[str, frozenset[str]]] = set()
    todo = [(canonicalize_name(name), frozenset(extras))]
    while todo:
        dist, wanted = todo.pop()
        if (dist, wanted) in found:
            continue
        found.add((dist, wanted))
        for req in _requirements(dist, wanted):
            todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return {dist for dist, _ in found}


def _requirements(dist: str, extras: frozenset[str]) -> list[Requirement]:
    """Our own from pyproject.toml (what the next install reads), others' from their metadata."""
    if dist == "flask-mailproof":
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        lines = list(project["dependencies"])
        for extra in extras:
            lines += project["optional-dependencies"][extra]
        return [Requirement(line) for line in lines]
    found = []
    for line in metadata.requires(dist) or []:
        req = Requirement(line)
        if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras | {""}):
            found.append(req)
    return found


def test_the_demo_extra_brings_every_distribution_the_demo_imports():
    providers = metadata.packages_distributions()
    installed = installed_by("flask-mailproof", {"demo"})
    missing = {
        top: providers.get(top)
        for top in imported_by_the_demo()
        if not {canonicalize_name(d) for d in providers.get(top, [])} & installed
    }

    assert {"spectree", "celery", "flask_migrate"} <= imported_by_the_demo()
    assert not missing, f"imported by the demo, not in the demo extra: {missing}"
