"""New frames matched to the clip at the seam (engine/model/seams.py)."""
import torch

from engine.model.seams import HOLD_SEAM_APART, clean_plate, hold_still, match_seams, uncover


def _frames(n, value):
    return torch.full((1, 3, n, 8, 12), value)


def test_the_first_new_frame_continues_the_clip_and_the_difference_fades():
    """A still camera: new frames at 0 after a clip frame at 1. The difference fades in even steps
    over the span as if the clip's frame were the one before the first new frame (no frame repeats
    it), then is gone."""
    out = match_seams(_frames(6, 0.0), torch.full((1, 3, 8, 12), 1.0), None, None, span=4)
    assert torch.allclose(out[0, 0, :, 0, 0], torch.tensor([0.8, 0.6, 0.4, 0.2, 0.0, 0.0]))


def test_a_fill_meets_both_clips():
    """Between a clip ending at 1.2 and one starting at -1.2 the new frames step evenly from one to
    the other: each side's difference is gone at the other seam, even when asked to fade more slowly."""
    out = match_seams(_frames(5, 0.0), torch.full((1, 3, 8, 12), 1.2), torch.full((1, 3, 8, 12), -1.2), None, span=24)
    assert torch.allclose(out[0, 0, :, 0, 0], torch.tensor([0.8, 0.4, 0.0, -0.4, -0.8]))


def test_the_difference_moves_with_the_camera_and_the_revealed_strip_is_left_alone():
    """A pan right of 2 px a frame: a clip frame with one bright column. The first new frame shows it
    2 px on (3/4 of it, over a span of 3), the next 4 px on (1/2); the 2 columns the pan reveals at
    the left take nothing from the clip."""
    clip = torch.zeros(1, 1, 8, 12)
    clip[..., 5] = 1.0
    out = match_seams(torch.zeros(1, 1, 3, 8, 12), clip, None, (2.0, 0.0), span=3)
    assert out[0, 0, 0, 0].nonzero().flatten().tolist() == [7] and torch.isclose(out[0, 0, 0, 0, 7], torch.tensor(0.75))
    assert out[0, 0, 1, 0].nonzero().flatten().tolist() == [9] and torch.isclose(out[0, 0, 1, 0, 9], torch.tensor(0.5))
    new = torch.full((1, 1, 1, 8, 12), 0.3)
    edge = torch.zeros(1, 1, 8, 12)
    edge[..., 11] = 1.0  # leaves at the right; the wrapped strip at the left keeps the new frame's 0.3
    first = match_seams(new, edge, None, (2.0, 0.0), span=1)[0, 0, 0, 0]
    assert torch.allclose(first[:2], torch.tensor([0.3, 0.3])) and torch.allclose(first[2:], torch.full((10,), 0.15))


def test_an_animated_still_is_the_first_frame_itself():
    """lead 0: the still stands at the first new frame, so that frame is the still exactly and the
    difference fades out over the span from there, moving with the camera."""
    out = match_seams(_frames(6, 0.0), torch.full((1, 3, 8, 12), 1.0), None, None, span=4, lead=0)
    assert torch.allclose(out[0, 0, :, 0, 0], torch.tensor([1.0, 0.75, 0.5, 0.25, 0.0, 0.0]))
    still = torch.zeros(1, 1, 8, 12)
    still[..., 5] = 1.0
    panned = match_seams(torch.zeros(1, 1, 3, 8, 12), still, None, (2.0, 0.0), span=2, lead=0)
    assert torch.equal(panned[0, 0, 0], still[0, 0])
    assert panned[0, 0, 1, 0].nonzero().flatten().tolist() == [7] and torch.isclose(panned[0, 0, 1, 0, 7],
                                                                                     torch.tensor(0.5))


def _square(frames, x0, step, value=1.0, size=4, h=16, w=24):
    """[1,3,T,h,w] zeros with a size-px square at value, moving step px right each frame from x0."""
    video = torch.zeros(1, 3, frames, h, w)
    for t in range(frames):
        video[:, :, t, 6:6 + size, x0 + step * t:x0 + step * t + size] = value
    return video


