import json

import pytest

from engine.model.config import ModelConfig


def test_json_round_trip(tmp_path):
    cfg = ModelConfig(name="x", dit_depth=3, operations=["generate", "restyle"])
    cfg.save(tmp_path / "config.json")
    data = json.loads((tmp_path / "config.json").read_text())
    assert data["_class_name"] == "LatentCutLDM"
    assert ModelConfig.load(tmp_path / "config.json") == cfg


def test_default_is_the_native_previz_clip():
    cfg = ModelConfig().validate()
    assert (cfg.width, cfg.height, cfg.frames, cfg.fps) == (256, 144, 24, 12.0)
    assert cfg.space_compression == 4 and cfg.time_compression == 4 and cfg.latent_window == 6
    assert cfg.size_multiple == 16  # the DiT sees 16x16-pixel patches


@pytest.mark.parametrize("change, key", [
    ({"width": 250}, "width"),
    ({"frames": 10}, "frames"),
    ({"dit_dim": 100}, "dit_dim"),
    ({"overlap_latent_frames": 6}, "overlap_latent_frames"),
    ({"operations": ["teleport"]}, "operations"),
    ({"width": "wide"}, "width"),
    ({"decoder_channels": 12}, "decoder_channels"),
    ({"space_compression": 0}, "space_compression"),
])
def test_bad_values_name_the_key(tmp_path, change, key):
    data = {**ModelConfig().to_dict(), **change}
    (tmp_path / "config.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=key):
        ModelConfig.load(tmp_path / "config.json")


def test_bad_files_name_the_path(tmp_path):
    path = tmp_path / "config.json"
    with pytest.raises(FileNotFoundError, match="config.json"):
        ModelConfig.load(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        ModelConfig.load(path)
    path.write_text(json.dumps({"_class_name": "SomethingElse"}))
    with pytest.raises(ValueError, match="_class_name"):
        ModelConfig.load(path)
    path.write_text(json.dumps({**ModelConfig().to_dict(), "colour": 3}))
    with pytest.raises(ValueError, match="colour"):
        ModelConfig.load(path)


def test_folders_from_before_the_linear_autoencoder_still_load(tmp_path):
    import torch

    from engine.model.autoencoder_conv import ConvAutoencoder
    from engine.model.ldm import LatentCutLDM

    data = ModelConfig(dit_dim=32, dit_depth=1, dit_heads=2).to_dict()
    for key in ("autoencoder", "ae_channels", "space_compression", "decoder_channels", "decoder_blocks"):
        del data[key]
    data.update(ae_channels=[8, 8, 8, 16], latent_channels=4, patch_size=2)
    (tmp_path / "config.json").write_text(json.dumps(data))
    cfg = ModelConfig.load(tmp_path / "config.json")
    assert cfg.autoencoder == "conv" and cfg.space_compression == 8
    model = LatentCutLDM(cfg)
    assert isinstance(model.autoencoder, ConvAutoencoder)
    assert model.encode_frames(torch.zeros(1, 3, 4, 32, 64)).shape == (1, 4, 1, 4, 8)
