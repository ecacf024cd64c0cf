"""A tiny training run end to end: losses fall, the folder loads and generates, resume is exact."""
import dataclasses
import json
import shutil

import numpy as np
import pytest
import torch
from safetensors import safe_open

import engine.train.train as train
from engine.device import bf16_autocast
from engine.model.flow import add_noise, sample_timesteps
from engine.model.loading import load_model
from engine.pipeline import LatentCutPipeline
from engine.train.__main__ import main
from engine.requests import GenerateRequest
from engine.train.world import EVAL_SEED_START, render, sample_scene


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "tiny"
    train.run("tiny", out, device="cpu", threads=2)
    return out


def _state(out):
    return json.loads((out / train.STATE_NAME).read_text())


def test_losses_fall(tiny_run):
    state = _state(tiny_run)
    assert state["stage"] == "done" and state["step"] == 30 and state["ae_step"] == 12
    assert state["ae_probe"] < state["ae_probe_first"]
    assert state["probe_loss"] < state["probe_loss_start"]
    evals = [json.loads(line) for line in (tiny_run / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in evals if e.get("stage") == "eval"] == [12, 24, 30]
    ceiling = next(e["ceiling"] for e in evals if e.get("event") == "done" and e.get("stage") == "ae")
    assert set(ceiling) >= {"time_of_day", "camera", "color", "motion", "psnr", "subject_psnr"}


def test_best_folder_loads_and_generates(tiny_run):
    pipe = LatentCutPipeline.from_pretrained(tiny_run / "best", device="cpu")
    out = pipe.generate(GenerateRequest(prompt="a red ball moving left over a field at sunset, static camera", seconds=1.0, seed=1))
    assert out.frames.shape == (8, 32, 64, 3)
    x = torch.from_numpy(render(sample_scene(EVAL_SEED_START), 64, 32, 8)).permute(3, 0, 1, 2)[None]
    z = pipe.model.encode_frames(x.float() / 127.5 - 1)
    assert 0.3 < float(z.std()) < 3  # the code was normalised on the rendered world


def test_export_writes_fp16_weights_that_load(tiny_run, tmp_path):
    assert main(["--export-from", str(tiny_run / "best"), "--out", str(tmp_path / "ship")]) == 0
    with safe_open(str(tmp_path / "ship" / "model.safetensors"), "pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.float16}
    model = load_model(tmp_path / "ship")
    reference = load_model(tiny_run / "best")
    for (name, a), b in zip(model.state_dict().items(), reference.state_dict().values()):
        if not name.startswith("preview."):  # export refits the preview on the model's own samples
            assert torch.allclose(a, b, atol=2e-3, rtol=2e-3), name


def test_export_from_a_checkpoint_ships_the_weight_average(tiny_run, tmp_path):
    from safetensors.torch import load_file

    assert main(["--export-from", str(tiny_run / "checkpoint"), "--out", str(tmp_path / "ship")]) == 0
    shipped = load_model(tmp_path / "ship").denoiser.state_dict()
    average = load_file(str(tiny_run / "checkpoint" / train.EMA_NAME))
    trained = load_model(tiny_run / "checkpoint").denoiser.state_dict()
    assert any(not torch.allclose(average[k], trained[k]) for k in average)
    for k in average:
        assert torch.allclose(shipped[k], average[k], atol=2e-3, rtol=2e-3), k


def test_resume_continues_exactly(tiny_run, tmp_path, monkeypatch):
    out = tmp_path / "split"
    real_log = train._log

    def interrupt_at_20(folder, record, echo=True):
        real_log(folder, record, echo)
        if record.get("stage") == "dit" and record.get("step") == 20:
            raise KeyboardInterrupt  # as if the process were killed after the step-18 checkpoint

    monkeypatch.setattr(train, "_log", interrupt_at_20)
    with pytest.raises(KeyboardInterrupt):
        train.run("tiny", out, device="cpu", threads=2)
    monkeypatch.setattr(train, "_log", real_log)
    assert _state(out)["step"] == 18
    train.run("tiny", None, device="cpu", threads=2, resume=out)
    a = load_model(out / "checkpoint").state_dict()
    b = load_model(tiny_run / "checkpoint").state_dict()
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-6), name


def test_a_resumed_run_takes_a_new_batch_and_keeps_it(tiny_run, tmp_path, monkeypatch):
    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    sizes = []
    real_make_batch = train.make_batch

    def recording(pool, rng, batch, *args, **kwargs):
        sizes.append(batch)
        return real_make_batch(pool, rng, batch, *args, **kwargs)

    monkeypatch.setattr(train, "make_batch", recording)
    train.run("tiny", None, device="cpu", threads=2, resume=out, steps=32, overrides={"batch": 5})
    assert sizes.count(5) == 2 and _state(out)["overrides"] == {"batch": 5}  # the probe keeps its fixed 8
    sizes.clear()
    train.run("tiny", None, device="cpu", threads=2, resume=out, steps=33)
    assert sizes.count(5) == 1
    assert main(["--preset", "tiny", "--resume", str(out), "--set", "batch=0"]) == 2
    assert main(["--preset", "tiny", "--resume", str(out), "--set", "lr=1"]) == 2
    with pytest.raises(SystemExit):
        main(["--preset", "tiny", "--resume", str(out), "--set", "batch"])


def test_bad_arguments_are_named(tmp_path, capsys):
    assert main(["--preset", "tiny", "--resume", str(tmp_path / "nothing")]) == 2
    assert "resume" in capsys.readouterr().err
    assert main(["--preset", "tiny", "--seed", "1000000", "--out", str(tmp_path / "x")]) == 2
    assert "held out" in capsys.readouterr().err
    with pytest.raises(ValueError, match="preset"):
        train.run("huge", tmp_path / "y")


def test_the_step_preview_is_a_blurry_version_of_the_result(tiny_run):
    """The preview is fitted on the model's own samples, so no step's preview is far from the mean
    colour of the frame finally decoded (it once showed a magenta and yellow checker, 100+ levels
    off). The 30-step tiny denoiser still samples near-noise latents, whose decodes clip in places,
    so the bound here is loose (its first step's preview is 30-65 off, by the run's draws);
    tests/train/test_shipped_model.py holds the shipped model to 20."""
    import numpy as np

    pipe = LatentCutPipeline.from_pretrained(tiny_run / "best", device="cpu")
    for seed, text in enumerate(("pan right over mountains at night", "zoom in on a yellow box in a city, day")):
        previews = []
        out = pipe.generate(GenerateRequest(prompt=text, seconds=1.0, seed=100 + seed,
                                            callback=lambda s, t, p: previews.append(p)))
        result = out.frames[out.frames.shape[0] // 2].reshape(-1, 3).mean(0)
        assert previews[-1].shape == out.frames.shape[1:]
        off = [np.abs(preview.reshape(-1, 3).mean(0) - result).max() for preview in previews]
        assert max(off) <= 75, (text, off)


def test_training_timesteps_give_the_sampler_s_ends_their_shares():
    """The shifted logit-normal almost never draws t < 0.2 or t = 1; the preset's shares put a tenth
    of the draws at pure noise and a tenth evenly below LOW_NOISE_T_MAX, and no share means no draw
    (an older run resumes on the same random stream)."""
    preset = dataclasses.replace(train.PRESETS["previz"], batch=20000)
    t = train.training_timesteps(preset, torch.Generator().manual_seed(0))
    # (the low draws come last and replace some of the pure-noise ones)
    assert abs(float((t == 1).float().mean()) - preset.pure_noise * (1 - preset.low_noise)) < 0.01
    low = t[t < train.LOW_NOISE_T_MAX]
    assert preset.low_noise <= len(low) / len(t) < preset.low_noise + 0.03  # + the logit-normal's own few
    assert abs(float((t < 0.1).float().mean()) - preset.low_noise / 3) < 0.01 and float(low.min()) > 0  # even
    plain = dataclasses.replace(preset, pure_noise=0.0, low_noise=0.0)
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    t1 = train.training_timesteps(plain, g1)
    assert torch.equal(t1, sample_timesteps(plain.batch, g2, shift=plain.timestep_shift))
    assert float((t1 < 0.2).float().mean()) < 0.01


def test_the_estimate_loss_adds_the_network_s_own_clean_latent_error():
    """estimate_weight adds that multiple of F's own squared error (not the Wiener estimate's) over
    the frames to be made; at low noise, where the Wiener gain hides F, it is what trains F."""
    from engine.model.tiny import make_tiny_model, tiny_config
    from engine.train.cases import Batch

    model = make_tiny_model(tiny_config(prediction="sample_wiener"))
    cfg, den = model.config, model.denoiser
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():  # a trained-looking output layer: the zero init would give F = 0
        for p in den.patch_out.parameters():
            p.normal_(0.0, 0.3, generator=gen)
    x0 = torch.randn(2, cfg.latent_channels, 3, 4, 8, generator=gen)
    cond = torch.zeros(2, cfg.latent_channels + 1 + cfg.structure_channels, 3, 4, 8)
    frames = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    batch = Batch(x0=x0, cond=cond, loss_mask=frames, captions=["", ""], cases=["t2v", "t2v"])
    text, mask = torch.randn(2, 5, cfg.text_dim, generator=gen), torch.ones(2, 5, dtype=torch.bool)
    t, noise = torch.tensor([0.1, 0.1]), torch.randn(x0.shape, generator=gen)
    cpu = torch.device("cpu")
    plain, _ = train.flow_loss(model, batch, text, mask, t, noise, cpu)
    both, _ = train.flow_loss(model, batch, text, mask, t, noise, cpu, estimate_weight=0.5)
    with torch.no_grad(), bf16_autocast(cpu):  # in the precision the loss runs in
        estimate, _ = den.predict(add_noise(x0, noise, t), cond, t, text, mask)
    per_frame = (estimate.float() - x0).pow(2).mean(dim=(1, 3, 4))
    own = float((per_frame * frames).sum() / frames.sum())
    assert own > 0.1
    assert abs(float((both - plain).detach()) - 0.5 * own) < 1e-5
    den.zero_grad(set_to_none=True)
    plain.backward()
    hidden = float(den.patch_out.weight.grad.norm())
    den.zero_grad(set_to_none=True)
    train.flow_loss(model, batch, text, mask, t, noise, cpu, estimate_weight=1.0)[0].backward()
    assert float(den.patch_out.weight.grad.norm()) > 3 * hidden


def test_a_restyle_case_from_its_partner_is_scored_on_its_own_clip(monkeypatch):
    """A restyle case that starts from its partner (Batch.source) is noised from the partner's
    latents from RESTYLE_START_T up, and its loss is the estimate's error against its own clip."""
    from engine.model.tiny import make_tiny_model, tiny_config
    from engine.train.cases import Batch

    model = make_tiny_model(tiny_config(prediction="sample"))
    cfg, den = model.config, model.denoiser
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(3, cfg.latent_channels, 3, 4, 8, generator=gen)
    source = torch.randn(x0.shape, generator=gen)
    estimate = torch.randn(x0.shape, generator=gen)
    seen = []

    def predict(x, *args, **kwargs):  # an estimate that does not hang on x: the loss must not either
        seen.append(x.detach().clone())
        return estimate.clone(), None

    monkeypatch.setattr(den, "predict", predict)
    cond = torch.zeros(3, cfg.latent_channels + 1 + cfg.structure_channels, 3, 4, 8)
    text, mask = torch.randn(3, 5, cfg.text_dim, generator=gen), torch.ones(3, 5, dtype=torch.bool)
    t, noise = torch.tensor([0.3, 0.5, 0.7]), torch.randn(x0.shape, generator=gen)
    batch = Batch(x0=x0, cond=cond, loss_mask=torch.ones(3, 3), captions=[""] * 3, cases=["restyle"] * 3,
                  source=source, from_source=torch.tensor([True, True, False]))
    flow, _ = train.flow_loss(model, batch, text, mask, t, noise, torch.device("cpu"))
    # Row 0 is below RESTYLE_START_T and row 2 not told: both start from their own clip.
    starts = torch.stack([add_noise(x0, noise, t)[0], add_noise(source, noise, t)[1], add_noise(x0, noise, t)[2]])
    assert torch.allclose(seen[0], starts, atol=1e-6)
    own = float((estimate - x0).pow(2).mean())
    assert abs(float(flow) - own) < 0.01 * own  # bf16 velocities; scored as if noised from x0: 9% more


def test_the_error_variance_is_fitted_to_the_estimate_s_error_by_its_own_loss():
    """The clean-latent loss trains the estimate and not the variance; the variance's likelihood
    trains the variance only, and is least where it equals the estimate's squared error."""
    from engine.model.tiny import make_tiny_model, tiny_config
    from engine.train.cases import Batch

    model = make_tiny_model(tiny_config(prediction="sample_wiener"))
    cfg, den = model.config, model.denoiser
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(2, cfg.latent_channels, 3, 4, 8, generator=gen)
    cond = torch.zeros(2, cfg.latent_channels + 1 + cfg.structure_channels, 3, 4, 8)
    batch = Batch(x0=x0, cond=cond, loss_mask=torch.ones(2, 3), captions=["", ""], cases=["t2v", "t2v"])
    text, mask = torch.randn(2, 5, cfg.text_dim, generator=gen), torch.ones(2, 5, dtype=torch.bool)
    t, noise = torch.tensor([0.1, 0.6]), torch.randn(x0.shape, generator=gen)
    flow, nll = train.flow_loss(model, batch, text, mask, t, noise, torch.device("cpu"))
    variance = set(den.error_variance.parameters())
    flow.backward(retain_graph=True)
    assert all(p.grad is None for p in variance)
    assert all(p.grad is not None for p in den.parameters() if p not in variance)
    den.zero_grad(set_to_none=True)
    nll.backward()
    assert all(p.grad is None for p in den.parameters() if p not in variance)
    assert den.error_variance.log_var.grad.abs().sum() > 0
    # Least at the squared error, cell by cell and channel by channel.
    estimate, error = torch.randn(x0.shape, generator=gen), torch.rand(x0.shape, generator=gen) + 0.1
    target, ones = estimate + error, torch.ones(2, 3)
    best = float(train.error_variance_nll(estimate, error ** 2, target, ones))
    for factor in (0.5, 0.9, 1.1, 2.0):
        assert float(train.error_variance_nll(estimate, factor * error ** 2, target, ones)) > best


def test_the_camera_loss_trains_the_camera_head_alone_on_captioned_clips():
    from engine.model.tiny import make_tiny_model, tiny_config

    model = make_tiny_model(tiny_config(camera_frame=True))
    den = model.denoiser
    gen = torch.Generator().manual_seed(0)
    text, mask = torch.randn(3, 5, model.config.text_dim, generator=gen), torch.ones(3, 5, dtype=torch.bool)
    drift = torch.tensor([[2.0, 0.0], [0.0, -1.0], [3.0, 3.0]])
    loss = train.camera_loss(model, text, mask, ["pan left", "tilt down", ""], drift)
    with torch.no_grad():
        guess = den.camera(text[:2], mask[:2])
    # The uncaptioned clip is left out.
    assert abs(float(loss.detach()) - float((guess - drift[:2]).pow(2).mean())) < 1e-6
    den.zero_grad(set_to_none=True)
    loss.backward()
    trained = {n for n, p in den.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert trained and all(n.startswith("camera.") for n in trained)
    assert float(train.camera_loss(model, text, mask, ["", "", ""], drift)) == 0.0


def test_a_run_fits_its_new_camera_head_apart_first(tiny_run):
    """The tiny preset samples in the camera frame: its pool keeps each clip's drift, and the new
    head was fitted apart (into the weight average too) before the first denoiser step."""
    from engine.train.data import LatentPool

    assert LatentPool.load(tiny_run / "pool.safetensors").drifts.shape == (4, 2)
    events = [json.loads(line) for line in (tiny_run / "log.jsonl").read_text().splitlines()]
    fitted = [e for e in events if e.get("event") == "camera head fitted apart"]
    assert len(fitted) == 1 and fitted[0]["mse"] >= 0
    model = load_model(tiny_run / "best")
    assert model.config.camera_frame and model.denoiser.camera.net[2].weight.any()


def test_a_model_folder_gains_a_camera_head_fitted_on_a_run_s_pool(tiny_run, tmp_path, capsys):
    import shutil

    from engine.model.ldm import LatentCutLDM
    from engine.model.loading import save_model
    from engine.train.data import LatentPool, TextCache, camera_targets, subject_targets, zoom_targets

    folder = tmp_path / "m"  # the run's model without its camera head
    shutil.copytree(tiny_run / "best", folder)
    trained = load_model(folder)
    plain = LatentCutLDM(dataclasses.replace(trained.config, camera_frame=False, camera_zoom=False,
                                             subject_motion=False))
    plain.load_state_dict({k: v for k, v in trained.state_dict().items()
                           if not any(f".{head}" in k for head in ("camera.", "zoom.", "subject"))})
    save_model(folder, plain)
    before = load_model(folder)
    assert before.denoiser.camera is None
    assert main(["--camera-head-from", str(tiny_run), "--out", str(folder)]) == 0
    assert "camera, zoom heads" in capsys.readouterr().out
    after = load_model(folder)
    assert after.config.camera_frame and after.config.camera_zoom and not after.config.subject_motion
    for name, weight in before.state_dict().items():  # nothing else changes
        assert torch.equal(after.state_dict()[name], weight), name
    # The head learnt the pool's mean drifts from its captions.
    pool = LatentPool.load(tiny_run / "pool.safetensors")
    text, mask = TextCache.load(tiny_run / "text.safetensors").batch([caps[0] for caps in pool.captions])
    with torch.no_grad():
        err = (after.denoiser.camera(text, mask) - camera_targets(pool)).abs().max()
    assert err < 0.5 or camera_targets(pool).abs().max() == 0
    with torch.no_grad():  # and the zoom head the zoom rates (0 where no clip zooms)
        zoom_err = (after.denoiser.zoom(text, mask) - zoom_targets(pool, after.config.frames)).abs().max()
    assert zoom_err < 0.01
    # A folder with the subject condition has its subject head refitted too, against each direction's
    # mean speed.
    shutil.copytree(tiny_run / "best", tmp_path / "s")
    assert main(["--camera-head-from", str(tiny_run), "--out", str(tmp_path / "s")]) == 0
    assert "camera, zoom, subject heads" in capsys.readouterr().out
    with torch.no_grad():
        speed_err = (load_model(tmp_path / "s").denoiser.subject(text, mask)
                     - subject_targets(pool, after.config.frames, after.config.width, after.config.height)).abs().max()
    assert speed_err < 0.5
    # Without a camera-frame pool: a clear error naming it.
    assert main(["--camera-head-from", str(tmp_path / "nothing"), "--out", str(folder)]) == 2
    assert "pool.safetensors" in capsys.readouterr().err


def _older_folder(tiny_run, folder):
    """The tiny run's best model as a folder from before motion attention and the conditioned refine."""
    from engine.model.ldm import LatentCutLDM
    from engine.model.loading import save_model

    best = load_model(tiny_run / "best")
    config = dataclasses.replace(best.config, motion_attention=0, refine_conditioned=False)
    older = LatentCutLDM(config)
    older.load_state_dict({k: v for k, v in best.state_dict().items() if k in older.state_dict()})
    save_model(folder, older, config)
    return older


def _same_prediction(started, source, seed: int, steps: list[float]) -> bool:
    """Whether two denoisers predict the same on random latents, conditions and text states."""
    g = torch.Generator().manual_seed(seed)
    cfg = started.config
    x = torch.randn(2, cfg.latent_channels, 2, 4, 8, generator=g)
    cond = torch.randn(2, started.denoiser.cond_channels, 2, 4, 8, generator=g)
    text = torch.randn(2, cfg.text_max_length, cfg.text_dim, generator=g)
    mask = torch.ones(2, cfg.text_max_length, dtype=torch.bool)
    t = torch.tensor(steps)
    return torch.allclose(started.denoiser(x, cond, t, text, mask), source.denoiser(x, cond, t, text, mask), atol=1e-5)


def test_a_new_run_starts_from_a_model_folder_and_keeps_its_code(tiny_run, tmp_path):
    older = _older_folder(tiny_run, tmp_path / "shipped")
    started = train.model_from_folder(tmp_path / "shipped", train.PRESETS["tiny"])
    assert started.config.motion_attention == 1 and started.config.refine_conditioned
    # The new modules start gated shut: the started model predicts what the folder's did.
    assert _same_prediction(started, older, seed=0, steps=[0.3, 0.9])

    out = tmp_path / "run"
    train.run("tiny", out, device="cpu", threads=2, steps=6, init_from=tmp_path / "shipped")
    state = _state(out)
    assert state["init_from"]["folder"] == str(tmp_path / "shipped") and state["ae_step"] == 0
    assert state["stage"] == "done" and state["step"] == 6
    trained = load_model(out / "checkpoint")
    # Stage 2 was skipped: the code is the folder's (only stage 2b's decoder moved).
    assert torch.equal(trained.autoencoder.encode_proj.weight, older.autoencoder.encode_proj.weight)
    assert torch.equal(trained.autoencoder.encode_proj.bias, older.autoencoder.encode_proj.bias)
    assert trained.config.scaling_factor == older.config.scaling_factor


def test_a_deeper_denoiser_starts_from_a_folder_as_the_folder(tiny_run):
    source = load_model(tiny_run / "best")
    tiny = train.PRESETS["tiny"]
    deeper = dataclasses.replace(tiny, config={**tiny.config, "dit_depth": tiny.config["dit_depth"] + 2})
    started = train.model_from_folder(tiny_run / "best", deeper)
    assert len(started.denoiser.blocks) == len(source.denoiser.blocks) + 2
    # The new blocks pass their tokens on unchanged until training opens them.
    assert _same_prediction(started, source, seed=1, steps=[0.2, 0.7])


def test_init_from_names_a_folder_of_another_architecture(tiny_run, tmp_path, capsys):
    from engine.model.loading import save_model

    best = load_model(tiny_run / "best")
    save_model(tmp_path / "other", best, best.config)
    # The previz preset's denoiser is wider than the tiny folder's.
    assert main(["--preset", "previz", "--init-from", str(tmp_path / "other"), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "init-from" in err and str(tmp_path / "other") in err
    assert main(["--preset", "tiny", "--init-from", str(tmp_path / "other"), "--resume", str(tiny_run)]) == 2
    assert "--resume" in capsys.readouterr().err


def test_the_decoder_stage_learns_noised_latents_and_keeps_the_code(tmp_path):
    from engine.model.tiny import make_tiny_model, tiny_config
    from engine.train.data import to_tensor

    model = make_tiny_model(tiny_config())
    cfg = model.config
    clips = np.stack([render(sample_scene(s), cfg.width, cfg.height, cfg.frames) for s in range(4)])
    x = torch.stack([to_tensor(c) for c in clips])
    noise = 0.3 * torch.randn(model.encode_frames(x).shape, generator=torch.Generator().manual_seed(1))

    def noised_error():
        with torch.no_grad():
            return float((model.decode_latents(model.encode_frames(x) + noise) - x).abs().mean())

    code = {k: v.clone() for k, v in model.autoencoder.state_dict().items() if k.startswith("encode_proj")}
    decoder = [p.detach().clone() for p in model.autoencoder.decoder_parameters()]
    before = noised_error()
    train.refine_decoder(model, clips, 40, 2, None, 0.3, 1.0, 0, torch.device("cpu"), lr=3e-3)
    for k, v in code.items():
        assert torch.equal(model.autoencoder.state_dict()[k], v), k  # latents stay valid
    assert any(not torch.equal(a, b) for a, b in zip(decoder, model.autoencoder.decoder_parameters()))
    assert noised_error() < 0.9 * before


def test_a_model_folder_s_decoder_is_refined_on_a_run_s_clips(tiny_run, tmp_path, capsys):
    import shutil

    folder = tmp_path / "ship"
    shutil.copytree(tiny_run / "best", folder)
    before = load_model(folder)
    assert main(["--decoder-from", str(tiny_run), "--out", str(folder)]) == 0
    assert "ceiling" in capsys.readouterr().out
    after = load_model(folder)
    assert torch.equal(after.autoencoder.encode_proj.weight, before.autoencoder.encode_proj.weight)
    assert not torch.equal(after.autoencoder.refine_out.weight, before.autoencoder.refine_out.weight)
    for k, v in before.denoiser.state_dict().items():
        assert torch.equal(after.denoiser.state_dict()[k], v), k
    assert main(["--decoder-from", str(tmp_path / "nothing"), "--out", str(folder)]) == 2
    assert str(tmp_path / "nothing") in capsys.readouterr().err
