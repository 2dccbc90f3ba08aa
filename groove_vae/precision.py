"""Which dtype policy a model computes in: "auto" picks bfloat16 only where the hardware runs it fast."""

from __future__ import annotations

import contextlib
import functools

import keras
import tensorflow as tf


@functools.cache
def resolve_precision(name: str) -> str:
    """"auto" -> "mixed_bfloat16" where bfloat16 is fast (a GPU with bfloat16 tensor cores,
    compute capability 8.0 or more; else a CPU with AVX512-BF16 or AMX-BF16 units), else
    "float32": on an AVX2-only CPU bfloat16 is emulated and trains slower than float32.
    Other names are returned as they are."""
    if name != "auto":
        return name
    for gpu in tf.config.list_physical_devices("GPU"):
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
        return "mixed_bfloat16" if capability >= (8, 0) else "float32"
    return "mixed_bfloat16" if cpu_has_bfloat16() else "float32"


def generation_precision(name: str) -> str:
    """The precision a model trained in `name` generates in (`groove_vae.load()` without
    one): `resolve_precision(name)` on a machine with a GPU, float32 on one without. On a
    CPU the API decodes its batches through XLA, whose CPU backend computes bfloat16 dots
    in float32, so bfloat16 only adds casts there: 859 against 966 clips/s at batch 64 on
    an AVX512-BF16 CPU (experiments/2026-12-07-sampling-speed.md). Every door then plays
    the same float32 beat; `precision="mixed_bfloat16"` still asks for bfloat16."""
    return resolve_precision(name) if has_gpu() else "float32"


@functools.cache
def has_gpu() -> bool:
    """Whether TensorFlow sees a GPU (asked once per process)."""
    return bool(tf.config.list_physical_devices("GPU"))


def cpu_has_bfloat16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU has bfloat16 arithmetic units (Linux: the flags in /proc/cpuinfo)."""
    try:
        with open(cpuinfo) as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@contextlib.contextmanager
def dtype_policy(name: str):
    """Layers created inside take the dtype policy `name` ("float32", "mixed_bfloat16").

    Keras gives a layer the global policy when it is created; this sets it for the
    block only. Layers that must stay float32 say so with `dtype="float32"`.
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
