"""The procedural previz world: a seeded numpy renderer of 16:9 clips.

Every layer is a continuous function of world coordinates (u, v) in units of the frame height,
so a clip renders at any size, all frames at once, with no per-pixel Python loops. The camera
maps screen pixels to world coordinates per frame and per layer (parallax factor p: far layers
move less). The subject lives in screen space so that its path in frame is exactly its direction.

The palette keeps every background pixel at HSV saturation <= BACKGROUND_MAX_SATURATION, so the
subject is the only strongly saturated thing in frame at every time of day.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

TIMES_OF_DAY = ("day", "sunset", "night")
SETTINGS = ("mountains", "sea", "city", "field")
CAMERAS = ("static", "pan left", "pan right", "tilt up", "tilt down", "zoom in", "zoom out")
COLORS = ("red", "green", "blue", "yellow", "white")
SHAPES = ("ball", "box")
MOTIONS = ("left", "right", "still")

# Seeds at or above this are never used for training: they are the held-out evaluation range.
EVAL_SEED_START = 1_000_000

BACKGROUND_MAX_SATURATION = 0.45

# Total camera travel over a clip for a layer with parallax 1, in frame heights / scale factor.
PAN_TRAVEL = 0.45
TILT_TRAVEL = 0.2
ZOOM_FACTOR = 1.45

SUBJECT_RGB = {
    "red": (0.86, 0.10, 0.10),
    "green": (0.10, 0.74, 0.20),
    "blue": (0.15, 0.30, 0.92),
    "yellow": (0.96, 0.84, 0.10),
    "white": (0.96, 0.96, 0.96),
}

# Sky colours at the top of the frame and at the horizon.
SKY_RGB = {
    "day": ((0.55, 0.72, 0.95), (0.76, 0.86, 0.97)),
    "sunset": ((0.86, 0.55, 0.58), (0.98, 0.76, 0.56)),
    "night": ((0.04, 0.05, 0.12), (0.12, 0.14, 0.25)),
}

# Light on the ground layers: a colour multiplier per time of day.
LIGHT_RGB = {
    "day": (1.0, 1.0, 1.0),
    "sunset": (0.88, 0.70, 0.62),
    "night": (0.22, 0.25, 0.38),
}


@dataclass(frozen=True)
class Scene:
    """Everything a clip depends on; `render` is a pure function of it."""

    time_of_day: str
    setting: str
    camera: str
    color: str | None  # None: no subject in frame
    shape: str | None
    motion: str | None
    layout_seed: int  # geometry of the setting (ridges, buildings, textures)
    subject_x: float = 0.5  # start centre, fraction of width
    subject_y: float = 0.7  # centre, fraction of height
    subject_size: float = 0.1  # radius / half side, fraction of height
    subject_travel: float = 0.4  # distance moved over the clip, fraction of width

    def __post_init__(self):
        _check_choice("time_of_day", self.time_of_day, TIMES_OF_DAY)
        _check_choice("setting", self.setting, SETTINGS)
        _check_choice("camera", self.camera, CAMERAS)
        if self.color is None:
            if self.shape is not None or self.motion is not None:
                raise ValueError("shape/motion: a scene without a subject colour has no subject")
        else:
            _check_choice("color", self.color, COLORS)
            _check_choice("shape", self.shape, SHAPES)
            _check_choice("motion", self.motion, MOTIONS)

    @property
    def has_subject(self) -> bool:
        return self.color is not None

    def to_dict(self) -> dict:
        return asdict(self)


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name}: {value!r} is not one of {', '.join(choices)}")


def sample_scene(seed: int, subject_probability: float = 0.85) -> Scene:
    """A random scene, deterministic in `seed`."""
    if seed < 0:
        raise ValueError(f"seed: must be >= 0, got {seed}")
    rng = np.random.default_rng([seed, 7])
    has_subject = rng.random() < subject_probability
    motion = str(rng.choice(MOTIONS)) if has_subject else None
    travel = float(rng.uniform(0.3, 0.45))
    if motion == "right":
        start = float(rng.uniform(0.12, 0.85 - travel))
    elif motion == "left":
        start = float(rng.uniform(0.15 + travel, 0.88))
    else:
        start = float(rng.uniform(0.2, 0.8))
    return Scene(
        time_of_day=str(rng.choice(TIMES_OF_DAY)),
        setting=str(rng.choice(SETTINGS)),
        camera=str(rng.choice(CAMERAS)),
        color=str(rng.choice(COLORS)) if has_subject else None,
        shape=str(rng.choice(SHAPES)) if has_subject else None,
        motion=motion,
        layout_seed=int(rng.integers(0, 2**31 - 1)),
        subject_x=start,
        subject_y=float(rng.uniform(0.58, 0.78)),
        subject_size=float(rng.uniform(0.08, 0.12)),
        subject_travel=travel,
    )


def restyled(scene: Scene, seed: int) -> Scene:
    """The same geometry and motion in another style: another time of day, and/or another
    subject colour. Deterministic in (scene, seed)."""
    rng = np.random.default_rng([seed, 11])
    change = int(rng.integers(0, 3))  # 0: time of day, 1: colour, 2: both
    if not scene.has_subject:
        change = 0
    time_of_day, color = scene.time_of_day, scene.color
    if change in (0, 2):
        time_of_day = str(rng.choice([t for t in TIMES_OF_DAY if t != scene.time_of_day]))
    if change in (1, 2):
        color = str(rng.choice([c for c in COLORS if c != scene.color]))
    return replace(scene, time_of_day=time_of_day, color=color)


def restyle_pair(scene: Scene, seed: int, width: int = 256, height: int = 144, frames: int = 24):
    """(other_scene, frames_of_scene, frames_of_other_scene): the restyle supervision pair."""
    other = restyled(scene, seed)
    return other, render(scene, width, height, frames), render(other, width, height, frames)


# ----------------------------------------------------------------------------------- camera


def _camera_coords(scene: Scene, parallax: float, width: int, height: int, frames: int):
    """World coordinates (u, v) [T,H,W] seen by a layer with this parallax, in frame heights.

    Pan left moves the camera left, so content moves right in frame; tilt up moves the camera
    up, so content moves down; zoom in scales content up about the frame centre."""
    t = np.linspace(0.0, 1.0, frames, dtype=np.float32)[:, None, None] if frames > 1 else np.zeros((1, 1, 1), np.float32)
    aspect = width / height
    x = (np.arange(width, dtype=np.float32) + 0.5)[None, None, :] / height - aspect / 2
    y = (np.arange(height, dtype=np.float32) + 0.5)[None, :, None] / height - 0.5
    dx = np.zeros_like(t)
    dy = np.zeros_like(t)
    scale = np.ones_like(t)
    cam = scene.camera
    if cam == "pan left":
        dx = -PAN_TRAVEL * parallax * t
    elif cam == "pan right":
        dx = PAN_TRAVEL * parallax * t
    elif cam == "tilt up":
        dy = -TILT_TRAVEL * parallax * t
    elif cam == "tilt down":
        dy = TILT_TRAVEL * parallax * t
    elif cam == "zoom in":
        scale = 1.0 + (ZOOM_FACTOR - 1.0) * parallax * t
    elif cam == "zoom out":
        scale = 1.0 + (ZOOM_FACTOR - 1.0) * parallax * (1.0 - t)
        scale = scale / (1.0 + (ZOOM_FACTOR - 1.0) * parallax)
    u = x / scale + dx
    v = y / scale + dy + 0.5
    return u, v


# ----------------------------------------------------------------------------------- layers


class _Layout:
    """Random constants of one setting's geometry, drawn from the layout seed."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng([seed, 3])

    def ridge(self, base: float, amp: float, freqs=(1.5, 3.7, 9.0)):
        amps = amp * self.rng.uniform(0.5, 1.0, len(freqs)) / np.arange(1, len(freqs) + 1)
        phases = self.rng.uniform(0, 2 * np.pi, len(freqs))
        freqs = np.asarray(freqs) * self.rng.uniform(0.8, 1.25, len(freqs))
        return lambda u: base - sum(a * np.abs(np.sin(f * u + p)) for a, f, p in zip(amps, freqs, phases))

    def texture(self, freq: float, n: int = 3):
        """Smooth 2D texture in [-1, 1]: a sum of oriented sinusoids."""
        ang = self.rng.uniform(0, np.pi, n)
        f = freq * self.rng.uniform(0.7, 1.4, n)
        ph = self.rng.uniform(0, 2 * np.pi, n)
        fx, fy = (f * np.cos(ang)).astype(np.float32), (f * np.sin(ang)).astype(np.float32)
        return lambda u, v: sum(np.sin(a * u + b * v + p) for a, b, p in zip(fx, fy, ph)) / n

    def jitter(self, rgb, amount: float = 0.05):
        return np.clip(np.asarray(rgb, np.float32) + self.rng.uniform(-amount, amount, 3), 0, 1)


