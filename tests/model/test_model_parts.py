import pytest
import torch
from einops import rearrange

from engine.model.autoencoder import VideoAutoencoder
from engine.model.denoiser import VideoDiT
from engine.model.flow import add_noise, predicted_x0, sample_timesteps, velocity_target
from engine.model.preview import LatentPreview, fit_preview
from engine.model.structure import structure_map
from engine.model.tiny import make_tiny_model, tiny_config


def test_autoencoder_compresses_time_by_4_and_space_by_8():
    cfg = tiny_config()
    ae = VideoAutoencoder(cfg).eval()
    x = torch.rand(2, 3, 8, 32, 64) * 2 - 1
    z = ae.encode(x)
    assert z.shape == (2, cfg.latent_channels, 2, 4, 8)
    assert ae.decode(z).shape == x.shape
    with pytest.raises(ValueError, match="multiple"):
        ae.encode(torch.zeros(1, 3, 6, 32, 64))


def test_pca_code_keeps_each_patch_mean_colour():
    """A saturated subject must survive the code: flat-colour patches come back exactly."""
    cfg = tiny_config(latent_channels=6)
    ae = VideoAutoencoder(cfg).eval()
    gen = torch.Generator().manual_seed(0)
    # Clips of random flat colours per 8x8 patch, plus a little texture.
    cells = torch.rand(16, 3, 2, 4, 8, generator=gen) * 2 - 1
    x = cells.repeat_interleave(4, 2).repeat_interleave(8, 3).repeat_interleave(8, 4)
    kept = ae.fit_pca(x + 0.02 * torch.randn(x.shape, generator=gen))
    assert kept > 0.9
    recon = ae.decode(ae.encode(x))  # the residual starts at zero: this is the PCA decoder
    assert (recon - x).abs().max() < 0.1


def test_normalised_channels_have_unit_std_and_decode_the_same():
    cfg = tiny_config(latent_channels=6)
    ae = VideoAutoencoder(cfg).eval()
    gen = torch.Generator().manual_seed(1)
    cells = torch.rand(4, 3, 2, 4, 8, generator=gen) * 2 - 1  # flat patches plus weak texture
    x = cells.repeat_interleave(4, 2).repeat_interleave(8, 3).repeat_interleave(8, 4)
    x = x + 0.05 * torch.randn(x.shape, generator=gen)
    ae.fit_pca(x)
    torch.nn.init.normal_(ae.refine_out.weight, std=0.1)  # a trained residual must follow the rescaling too
    before = ae.decode(ae.encode(x))
    old = ae.normalise_channels(x)
    assert old.max() / old.min() > 1.5  # principal components differ in variance
    z = ae.encode(x)
    assert torch.allclose(z.transpose(0, 1).reshape(6, -1).std(dim=1), torch.ones(6), atol=1e-3)
    assert torch.allclose(ae.decode(z), before, atol=1e-4)


def test_a_short_context_encodes_like_the_same_frames_of_a_whole_clip():
    ae = make_tiny_model().autoencoder
    x = torch.rand(1, 3, 16, 32, 64) * 2 - 1
    whole, part = ae.encode(x), ae.encode(x[:, :, 4:8])
    assert torch.allclose(whole[:, :, 1:2], part, atol=1e-6)
    # The decoder's norms are per frame: a lone latent frame decodes close to its place in the clip
    # (its temporal mix sees itself instead of its neighbours).
    assert ae.decode(part).shape == (1, 3, 4, 32, 64)


def test_encode_is_deterministic():
    ae = VideoAutoencoder(tiny_config()).eval()
    x = torch.rand(1, 3, 8, 32, 64)
    assert torch.equal(ae.encode(x), ae.encode(x))


def _denoiser_inputs(cfg, frames=3, batch=1):
    x = torch.randn(batch, cfg.latent_channels, frames, 4, 8)
    cond = torch.randn(batch, cfg.latent_channels + 1 + cfg.structure_channels, frames, 4, 8)
    text = torch.randn(batch, 5, cfg.text_dim)
    return x, cond, torch.full((batch,), 0.5), text, torch.ones(batch, 5, dtype=torch.bool)


