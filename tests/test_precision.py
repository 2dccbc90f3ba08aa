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

