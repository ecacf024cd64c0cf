import os

import pytest
import torch

from engine.model.text_encoder import TextEncoder, default_text_encoder_folder


@pytest.fixture(scope="module")
def minilm():
    os.environ["HF_HUB_OFFLINE"] = "1"  # nothing may come from a network
    return TextEncoder(default_text_encoder_folder(), max_length=48)


def test_real_minilm_loads_offline_and_encodes(minilm):
    states, mask = minilm.encode(["a red ball moving left over a field at sunset", "night"])
    assert states.shape[0] == 2 and states.shape[2] == 384 == minilm.dim
    assert mask.dtype == torch.bool and mask[0].all() and mask[1].sum() < mask[0].sum()
    assert torch.all(states[1][~mask[1]] == 0)
    # Different words give different states: the encoder is real, not random.
    a, _ = minilm.encode(["a red ball"])
    b, _ = minilm.encode(["a blue box"])
    assert not torch.allclose(a, b)


def test_cache_serves_repeated_prompts(minilm, monkeypatch):
    first, _ = minilm.encode(["pan right over mountains at night"])
    calls = []
    original = minilm._encode_uncached
    monkeypatch.setattr(minilm, "_encode_uncached", lambda prompts: calls.append(prompts) or original(prompts))
    again, _ = minilm.encode(["pan right over mountains at night"])
    assert calls == [] and torch.equal(first, again)
    minilm.encode(["pan right over mountains at night", "a new prompt"])
    assert calls == [["a new prompt"]]


def test_empty_prompt_embedding(minilm):
    states, mask = minilm.empty(batch=2)
    assert states.shape[0] == 2 and mask.sum(1).tolist() == [2, 2]  # [CLS] [SEP]


def test_folder_without_config_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        TextEncoder(tmp_path)