def test_denoiser_attends_across_frames_and_to_text():
    model = make_tiny_model()
    cfg, dit = model.config, model.denoiser
    x, cond, t, text, mask = _denoiser_inputs(cfg)
    v = dit(x, cond, t, text, mask)
    assert v.shape == x.shape
    # Temporal attention: changing latent frame 0 changes the prediction for frame 2.
    x2 = x.clone()
    x2[:, :, 0] += 1.0
    assert not torch.allclose(dit(x2, cond, t, text, mask)[:, :, 2], v[:, :, 2])
    # Cross-attention: the text changes the prediction; padded tokens do not.
    # (Other text, not text + 1: the text projection's LayerNorm removes a constant shift.)
    assert not torch.allclose(dit(x, cond, t, torch.randn(text.shape, generator=torch.Generator().manual_seed(9)),
                                  mask), v, atol=1e-4)
    padded = torch.cat([text, torch.randn(1, 3, cfg.text_dim)], 1)
    pmask = torch.cat([mask, torch.zeros(1, 3, dtype=torch.bool)], 1)
    assert torch.allclose(dit(x, cond, t, padded, pmask), v, atol=1e-5)


def test_a_sample_predicting_denoiser_returns_the_velocity_to_its_prediction():
    """x_t - t * v is the network's own clean-latent prediction (down to SAMPLE_T_MIN); untrained,
    that prediction is zero, the mean latent."""
    from engine.model.denoiser import SAMPLE_T_MIN

    cfg = tiny_config(prediction="sample")
    dit = VideoDiT(cfg).eval()
    x, cond, _, text, mask = _denoiser_inputs(cfg, batch=2)
    t = torch.tensor([0.6, 0.01])
    with torch.no_grad():
        v = dit(x, cond, t, text, mask)
        assert torch.allclose(x[0] - 0.6 * v[0], torch.zeros_like(x[0]), atol=1e-5)
        torch.nn.init.normal_(dit.patch_out.bias)
        v = dit(x, cond, t, text, mask)
        sample = x[0] - 0.6 * v[0]
        assert sample.abs().mean() > 0.1  # the bias is the prediction now
        assert torch.allclose(x[1] - SAMPLE_T_MIN * v[1], sample, atol=1e-5)  # same bias, clamped t
    with pytest.raises(ValueError, match="prediction"):
        tiny_config(prediction="noise")


def test_a_wiener_denoiser_passes_the_nearly_clean_input_through_and_resumes_a_sample_one():
    """x_t - t * v is F + g (x_t - (1-t) F), exact down to t = 0: x_t itself at t = 0, F at t = 1,
    and F alone when told not to pass the input.
    A "sample" denoiser's weights load into it (the error variance is registered last) and give the
    same estimate as the variance goes to 0."""
    cfg = tiny_config(prediction="sample_wiener")
    dit = VideoDiT(cfg).eval()
    plain = VideoDiT(tiny_config(prediction="sample")).eval()
    x, cond, _, text, mask = _denoiser_inputs(cfg, batch=3)
    with torch.no_grad():
        torch.nn.init.normal_(plain.patch_out.bias)
        state = plain.state_dict()
        assert list(dit.state_dict())[:len(state)] == list(state)
        added = [n for n, _ in dit.named_parameters()][len(state):]
        assert added == ["error_variance.log_var", "error_variance.cells.weight", "error_variance.cells.bias"]
        dit.load_state_dict({**state, **{n: dit.state_dict()[n] for n in added}}, strict=True)
        ones = torch.ones(3)
        net = x - plain(x, cond, ones, text, mask)  # F: untrained, the output bias, whatever t
        assert net.abs().mean() > 0.1
        assert torch.allclose(x - dit(x, cond, ones, text, mask), net, atol=1e-5)  # t = 1: F
        zeros = torch.zeros(3)
        v = dit(x, cond, zeros, text, mask)
        assert torch.isfinite(v).all() and torch.allclose(x - 0 * v, x)  # t = 0: x_t itself
        s2 = float(dit.error_variance.log_var.exp()[0])  # the cells' part starts at 0
        for tt in (0.05, 0.3, 0.7):
            g = (1 - tt) * s2 / ((1 - tt) ** 2 * s2 + tt ** 2)
            est = x - tt * dit(x, cond, torch.full((3,), tt), text, mask)
            assert torch.allclose(est, net + g * (x - (1 - tt) * net), atol=1e-4)
            own = x - tt * dit(x, cond, torch.full((3,), tt), text, mask, pass_input=False)
            assert torch.allclose(own, net, atol=1e-4)  # the sampler's last step: F alone
        # A cell whose variance the tokens raise takes more of x_t, its neighbours none of it.
        dit.error_variance.cells.bias[0] = 20.0
        est = x - 0.5 * dit(x, cond, torch.full((3,), 0.5), text, mask)
        assert torch.allclose(est[..., 0, 0], x[..., 0, 0] / 0.5, atol=1e-2)  # s2 -> e^8: nearly x_t / (1-t)
        assert torch.allclose(est[..., 0, 1], (net + (0.5 * s2 / (0.25 * s2 + 0.25)) * (x - 0.5 * net))[..., 0, 1],
                              atol=1e-4)
        dit.error_variance.cells.bias[0] = 0.0
        dit.error_variance.log_var.fill_(-30.0)  # s2 -> 0: the plain sample prediction
        ts = torch.tensor([0.2, 0.5, 0.9])
        assert torch.allclose(x - ts[:, None, None, None, None] * dit(x, cond, ts, text, mask), net, atol=1e-4)
    with pytest.raises(ValueError, match="prediction"):
        tiny_config(prediction="sample_skip")


