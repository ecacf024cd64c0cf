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
