"""The one list of remembered model folders, shared by the app's model picker and `latentcut
models`: ``models.json`` under $LATENTCUT_CONFIG_DIR, else $XDG_CONFIG_HOME/latentcut, else
~/.config/latentcut. A folder is added when a model is loaded from it or the user adds it in the
app, and removed when the user removes it. Also the one test of "is this a model folder"."""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from timeline.files import write_atomic

MODEL_MARKERS = ("config.json", "model_index.json")  # a LatentCut model, a diffusers model
REMEMBERED = "models.json"


def config_dir() -> Path:
    if os.environ.get("LATENTCUT_CONFIG_DIR"):
        return Path(os.environ["LATENTCUT_CONFIG_DIR"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base).expanduser() / "latentcut"


def is_model_folder(folder: Path) -> bool:
    return any((Path(folder) / name).is_file() for name in MODEL_MARKERS)


def model_folder_problem(path) -> str | None:
    """Why PATH is not a model folder (a sentence for the user), or None when it is one."""
    folder = Path(path)
    if not folder.is_dir():
        return f"{folder} is not a folder."
    if not is_model_folder(folder):
        return f"{folder} has neither config.json nor model_index.json, so it is not a model folder."
    return None


def remembered() -> list[Path]:
    path = config_dir() / REMEMBERED
    if not path.is_file():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8")).get("models", [])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        warnings.warn(f"{path}: ignoring an unreadable list of models ({exc})", stacklevel=2)
        return []
    return [Path(e) for e in entries if isinstance(e, str)]


def _write_remembered(folders: list[Path]) -> None:
    path = config_dir() / REMEMBERED
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"models": [str(p) for p in folders]}, indent=2))


def remember(folder: str | os.PathLike) -> None:
    """Add a folder to the remembered list (a failure to write it only warns: loading goes on)."""
    folder = Path(folder).expanduser().resolve()
    known = remembered()
    if folder in known:
        return
    try:
        _write_remembered(known + [folder])
    except OSError as exc:
        warnings.warn(f"could not remember model folder {folder} in {config_dir()}: {exc}", stacklevel=2)


def forget(folder: str | os.PathLike) -> bool:
    folder = Path(folder).expanduser().resolve()
    known = remembered()
    if folder not in known:
        return False
    _write_remembered([p for p in known if p != folder])
    return True