def _plain_and_extended(plain_cfg, cfg, added: str):
    """Two denoisers, the second with one more option: its parameters keep the first's order and
    its own (named `added`...) come last, so a checkpoint from before the option resumes into it."""
    torch.manual_seed(0)
    plain = VideoDiT(plain_cfg).eval()
    torch.manual_seed(0)
    dit = VideoDiT(cfg).eval()
    names = [n for n, _ in dit.named_parameters()]
    assert names[: len(list(plain.parameters()))] == [n for n, _ in plain.named_parameters()]
    assert all(n.startswith(added) for n in names[len(list(plain.parameters())):])
    return plain, dit


def test_the_refine_convolution_starts_silent_then_reaches_across_token_borders():
    """A denoiser with refine_channels keeps the parameter order of one without (so a checkpoint
    from before it resumes), predicts the same untrained, and once its last layer is set, a change
    inside one token's cells moves the prediction in the next token's cells."""
    plain_cfg, cfg = tiny_config(prediction="sample"), tiny_config(prediction="sample", refine_channels=8)
    plain, dit = _plain_and_extended(plain_cfg, cfg, "refine.")
    x, cond, t, text, mask = _denoiser_inputs(cfg, batch=1)
    with torch.no_grad():
        torch.nn.init.normal_(plain.patch_out.weight, std=0.1)
        dit.load_state_dict(plain.state_dict(), strict=False)
        assert torch.allclose(dit(x, cond, t, text, mask), plain(x, cond, t, text, mask), atol=1e-6)
        torch.nn.init.normal_(dit.refine[2].weight, std=0.1)
        p = cfg.patch_size
        # Nudge the last latent column of token 0 and compare the first column of token 1 with and
        # without the refine convolution (one token never sees another's cells before it).
        nudged = x.clone()
        nudged[..., :, p - 1] += 1.0
        base, moved = dit(x, cond, t, text, mask), dit(nudged, cond, t, text, mask)
        plain_base, plain_moved = plain(x, cond, t, text, mask), plain(nudged, cond, t, text, mask)
    # The plain denoiser's prediction changes there only through attention, the refined one also
    # through the convolution: their changes differ in that cell.
    delta_refined = (moved - base)[..., :, p]
    delta_plain = (plain_moved - plain_base)[..., :, p]
    assert (delta_refined - delta_plain).abs().max() > 1e-3


def test_denoiser_batch_rows_are_independent():
    dit = make_tiny_model().denoiser
    x, cond, t, text, mask = _denoiser_inputs(tiny_config(), batch=2)
    both = dit(x, cond, t, text, mask)
    assert torch.allclose(both[1:], dit(x[1:], cond[1:], t[1:], text[1:], mask[1:]), atol=1e-5)


def test_denoiser_checks_its_condition():
    cfg = tiny_config()
    x, cond, t, text, mask = _denoiser_inputs(cfg)
    with pytest.raises(ValueError, match="cond"):
        VideoDiT(cfg)(x, cond[:, :3], t, text, mask)


def test_flow_matching_maths():
    g = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(4, 2, 3, generator=g), torch.randn(4, 2, 3, generator=g)
    t = sample_timesteps(4, generator=g, shift=3.0)
    assert t.shape == (4,) and bool(((t > 0) & (t < 1)).all())
    xt = add_noise(x0, noise, t)
    assert torch.allclose(add_noise(x0, noise, torch.zeros(4)), x0)
    assert torch.allclose(add_noise(x0, noise, torch.ones(4)), noise)
    assert torch.allclose(predicted_x0(xt, velocity_target(x0, noise), t), x0, atol=1e-6)


def test_structure_map_sees_edges_and_luminance():
    frames = -torch.ones(1, 3, 4, 32, 64)
    frames[..., 32:] = 1.0  # dark left half, bright right half: one vertical edge at x=32
    s = structure_map(frames, 4, 8)
    assert s.shape == (1, 4, 1, 4, 8)
    luma, edge = s[0, 0, 0], s[0, 1, 0]
    assert luma[:, :4].max() < luma[:, 4:].min()
    assert edge[:, 3:5].min() > edge[:, :2].max() and edge[:, 3:5].min() > edge[:, 6:].max()