def test_a_still_scene_keeps_the_clips_picture_and_what_moves_is_the_new_frames():
    """The new frames redraw a still clip frame a few levels off, with drifting grain, and a square
    moves across it. Wherever nothing changes since the seam the output is the clip's frame itself
    (no grain, no offset: under a level of 255 from it); where the square is or was, it is the
    seam-matched new frames."""
    torch.manual_seed(0)
    level = 1 / 127.5
    clip = torch.rand(1, 3, 16, 24) * 0.4 - 0.8
    grain = 4 * level * torch.rand(1, 3, 8, 16, 24) * torch.linspace(0, 1, 8)[:, None, None]
    new = clip[:, :, None] + 10 * level + grain
    moving = _square(8, 2, 2)
    new = torch.where(moving > 0, moving, new)
    matched = match_seams(new, clip, None, None, span=8)
    out = hold_still(new, matched, clip, None, None)
    far = (slice(None), slice(None), slice(None), slice(12, 16), slice(None))  # rows the square never crosses
    assert torch.allclose(out[far], clip[:, :, None].expand_as(out)[far], atol=level)
    at = out[0, :, 7, 7, 17]  # the square's last place: the new frame's
    assert torch.allclose(at, matched[0, :, 7, 7, 17], atol=level)
    left = out[0, :, 7, 7, 3]  # where the square started, now left behind: the new frames again
    assert torch.allclose(left, matched[0, :, 7, 7, 3], atol=level)


def test_a_subject_the_new_frames_do_not_show_at_the_seam_is_not_held():
    """The clip's frame shows a white square where the new frames, unchanging, show the ground (their
    subject is drawn elsewhere): told the clip shows a subject, the square is not held on over them, the
    ground around it is. Told none, the clip's whole picture holds, as the ground the denoiser redrew."""
    level = 1 / 127.5
    ground = torch.full((1, 3, 16, 24), -0.4)
    clip = ground.clone()
    clip[..., 4:10, 4:10] = 1.0
    new = ground[:, :, None].expand(1, 3, 6, 16, 24) + 10 * level
    matched = match_seams(new, clip, None, None, span=6)
    out = hold_still(new, matched, clip, None, None, apart=HOLD_SEAM_APART)
    assert torch.allclose(out[0, :, :, 7, 7], matched[0, :, :, 7, 7], atol=0.05)  # no square left standing
    assert torch.allclose(out[0, :, :, 7, 20], ground[0, :, None, 7, 20].expand(3, 6), atol=level)
    held = hold_still(new, matched, clip, None, None)
    assert torch.allclose(held[0, :, :, 7, 7], clip[0, :, None, 7, 7].expand(3, 6), atol=level)


def test_the_held_picture_moves_with_the_camera_and_the_revealed_strip_is_new():
    """A pan of 2 px a frame: the clip's frame comes in 2 px further each frame; the strip the pan
    brings in at the edge is the new frames' own."""
    clip = torch.zeros(1, 1, 8, 12)
    clip[..., 5] = 1.0
    new = torch.full((1, 1, 3, 8, 12), 0.02)
    out = hold_still(new, new, clip, None, (2.0, 0.0))
    assert out[0, 0, 0, 0].argmax() == 7 and out[0, 0, 1, 0].argmax() == 9
    assert torch.allclose(out[0, 0, 1, 0, :4], torch.full((4,), 0.02))


def test_a_fill_cross_fades_the_two_clips_pictures_and_nothing_known_changes_nothing():
    before, after = torch.full((1, 3, 8, 12), 0.4), torch.full((1, 3, 8, 12), 0.2)
    new = torch.full((1, 3, 3, 8, 12), 0.3)
    out = hold_still(new, new, before, after, None)
    assert torch.allclose(out[0, 0, :, 0, 0], torch.tensor([0.35, 0.3, 0.25]), atol=1e-3)
    assert torch.equal(hold_still(new, new - 1, None, None, None), new - 1)


def test_a_carried_picture_steps_with_the_frames_own_whole_pixel_offsets():
    """Half a pixel a frame: the sequence's frames 2, 3 and 4 stand 1, 2 and 2 whole pixels on
    (halves round away from zero), its frame 1, the clip's, 1. Counted from there, the clip's bright
    column steps 0, 1, 1; counted from the new frames' own start it would step 1, 1, 2 and jump a
    pixel against them every other frame."""
    clip = torch.zeros(1, 1, 8, 12)
    clip[..., 5] = 1.0
    new = torch.zeros(1, 1, 3, 8, 12)
    held = hold_still(new, new, clip, None, (0.5, 0.0), first=2)
    assert [int(held[0, 0, j, 0].argmax()) for j in range(3)] == [5, 6, 6]
    matched = match_seams(new, clip, None, (0.5, 0.0), span=3, first=2)
    assert [int(matched[0, 0, j, 0].argmax()) for j in range(3)] == [5, 6, 6]


