"""The clip store renders restyle pairs once, in chunks, and reads them back memory-mapped."""
import numpy as np
import pytest

from engine.train.data import ClipStore, crop_batch
from engine.train.world import Scene, render


def test_stored_clips_index_like_the_array_they_stand_for(tmp_path):
    store = ClipStore(tmp_path / "clips", 32, 16, 4)
    store.fill(20, seed=3)  # one full chunk of 16 pairs and one of 4
    assert sorted(p.name for p in (tmp_path / "clips").glob("*.npy")) == ["pairs_00000.npy", "pairs_00001.npy"]
    clips, scenes = store.load(18)
    whole = np.concatenate([np.load(tmp_path / "clips" / f"pairs_0000{i}.npy") for i in (0, 1)])[:36]
    assert len(clips) == len(scenes) == 36 and clips.shape == whole.shape
    for i in (0, 31, 32, 35, -1):
        assert np.array_equal(clips[i], whole[i]), i
    assert np.array_equal(clips[33], render(Scene(**scenes[33]), 32, 16, 4))  # the scene it was rendered from
    assert np.array_equal(clips[34, :, 2:10, 4:20], whole[34, :, 2:10, 4:20])
    assert np.array_equal(clips[::7], whole[::7]) and np.array_equal(clips[30:34], whole[30:34])
    assert sum(1 for _ in clips) == 36
    clips[5][0, 0, 0] = 255 - whole[5, 0, 0, 0]  # an indexed clip is a copy: the store is never written
    assert np.array_equal(clips[5], whole[5])
    with pytest.raises(IndexError):
        clips[36]
    rng = np.random.default_rng(0)
    crops = crop_batch(clips, rng, 3, (8, 16), 4)
    assert crops.shape == (3, 3, 4, 8, 16)


def test_a_store_grows_past_its_short_last_chunk(tmp_path):
    store = ClipStore(tmp_path / "clips", 32, 16, 4)
    store.fill(20, seed=3)  # chunk 1 holds 4 pairs
    first = (tmp_path / "clips" / "pairs_00000.npy").stat().st_mtime_ns
    store.fill(40, seed=3)
    clips, scenes = store.load(40)
    assert len(clips) == len(scenes) == 80
    assert (tmp_path / "clips" / "pairs_00000.npy").stat().st_mtime_ns == first  # full chunks are kept
    assert np.array_equal(clips[79], render(Scene(**scenes[79]), 32, 16, 4))
    fresh = ClipStore(tmp_path / "fresh", 32, 16, 4)
    fresh.fill(40, seed=3)
    again, _ = fresh.load(40)
    assert np.array_equal(clips[::5], again[::5])  # the same pairs as a store filled in one go


def test_processes_render_the_same_store(tmp_path):
    serial = ClipStore(tmp_path / "serial", 32, 16, 4)
    serial.fill(40, seed=5)
    parallel = ClipStore(tmp_path / "parallel", 32, 16, 4)
    ends = []
    parallel.fill(40, seed=5, log=ends.append, workers=2)
    assert ends == ["clips: 16/40 pairs rendered", "clips: 32/40 pairs rendered", "clips: 40/40 pairs rendered"]
    (a, scenes_a), (b, scenes_b) = serial.load(40), parallel.load(40)
    assert scenes_a == scenes_b and np.array_equal(a[:], b[:])