def test_preview_fit_matches_mean_colours():
    preview = LatentPreview(4)
    z = torch.randn(1, 4, 2, 4, 8)
    # Frames whose cell colours are an exact linear function of the latent.
    w = torch.randn(3, 4) * 0.2
    cells = torch.einsum("dc,bcthw->bdthw", w, z)
    frames = cells.repeat_interleave(4, 2).repeat_interleave(8, 3).repeat_interleave(8, 4)
    assert fit_preview(preview, z, frames) < 1e-4
    img = preview(z[0, :, 0], (64, 32))
    assert img.shape == (32, 64, 3) and img.dtype == torch.uint8


def test_motion_attention_starts_silent_then_follows_content_to_a_neighbouring_token():
    """A denoiser with motion_attention keeps the parameter order of one without and predicts the
    same untrained; a head biased to one (frame offset, neighbour) returns that token's value, and
    at the frame's edge it never attends outside."""
    from engine.model.denoiser import MOTION_MAX_OFFSET, MOTION_PARAM_SCALE, MotionAttention

    wiener = dict(prediction="sample_wiener", refine_channels=8)
    plain_cfg, cfg = tiny_config(**wiener), tiny_config(**wiener, motion_attention=1)
    plain, dit = _plain_and_extended(plain_cfg, cfg, "motion.")
    x, cond, t, text, mask = _denoiser_inputs(cfg, batch=2)
    with torch.no_grad():
        torch.nn.init.normal_(plain.patch_out.weight, std=0.1)
        torch.nn.init.normal_(plain.blocks[0].ada.weight, std=0.1)  # the block's gates open
        dit.load_state_dict(plain.state_dict(), strict=False)
        assert torch.allclose(dit(x, cond, t, text, mask), plain(x, cond, t, text, mask), atol=1e-6)
        dit.motion[0].gate.fill_(1.0)
        assert (dit(x, cond, t, text, mask) - plain(x, cond, t, text, mask)).abs().max() > 1e-3

    motion = MotionAttention(heads=1, radius=1, dim=4)
    b, t_, h, w, d = 2, 3, 4, 5, 8
    with torch.no_grad():
        motion.gate.fill_(1.0 / MOTION_PARAM_SCALE)
        # Neighbour index 5 is (row 0, column +1) of the 3x3; offset +1 is the next latent frame.
        motion.bias.fill_(-1e4)
        motion.bias[0, MOTION_MAX_OFFSET + 1, 5] = 0.0
    v = torch.randn(b, t_, h, w, d)
    flat = rearrange(v, "b t h w d -> (b h w) 1 t d")
    q = torch.zeros_like(flat)
    emb = torch.randn(b, 4)
    o = motion(q, torch.zeros_like(flat), flat, (t_, h, w), emb)
    o = rearrange(o, "(b h w) 1 t d -> b t h w d", b=b, h=h, w=w)
    assert torch.allclose(o[:, :-1, :, :-1], v[:, 1:, :, 1:], atol=1e-5)
    # The last column's right neighbour lies outside: the bias alone leaves only the inside keys.
    assert torch.isfinite(o).all()
    # The conditioning steers it: sample 0's prompt turns the head to the left neighbour instead.
    with torch.no_grad():
        motion.steer.bias.zero_()
        motion.steer.weight.zero_()
        motion.steer.weight.view(1, 2 * MOTION_MAX_OFFSET + 1, 9, 4)[0, MOTION_MAX_OFFSET + 1, 3, 0] = 1e5
        motion.steer.weight.view(1, 2 * MOTION_MAX_OFFSET + 1, 9, 4)[0, MOTION_MAX_OFFSET + 1, 5, 0] = -1e5
    steered = rearrange(motion(q, torch.zeros_like(flat), flat, (t_, h, w), torch.tensor([[9.0, 0, 0, 0],
                        [0.0, 0, 0, 0]])), "(b h w) 1 t d -> b t h w d", b=b, h=h, w=w)
    assert torch.allclose(steered[0, :-1, :, 1:], v[0, 1:, :, :-1], atol=1e-5)
    assert torch.allclose(steered[1, :-1, :, :-1], v[1, 1:, :, 1:], atol=1e-5)