def test_the_clips_subject_moves_on_with_its_own_step_and_leaves_no_copy_standing():
    """The clip's square moves 2 px a frame to the right; the new frames draw it 4 px behind, at the same
    speed. Told where the subject is and its step, the seam's difference moves on with the square: nothing
    stays where the clip left it, and the square goes on at about its speed. Carried with the (still)
    camera, a copy of it stood there, and the picture's bright mass stalled at the seam."""
    ground = torch.full((1, 3, 16, 32), -0.4)
    clip = ground.clone()
    clip[..., 6:10, 4:8] = 1.0
    new = ground[:, :, None].repeat(1, 1, 8, 1, 1)
    for j in range(8):
        new[:, :, j, 6:10, 2 * (j + 1):2 * (j + 1) + 4] = 1.0  # 4 px behind where the clip's would be
    mask = torch.zeros(1, 1, 16, 32)
    mask[..., 4:12, 0:12] = 1.0  # where the clip's frame (one step on) and the first new frame show it
    moved = match_seams(new, clip, None, None, span=8, moving=((mask, (0.0, 2.0)), None))
    still = match_seams(new, clip, None, None, span=8)
    old_place = (0, slice(None), 6, slice(6, 10), slice(6, 8))  # frame 6: where only the clip showed its square
    assert torch.allclose(moved[old_place], ground[0, :, 6:10, 6:8], atol=1e-6)
    assert (still[old_place] - ground[0, :, 6:10, 6:8]).min() > 0.2

    def centre(video):
        mass = (video[0, 0] - ground[0, 0]).clamp_min(0).sum(1)  # [T, W]
        return (mass * torch.arange(32.0)).sum(1) / mass.sum(1)

    assert torch.all((centre(moved).diff() > 1.0) & (centre(moved).diff() < 3.0))
    assert centre(still).diff()[0] < 1.0  # it stalls at the seam


def test_the_ground_a_subject_leaves_takes_the_ground_s_share_of_the_seam_s_difference():
    """The new frames draw their ground 0.2 lighter than the clip's and the square moving on 2 px a frame.
    Where the square moves away from the place the clip left it, the ground it uncovers is mended as the
    ground round it is: without its share of the difference it stood out as a square patch of the new
    frames' colours, a ghost of the subject where the clip left it."""
    clip = torch.full((1, 3, 16, 32), -0.4)
    clip[..., 6:10, 4:8] = 1.0
    new = torch.full((1, 3, 8, 16, 32), -0.2)
    for j in range(8):
        new[:, :, j, 6:10, 4 + 2 * (j + 1):8 + 2 * (j + 1)] = 1.0  # on from where the clip leaves it
    mask = torch.zeros(1, 1, 16, 32)
    mask[..., 4:12, 2:14] = 1.0
    moved = match_seams(new, clip, None, None, span=8, moving=((mask, (0.0, 2.0)), None))
    old_place, ground = moved[0, 0, 6, 6:10, 4:8], moved[0, 0, 6, 0, 4:8]
    assert ground.mean() < -0.2  # the difference still mends the ground at frame 6
    assert torch.allclose(old_place, ground, atol=0.02)



def _pan_with_a_still_subject():
    """A pan of 2 px a frame over a flat ground, its subject still on screen: the clip's frame shows a white
    square at columns 10-19, the new frames a grey one standing there; the subject's key falls 2 px short of
    the clip's square on the right (a ball's shaded side keys short)."""
    ground = torch.full((1, 3, 16, 40), -0.6)
    clip = ground.clone()
    clip[..., 4:12, 10:20] = 1.0
    new = ground[:, :, None].repeat(1, 1, 6, 1, 1)
    new[..., 4:12, 10:20] = 0.2
    mask = torch.zeros(1, 1, 16, 40)
    mask[..., 4:12, 10:18] = 1.0
    return clip, new, ((mask, (0.0, 0.0)), None)


def test_a_subject_still_on_screen_in_a_pan_leaves_no_rim_moving_off_with_the_ground():
    """The seam's difference where the clip's square stood, carried with the camera, left its rim (and the
    ground's difference spread under it from that rim) moving off with the ground: a ghost of the square
    beside the one the new frames hold still."""
    clip, new, moving = _pan_with_a_still_subject()
    out = match_seams(new, clip, None, (2.0, 0.0), span=6, moving=moving)
    off_the_square = out[0, :, 2:, 4:12, 20:]  # right of the new square, where the ground carries the rim
    assert (off_the_square - (-0.6)).abs().max() < 0.1


