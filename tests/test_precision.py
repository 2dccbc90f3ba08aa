"""The precision "auto" picks: bfloat16 only where the hardware runs it fast."""

import tensorflow as tf

from groove_vae.precision import cpu_has_bfloat16, resolve_precision


def test_auto_precision_follows_the_cpu(tmp_path):
    with_bf16, without = tmp_path / "bf16", tmp_path / "avx2"
    with_bf16.write_text("processor : 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16\n")
    without.write_text("processor : 0\nflags\t\t: fpu sse avx2 fma\n")
    assert cpu_has_bfloat16(str(with_bf16)) and not cpu_has_bfloat16(str(without))
    assert not cpu_has_bfloat16(str(tmp_path / "missing"))
    assert resolve_precision("float32") == "float32"
    expected = "mixed_bfloat16" if cpu_has_bfloat16() else "float32"
    if not tf.config.list_physical_devices("GPU"):
        assert resolve_precision("auto") == expected



def test_a_model_generates_in_float32_on_a_cpu_unless_asked_and_loads_its_weights_either_way():
    """XLA's CPU backend computes bfloat16 dots in float32: generating in bfloat16 on a CPU
    only adds casts, so `load()` asks for float32 there, whatever the model trained in."""
    from groove_vae import api
    from groove_vae.precision import generation_precision

    if tf.config.list_physical_devices("GPU"):
        assert generation_precision("auto") == resolve_precision("auto")
        return
    assert generation_precision("auto") == generation_precision("mixed_bfloat16") == "float32"
    default, bf16 = api.load(), api.load(precision="mixed_bfloat16")
    assert default.model.config.precision == "float32"  # The bundled model trained in "auto".
    assert default.model.decoder.bar_decoder.lstm.compute_dtype == "float32"
    assert bf16.model.decoder.bar_decoder.lstm.compute_dtype == "bfloat16"
    kernel = default.model.decoder.bar_decoder.output_projection.kernel
    assert kernel.numpy().std() > 0
    assert (kernel.numpy() == bf16.model.decoder.bar_decoder.output_projection.kernel.numpy()).all()
