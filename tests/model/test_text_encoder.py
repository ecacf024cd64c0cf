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


@pytest.mark.parametrize("which", ["minilm", "tiny"])
def test_states_match_transformers_bert(which, tmp_path):
    """The encoder written here gives transformers' BertModel states and tokens, for the shipped
    MiniLM and a tiny random BERT folder, padding and truncation at max_length included."""
    from transformers import AutoModel, AutoTokenizer

    from engine.model.tiny import make_tiny_model_folder

    folder = default_text_encoder_folder() if which == "minilm" else make_tiny_model_folder(tmp_path / "m") / "text_encoder"
    prompts = ["a red ball moving left over a field at sunset, static camera", "", "Night-time; the camera PANS!",
               "a café at dusk " * 20]
    ours = TextEncoder(folder, max_length=16)
    states, mask = ours.encode(prompts)
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    bert = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
    tok = tokenizer(prompts, padding=True, truncation=True, max_length=16, return_tensors="pt")
    with torch.no_grad():
        theirs = bert(input_ids=tok["input_ids"], attention_mask=tok["attention_mask"]).last_hidden_state
    assert torch.equal(mask, tok["attention_mask"].bool()) and mask.shape[1] == 16
    assert torch.allclose(states[mask], theirs[mask], atol=1e-4)
