"""A diffusers model folder's weights: every safetensors file its components need, present and
whole (a cut-off download or a pickle checkpoint is refused with a clear error), and one hash
over them. Read from the files alone (no torch), so `latentcut models` can use it."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from engine.backends.families import component_names
from engine.errors import LatentCutError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
PARTIAL_SUFFIXES = (".incomplete", ".part", ".partial", ".tmp")


def weight_files(folder: Path, index: dict) -> list[Path]:
    """Every safetensors file the pipeline's model components need; a clear error for any gap."""
    files: list[Path] = []
    for name in component_names(index):
        sub = folder / name
        if not sub.is_dir():
            raise LatentCutError(f"model: {folder} is incomplete: the {name}/ folder is missing")
        partial = [p.name for p in sub.iterdir() if p.name.endswith(PARTIAL_SUFFIXES)]
        if partial:
            raise LatentCutError(f"model: {folder} is half-downloaded: {name}/{partial[0]} is unfinished")
        if not (sub / "config.json").is_file():
            continue  # tokenizer, scheduler, image processor: no weights
        files.extend(_component_weights(folder, sub))
    if not files:
        raise LatentCutError(f"model: {folder} has no weight files")
    return files


def _component_weights(folder: Path, sub: Path) -> list[Path]:
    shard_indexes = sorted(sub.glob("*.safetensors.index.json"))
    if shard_indexes:
        try:
            weight_map = json.loads(shard_indexes[0].read_text(encoding="utf-8"))["weight_map"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LatentCutError(f"model: {shard_indexes[0]} is not a valid shard index ({exc})") from None
        shards = [sub / s for s in sorted(set(weight_map.values()))]
        missing = [s.name for s in shards if not s.is_file()]
        if missing:
            raise LatentCutError(f"model: {folder} is incomplete: {sub.name}/{missing[0]} is missing "
                                 f"({len(missing)} of {len(shards)} shards)")
    else:
        shards = sorted(sub.glob("*.safetensors"))
    if not shards:
        pickled = [p.name for p in sub.iterdir() if p.suffix in PICKLE_SUFFIXES]
        if pickled:
            raise LatentCutError(f"model: {sub}/{pickled[0]} is a pickle checkpoint; LatentCut loads only "
                                 "safetensors (convert the model, or download its safetensors files)")
        raise LatentCutError(f"model: {folder} is incomplete: no weights in {sub.name}/ (missing safetensors)")
    for shard in shards:
        check_safetensors_whole(shard)
    return shards


def check_safetensors_whole(path: Path) -> None:
    """A safetensors file is an 8-byte header length, a JSON header, then the tensor data; a cut-off
    download is shorter than the header's last data offset."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            n = int.from_bytes(head, "little") if len(head) == 8 else -1
            if n <= 0 or 8 + n > size:
                raise ValueError("header cut off")
            header = json.loads(f.read(n))
        end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise LatentCutError(f"model: {path} is not a readable safetensors file ({exc})") from None
    if size < 8 + n + end:
        raise LatentCutError(f"model: {path} is truncated ({size} of {8 + n + end} bytes): "
                             "the download did not finish")


def folder_sha256(folder: Path, files: list[Path]) -> str:
    """One hash for the model: sha256 over each weight file's relative path and its own sha256
    (engine.hashing caches those by path, size and mtime)."""
    from engine.hashing import sha256_file

    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(f"{path.relative_to(folder).as_posix()} {sha256_file(path)}\n".encode())
    return digest.hexdigest()