def test_the_conditioned_refine_starts_as_the_plain_one_then_depends_on_the_noise_level():
    """refine_conditioned keeps the parameter order of a denoiser without it and predicts the same
    untrained; once its scale and shift are set, the same input at another noise level refines
    differently through them."""
    base = dict(prediction="sample_wiener", refine_channels=8, motion_attention=1)
    plain_cfg, cfg = tiny_config(**base), tiny_config(**base, refine_conditioned=True)
    plain, dit = _plain_and_extended(plain_cfg, cfg, "refine_film.")
    x, cond, t, text, mask = _denoiser_inputs(cfg, batch=2)
    with torch.no_grad():
        torch.nn.init.normal_(plain.refine[2].weight, std=0.1)
        dit.load_state_dict(plain.state_dict(), strict=False)
        assert torch.allclose(dit.predict(x, cond, t, text, mask)[0], plain.predict(x, cond, t, text, mask)[0],
                              atol=1e-6)
        torch.nn.init.normal_(dit.refine_film.weight, std=0.5)
        low, high = torch.full_like(t, 0.1), torch.full_like(t, 0.9)
        change = lambda net: net.predict(x, cond, low, text, mask)[0] - net.predict(x, cond, high, text, mask)[0]
        # The tokens differ between the two noise levels in both; the refine adds its own difference.
        assert (change(dit) - change(plain)).abs().max() > 1e-3
    with pytest.raises(ValueError, match="refine_conditioned"):
        tiny_config(refine_conditioned=True)


def test_the_subject_condition_starts_silent_then_tells_one_speed_from_another_and_from_none():
    """subject_motion adds its head and embedding last and predicts as before until trained; then
    a told speed changes the prediction, a speed of the other sign differently, and NaN is the same
    as none told."""
    base = dict(prediction="sample_wiener", camera_frame=True, camera_zoom=True)
    plain, dit = _plain_and_extended(tiny_config(**base), tiny_config(**base, subject_motion=True), "subject")
    x, cond, t, text, mask = _denoiser_inputs(tiny_config(**base), batch=2)
    right, left = torch.full((2,), 3.0), torch.full((2,), -3.0)
    with torch.no_grad():
        for weight in plain.parameters():  # a trained trunk: its adaLN and output layers start at zero
            weight.add_(torch.randn_like(weight), alpha=0.1)
        dit.load_state_dict(plain.state_dict(), strict=False)
        assert torch.allclose(dit.predict(x, cond, t, text, mask, right)[0], plain.predict(x, cond, t, text, mask)[0],
                              atol=1e-6)
        torch.nn.init.normal_(dit.subject_embed.net[2].weight, std=0.5)
        told = dit.predict(x, cond, t, text, mask, right)[0]
        assert (told - dit.predict(x, cond, t, text, mask, left)[0]).abs().max() > 1e-3
        assert (told - dit.predict(x, cond, t, text, mask)[0]).abs().max() > 1e-3
        assert torch.equal(dit.predict(x, cond, t, text, mask)[0],
                           dit.predict(x, cond, t, text, mask, torch.full((2,), float("nan")))[0])
    with pytest.raises(ValueError, match="subject_motion"):
        tiny_config(subject_motion=True, camera_frame=False)


def test_the_subject_layout_starts_silent_then_tells_where_the_subject_is():
    """subject_layout adds its input layer last and predicts as before until trained; then a told
    layout changes the prediction, one elsewhere differently, and zeros are the same as none told."""
    base = dict(prediction="sample_wiener", camera_frame=True, camera_zoom=True, subject_motion=True)
    plain, dit = _plain_and_extended(tiny_config(**base), tiny_config(**base, subject_layout=True), "layout_in")
    x, cond, t, text, mask = _denoiser_inputs(tiny_config(**base), batch=2)
    here, there = torch.zeros(2, 3, 4, 8), torch.zeros(2, 3, 4, 8)
    here[:, :, 2:4, 0:2], there[:, :, 2:4, 6:8] = 1.0, 1.0
    with torch.no_grad():
        for weight in plain.parameters():
            weight.add_(torch.randn_like(weight), alpha=0.1)
        dit.load_state_dict(plain.state_dict(), strict=False)
        assert torch.allclose(dit.predict(x, cond, t, text, mask, None, here)[0],
                              plain.predict(x, cond, t, text, mask)[0], atol=1e-6)
        torch.nn.init.normal_(dit.layout_in.weight, std=0.5)
        told = dit.predict(x, cond, t, text, mask, None, here)[0]
        assert (told - dit.predict(x, cond, t, text, mask, None, there)[0]).abs().max() > 1e-3
        assert (told - dit.predict(x, cond, t, text, mask)[0]).abs().max() > 1e-3
        assert torch.equal(dit.predict(x, cond, t, text, mask)[0],
                           dit.predict(x, cond, t, text, mask, None, torch.zeros_like(here))[0])