def _hash(i: np.ndarray, salt: float) -> np.ndarray:
    """Deterministic pseudo-random [0, 1) per integer cell."""
    return np.modf(np.abs(np.sin(i * 12.9898 + salt) * 43758.5453))[0]


def _soft(d: np.ndarray, height: int) -> np.ndarray:
    """Anti-aliased coverage of a signed distance d (frame heights, inside > 0)."""
    return np.clip(d * height + 0.5, 0.0, 1.0)


def _over(canvas: np.ndarray, alpha: np.ndarray, rgb: np.ndarray) -> None:
    canvas *= 1.0 - alpha[..., None]
    canvas += alpha[..., None] * rgb


def _shade(rgb, tex: np.ndarray, amount: float) -> np.ndarray:
    return np.asarray(rgb, np.float32) * (1.0 + amount * tex)[..., None]


def _sky(scene: Scene, lay: _Layout, shape):
    T, H, W = shape
    u, v = _camera_coords(scene, 0.15, W, H, T)
    top, horizon = (lay.jitter(c, 0.03) for c in SKY_RGB[scene.time_of_day])
    k = np.clip(v / 0.55, 0.0, 1.0)[..., None]
    sky = top * (1 - k) + horizon * k
    if scene.time_of_day != "night":
        # Faint clouds of the sky's own hue: texture for motion, never white.
        cloud = np.clip(lay.texture(5.0, 4)(u * 1.0, v * 3.0), 0.0, 1.0)[..., None]
        sky = sky + 0.10 * cloud * (1.0 - sky)
    if scene.time_of_day == "night":
        # Dim, sparse stars on a lattice: texture for the motion estimate, never subject-white.
        cell = 0.04
        iu, iv = np.floor(u / cell), np.floor(v / cell)
        on = _hash(iu * 131.0 + iv, 1.7) > 0.93
        cu = (iu + 0.5) * cell - u
        cv = (iv + 0.5) * cell - v
        star = on * np.clip(1.0 - np.sqrt(cu**2 + cv**2) / 0.006, 0, 1)
        sky = sky + 0.45 * star[..., None]
    return np.broadcast_to(sky, (T, H, W, 3))


