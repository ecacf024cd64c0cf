"""Frame-count and size rules: nearest valid value, and a warning that says what changed."""
import warnings

import pytest

from engine.constraints import ConstraintWarning, Constraints, warn_adjusted

WAN = Constraints("Wan", frame_step=4, size_multiple=16, min_frames=5)
LTX = Constraints("LTX-Video", frame_step=8, size_multiple=32, min_frames=9)


@pytest.mark.parametrize("asked, fitted", [(81, 81), (80, 81), (82, 81), (83, 85), (1, 5), (32, 33)])
def test_wan_frames_round_to_4n_plus_1(asked, fitted):
    value, note = WAN.fit_frames(asked)
    assert value == fitted
    assert (note is None) == (asked == fitted)
    if note:
        assert "4n+1" in note and str(asked) in note and str(fitted) in note


def test_ltx_frames_round_to_8n_plus_1():
    assert LTX.fit_frames(161) == (161, None)
    value, note = LTX.fit_frames(48)
    assert value == 49 and "8n+1" in note


def test_size_rounds_to_multiples_and_says_so():
    assert WAN.fit_size(832, 480) == ((832, 480), None)
    (w, h), note = LTX.fit_size(1920, 1080)
    assert (w, h) == (1920, 1088)
    assert "divisible by 32" in note and "1920x1080" in note and "1920x1088" in note
    assert LTX.fit_size(10, 10)[0] == (32, 32)  # never below one multiple


def test_ceil_frames_pads_up_without_rounding_down():
    assert [WAN.ceil_frames(n) for n in (5, 6, 9, 10)] == [5, 9, 9, 13]
    assert LTX.ceil_frames(2) == 9


def test_fixed_size_models_get_their_size():
    fixed = Constraints("CogVideoX", frame_step=8, size_multiple=16, fixed_size=(720, 480))
    (w, h), note = fixed.fit_size(640, 360)
    assert (w, h) == (720, 480) and "only 720x480" in note


def test_warning_is_emitted_and_kept():
    notes = []
    with pytest.warns(ConstraintWarning, match="rounded from 80 to 81"):
        warn_adjusted(WAN.fit_frames(80)[1], notes)
    assert notes == ["Wan needs 4n+1 frames: frames rounded from 80 to 81"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_adjusted(None, notes)  # nothing changed: no warning
    assert len(notes) == 1


@pytest.mark.parametrize("bad", [0, -3])
def test_bad_counts_and_sizes_name_the_argument(bad):
    with pytest.raises(ValueError, match="frames"):
        WAN.fit_frames(bad)
    with pytest.raises(ValueError, match="size"):
        WAN.fit_size(bad, 32)
    with pytest.raises(ValueError, match="frame_step"):
        Constraints("X", frame_step=bad, size_multiple=16)
