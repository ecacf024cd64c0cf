"""desktop.screenshots refuses bad arguments with a message naming them."""
import pytest

from desktop import screenshots


def test_bad_size_is_named(capsys):
    with pytest.raises(SystemExit) as exit_info:
        screenshots.main(["--size", "wide"])
    assert exit_info.value.code == 2
    assert "--size" in capsys.readouterr().err


def test_bad_steps_is_named(capsys):
    with pytest.raises(SystemExit) as exit_info:
        screenshots.main(["--steps", "0"])
    assert exit_info.value.code == 2
    assert "--steps" in capsys.readouterr().err


def test_model_folder_without_config_is_named(tmp_path):
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    with pytest.raises(SystemExit, match="not-a-model has neither config.json nor model_index.json"):
        screenshots._model_folder(str(folder), tmp_path)


def test_footage_is_a_real_clip(tmp_path):
    from engine.media.probe import probe

    info = probe(screenshots.footage(tmp_path / "f.mp4", (100, 150, 200), (50, 120, 60), (230, 40, 40), frames=12))
    assert (info.video.width, info.video.height, info.video.frame_count) == (320, 180, 12)