def _mountains(scene, lay, canvas, light):
    T, H, W = canvas.shape[:3]
    far, near = lay.ridge(0.52, 0.16), lay.ridge(0.66, 0.12, (2.3, 5.1, 12.0))
    tex_far, tex_near, tex_ground = lay.texture(14), lay.texture(22), lay.texture(30)
    u, v = _camera_coords(scene, 0.4, W, H, T)
    _over(canvas, _soft(v - far(u), H), _shade(lay.jitter((0.55, 0.6, 0.7)), tex_far(u, v), 0.12) * light)
    u, v = _camera_coords(scene, 0.7, W, H, T)
    _over(canvas, _soft(v - near(u), H), _shade(lay.jitter((0.38, 0.44, 0.40)), tex_near(u, v), 0.18) * light)
    u, v = _camera_coords(scene, 1.0, W, H, T)
    _over(canvas, _soft(v - 0.82, H), _shade(lay.jitter((0.46, 0.5, 0.36)), tex_ground(u, v), 0.2) * light)


def _sea(scene, lay, canvas, light):
    T, H, W = canvas.shape[:3]
    island = lay.ridge(0.5, 0.07, (2.0, 6.0))
    u, v = _camera_coords(scene, 0.3, W, H, T)
    _over(canvas, _soft(v - island(u), H) * (np.sin(u * 1.3 + lay.rng.uniform(0, 6)) > -0.2),
          lay.jitter((0.45, 0.5, 0.55)) * light)
    horizon = 0.52
    u, v = _camera_coords(scene, 0.8, W, H, T)
    depth = np.maximum(v - horizon, 0.0) + 0.02
    # Waves on a receding plane: finer toward the horizon, textured in both directions.
    chop = lay.texture(1.0)
    waves = 0.5 * np.sin(4.0 / depth + 2.0 * chop(u * 2.5 / depth, 0.3 / depth)) + 0.5 * chop(u * 6.0 / (depth + 0.05), 1.5 / depth)
    water = _shade(lay.jitter((0.22, 0.40, 0.56)), waves, 0.22) * light
    _over(canvas, _soft(v - horizon, H), water)
    u, v = _camera_coords(scene, 1.0, W, H, T)
    beach = lay.ridge(0.9, 0.03, (3.0, 7.0))
    _over(canvas, _soft(v - beach(u), H), _shade(lay.jitter((0.72, 0.68, 0.55)), lay.texture(28)(u, v), 0.12) * light)


