"""GPU speed-ups that can be checked on the CPU: the layout change of a real video VAE's convolutions."""
import pytest
import torch

from engine.backends.speed import channels_last_convolutions
from tests.backends.tiny_pipelines import _wan_vae


def test_a_wan_vae_s_convolutions_go_channels_last():
    vae = _wan_vae()
    with pytest.raises(RuntimeError, match="rank 5"):  # why it goes module by module
        vae.to(memory_format=torch.channels_last_3d)
    channels_last_convolutions(vae)
    convs = [m for m in vae.modules() if isinstance(m, torch.nn.Conv3d)]
    assert convs and all(m.weight.is_contiguous(memory_format=torch.channels_last_3d) for m in convs)
    assert not convs[0].weight.is_contiguous()
    with torch.no_grad():
        out = vae(torch.rand(1, 3, 5, 16, 16) * 2 - 1).sample
    assert out.shape == (1, 3, 5, 16, 16)
