"""The house's plan, checked: packages by layer, and no import runs up a layer.

The layers, lowest first (`../shared/DESIGN.md`, "The house", and `docs/layout.md`): a module
imports only from its own layer or the ones before it. Imports made only for type checking
(`if TYPE_CHECKING:`) count too: a type from a higher layer is a dependency all the same.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

LAYERS = (
    "app",  # the package itself: app/__init__.py
    "app.config",
    "app.text",
    "app.as_read",
    "app.sse",
    "app.course",
    "app.search",
    "app.llm",
    "app.answering",
    "app.practice",
    "app.records",
    "app.progress",
    "app.usecases",
    "app.checks",
    "app.ingest",
    "evals",
    "app.api",
    "app.cli",
    "app.ui",
)


def layer_of(module: str) -> str:
    """The layer a dotted module name belongs to: the longest layer name it starts with."""
    found = [layer for layer in LAYERS if module == layer or module.startswith(layer + ".")]
    assert found, f"{module} is in no layer: add its package to LAYERS and to docs/layout.md"
    return max(found, key=len)


def modules() -> dict[str, Path]:
    found = {}
    for root in ("app", "evals"):
        for path in (REPO / root).rglob("*.py"):
            if "migrations" in path.parts:  # Alembic loads these by path, never by import
                continue
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, name: str) -> set[str]:
    """Every module of ours that `path` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [
                        *package.split(".")[: len(package.split(".")) - node.level + 1],
                        *([base] if base else []),
                    ]
                )
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] in ("app", "evals")}


def edges() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in known.items():
        graph[name].update(m for m in imports(path, name) if m in known)
    return graph


def test_no_module_imports_from_a_higher_layer() -> None:
    order = {layer: i for i, layer in enumerate(LAYERS)}
    upward = sorted(
        f"{source} ({layer_of(source)}) imports {target} ({layer_of(target)})"
        for source, targets in edges().items()
        for target in targets
        if order[layer_of(target)] > order[layer_of(source)]
    )
    assert not upward, "imports that run up a layer:\n" + "\n".join(upward)


def test_the_layers_import_each_other_in_one_direction_only() -> None:
    between: dict[str, set[str]] = defaultdict(set)
    for source, targets in edges().items():
        for target in targets:
            if layer_of(source) != layer_of(target):
                between[layer_of(source)].add(layer_of(target))
    both_ways = sorted(
        f"{a} <-> {b}" for a in between for b in between[a] if a < b and a in between.get(b, set())
    )
    assert not both_ways, "layers that import each other: " + ", ".join(both_ways)


def test_every_package_is_a_layer() -> None:
    packages = {
        p.parent.relative_to(REPO).as_posix().replace("/", ".")
        for p in (REPO / "app").glob("*/__init__.py")
    }
    assert packages - {"app.migrations"} <= set(LAYERS) | {"app.ui"}, packages - set(LAYERS)