def _city(scene, lay, canvas, light, night):
    T, H, W = canvas.shape[:3]
    salt = float(lay.rng.uniform(0, 100))
    u, v = _camera_coords(scene, 0.35, W, H, T)
    cell = np.floor(u / 0.09)
    top = 0.5 - 0.22 * _hash(cell, salt)
    _over(canvas, _soft(v - top, H), lay.jitter((0.55, 0.58, 0.64)) * light)
    u, v = _camera_coords(scene, 0.75, W, H, T)
    width = 0.16
    cell = np.floor(u / width)
    frac = u / width - cell
    top = 0.62 - 0.3 * _hash(cell, salt + 1.0)
    gap = (frac > 0.08) & (frac < 0.92)
    body = _soft(v - top, H) * gap
    wu = np.modf(np.abs(u) / 0.035)[0]
    wv = np.modf(np.abs(v) / 0.05)[0]
    window = (wu > 0.35) & (wu < 0.75) & (wv > 0.3) & (wv < 0.75) & (v > top + 0.03)
    shade = 0.3 + 0.7 * _hash(cell, salt + 2.0)
    wall = lay.jitter((0.40, 0.40, 0.46)) * (0.8 + 0.2 * shade)[..., None] * light
    lit = np.asarray((0.92, 0.84, 0.56) if night else (0.5, 0.58, 0.68), np.float32)
    building = np.where(window[..., None], lit * (1.0 if night else light), wall)
    _over(canvas, body, building)
    u, v = _camera_coords(scene, 1.0, W, H, T)
    street = _shade(lay.jitter((0.36, 0.36, 0.38)), np.sign(np.sin(u * 25.0)) * (np.abs(v - 0.9) < 0.012), 0.6)
    _over(canvas, _soft(v - 0.8, H), street * light)


def _field(scene, lay, canvas, light):
    T, H, W = canvas.shape[:3]
    hills = lay.ridge(0.55, 0.1, (1.2, 2.9))
    u, v = _camera_coords(scene, 0.4, W, H, T)
    _over(canvas, _soft(v - hills(u), H), _shade(lay.jitter((0.45, 0.58, 0.45)), lay.texture(12)(u, v), 0.12) * light)
    u, v = _camera_coords(scene, 1.0, W, H, T)
    edge = 0.64
    depth = np.maximum(v - edge, 0.0) + 0.03
    rows = np.sin(u * 3.0 / depth + lay.rng.uniform(0, 6))  # crop rows converge to the horizon
    crop = _shade(lay.jitter((0.6, 0.62, 0.36)), rows, 0.2) + 0.05 * lay.texture(40)(u, v)[..., None]
    _over(canvas, _soft(v - edge, H), crop * light)