def test_a_subject_still_on_screen_in_a_pan_is_not_held_with_the_ground():
    """Nothing changes in the new frames where their square overlaps the clip's carried with the pan, so
    the clip's white square was held there: a white part sliding off the grey square frame by frame."""
    clip, new, moving = _pan_with_a_still_subject()
    held = hold_still(new, new, clip, None, (2.0, 0.0), moving=moving)
    assert held.max() < 0.25  # no white: at most the grey square, with the gate's soft edge
    # moving with the ground (its step the pan's), the subject is part of the still scene and is held
    with_ground = hold_still(new, new, clip, None, (2.0, 0.0), moving=((moving[0][0], (0.0, 2.0)), None))
    assert (with_ground[0, 0, 2, 8, 16:18] - 1.0).abs().max() < 0.05  # the clip's square, carried 6 px


def _walk(frames: int, start: int, step: int = 1, size: int = 3, ground=None):
    """A still shot of a textured ground [1,3,T,8,16] with a bright square subject walking right `step`
    px a frame from column `start`, and where it covers [1,1,T,8,16]."""
    ground = torch.linspace(-0.5, 0.5, 16).expand(1, 3, 8, 16) if ground is None else ground
    video = ground[:, :, None].repeat(1, 1, frames, 1, 1)
    covered = torch.zeros(1, 1, frames, 8, 16)
    for t in range(frames):
        x = start + step * t
        video[:, :, t, 2:2 + size, x:x + size] = 1.0
        covered[:, :, t, 2:2 + size, x:x + size] = 1.0
    return video, covered, ground


def test_a_clean_plate_shows_the_ground_a_moving_subject_stood_on():
    """A subject that walked 9 px over 10 frames: the median of the clip's frames is the ground
    everywhere, the seam frame's subject's place included, and holds there."""
    video, covered, ground = _walk(10, 1)
    plate, held = clean_plate(video, covered)
    assert torch.allclose(plate, ground) and bool(held[0, 0, 2:5, 10:13].all())


def test_no_plate_holds_where_the_subject_stood_still_or_the_ground_changes():
    video, covered, _ = _walk(10, 5, step=0)  # a still subject: its place is the subject in every frame
    _, held = clean_plate(video, covered)
    assert not bool(held[0, 0, 2:5, 5:8].any())
    moving, covered, _ = _walk(10, 1)
    moving = moving + torch.linspace(0, 0.4, 10)[None, None, :, None, None]  # the light changes over the shot
    _, held = clean_plate(moving, covered)
    assert not bool(held.any())


def test_the_ground_a_subject_leaves_is_the_clip_s_and_the_subject_is_kept():
    """New frames that drew a faint copy of the subject where the clip's seam frame showed it, and the
    subject itself walking on: the copy becomes the clip's ground, the subject stays as drawn."""
    video, covered, ground = _walk(10, 1)
    plate, held = clean_plate(video, covered)
    new, shown, _ = _walk(4, 12, ground=ground)  # the subject goes on from column 12 (it left 10-12)
    new[:, :, :, 2:5, 10:12] = 0.5  # a ghost where the clip left it
    left = covered[:, :, 9]
    out = uncover(new, plate, held, left, shown)
    assert torch.allclose(out[:, :, :, 2:5, 10:12], ground[:, :, None, 2:5, 10:12].expand(1, 3, 4, 3, 2))
    assert torch.equal(out[:, :, 0, 2:5, 12:15], new[:, :, 0, 2:5, 12:15])  # the subject where it is now


def test_a_still_shot_s_new_ground_is_the_clip_s_but_what_the_model_draws_anew_stays():
    """New frames whose ground boils by a few levels take the clip's plate there; a patch drawn far
    from the ground (a new thing in the shot) is kept as drawn."""
    video, covered, ground = _walk(10, 1)
    plate, held = clean_plate(video, covered)
    new, shown, _ = _walk(4, 12, ground=ground)
    boil = 0.03 * torch.randn(1, 3, 4, 8, 16, generator=torch.Generator().manual_seed(0))
    drawn = new + boil
    drawn[:, :, :, 4:8, 0:6] = -1.0  # far from the ground's -0.5..-0.17 there
    out = uncover(drawn, plate, held, torch.zeros(1, 1, 8, 16), shown)
    sky = ground[:, :, None, 0:2]
    assert (out[:, :, :, 0:2] - sky).abs().mean() < 0.1 * (drawn[:, :, :, 0:2] - sky).abs().mean()
    assert torch.allclose(out[:, :, :, 6, 1:4], drawn[:, :, :, 6, 1:4], atol=0.06)
