"""Training data: rendered world clips, crops of them for the autoencoder, and the latent pool.

World clips are rendered once into a ClipStore. The autoencoder trains on crops of them. The
denoiser never sees pixels: the same clips are encoded by the frozen autoencoder and kept as
latents with everything the training cases need (the latent of the first frame held still, the
structure map, the restyle partner, caption embeddings cached per unique caption). Pools are saved
as safetensors so a resumed run does not encode again.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from einops import rearrange

from engine.train.captions import caption, prompt
from engine.train.world import EVAL_SEED_START, render, restyled, sample_scene


def to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 [T,H,W,3] -> float [3,T,H,W] in [-1, 1]."""
    return rearrange(torch.from_numpy(np.ascontiguousarray(frames)).float() / 127.5 - 1.0, "t h w c -> c t h w")


def check_training_seed(seed: int) -> int:
    if not 0 <= seed < EVAL_SEED_START:
        raise ValueError(f"seed: training seeds must be in 0..{EVAL_SEED_START - 1} (above is held out), got {seed}")
    return seed


class ClipStore:
    """Rendered restyle pairs, kept in a run folder in chunks (uint8 .npy, never pickled, plus the
    scenes as JSON), so a resumed run renders only the chunks it lacks. Pair p's scene depends only
    on (seed, p): a store grows without changing the pairs it already holds."""

    CHUNK = 16  # pairs per file

    def __init__(self, folder: Path, width: int, height: int, frames: int):
        self.folder, self.size = Path(folder), (width, height, frames)

    def _chunk(self, i: int) -> Path:
        return self.folder / f"pairs_{i:05d}.npy"

    def _scenes(self, i: int) -> Path:
        return self.folder / f"pairs_{i:05d}.json"

    def _held(self, i: int) -> int:
        """Pairs in chunk i (two scenes each in its JSON)."""
        return len(json.loads(self._scenes(i).read_text(encoding="utf-8"))) // 2

    def fill(self, pairs: int, seed: int, log=None, workers: int = 1) -> None:
        """Render the chunks the store lacks, `workers` processes at a time: a clip takes 0.4 s of
        one core and numpy renders it on one, so a pool of 6,000 clips is 40 minutes serially."""
        from concurrent.futures import ProcessPoolExecutor

        self.folder.mkdir(parents=True, exist_ok=True)
        ends = [min(pairs, (i + 1) * self.CHUNK) for i in range((pairs + self.CHUNK - 1) // self.CHUNK)]
        # A short last chunk of a smaller store is rendered again, whole.
        todo = [(i, end) for i, end in enumerate(ends)
                if not (self._chunk(i).is_file() and self._held(i) >= end - i * self.CHUNK)]
        with contextlib.ExitStack() as stack:
            mapper = map
            if workers > 1 and len(todo) > 1:
                mapper = stack.enter_context(ProcessPoolExecutor(min(workers, len(todo)))).map
            for end in mapper(self._render_chunk, [i for i, _ in todo], [e for _, e in todo], [seed] * len(todo)):
                if log is not None:
                    log(f"clips: {end}/{pairs} pairs rendered")

    def _render_chunk(self, i: int, end: int, seed: int) -> int:
        clips, scenes = [], []
        for p in range(i * self.CHUNK, end):
            rng = np.random.default_rng([seed, 9, p])
            scene = sample_scene(int(rng.integers(0, EVAL_SEED_START)))
            for s in (scene, restyled(scene, int(rng.integers(0, 2**31)))):
                clips.append(render(s, *self.size))
                scenes.append(s.to_dict())
        self._scenes(i).write_text(json.dumps(scenes), encoding="utf-8")
        tmp = self.folder / f"pairs_{i:05d}.tmp.npy"
        np.save(tmp, np.stack(clips), allow_pickle=False)
        tmp.replace(self._chunk(i))
        return end

    def load(self, pairs: int) -> tuple["StoredClips", list[dict]]:
        """-> (the uint8 clips [2*pairs,T,H,W,3], read from disk as they are indexed; their scenes)."""
        chunks = range((pairs + self.CHUNK - 1) // self.CHUNK)
        clips = StoredClips([np.load(self._chunk(i), mmap_mode="r", allow_pickle=False) for i in chunks], 2 * pairs)
        scenes = [s for i in chunks for s in json.loads(self._scenes(i).read_text(encoding="utf-8"))]
        return clips, scenes[: 2 * pairs]


class StoredClips:
    """A store's clips as one read-only array over its memory-mapped chunk files: indexing reads only
    the clips it touches, so a pool of thousands of clips (2.7 MB each at 256x144x24) needs no copy
    in memory. Takes what the training indexes with: clips[i], clips[i, ...], clips[start:stop:step]
    (a stacked copy), len() and iteration."""

    def __init__(self, chunks: list[np.ndarray], count: int):
        self.chunks, self.per = chunks, len(chunks[0])  # every chunk but the last is full
        self.shape = (count, *chunks[0].shape[1:])

    def __len__(self) -> int:
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, slice):
            return np.stack([self[i] for i in range(*key.indices(len(self)))])
        i, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        i = int(i) + (len(self) if int(i) < 0 else 0)
        if not 0 <= i < len(self):
            raise IndexError(f"clip {key if not rest else key[0]} of {len(self)}")
        return np.array(self.chunks[i // self.per][(i % self.per, *rest)])  # a copy: the maps are read-only


def crop_batch(clips: np.ndarray, rng: np.random.Generator, batch: int, crop: tuple[int, int] | None,
               align: int) -> torch.Tensor:
    """[B,3,T,h,w] random crops (offsets on the latent grid, so a crop encodes exactly like the
    same pixels of the whole frame) of random cached clips."""
    _, _, height, width, _ = clips.shape
    ch, cw = crop or (height, width)
    out = []
    for _ in range(batch):
        i = int(rng.integers(0, len(clips)))
        y = int(rng.integers(0, (height - ch) // align + 1)) * align
        x = int(rng.integers(0, (width - cw) // align + 1)) * align
        out.append(to_tensor(clips[i, :, y:y + ch, x:x + cw]))
    return torch.stack(out)


class TextCache:
    """Token states per unique caption, computed once by the (frozen) text encoder."""

    def __init__(self):
        self.states: dict[str, torch.Tensor] = {}

    def add(self, captions, encoder, batch: int = 64) -> None:
        missing = [c for c in dict.fromkeys(captions) if c not in self.states]
        for i in range(0, len(missing), batch):
            chunk = missing[i:i + batch]
            states, mask = encoder.encode(chunk)
            for j, c in enumerate(chunk):
                self.states[c] = states[j, : int(mask[j].sum())].float().cpu().clone()

    def batch(self, captions: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (states [B,L,D], mask [B,L] bool), zero padded."""
        seqs = [self.states[c] for c in captions]
        length = max(s.shape[0] for s in seqs)
        out = torch.zeros(len(seqs), length, seqs[0].shape[1])
        mask = torch.zeros(len(seqs), length, dtype=torch.bool)
        for i, s in enumerate(seqs):
            out[i, : s.shape[0]] = s
            mask[i, : s.shape[0]] = True
        return out, mask

    def save(self, path: Path) -> None:
        from safetensors.torch import save_file

        keys = list(self.states)
        tensors = {f"t{i}": self.states[k].contiguous() for i, k in enumerate(keys)}
        save_file(tensors, str(path), metadata={"captions": json.dumps(keys)})

    @classmethod
    def load(cls, path: Path) -> "TextCache":
        from safetensors import safe_open

        cache = cls()
        with safe_open(str(path), "pt") as f:
            keys = json.loads(f.metadata()["captions"])
            for i, k in enumerate(keys):
                cache.states[k] = f.get_tensor(f"t{i}")
        return cache


@dataclass
class LatentPool:
    """Clips as latents. Clips come in restyle pairs: clip 2i and 2i+1 share geometry and motion."""

    latents: torch.Tensor  # [N,C,t,h,w] scaled latents of the whole clip
    still: torch.Tensor  # [N,C,1,h,w] latent of the first frame held for one latent frame (animate)
    structure: torch.Tensor  # [N,S,t,h,w] structure map of the clip (restyle conditioning)
    captions: list[list[str]]  # per clip: its captions (the first is the evaluation wording)
    scenes: list[dict]
    # [N,2] each clip's camera drift (dx, dy) in px per frame; the clips were encoded rolled back by
    # it (model/camera.py). None for a pool encoded as rendered.
    drifts: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.latents.shape[0]

    def partner(self, i: int) -> int:
        return i ^ 1

    def save(self, path: Path) -> None:
        from safetensors.torch import save_file

        meta = {"captions": json.dumps(self.captions), "scenes": json.dumps(self.scenes)}
        tensors = {"latents": self.latents.contiguous(), "still": self.still.contiguous(),
                   "structure": self.structure.contiguous()}
        if self.drifts is not None:
            tensors["drifts"] = self.drifts.contiguous()
        save_file(tensors, str(path), metadata=meta)

    @classmethod
    def load(cls, path: Path) -> "LatentPool":
        from safetensors import safe_open

        with safe_open(str(path), "pt") as f:
            meta = f.metadata()
            return cls(f.get_tensor("latents"), f.get_tensor("still"), f.get_tensor("structure"),
                       json.loads(meta["captions"]), json.loads(meta["scenes"]),
                       f.get_tensor("drifts") if "drifts" in f.keys() else None)


# The axis and direction of content's drift in frame for each world camera move (pan left moves the
# camera left, so content drifts right: +x; tilt up moves it down: +y). Zooms and still shots: none.
_CAMERA_DRIFT = {"pan left": ("x", 1), "pan right": ("x", -1), "tilt up": ("y", 1), "tilt down": ("y", -1)}


def camera_drifts(clips: np.ndarray, scenes: list[dict]) -> torch.Tensor:
    """[N,2] each clip's camera drift (dx, dy) in px per frame, measured from its frames along its
    scene's camera move: parallax layers drift at different speeds, and this is the one that stills
    the most. Restyle partners (clip 2i and 2i+1) share one drift, measured on both, so they align."""
    from engine.model.camera import measure_drift

    drifts = torch.zeros(len(clips), 2)
    for i in range(0, len(clips) - 1, 2):
        move = _CAMERA_DRIFT.get(scenes[i]["camera"])
        if move is not None:
            pair = torch.cat([to_tensor(clips[j]).mean(0, keepdim=True) for j in (i, i + 1)])
            drifts[i] = drifts[i + 1] = torch.tensor(measure_drift(pair, *move))
    return drifts


def camera_targets(pool: LatentPool) -> torch.Tensor:
    """[N,2] the camera head's target for each clip: the mean drift of the pool's clips with its
    camera move. A caption tells the move, not which layer of its scene stills most; trained on each
    clip's own drift the head learnt to tell the clips apart by their other words and read the
    subject's direction in held-out wordings (35 of 48 directions right, against 43 of 48)."""
    targets = torch.zeros_like(pool.drifts)
    moves = [scene["camera"] for scene in pool.scenes]
    for move in dict.fromkeys(moves):
        rows = torch.tensor([m == move for m in moves])
        targets[rows] = pool.drifts[rows].mean(dim=0)
    return targets


def zoom_targets(pool: LatentPool, frames: int) -> torch.Tensor:
    """[N,1] the zoom head's target for each clip: the world's zoom as a rate of log scale per frame
    (model/zoom.py), positive in, negative out, 0 for every other move."""
    from engine.train.world import ZOOM_FACTOR

    rate = math.log(ZOOM_FACTOR) / max(1, frames - 1)
    sign = {"zoom in": 1.0, "zoom out": -1.0}
    return torch.tensor([[sign.get(scene["camera"], 0.0) * rate] for scene in pool.scenes])


def subject_speeds(pool: LatentPool, frames: int, width: int, height: int) -> torch.Tensor:
    """[N] each clip's subject speed across the frame in px per frame (0 without a subject): on
    screen, and in the camera frame the denoiser draws in when the pool has drifts (model/subject.py)."""
    from engine.train.world import Scene, subject_track

    speeds = torch.zeros(len(pool))
    for i, scene in enumerate(pool.scenes):
        scene = Scene(**scene)
        if scene.has_subject:
            cx, _, _ = subject_track(scene, frames, width, height)
            speeds[i] = float(cx[-1] - cx[0]) / max(1, frames - 1)
    return speeds if pool.drifts is None else speeds - pool.drifts[:, 0]


def subject_targets(pool: LatentPool, frames: int, width: int, height: int) -> torch.Tensor:
    """[N,1] the subject head's target for each clip: the mean on-screen speed of the pool's clips
    with its subject's direction (0 without a subject), as camera_targets does for the camera."""
    speeds = subject_speeds(dataclasses.replace(pool, drifts=None), frames, width, height)
    motions = [scene["motion"] for scene in pool.scenes]
    targets = torch.zeros(len(pool), 1)
    for motion in dict.fromkeys(motions):
        rows = torch.tensor([m == motion for m in motions])
        targets[rows, 0] = speeds[rows].mean()
    return targets


def head_captions(pool: LatentPool, extra: int, seed: int) -> list[list[str]]:
    """Each clip's captions to fit the heads on: the pool's and `extra` fresh paraphrases. The heads
    read the text alone, so more wordings cost seconds of encoding; on the pool's three captions a
    clip the subject head read 34 of 48 held-out free wordings right."""
    from engine.train.world import Scene

    rng = np.random.default_rng([seed, 11])
    return [caps + [caption(Scene(**scene), rng) for _ in range(extra)]
            for caps, scene in zip(pool.captions, pool.scenes)]


@torch.no_grad()
def build_pool(model, clips: np.ndarray, scenes: list[dict], seed: int, device, captions_per_clip: int = 3,
               log=print) -> LatentPool:
    """Encode cached restyle pairs (clip 2i and 2i+1 share geometry and motion) into a pool; for a
    model with camera_frame, each clip rolled back by its camera drift first, as the sampler sees it."""
    from engine.model.camera import frame_offsets, roll_frames
    from engine.train.world import Scene

    kt = model.config.time_compression
    rng = np.random.default_rng([seed, 10])
    drifts = camera_drifts(clips, scenes) if model.config.camera_frame else None
    latents, stills, structures, caps = [], [], [], []
    for i, (clip, scene) in enumerate(zip(clips, scenes)):
        x = to_tensor(clip)[None].to(device)
        if drifts is not None:
            x = roll_frames(x, frame_offsets(tuple(drifts[i].tolist()), x.shape[2]), forward=False)
        latents.append(model.encode_frames(x).float().cpu())
        stills.append(model.encode_frames(x[:, :, :1].expand(-1, -1, kt, -1, -1)).float().cpu())
        structures.append(model.structure(x).float().cpu())
        s = Scene(**scene)
        caps.append([prompt(s)] + [caption(s, rng) for _ in range(captions_per_clip - 1)])
        if log is not None and (i + 1) % 100 == 0:
            log(f"pool: {i + 1}/{len(clips)} clips encoded")
    return LatentPool(torch.cat(latents), torch.cat(stills), torch.cat(structures), caps, list(scenes), drifts)


def _camera_frame_tracks(pool: LatentPool, frames: int, width: int, height: int):
    """(clip index, cx, cy, size) of each clip with a subject: its box per frame in pixels, in the
    camera frame the denoiser draws in when the pool has drifts (the box does not wrap)."""
    from engine.model.camera import frame_offsets
    from engine.train.world import Scene, subject_track

    for i, scene in enumerate(pool.scenes):
        scene = Scene(**scene)
        if not scene.has_subject:
            continue
        cx, cy, size = subject_track(scene, frames, width, height)
        if pool.drifts is not None:
            offsets = np.asarray(frame_offsets(tuple(pool.drifts[i].tolist()), frames), np.float64)
            cx, cy = cx - offsets[:, 1], cy - offsets[:, 0]
        yield i, cx, cy, size


def subject_weights(pool: LatentPool, time_compression: int, space_compression: int, boost: float) -> torch.Tensor:
    """[N,t,h,w] loss weights: 1 + boost on the latent cells the subject covers in each latent
    frame (its box over that frame's pixels, one cell of margin), 1 elsewhere. The subject is a few
    per cent of the frame, so an even loss learns the sky and ground and leaves it out."""
    n, _, t, h, w = pool.latents.shape
    weights = torch.ones(n, t, h, w)
    frames, height, width = t * time_compression, h * space_compression, w * space_compression
    for i, cx, cy, size in _camera_frame_tracks(pool, frames, width, height):
        for k in range(t):
            span = slice(k * time_compression, (k + 1) * time_compression)
            x0, x1 = (cx[span] - size[span]).min(), (cx[span] + size[span]).max()
            y0, y1 = (cy[span] - size[span]).min(), (cy[span] + size[span]).max()
            c0, c1 = max(0, int(x0 // space_compression) - 1), min(w, int(x1 // space_compression) + 2)
            r0, r1 = max(0, int(y0 // space_compression) - 1), min(h, int(y1 // space_compression) + 2)
            if c0 < c1 and r0 < r1:
                weights[i, k, r0:r1, c0:c1] += boost
    return weights


def subject_layouts(pool: LatentPool, time_compression: int, space_compression: int) -> torch.Tensor:
    """[N,t,h,w] each clip's subject layout (model/subject.layout_map: the share of each latent cell
    its box covers, in the camera frame); zeros for a clip without a subject."""
    from engine.model.subject import layout_map

    n, _, t, h, w = pool.latents.shape
    layouts = torch.zeros(n, t, h, w)
    height, width = h * space_compression, w * space_compression
    for i, cx, cy, size in _camera_frame_tracks(pool, t * time_compression, width, height):
        layouts[i] = torch.from_numpy(layout_map(cx, cy, size, time_compression, space_compression, height, width))
    return layouts