def _limit_saturation(rgb: np.ndarray, max_s: float) -> np.ndarray:
    """Pull each pixel toward its mean until HSV saturation <= max_s (hue kept)."""
    hi = rgb.max(-1)
    lo = rgb.min(-1)
    m = rgb.mean(-1)
    denom = (hi - lo) - max_s * (hi - m)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(denom > 1e-6, max_s * m / denom, 1.0)
    over = (hi - lo) > max_s * hi + 1e-6
    k = np.where(over, np.clip(k, 0.0, 1.0), 1.0)[..., None]
    return m[..., None] + (rgb - m[..., None]) * k


def subject_track(scene: Scene, frames: int, width: int, height: int):
    """The subject's centre and size (half side or radius) in pixels, one each per frame."""
    T, H, W = frames, height, width
    t = np.linspace(0.0, 1.0, T, dtype=np.float32) if T > 1 else np.zeros(1, np.float32)
    direction = {"left": -1.0, "right": 1.0, "still": 0.0}[scene.motion]
    cx = (scene.subject_x + direction * scene.subject_travel * t) * W  # pixels
    cy = np.full(T, scene.subject_y * H, np.float32)
    size = np.full(T, scene.subject_size * H, np.float32)
    if scene.camera in ("zoom in", "zoom out"):
        grow = 1.0 + 0.25 * (t if scene.camera == "zoom in" else 1.0 - t)
        size = size * grow / (1.0 if scene.camera == "zoom in" else 1.25)
    if scene.motion == "still" and scene.camera != "static":
        # Bob gently so a still subject on a moving shot is not mistaken for a sticker.
        cy = cy + 0.015 * H * np.sin(2 * np.pi * t)
    return cx, cy, size


def _subject(scene: Scene, canvas: np.ndarray) -> None:
    T, H, W = canvas.shape[:3]
    cx, cy, size = subject_track(scene, T, W, H)
    xs = np.arange(W, dtype=np.float32)[None, None, :] + 0.5
    ys = np.arange(H, dtype=np.float32)[None, :, None] + 0.5
    dx = (xs - cx[:, None, None]) / size[:, None, None]
    dy = (ys - cy[:, None, None]) / size[:, None, None]
    rgb = np.asarray(SUBJECT_RGB[scene.color], np.float32)
    if scene.time_of_day == "night":
        rgb = rgb * 0.92
    px = size[:, None, None]
    if scene.shape == "ball":
        r = np.sqrt(dx**2 + dy**2)
        alpha = np.clip((1.0 - r) * px + 0.5, 0, 1)
        shade = 1.0 - 0.15 * np.clip((dx + 0.4) ** 2 + (dy + 0.4) ** 2, 0, 1)
    else:
        d = np.maximum(np.abs(dx), np.abs(dy))
        alpha = np.clip((0.9 - d) * px + 0.5, 0, 1)
        shade = np.where(d > 0.75, 0.8, 1.0)
    _over(canvas, alpha, rgb * shade[..., None])


def render(scene: Scene, width: int = 256, height: int = 144, frames: int = 24) -> np.ndarray:
    """Render a clip: uint8 [frames, height, width, 3]."""
    for name, value in (("width", width), ("height", height), ("frames", frames)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}: must be a positive integer, got {value!r}")
    lay = _Layout(scene.layout_seed)
    canvas = np.array(_sky(scene, lay, (frames, height, width)), dtype=np.float32)
    light = np.asarray(LIGHT_RGB[scene.time_of_day], np.float32)
    night = scene.time_of_day == "night"
    if scene.setting == "mountains":
        _mountains(scene, lay, canvas, light)
    elif scene.setting == "sea":
        _sea(scene, lay, canvas, light)
    elif scene.setting == "city":
        _city(scene, lay, canvas, light, night)
    else:
        _field(scene, lay, canvas, light)
    canvas = _limit_saturation(np.clip(canvas, 0.0, 1.0), BACKGROUND_MAX_SATURATION)
    if scene.has_subject:
        _subject(scene, canvas)
    return (np.clip(canvas, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
