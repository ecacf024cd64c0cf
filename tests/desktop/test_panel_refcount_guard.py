"""Long Qt sessions keep None/True/False alive. PySide6 6.12 dropped a reference to them on every
void call and every Signal.emit() under CPython 3.11, which aborted the app after a few thousand
calls; pyproject.toml pins PySide6 below 6.12, and this test fails if that ever comes back."""
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Many more void Qt calls and signal emits than None or True has references in a fresh process;
# with the broken bindings CPython 3.11 aborts with "none_dealloc" / "bool_dealloc".
SCRIPT = textwrap.dedent("""
    import sys
    import desktop
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication, QPushButton

    class Source(QObject):
        changed = Signal(str)

    app = QApplication([])
    button, source = QPushButton(), Source()
    source.changed.connect(button.setText)
    for i in range(100_000):
        button.setText("x")
        source.changed.emit("y")
    print("survived", button.text())
""")


def test_many_qt_calls_do_not_free_none_or_true():
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "survived y"
