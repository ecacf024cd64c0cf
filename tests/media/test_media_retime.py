"""The one frame-rate conformer (sample and hold) that the engine thread, the pipeline and the
diffusers backends share."""
import numpy as np

from engine.media.retime import hold_indices, retime


def test_each_new_frame_shows_the_source_frame_on_screen_at_its_time():
    frames = np.arange(10)[:, None]
    assert retime(frames, 24, 24) is frames
    assert retime(frames, 24, 12)[:, 0].tolist() == [0, 2, 4, 6, 8]      # the frame at i/12 s, not the one after it
    assert retime(frames, 25, 50)[:, 0].tolist() == [i // 2 for i in range(20)]
    assert retime(frames, 30, 24)[:, 0].tolist() == [0, 1, 2, 3, 5, 6, 7, 8]
    assert retime(frames[:1], 24, 8).shape[0] == 1                     # never empty


def test_hold_indices_land_on_exact_frame_starts_and_clamp_only_when_asked():
    # 3 * (24 / 8) is 9 exactly; float error must not round it down to 8
    assert hold_indices(4, 24, 8).tolist() == [0, 3, 6, 9]
    assert hold_indices(4, 24, 8, src_count=7).tolist() == [0, 3, 6, 6]
    assert hold_indices(3, 23.976, 23.976 / 3).tolist() == [0, 3, 6]
