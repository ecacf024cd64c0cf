"""Memory options: parsing, the automatic pick from free GPU memory, and applying them to a pipeline."""
import pytest

from engine.backends.memory import GIB, MemoryOptions, apply_memory_plan, plan_memory


def test_parse_words_and_auto():
    opts = MemoryOptions.parse("fp16, model-offload, vae-tiling, vae-slicing")
    assert (opts.dtype, opts.offload, opts.vae_tiling, opts.vae_slicing, opts.auto) == ("fp16", "model", True, True, False)
    assert MemoryOptions.parse("sequential-offload").offload == "sequential"
    assert MemoryOptions.parse(None).auto and MemoryOptions.parse("auto").auto


def test_parse_rejects_unknown_words():
    with pytest.raises(ValueError, match="memory: unknown option 'fp8'"):
        MemoryOptions.parse("fp8")
    with pytest.raises(ValueError, match="memory offload"):
        MemoryOptions(offload="disk")


def test_cpu_runs_fp32_resident_with_a_note():
    plan = plan_memory(MemoryOptions.parse("bf16,sequential-offload,vae-tiling"), "cpu", 10 * GIB, 6 * GIB)
    assert (plan.dtype, plan.offload, plan.vae_tiling) == ("fp32", "none", True)
    assert "GPU options" in plan.notes[0]


@pytest.mark.parametrize("free_gib, offload", [(40, "none"), (14, "model"), (5, "sequential")])
def test_auto_picks_offload_from_free_memory(free_gib, offload):
    # 20 GiB of fp32 weights = 10 GiB in fp16; largest component 12 GiB fp32 = 6 GiB in fp16.
    opts = MemoryOptions(dtype="fp16", auto=True)
    plan = plan_memory(opts, "cuda", 20 * GIB, 12 * GIB, free_bytes=free_gib * GIB)
    assert plan.offload == offload and plan.dtype == "fp16"
    assert plan.notes and plan.notes[0].startswith("auto:")
    assert plan.vae_tiling == (offload != "none")


def test_explicit_options_pass_through_on_gpu():
    plan = plan_memory(MemoryOptions(dtype="bf16", offload="model", vae_slicing=True), "cuda", GIB, GIB, free_bytes=0)
    assert (plan.dtype, plan.offload, plan.vae_tiling, plan.vae_slicing) == ("bf16", "model", False, True)


def test_apply_turns_vae_tiling_and_slicing_on(model_folder):
    from diffusers import WanPipeline

    pipe = WanPipeline.from_pretrained(model_folder("wan-t2v"), use_safetensors=True)
    plan = plan_memory(MemoryOptions(vae_tiling=True, vae_slicing=True), "cpu", GIB, GIB)
    apply_memory_plan(pipe, plan, "cpu")
    assert pipe.vae.use_tiling and pipe.vae.use_slicing
    assert plan.as_dict()["vae_tiling"] is True
