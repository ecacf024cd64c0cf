"""The house's arrows: engine/ never imports PySide6 or desktop/; timeline/ imports no torch,
av, numpy or Qt; nothing in engine/ or timeline/ imports upwards. Read from the source (every
import statement, lazy ones inside functions included), so a layer break fails here before
it is ever run."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "timeline": ("PySide6", "shiboken6", "torch", "av", "numpy", "engine", "desktop", "diffusers", "ray"),
    "engine": ("PySide6", "shiboken6", "desktop"),
}


def imported_modules(path: Path):
    """(line, top-level module) of every import in a file; relative imports stay in the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_from_a_layer_above_or_a_library_it_must_not_use(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no sources under {package}/"
    bad = [f"{path.relative_to(ROOT)}:{line} imports {module}"
           for path in files for line, module in imported_modules(path) if module in FORBIDDEN[package]]
    assert bad == []


def test_the_check_sees_lazy_imports(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from PySide6.QtCore import QObject\n    import torch.nn\n")
    assert list(imported_modules(source)) == [(2, "PySide6"), (3, "torch")]


def engine_package_graph(root: Path) -> dict[str, set[str]]:
    """engine's parts (engine.backends, engine.pipeline, ...: the first name under engine) and
    which other parts each imports, lazy imports included."""
    graph: dict[str, set[str]] = {}
    for path in sorted((root / "engine").rglob("*.py")):
        rel = path.relative_to(root).with_suffix("").parts
        part = rel[1] if rel[1] != "__init__" else "engine"
        package = rel[:-1]  # what a relative import is relative to
        deps = graph.setdefault(part, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = list(package[:len(package) - node.level + 1]) if node.level else []
                names = [".".join(base + ([node.module] if node.module else []))]
                if not node.module:  # `from . import x`
                    names = [".".join(base + [a.name]) for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "engine" and len(parts) > 1 and parts[1] != part:
                    deps.add(parts[1])
    return graph


def test_the_engine_parts_import_each_other_in_one_direction_only():
    graph = engine_package_graph(ROOT)
    cycles = sorted(f"{a} <-> {b}" for a in graph for b in graph[a] if a < b and a in graph.get(b, ()))
    assert cycles == []
    # and no longer loops either: a walk from each part never comes back to it
    for start in graph:
        seen, todo = set(), list(graph[start])
        while todo:
            part = todo.pop()
            assert part != start, f"engine.{start} imports itself through engine.{part}"
            if part not in seen:
                seen.add(part)
                todo.extend(graph.get(part, ()))
