"""LatentCutPipeline: generate, animate, extend, fill and restyle with one LatentCut model.

Every operation is one latent sequence of N latent frames in which some frames are *known*
(encoded from the input: none for generate, the first for animate, the first/last for extend,
both ends for fill) and, for restyle, every frame has an initial latent and a structure map.
`__call__` runs the numbered steps of a diffusers pipeline on that sequence; sequences longer
than the model's window are made window by window, each conditioned on its overlap with the
frames already made, so a long shot holds together.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import FlowMatchEulerDiscreteScheduler
from einops import rearrange

from .constraints import Constraints, warn_adjusted
from .device import bf16_autocast, default_dtype, pick_device, set_threads
from .errors import Cancelled
from .media.retime import hold_indices, retime
from .model.block_blend import decode_blended, move_within_blocks
from .model.camera import asked_drift, frame_offsets, measure_drift, roll_frames, split_offsets, subpixel_frames
from .model.conditioning import build_condition
from .model.deflicker import deflicker
from .model.flow import add_noise, predicted_x0
from .model.hold import free_subject, held_frames
from .model.ldm import LatentCutLDM
from .model.loading import load_model, load_text_encoder, weights_sha256
from .model.parallax import MEASURE_FRAMES, layer_speeds, mirror_revealed, parallax_frames
from .model.restyle_edges import follow_edges
from .model.restyle_look import without_look
from .model.seams import HOLD_SEAM_APART, PLATE_SECONDS, clean_plate, hold_still, match_seams, one_step_on, uncover
from .model.subject import LAYOUT_SIZE, LAYOUT_X, layout_map, names_subject, place_subject
from .model.subject_carry import PATH_SECONDS, carry_subject, cut_subject
from .model.subject_key import subject_boxes, subject_mask
from .model.subject_tint import asks_white, untint_subject
from .model.temporal_nr import ground_cells, reduce_noise, steady_velocity
from .model.text_encoder import TextEncoder
from .model.zoom import MIN_ZOOM_RATE, continue_zoom, measure_zoom, scale_frames, zoom_frames, zoom_scales
from .requests import (DEFAULT_STRUCTURE_WEIGHT, AnimateRequest, ExtendRequest, FillRequest, GenerateRequest,
                       Request, RestyleRequest, VideoResult)
from .version import ENGINE_VERSION


@dataclass
class _Sequence:
    """What step 2 prepares: the latent sequence to complete and how to cut the output from it."""
    latent_frames: int
    known: torch.Tensor | None = None        # [1,C,N,h,w] scaled latents (only known frames used)
    known_mask: torch.Tensor | None = None   # [N] bool
    init: torch.Tensor | None = None         # [1,C,N,h,w] restyle start latents
    structure: torch.Tensor | None = None    # [1,S,N,h,w]
    out_start: int = 0                       # first native output frame in the decoded sequence
    out_frames: int = 0                      # native output frames
    stretch_to: int | None = None            # fill: resample the new frames to exactly this many
    drift: tuple[float, float] | None = None  # the camera's drift, px per frame (model/camera.py)
    seam_before: torch.Tensor | None = None  # [1,3,H,W] the clip's frame just before the new ones
    seam_after: torch.Tensor | None = None   # [1,3,H,W] the clip's frame just after them
    seam_lead: int = 1                       # frames from seam_before to the first new one (animate: 0)
    zoom: float = 0.0                        # the digital zoom's rate (model/zoom.py), 0 for none
    zoom_lead: int = 0                       # frames from the zoom's whole picture to the first output one
    subject: float | None = None             # the subject's speed in the camera frame (model/subject.py)
    layout: torch.Tensor | None = None       # [1,N,h,w] where the subject goes (model/subject.layout_map)
    subject_steps: tuple = (None, None)      # (dy, dx) px a frame the clip's subject moves on screen, per seam
    plates: tuple = (None, None)             # per seam, None or the clip's clean plate (_clean_plate)
    guide: torch.Tensor | None = None        # [1,3,T,H,W] a restyle's input frames (model/restyle_edges.py)
    parallax: np.ndarray | None = None       # [H] an extension's rows' speeds against the drift (model/parallax.py)
    sprites: list = field(default_factory=list)  # the clips' subjects at the seams (model/subject_carry.py)
    path: np.ndarray | None = None           # [N*kt,3] the told subject's box per frame in the camera frame


# New frames take over from the clip's seam frame over this long (model/seams.py).
SEAM_FADE_SECONDS = 2.0
# A restyle's guidance, times the request's: its first step, at the most noise it keeps, sets the
# subject's new colour and is guided harder; the steps after it keep the source's edges and are guided
# more lightly. The sky's look comes from the start latents, which lose the source's broad colours
# (model/restyle_look.py). With the weights before runs/previz-v19, 24 held-out restyles at 0.7 met
# their look in 19 (2 first steps guided harder, the source's colours kept: 17; no step guided
# harder: 8), every time of day among them, edges correlating 0.63 (0.62). With run v24's weights,
# over 60 held-out restyles in 5 sets, (1.5, 0.5) kept edges at 0.60 and met 59 looks; (3, 0.75):
# 0.58 and 58. Lighter later steps ((3, 0.25), (3, 0)) lost looks: 0.75 and 0.50 of 36.
RESTYLE_GUIDANCE = (1.5, 0.5)
RESTYLE_LOOK_STEPS = 1
# Release levels of new frames next to known ones (model/hold.py): the first new frame is refined
# from the known one below noise level 0.5, each further one from 0.15 higher.
HOLD_RELEASE = (0.5, 0.15)
# An animated still's keyed pixels show one subject where this share of them lie within twice its half
# side of their centre: a generated still's scattered saturated patches of sand, keyed as its subject,
# put the centre in the ground, and the box told there was empty.
STILL_SUBJECT_GATHERED = 0.8
# The random stream a generate's subject is placed from, beside the seed (model/subject.place_subject).
LAYOUT_STREAM = 13
# The requests whose moving subject is carried on inside its decoded blocks (block_blend.move_within_blocks);
# an extension's only where its clip shows a subject. The 12 held-out clips from 600 (quality.py's
# set from 500): extend seam regions passing 75% to 83% (92% either way), their geometric mean 1.19 to
# 1.12 (1.24 to 1.19). Not a fill's: on the clips from 600 a zoom fill whose subject is drawn with a
# ghost went from 1.28 to 1.62 times the typical change, with no fill better.
MOVE_OPS = (GenerateRequest, AnimateRequest, ExtendRequest)


def _window_joins(new: torch.Tensor, start: int, made: torch.Tensor) -> list[tuple[int, bool]]:
    """Where a window's new frames (new [L] bool, the window from latent frame `start`) meet frames
    that an earlier window made (made [N] bool; not given ones, which the clip's own seams match):
    (latent frame, True) for the first new frame after made ones, (latent frame, False) for the
    first made frame after new ones."""
    idx = torch.nonzero(new).flatten() + start
    if len(idx) == 0:
        return []
    first, last = int(idx[0]), int(idx[-1])
    joins = [(first, True)] if first > 0 and bool(made[first - 1]) else []
    if last + 1 < len(made) and bool(made[last + 1]):
        joins.append((last + 1, False))
    return joins


def _pixels(frames: torch.Tensor) -> np.ndarray:
    """Frames [3,T,H,W] in [-1, 1] -> uint8 RGB [T,H,W,3]."""
    return rearrange(((frames.float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8),
                     "c t h w -> t h w c").cpu().numpy()


def _margin(mask: torch.Tensor) -> torch.Tensor:
    """Masks [N,1,H,W] grown by 3 px with a soft edge: a keyed subject's rim and blur."""
    return F.avg_pool2d(F.max_pool2d(mask, 7, 1, 3), 5, 1, 2)


def _out_frames(args) -> int:
    """Frames a generate/animate/extend/fill request makes at its rate."""
    return round(args.seconds * args.rate)


class LatentCutPipeline:
    """A loaded LatentCut model folder, implementing engine.requests.Backend."""

    def __init__(self, model: LatentCutLDM, text_encoder: TextEncoder, *, name: str, sha256: str,
                 device: torch.device, dtype: torch.dtype, folder: Path | None = None):
        self.model = model
        self.text_encoder = text_encoder
        self.config = model.config
        self.name = name
        self.sha256 = sha256
        self.device = device
        self.dtype = dtype
        self.folder = folder
        self.operations = frozenset(self.config.operations)
        self.native_size = (self.config.width, self.config.height)
        self.native_rate = float(self.config.fps)

    @classmethod
    def from_pretrained(cls, folder: str | Path, device: str | torch.device | None = None,
                        threads: int | None = None, dtype: torch.dtype | None = None) -> "LatentCutPipeline":
        set_threads(threads)
        dev = pick_device(device)
        dtype = dtype or default_dtype(dev)
        folder = Path(folder)
        model = load_model(folder, dev, dtype)
        text_encoder = load_text_encoder(folder, model.config, dev, dtype)
        return cls(model, text_encoder, name=model.config.name, sha256=weights_sha256(folder),
                   device=dev, dtype=dtype, folder=folder)

    # ----------------------------------------------------------------- public operations
    def generate(self, request: GenerateRequest) -> VideoResult:
        return self(request)

    def animate(self, request: AnimateRequest) -> VideoResult:
        return self(request)

    def extend(self, request: ExtendRequest) -> VideoResult:
        """New frames only, continuing `frames` (given at `rate`) after its end or before its start."""
        return self(request)

    def fill(self, request: FillRequest) -> VideoResult:
        """The frames of a `seconds` gap between the end of before_frames and the start of after_frames."""
        return self(request)

    def restyle(self, request: RestyleRequest) -> VideoResult:
        """As many frames as given (at `rate`), with the input's layout and motion and the prompt's look."""
        return self(request)

    # ----------------------------------------------------------------- the pipeline
    @torch.inference_mode()
    def __call__(self, request: Request) -> VideoResult:
        # 1. Check inputs (everything, before any work); the model's defaults are filled in.
        args = self.check_inputs(request)
        width, height = args.size
        out_rate = args.rate

        # 2. Encode the conditions: text (prompt and negative prompt in one batch) and input frames.
        # guidance 1 is the conditional pass alone; identical prompts make both passes the same.
        use_cfg = args.guidance != 1.0 and args.prompt != args.negative_prompt
        prompts = [args.prompt, args.negative_prompt] if use_cfg else [args.prompt]
        text, text_mask = self.text_encoder.encode(prompts)
        text = text.to(self.dtype)
        seq = self._prepare_sequence(args, width, height, text[:1], text_mask[:1])
        if not isinstance(args, RestyleRequest):  # a restyle's structure map carries its subject's path
            seq.subject = self._subject_speed(text[:1], text_mask[:1], seq.drift)
        if isinstance(args, GenerateRequest) and seq.subject is not None and self.config.subject_layout \
                and names_subject(args.prompt):
            seq.subject = self._in_view_speed(seq, width)
            seq.layout = self._subject_layout(seq, width, height, args.seed)
        if isinstance(args, AnimateRequest) and seq.subject is not None and self.config.subject_layout \
                and names_subject(args.prompt):
            seq.layout = self._still_layout(seq, args.image, width, height)

        # 3. Set the timesteps: made per window by _denoise_window (a fresh diffusers scheduler each).
        # 4. Prepare the latents: the window plan and one seeded generator for all noise.
        generator = torch.Generator(device="cpu").manual_seed(args.seed)
        windows = self._plan_windows(seq)
        run_steps = self._steps_run(args.steps, args.strength if isinstance(args, RestyleRequest) else None)
        progress = {"step": 0, "total": run_steps * len(windows)}
        z = torch.zeros(1, self.config.latent_channels, seq.latent_frames, height // self.config.space_compression,
                        width // self.config.space_compression, device=self.device)
        have = torch.zeros(seq.latent_frames, dtype=torch.bool, device=self.device)
        if seq.known is not None:
            known_mask = seq.known_mask.to(self.device)
            z[:, :, known_mask] = seq.known[:, :, known_mask].float()
            have |= known_mask

        # 5. Denoising loop, window by window; frames already made (or given) condition the next window.
        given, joins = have.clone(), []
        for start, length in windows:
            part = slice(start, start + length)
            made = self._denoise_window(
                z[:, :, part], have[part].clone(),
                None if seq.init is None else seq.init[:, :, part],
                None if seq.structure is None else seq.structure[:, :, part],
                None if seq.layout is None else seq.layout[:, part],
                args, text, text_mask, seq.subject, use_cfg, generator, progress, (width, height),
                self._preview_offset(seq.drift, start + length // 2), steady=seq.drift is not None)
            new = ~have[part]
            z[:, :, part][:, :, new] = made[:, :, new]
            joins += _window_joins(new, start, have & ~given)
            have[part] = True
        self._check_cancel(args.cancel)

        # 6. Decode (out of the camera frame), cut the output frames and conform them to the requested rate.
        video = decode_blended(self.model, z.to(self.dtype), seq.drift, self._given_blocks(seq))
        if isinstance(args, MOVE_OPS) and (seq.layout is not None or not isinstance(args, ExtendRequest)):
            video = move_within_blocks(video, self.config.time_compression,
                                       None if seq.drift is None else frame_offsets(seq.drift, video.shape[2]))
        video = video[:, :, seq.out_start:seq.out_start + seq.out_frames]
        if isinstance(args, RestyleRequest):  # on its input's edges, with the input's own changes of light
            video = follow_edges(video, seq.guide.to(video.device), args.structure_weight)
            boxes = subject_boxes(_pixels(seq.guide[0])) if asks_white(args.prompt) else None
            if boxes is not None:  # where the input shows its subject, restyled white
                video = untint_subject(video, boxes)
        else:
            offsets = None if seq.drift is None else frame_offsets(seq.drift, video.shape[2], seq.out_start)
            video = deflicker(reduce_noise(self._match_window_joins(video, joins, seq), offsets))
        if seq.seam_before is not None or seq.seam_after is not None:
            span = min(seq.out_frames, round(SEAM_FADE_SECONDS * self.native_rate))
            video, seams = video.float(), (seq.seam_before, seq.seam_after, seq.drift)
            moving = self._moving_subject(video, seq)
            matched = match_seams(video, *seams, span, seq.seam_lead, seq.out_start, moving=moving)
            apart = HOLD_SEAM_APART if seq.layout is not None else None  # the clip shows a subject
            # Not a fill's: between two seams the held pictures cross-fade, and over 12 held-out fills (seeds
            # from 1,500) leaving its subject out took seam regions passing from 92% to 83%.
            held = (None, None) if isinstance(args, FillRequest) else self._told_subject(moving, seq)
            video = hold_still(video, matched, *seams, seq.seam_lead, seq.out_start, apart=apart, moving=held)
            video = self._uncover(video, seq)
        if seq.drift is not None:
            video = subpixel_frames(video, seq.drift, seq.out_start)
        if isinstance(args, ExtendRequest) and seq.drift not in (None, (0.0, 0.0)):
            video = self._carry_layers(video, seq)
        if seq.path is not None and asks_white(args.prompt):  # a generate's or animate's told subject
            first = int(isinstance(args, AnimateRequest))  # an animate's first frame is the still itself
            boxes = self._told_boxes(seq, *video.shape[2:])[first:]
            video = torch.cat([video[:, :, :first], untint_subject(video[:, :, first:], boxes)], dim=2)
        video = zoom_frames(video, seq.zoom, seq.zoom_lead)  # a seam's difference zooms with it
        if seq.sprites:  # on screen, as the clip shows its subject
            video = carry_subject(video, _pixels(video[0]), seq.sprites, self._seam_distances(seq, video.shape[2]),
                                  self._plate(seq))
        out = self._conform(_pixels(video[0]), args, seq)
        return VideoResult(frames=out, rate=out_rate, metadata=self._metadata(args, out, out_rate))

    # ----------------------------------------------------------------- step 1
    def check_inputs(self, request: Request) -> Request:
        """``request`` with this model's defaults filled in (size, rate, steps, guidance), after
        the checks only the model can make; ValueError names the bad field."""
        cfg = self.config
        if not isinstance(request, Request):
            raise ValueError(f"request: expected an engine.requests.Request, got {type(request).__name__}")
        op = request.op
        if op not in self.operations:
            raise ValueError(f"op: model {self.name!r} cannot {op!r} (it supports {sorted(self.operations)})")
        # rounded to the model's grid with a warning, as the diffusers backends do
        size, note = Constraints(self.name, 1, cfg.size_multiple).fit_size(*(request.size or self.native_size))
        warn_adjusted(note, [])
        args = request.replace(size=size, rate=request.rate or self.native_rate,
                               steps=cfg.default_steps if request.steps is None else request.steps,
                               guidance=cfg.default_guidance if request.guidance is None else request.guidance)
        if not isinstance(args, RestyleRequest) and _out_frames(args) < 1:
            raise ValueError(f"seconds: {args.seconds} s is less than one frame at {args.rate} fps")
        return args

    # ----------------------------------------------------------------- step 2 (frames)
    def _to_tensor(self, frames: np.ndarray, width: int, height: int, chunk: int = 16) -> torch.Tensor:
        """uint8 [T,H,W,3] -> [1,3,T,height,width] in [-1,1] on the device. Resized a few frames at a
        time, so full-HD footage never exists as one float tensor."""
        parts = []
        for start in range(0, frames.shape[0], chunk):
            x = torch.from_numpy(np.ascontiguousarray(frames[start:start + chunk])).to(self.device)
            x = rearrange(x, "t h w c -> t c h w").float() / 127.5 - 1
            if x.shape[-2:] != (height, width):
                x = F.interpolate(x, size=(height, width), mode="bilinear", antialias=True, align_corners=False)
            parts.append(x.clamp(-1, 1).to(self.dtype))
        return rearrange(torch.cat(parts), "t c h w -> 1 c t h w")

    def _to_native(self, frames: np.ndarray, rate: float) -> np.ndarray:
        """Input frames at `rate` -> the same span at the model's frame rate."""
        return retime(frames, rate, self.native_rate)

    def _context(self, native: np.ndarray, at_end: bool, width: int, height: int) -> torch.Tensor:
        """The clip's frames next to the new ones (its end, or its start), from its frames at the
        model's rate (_to_native), [1,3,T,H,W] to encode."""
        kt = self.config.time_compression
        count = max(1, self.config.overlap_latent_frames) * kt
        native = native[-count:] if at_end else native[:count]
        if native.shape[0] < count:  # a short clip: hold its outer frame to fill the context
            pad = np.repeat(native[:1] if at_end else native[-1:], count - native.shape[0], axis=0)
            native = np.concatenate([pad, native] if at_end else [native, pad])
        return self._to_tensor(native, width, height)

    def _camera_drift(self, given: torch.Tensor | None, text: torch.Tensor, text_mask: torch.Tensor
                      ) -> tuple[float, float] | None:
        """The camera's drift: measured from the frames given [1,3,T,H,W] (the clip's end for extend,
        the frames before a fill), else the one the prompt asks for (asked_drift). None for a model
        without a camera head."""
        head = self.model.denoiser.camera
        if head is None:
            return None
        if given is not None:
            return measure_drift(given[0].float().mean(dim=0, keepdim=True))
        return asked_drift(tuple(float(v) for v in head(text, text_mask)[0].float()))

    def _given_zoom(self, frames: torch.Tensor, drift: tuple[float, float] | None) -> float:
        """The zoom rate of the frames given [1,3,T,H,W] at an extension's seam (model/zoom.py); 0 for a
        model without the zoom head's digital zoom, or where the camera drifts."""
        if not self.config.camera_zoom or drift != (0.0, 0.0):
            return 0.0
        mask, kind = subject_mask(_pixels(frames[0]))  # a subject moving at the edge is no zoom
        ignore = None if kind == "none" else torch.from_numpy(mask.any(0))
        return measure_zoom(frames[0].float().mean(dim=0, keepdim=True), ignore)

    def _camera_zoom(self, text: torch.Tensor, text_mask: torch.Tensor) -> float:
        """The zoom rate the prompt asks for (model/zoom.py); 0 for a model without a zoom head."""
        head = self.model.denoiser.zoom
        rate = 0.0 if head is None else float(head(text, text_mask)[0, 0])
        return rate if abs(rate) >= MIN_ZOOM_RATE else 0.0

    def _subject_speed(self, text: torch.Tensor, text_mask: torch.Tensor, drift: tuple[float, float] | None
                       ) -> float | None:
        """The subject's speed across the frame that the prompt asks for, less the camera's drift (the
        denoiser draws in the camera frame); None for a model without the subject condition."""
        head = self.model.denoiser.subject
        if head is None:
            return None
        return float(head(text, text_mask)[0, 0]) - (drift[0] if drift is not None else 0.0)

    def _in_view_speed(self, seq: _Sequence, width: int) -> float:
        """A generate's subject speed in the camera frame, slowed where its path across the screen would
        be longer than the frame (LAYOUT_X) over the whole shot, so that a long shot's subject crosses
        the frame once, as a zoom is slowed (model/zoom.MAX_ZOOM_SCALE). Not along a pan: its camera
        frame wraps round, and the subject with it, in view. At its own speed an 8 s shot's subject
        left the frame by the middle, and later windows drew it back in anywhere: on 12 held-out long
        shots its direction read right in 2 s pieces 33 times of 48 (43 so), and the biggest frame
        change over the median one was 1.65 (1.32)."""
        drift = seq.drift[0] if seq.drift is not None else 0.0
        frames = seq.latent_frames * self.config.time_compression
        span = (LAYOUT_X[1] - LAYOUT_X[0]) * width
        if drift or abs(seq.subject) * (frames - 1) <= span:
            return seq.subject
        return math.copysign(span / (frames - 1), seq.subject)

    def _subject_layout(self, seq: _Sequence, width: int, height: int, seed: int) -> torch.Tensor:
        """[1,N,h,w] where a generate's subject goes (model/subject.py): placed from the seed (its own
        stream, so the noise is the same with or without it) so that its path stays in frame over the
        whole shot where it fits (_in_view_speed), else over its first window (along a pan), along its
        speed, and on along it through a long shot's later windows, so that each window is told where
        the subject has got to. Placed to fit the whole of a long pan, a moving subject's path was too
        long for the frame and it started outside it; told nothing after the first window, the subject
        held still next to the frames before and then jumped on, fading from one place to the other."""
        kt = self.config.time_compression
        first = min(seq.latent_frames, self.config.latent_window) * kt
        frames = seq.latent_frames * kt
        drift = seq.drift[0] if seq.drift is not None else 0.0
        if abs(seq.subject + drift) * (frames - 1) <= (LAYOUT_X[1] - LAYOUT_X[0]) * width:
            first = frames  # the whole shot's path fits the frame
        cx, cy, size = place_subject(seq.subject + drift, seq.subject, first, width, height,
                                     np.random.default_rng([seed, LAYOUT_STREAM]))
        return self._path_layout(seq, cx[0], cy[0], size[0], width, height)

    def _still_layout(self, seq: _Sequence, image: np.ndarray, width: int, height: int) -> torch.Tensor | None:
        """[1,N,h,w] where an animated still's subject goes: from where the still shows it, on along
        the subject head's speed (_path_layout); None where it shows none, or nothing of a subject's
        size. Told nothing, the denoiser painted the subject's colour over the night sky a zoom in
        showed, or over the ground a tilt down revealed, and the judge read those as the subject moving:
        2 of 12 held-out animates (seeds from 2,400), both of a subject standing still."""
        pixels = _pixels(self._to_tensor(image[None], width, height)[0])
        found = subject_boxes(pixels)
        if found is None or np.isnan(found[0, 0]) or found[0, 2] > 2 * LAYOUT_SIZE[1] * height:
            return None
        x, y, half = found[0]
        ys, xs = np.nonzero(subject_mask(pixels)[0][0])
        if np.mean(np.maximum(abs(xs - x), abs(ys - y)) <= 2 * half) < STILL_SUBJECT_GATHERED:
            return None  # the key's pixels lie scattered: no one subject
        return self._path_layout(seq, x, y, half, width, height)

    def _path_layout(self, seq: _Sequence, x: float, y: float, size: float, width: int, height: int
                     ) -> torch.Tensor:
        """[1,N,h,w] a subject's box (centre x, y and half side `size`, px) at frame 0 and on along its
        speed in the camera frame, seq.subject px a frame, over the sequence; its boxes are kept in
        seq.path (_told_boxes)."""
        kt, ks = self.config.time_compression, self.config.space_compression
        frames = seq.latent_frames * kt
        cx = x + seq.subject * np.arange(frames, dtype=np.float64)
        if seq.drift is not None and seq.drift[0]:  # a pan's camera frame wraps round (camera.roll_frames),
            cx = np.mod(cx, width)                  # and the subject with it
        cy, size = np.full(frames, y), np.full(frames, size)
        # The digital zoom scales the drawn picture about its centre and would carry an off-centre
        # subject outwards; as in the world, the subject keeps its place on screen through a zoom,
        # so its box is drawn where the zoom brings it back there.
        scales = np.asarray(zoom_scales(seq.zoom, seq.out_frames), np.float64)
        scales = np.concatenate([scales, np.full(max(0, frames - len(scales)), scales[-1])])[:frames]
        cx, cy = width / 2 + (cx - width / 2) / scales, height / 2 + (cy - height / 2) / scales
        seq.path = np.stack([cx, cy, size], axis=1)
        return torch.from_numpy(layout_map(cx, cy, size, kt, ks, height, width))[None].to(self.device)

    @staticmethod
    def _told_boxes(seq: _Sequence, frames: int, height: int, width: int) -> np.ndarray:
        """[frames,3] the told subject's box (centre x, y and half side, px) in each output frame's
        picture, before the digital zoom."""
        boxes = seq.path[seq.out_start:seq.out_start + frames].copy()
        if seq.drift is not None:  # the path lies in the camera frame, which wraps round along the drift
            offsets = np.array(frame_offsets(seq.drift, frames, seq.out_start), np.float64)
            for axis, size, moves in ((0, width, seq.drift[0]), (1, height, seq.drift[1])):
                if moves:  # without, a subject that walks out of the picture stays out
                    boxes[:, axis] = np.mod(boxes[:, axis] + offsets[:, 1 - axis], size)
        return boxes

    def _magnify(self, seq: _Sequence, given_scales: list[float], tail: bool) -> np.ndarray:
        """[N * kt] how much each frame of an extension that zooms shows its picture magnified on screen:
        the given frames as scaled to the framing drawn in (continue_zoom), the new ones as zoom_frames
        pushes them on, the frames beyond the output as the nearest output one."""
        total = seq.latent_frames * self.config.time_compression
        given = 1.0 / np.asarray(given_scales, np.float64)
        new = np.asarray(zoom_scales(seq.zoom, seq.out_frames, seq.zoom_lead), np.float64)
        if tail:
            return np.concatenate([given, new, np.full(total - len(given) - len(new), new[-1])])
        return np.concatenate([np.full(seq.out_start, new[0]), new, given])

    def _given_layout(self, prompt: str, seq: _Sequence, parts: list[tuple[int, torch.Tensor]],
                      magnify: np.ndarray | None = None) -> tuple[torch.Tensor | None, list]:
        """[1,N,h,w] where an extension's or a fill's subject goes, from where the given frames show it
        (parts: each clip's first frame in the sequence and its frames [1,3,T,H,W] as drawn), in the
        camera frame: on from where the clip leaves it at the clip's own speed, or from where the clip
        before leaves it to where the clip after takes it up. None where the prompt names no subject
        or a clip shows none. Told nothing, the denoiser drew its own subject beside the clip's. Also
        each part's subject's step on screen, (dy, dx) px a frame (None each where there is no layout).
        magnify: each frame's magnification on screen where an extension zooms (_magnify); its subject
        goes on at the clip's pace on screen, as in the world, not in the picture, where a zoom in
        measured its pace 1.2 times the clip's (the given frames' framing stretches their path) and
        the zoom sped it up again."""
        none = (None, [None] * len(parts))
        if not (self.config.subject_layout and names_subject(prompt)):
            return none
        height, width = parts[0][1].shape[-2:]
        places, boxes, steps = [], [], []
        for first, frames in parts:
            found = subject_boxes(_pixels(frames[0]))
            if found is None or np.nanmedian(found[:, 2]) > 2 * LAYOUT_SIZE[1] * height:  # none, or no subject's size
                return none
            seen = ~np.isnan(found[:, 0])
            if seen.sum() < 2:
                return none
            steps.append(np.polyfit(np.flatnonzero(seen), found[seen, :2], 1)[0][::-1])
            if seq.drift is not None:  # picture -> camera frame: each frame's content moved by its offset
                offsets = np.array(frame_offsets(seq.drift, len(found), first), np.float64)
                found[:, :2] -= offsets[:, ::-1]
            places.append(first + np.flatnonzero(seen))
            boxes.append(found[seen])
        places, boxes = np.concatenate(places), np.concatenate(boxes)
        kt, ks = self.config.time_compression, self.config.space_compression
        frames = np.arange(seq.latent_frames * kt, dtype=np.float64)
        centre = np.array([width / 2, height / 2])
        if magnify is not None:  # picture -> screen
            boxes[:, :2] = centre + (boxes[:, :2] - centre) * magnify[places][:, None]
        cx, cy = np.interp(frames, places, boxes[:, 0]), np.interp(frames, places, boxes[:, 1])
        if len(parts) == 1:  # an extension goes on at the clip's own speed
            speed = np.polyfit(places, boxes[:, :2], 1)[0]
            ends = np.where(frames < places[0], 0, len(places) - 1)
            away = (frames - places[ends])[:, None] * speed + boxes[ends, :2]
            outside = (frames < places[0]) | (frames > places[-1])
            cx[outside], cy[outside] = away[outside, 0], away[outside, 1]
        if magnify is not None:  # screen -> picture
            cx, cy = centre[0] + (cx - centre[0]) / magnify, centre[1] + (cy - centre[1]) / magnify
        size = np.full(frames.shape, float(np.median(boxes[:, 2])))
        # Told only what the picture shows of the box: one carried on past the edge came back in at the
        # other side of the camera frame. (A generate's long shot keeps its subject wrapping round, in view.)
        offsets = None if seq.drift is None else frame_offsets(seq.drift, len(frames))
        layout = layout_map(cx, cy, size, kt, ks, height, width, offsets)
        return torch.from_numpy(layout)[None].to(self.device), steps

    def _moving_subject(self, video: torch.Tensor, seq: _Sequence) -> tuple:
        """match_seams' `moving` for each seam: where the clip's frame (moved on one step) shows the
        subject, or the new frame next to it or the clip's frame itself within a subject's size of that,
        and the step it moves away from the seam, (dy, dx) px; None where there is no step or the frame
        shows no subject."""
        out = []
        sides = ((seq.seam_before, video[:, :, 0], seq.subject_steps[0], 1, seq.seam_lead),
                 (seq.seam_after, video[:, :, -1], seq.subject_steps[1], -1, 1))
        for clip_frame, new_frame, step, sign, lead in sides:
            if clip_frame is None or step is None:
                out.append(None)
                continue
            sy, sx = sign * float(step[0]), sign * float(step[1])
            ahead = one_step_on(clip_frame, (sy, sx), lead)
            seen = torch.stack([ahead[0], new_frame[0], clip_frame[0]], 1)
            keyed = torch.from_numpy(subject_mask(_pixels(seen))[0])
            keyed = keyed.to(video)[:, None]
            side = math.isqrt(int(keyed[0].sum()))  # of a square of the clip's subject's area
            if side == 0:
                out.append(None)
                continue
            near = F.max_pool2d(keyed[:1], 2 * side + 1, 1, side)  # the new frame's subject, not a saturated sky
            # the clip's own a step behind too: its rim left out stood as an arc where the clip left it
            mask = torch.maximum(keyed[:1], keyed[1:] * near).amax(0, keepdim=True)
            mask = _margin(mask)
            out.append((mask, (sy, sx)))
        return tuple(out)

    def _told_subject(self, moving: tuple, seq: _Sequence) -> tuple:
        """_moving_subject's masks cut to the latent cells (and one round them) that the subject's told
        layout covers at each seam: the key also takes in light patches of the ground, and left out of
        the hold they stood as patches of unheld ground."""
        if seq.layout is None:
            return None, None
        frames = (seq.out_start - 1, seq.out_start + seq.out_frames)
        return tuple(None if side is None else (side[0] * self._told_cover(seq, frame).to(side[0]), side[1])
                     for side, frame in zip(moving, frames))

    def _told_cover(self, seq: _Sequence, frame: int) -> torch.Tensor:
        """[1,1,H,W] the latent cells (and one round them) the subject's told layout covers at a frame of
        the sequence, in the picture."""
        kt, ks = self.config.time_compression, self.config.space_compression
        cover = seq.layout[:, min(max(frame // kt, 0), seq.layout.shape[1] - 1)][:, None].float()
        cover = F.interpolate((F.max_pool2d(cover, 3, 1, 1) > 0).float(), scale_factor=ks)
        if seq.drift is not None:  # the layout lies in the camera frame
            cover = torch.roll(cover, frame_offsets(seq.drift, 1, frame)[0], (-2, -1))
        return cover

    def _clean_plate(self, native: np.ndarray, at_end: bool, width: int, height: int,
                     drift: tuple[float, float] | None) -> tuple | None:
        """A still shot's clean plate (model/seams.py clean_plate) from the clip's frames at the model's
        rate within PLATE_SECONDS of the seam, with where it holds and where the seam's frame shows the
        subject (soft, with a margin); None where the camera moves or zooms, the clip shows no subject,
        or it has under 3 frames."""
        if drift not in (None, (0.0, 0.0)):
            return None  # a pan's or tilt's plate, moved in whole pixels, stood apart from its frames
        count = min(round(PLATE_SECONDS * self.native_rate), len(native))
        if count < 3:  # the clip's own frames only: held ones would stand for the subject's place
            return None
        context = self._to_tensor(native[-count:] if at_end else native[:count], width, height)
        mask, kind = subject_mask(_pixels(context[0]))
        # A zoom is measured on every third frame: a slow one moves three times as far between them (all
        # 18 held-out zoom ends read; 0.15 s against 0.45 s for every frame), and a still shot reads none.
        if kind == "none" or self._given_zoom(context[:, :, ::3], drift):
            return None
        covered = torch.from_numpy(mask).to(context)[None, None]
        return *clean_plate(context, covered), _margin(covered[:, :, -1 if at_end else 0])

    @staticmethod
    def _plate(seq: _Sequence) -> tuple | None:
        """One clean plate from the seams' (_clean_plate) and where it holds: a fill's pixels from the clip
        before's plate where it holds, else the clip after's. The clip before's subject stood near its seam
        for much of its last frames, so its plate does not hold there, where the gap's subject starts out;
        the clip after's subject has not come yet. From the first plate alone, a white box crossing a
        night city on a still camera (quality.py's fill, seeds from 2,500) left the windows round its
        start blurred, and both its seam regions read 1.62; from both, 1.55 (and 1.31 with the plate round
        the carried subject, model/subject_carry.py)."""
        plates = [plate[:2] for plate in seq.plates if plate is not None]
        if not plates:
            return None
        plate, held = plates[0]
        for other, other_held in plates[1:]:
            plate = torch.where(held, plate, other)
            held = held | other_held
        return plate, held

    def _layer_speeds(self, native: np.ndarray, at_end: bool, width: int, height: int,
                      drift: tuple[float, float] | None) -> np.ndarray | None:
        """An extension's rows' speeds against the drift (model/parallax.py layer_speeds), measured in the
        clip's frames at the model's rate next to the seam; None where the camera does not pan or tilt."""
        if drift in (None, (0.0, 0.0)):
            return None
        count = min(MEASURE_FRAMES, len(native))
        frames = self._to_tensor(native[-count:] if at_end else native[:count], width, height)
        mask, kind = subject_mask(_pixels(frames[0]))
        return layer_speeds(frames, drift, None if kind == "none" else torch.from_numpy(mask), at_end)

    def _carry_layers(self, video: torch.Tensor, seq: _Sequence) -> torch.Tensor:
        """A panning or tilting extension's new frames with each row carried on at its own speed, the
        subject left as drawn where the frames show it within its told layout, and a tilt's rows beyond
        the seam frame's edge continued from the rows next to them (model/parallax.py)."""
        n = video.shape[2]
        (distances,) = self._seam_distances(seq, n)
        if seq.parallax is not None:
            subject = None
            mask, kind = subject_mask(_pixels(video[0]))
            if kind != "none" and seq.layout is not None:  # the keyed subject its told layout covers
                frames = range(seq.out_start, seq.out_start + n)
                subject = torch.stack([self._told_cover(seq, f)[0, 0] > 0 for f in frames]) & torch.from_numpy(mask)
            video = parallax_frames(video, seq.parallax, seq.drift, distances, subject)
        return mirror_revealed(video, seq.drift, distances)

    def _sprites(self, clips: list[tuple[np.ndarray, bool]], seq: _Sequence, width: int, height: int) -> list:
        """Each clip's subject at its seam (model/subject_carry.py cut_subject), from its frames at the model's
        rate within PATH_SECONDS of it (clips: the frames and whether the seam is at their end); none where
        the subject has no told layout or a clip shows none."""
        if seq.layout is None:
            return []
        sprites = []
        for native, at_end in clips:
            count = min(round(PATH_SECONDS * self.native_rate), len(native))
            near = self._to_tensor(native[-count:] if at_end else native[:count], width, height)
            sprites.append(cut_subject(_pixels(near[0]), at_end))
        return [] if None in sprites else sprites

    @staticmethod
    def _seam_distances(seq: _Sequence, frames: int) -> list[list[int]]:
        """For each seam, the clip's before the new frames and then the clip's after them, each new frame's
        distance from the clip's seam frame, negative before it."""
        before = [[seq.seam_lead + j for j in range(frames)]] if seq.seam_before is not None else []
        return before + ([[j - frames for j in range(frames)]] if seq.seam_after is not None else [])

    def _uncover(self, video: torch.Tensor, seq: _Sequence) -> torch.Tensor:
        """A still shot's new ground, the ground each seam's subject leaves included, from the clip's
        clean plate wherever the new frames show no subject (model/seams.py uncover)."""
        plates = [plate for plate in seq.plates if plate is not None]
        if not plates:
            return video
        mask, kind = subject_mask(_pixels(video[0]))
        shown = torch.zeros_like(video[:, :1]) if kind == "none" else \
            _margin(torch.from_numpy(mask).to(video)[:, None]).permute(1, 0, 2, 3)[None]
        for plate in plates:
            video = uncover(video, *plate, shown)
        return video

    def _encode(self, frames: torch.Tensor, drift: tuple[float, float] | None, first: int = 0) -> torch.Tensor:
        """Frames [1,3,T,H,W], frames first.. of the sequence, encoded in the camera frame."""
        if drift is not None:
            frames = roll_frames(frames, frame_offsets(drift, frames.shape[2], first), forward=False)
        return self.model.encode_frames(frames)

    def _preview_offset(self, drift: tuple[float, float] | None, latent_frame: int) -> tuple[int, int]:
        """Where a latent frame lies out of the camera frame, in whole latent cells."""
        if drift is None:
            return 0, 0
        cells, _ = split_offsets(drift, latent_frame + 1, self.config.time_compression, self.config.space_compression)
        return cells[latent_frame]

    def _prepare_sequence(self, args: Request, width: int, height: int, text: torch.Tensor,
                          text_mask: torch.Tensor) -> _Sequence:
        kt = self.config.time_compression
        if isinstance(args, RestyleRequest):
            native = self._to_native(args.frames, args.rate)
            n = native.shape[0]
            padded = np.concatenate([native, np.repeat(native[-1:], -n % kt, axis=0)])
            x = self._to_tensor(padded, width, height)
            # The picture's own frame: the input carries its move. In the camera frame the shipped
            # denoiser kept less of its edges (correlation 0.50 against 0.52 over 10 held-out clips).
            init = without_look(self.model.encode_frames(x))
            return _Sequence(latent_frames=init.shape[2], init=init, structure=self.model.structure(x).float(),
                             out_start=0, out_frames=n, guide=x[:, :, :n])
        # Native frames needed so that every output frame (at args.rate) has one to show.
        n = int(hold_indices(_out_frames(args), self.native_rate, args.rate)[-1]) + 1
        new_latents = math.ceil(n / kt)
        if isinstance(args, GenerateRequest):
            return _Sequence(latent_frames=new_latents, out_frames=n, drift=self._camera_drift(None, text, text_mask),
                             zoom=self._camera_zoom(text, text_mask))
        if isinstance(args, AnimateRequest):
            # The still is frame 0, where the camera frame and the picture agree. A zoom out starts on
            # it inside the widest frame, which the denoiser draws around it (model/zoom.py).
            zoom = self._camera_zoom(text, text_mask)
            still = self._to_tensor(np.repeat(args.image[None], kt, axis=0), width, height)
            still = scale_frames(still, [1.0 / zoom_scales(zoom, n)[0]] * kt)
            seq = self._known_sequence(max(1, new_latents), [(0, self.model.encode_frames(still))], out_start=0,
                                       out_frames=n, drift=self._camera_drift(None, text, text_mask))
            seq.seam_before, seq.seam_lead = still[:, :, 0].float(), 0  # the shot starts on the still itself
            seq.zoom = zoom
            return seq
        if isinstance(args, ExtendRequest):
            tail = args.direction == "tail"
            native = self._to_native(args.frames, args.rate)
            frames = self._context(native, at_end=tail, width=width, height=height)
            drift = self._camera_drift(frames, text, text_mask)
            scales, zoom, lead = continue_zoom(self._given_zoom(frames, drift), frames.shape[2], n, tail)
            frames = scale_frames(frames, scales)  # to the framing the new frames are drawn in
            k = frames.shape[2] // kt
            if tail:
                seq = self._known_sequence(k + new_latents, [(0, self._encode(frames, drift))],
                                           out_start=k * kt, out_frames=n, drift=drift)
                seq.seam_before = frames[:, :, -1].float()
            else:
                known = self._encode(frames, drift, first=new_latents * kt)
                seq = self._known_sequence(k + new_latents, [(new_latents, known)],
                                           out_start=new_latents * kt - n, out_frames=n, drift=drift)
                seq.seam_after = frames[:, :, 0].float()
            seq.zoom, seq.zoom_lead = zoom, lead
            # The subject goes on at the clip's pace on screen where the new frames lie inside the seam
            # frame. Where they show more (continue_zoom's widest framing), that pace brought it in from
            # outside the picture, drawn as shards (on 7 held-out heads of zoom ins, two regions grew:
            # 1.17 to 1.39, 1.49 to 1.76), so the picture's pace is kept there.
            magnify = self._magnify(seq, scales, tail) if zoom and (zoom > 0) == tail else None
            seq.layout, (step,) = self._given_layout(args.prompt, seq, [(0 if tail else new_latents * kt, frames)],
                                                     magnify)
            seq.subject_steps = (step, None) if tail else (None, step)
            plate = self._clean_plate(native, tail, width, height, drift)
            seq.plates = (plate, None) if tail else (None, plate)
            seq.parallax = self._layer_speeds(native, tail, width, height, drift)
            seq.sprites = self._sprites([(native, tail)], seq, width, height)
            return seq
        # fill: the gap is new_latents latent frames between the two contexts; its frames are then
        # stretched to the exact gap length so both seams meet. The camera's drift is the clip's before it.
        native = self._to_native(args.before_frames, args.rate), self._to_native(args.after_frames, args.rate)
        before, after = self._context(native[0], True, width, height), self._context(native[1], False, width, height)
        drift = self._camera_drift(before, text, text_mask)
        k1, k2 = before.shape[2] // kt, after.shape[2] // kt
        resume = k1 + new_latents
        seq = self._known_sequence(resume + k2, [(0, self._encode(before, drift)),
                                                 (resume, self._encode(after, drift, resume * kt))],
                                   out_start=k1 * kt, out_frames=new_latents * kt, drift=drift)
        seq.stretch_to = _out_frames(args)
        seq.seam_before, seq.seam_after = before[:, :, -1].float(), after[:, :, 0].float()
        seq.layout, steps = self._given_layout(args.prompt, seq, [(0, before), (resume * kt, after)])
        seq.subject_steps = tuple(steps)
        seq.plates = (self._clean_plate(native[0], True, width, height, drift),
                      self._clean_plate(native[1], False, width, height, drift))
        seq.sprites = self._sprites([(native[0], True), (native[1], False)], seq, width, height)
        return seq

    def _known_sequence(self, total: int, parts: list[tuple[int, torch.Tensor]], out_start: int,
                        out_frames: int, drift: tuple[float, float] | None) -> _Sequence:
        c, h, w = parts[0][1].shape[1], parts[0][1].shape[3], parts[0][1].shape[4]
        known = torch.zeros(1, c, total, h, w, device=self.device, dtype=self.dtype)
        mask = torch.zeros(total, dtype=torch.bool)
        for start, latents in parts:
            known[:, :, start:start + latents.shape[2]] = latents
            mask[start:start + latents.shape[2]] = True
        return _Sequence(latent_frames=total, known=known, known_mask=mask, out_start=out_start,
                         out_frames=out_frames, drift=drift)

    # ----------------------------------------------------------------- steps 3-5
    def _plan_windows(self, seq: _Sequence) -> list[tuple[int, int]]:
        """(start, length) of each window, in the order they are made. Windows overlap by at least
        overlap_latent_frames; they run backwards when only the end is known (extend head)."""
        n, size = seq.latent_frames, self.config.latent_window
        if n <= size:
            windows = [(0, n)]
        else:
            stride = size - self.config.overlap_latent_frames
            starts = list(range(0, n - size, stride)) + [n - size]
            windows = [(s, size) for s in starts]
            mask = seq.known_mask
            if mask is not None and mask[-1] and not mask[0]:
                windows = [(n - size - s, size) for s in starts]
        if seq.known_mask is not None:
            windows = [(s, l) for s, l in windows if not bool(seq.known_mask[s:s + l].all())]
        return windows

    @staticmethod
    def _steps_run(steps: int, strength: float | None) -> int:
        return steps if strength is None else max(1, min(steps, round(steps * strength)))

    def _check_cancel(self, cancel: threading.Event | None) -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")

    def _denoise_window(self, z_known: torch.Tensor, have: torch.Tensor, init: torch.Tensor | None,
                        structure: torch.Tensor | None, layout: torch.Tensor | None, args: Request,
                        text: torch.Tensor, text_mask: torch.Tensor,
                        subject: float | None, use_cfg: bool, generator: torch.Generator, progress: dict,
                        out_size: tuple[int, int], preview_offset: tuple[int, int], steady: bool) -> torch.Tensor:
        shape = tuple(z_known.shape)
        any_known = bool(have.any())
        cond = build_condition(shape, z_known if any_known else None, have[None] if any_known else None,
                               structure, getattr(args, "structure_weight", DEFAULT_STRUCTURE_WEIGHT),
                               dtype=self.dtype, device=self.device)
        # 3. Timesteps: a few-step flow-matching Euler schedule; restyle (SDEdit) starts part-way.
        scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=self.config.scheduler_shift)
        scheduler.set_timesteps(args.steps, device=self.device)
        begin = args.steps - self._steps_run(args.steps, args.strength if init is not None else None)
        timesteps = scheduler.timesteps[begin:]
        scheduler.set_begin_index(begin)
        # 4. Latents: noise from the seeded CPU generator (same frames on every run and device).
        noise = torch.randn(shape, generator=generator, dtype=torch.float32).to(self.device)
        x = noise if init is None else scheduler.scale_noise(init.float(), timesteps[:1], noise)
        if use_cfg:
            cond = torch.cat([cond, cond])
        batch = cond.shape[0]
        # The unconditional pass is told no subject speed, as training's dropped captions are.
        speeds = None if subject is None else torch.tensor([subject] + [math.nan] * (batch - 1), device=self.device)
        if layout is not None:  # likewise no layout
            layout = torch.cat([layout, torch.zeros_like(layout).expand(batch - 1, *layout.shape[1:])])
        ground = None  # an extension's or fill's ground, steadied hard (model/temporal_nr.py)
        placed = layout is not None or not names_subject(args.prompt)  # where its subject is, or that it has none
        if steady and isinstance(args, (ExtendRequest, FillRequest)) and placed:
            ground = ground_cells(None if layout is None else layout[0], (shape[2], *shape[3:])).to(self.device)
        sigmas = scheduler.sigmas.to(self.device)
        anchor, release = held_frames(z_known.float(), have, HOLD_RELEASE)
        if layout is not None and any_known:
            release = free_subject(release, layout[:1], have)
        for i, t in enumerate(timesteps):
            self._check_cancel(args.cancel)
            sigma = sigmas[begin + i]
            if any_known:
                # Until its release level, a frame is its anchor noised to the step's level: known
                # frames always (as in training: the network's output there is never trained), new
                # frames near them until the steps left can only refine them.
                x = torch.where(sigma > release, add_noise(anchor, noise, sigma), x)
            x_in = x.to(self.dtype).expand(batch, *shape[1:])
            # The last step keeps none of x beyond the network's estimate: on a sampled trajectory
            # that residue is what the steps left unresolved, and it decodes as grain.
            last = i == len(timesteps) - 1
            with bf16_autocast(self.device):  # its products in bf16 where the CPU computes it natively
                v = self.model.denoiser(x_in, cond, sigma.float().expand(batch), text, text_mask,
                                        pass_input=not last, subject=speeds, layout=layout).float()
            if use_cfg:
                v_cond, v_uncond = v.chunk(2)
                scale = args.guidance if init is None else args.guidance * RESTYLE_GUIDANCE[i >= RESTYLE_LOOK_STEPS]
                v = v_uncond + scale * (v_cond - v_uncond)
            if steady:  # in the camera frame (model/temporal_nr.py); a restyle's picture frame moves
                v = steady_velocity(x, v, float(sigma), ground)
            progress["step"] += 1
            if args.callback is not None:
                args.callback(progress["step"], progress["total"], self._preview(x, v, sigma, out_size, preview_offset))
            x = scheduler.step(v, t, x).prev_sample
        return x

    def _preview(self, x: torch.Tensor, v: torch.Tensor, sigma: torch.Tensor, size: tuple[int, int],
                 offset: tuple[int, int]) -> np.ndarray:
        """The middle latent frame of the current estimate of x0, through the 1x1 preview projection;
        offset carries it out of the camera frame to where the result shows it."""
        x0 = predicted_x0(x, v, float(sigma))
        frame = torch.roll(x0[0, :, x0.shape[2] // 2], offset, (-2, -1))
        return self.model.preview(frame, size).cpu().numpy()

    # ----------------------------------------------------------------- step 6
    def _match_window_joins(self, video: torch.Tensor, joins: list[tuple[int, bool]], seq: _Sequence) -> torch.Tensor:
        """A long shot's windows joined as an extension joins its clip (model/seams.py): where a later
        window's new frames meet frames an earlier one made, the seam's difference fades over the new
        frames, up to the next join. `joins`: (latent frame, forward) from _window_joins. Not along a
        pan or tilt: there the seam's difference, moved by whole pixels counted from the join, did not
        line up with the frames' own offsets (held-out pans' biggest jump went up, 1.29 to 1.42); a
        still camera's head asks a few thousandths of a pixel a frame, under a pixel in all."""
        if not joins or (seq.drift is not None and max(map(abs, seq.drift)) * video.shape[2] > 1.0):
            return video
        kt, video = self.config.time_compression, video.float()
        span = round(SEAM_FADE_SECONDS * self.native_rate)
        cuts = sorted(f * kt - seq.out_start for f, _ in joins)
        # Each join's anchor frame is final first: forward joins from the start, backward ones from the end.
        for latent, forward in sorted(joins, key=lambda join: join[0] if join[1] else -join[0]):
            f = latent * kt - seq.out_start  # the first new frame (forward), or the first made one after them
            if not 0 < f < video.shape[2]:
                continue
            if forward:
                end = min([c for c in cuts if c > f] + [video.shape[2]])
                video[:, :, f:end] = match_seams(video[:, :, f:end], video[:, :, f - 1], None, seq.drift,
                                                 min(span, end - f))
            else:
                begin = max([c for c in cuts if c < f] + [0])
                video[:, :, begin:f] = match_seams(video[:, :, begin:f], None, video[:, :, f], seq.drift,
                                                   min(span, f - begin))
        return video.clamp(-1.0, 1.0)  # a difference carried onto a bright or dark frame stays in range

    def _given_blocks(self, seq: _Sequence) -> torch.Tensor | None:
        """[N] bool: the known latent frames that the output leaves out (an extend's or fill's clip);
        an animate's still is known but shown, and blends like any block."""
        if seq.known_mask is None:
            return None
        kt = self.config.time_compression
        starts = torch.arange(seq.latent_frames) * kt
        outside = (starts + kt <= seq.out_start) | (starts >= seq.out_start + seq.out_frames)
        return seq.known_mask & outside

    def _conform(self, native: np.ndarray, args: Request, seq: _Sequence) -> np.ndarray:
        if isinstance(args, RestyleRequest):
            count = args.frames.shape[0]
            return native[hold_indices(count, self.native_rate, args.rate, native.shape[0])]
        if seq.stretch_to is not None:  # fill: spread the made frames evenly over the gap
            idx = np.floor(np.arange(seq.stretch_to) * native.shape[0] / seq.stretch_to).astype(np.int64)
            return native[idx]
        return native[hold_indices(_out_frames(args), self.native_rate, args.rate, native.shape[0])]

    def _metadata(self, args: Request, frames: np.ndarray, rate: float) -> dict:
        meta = {
            "op": args.op, "prompt": args.prompt, "negative_prompt": args.negative_prompt, "seed": args.seed,
            "steps": args.steps, "guidance": args.guidance, "strength": getattr(args, "strength", None),
            "model": {"name": self.name, "sha256": self.sha256}, "engine_version": ENGINE_VERSION,
            "frames": int(frames.shape[0]), "rate": rate, "width": int(frames.shape[2]),
            "height": int(frames.shape[1]),
        }
        if isinstance(args, ExtendRequest):
            meta["direction"] = args.direction
        if isinstance(args, RestyleRequest):
            meta["structure_weight"] = args.structure_weight
        else:
            meta["seconds"] = args.seconds
        return meta
