r"""Benchmarks every hot path of groove-vae on this machine; prints one table, writes JSON.

Usage:
  python bench/run.py            # a few minutes
  python bench/run.py --quick    # a few minutes: fewer steps, batch 64 only
  python bench/run.py --output=bench/results.json
  python bench/run.py --smoke    # every figure at toy sizes, to test this script

Figures: the fp32 matmul peak measured in the same run (so every other figure is also a
ratio to it); training examples/s (steady state) for groovae_4bar and hierdec_drums_4bar,
FLOPs per example worked out from the layer sizes, achieved GFLOPS and the ratio to the
peak; converting the TFDS train split cold and reading the cache warm; a cold
`scripts/sample.py --num_output=5`; warm decode clips/s at batch 1, 64 and 1024; the
exported SavedModel's serving_default latency (p50/p99, batch 1, fresh process); peak
resident memory of a training run at batch 512. Training, decode and memory are measured
in float32 and with precision=mixed_bfloat16 (against the bfloat16 matmul peak too).
Training also reports examples per CPU-second (all threads), which other processes on a
shared machine disturb far less than the wall clock.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json
import platform
import subprocess
import sys
import tempfile
import time

from absl import app, flags, logging

from machine import cpu_features, cpu_model, report  # bench/ is on sys.path when a bench script runs.

flags.DEFINE_bool("quick", False, "A few minutes: fewer steps and sizes.")
flags.DEFINE_bool("smoke", False, "Every figure at toy sizes, to test this script; the numbers mean nothing.")
flags.DEFINE_string("output", "bench/results.json", "Where to write the JSON.")
flags.DEFINE_string("tfds_name", "groove/4bar-midionly", "Dataset for the conversion figures.")
FLAGS = flags.FLAGS
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# Toy model sizes for --smoke.
SMOKE_SIZES = {"encoder_rnn_sizes": [16], "conductor_rnn_sizes": [16], "conductor_output_size": 8,
               "decoder_rnn_sizes": [16], "z_size": 8}


def matmul_peak_gflops(tf, n: int, repeats: int, dtype: str = "float32") -> tuple[float, float]:
    """The best wall-clock GFLOPS of an n x n matmul, and GFLOPs per CPU-second (all threads)."""
    a, b = tf.cast(tf.random.normal([n, n]), dtype), tf.cast(tf.random.normal([n, n]), dtype)
    matmul = tf.function(lambda x, y: tf.matmul(x, y))
    matmul(a, b).numpy()
    best, cpu = float("inf"), time.process_time()
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9, repeats * 2 * n**3 / max(time.process_time() - cpu, 1e-9) / 1e9


def training_throughput(tf, name: str, batch: int, warmup: int, steps: int, overrides: dict) -> dict:
    import numpy as np

    from groove_vae import configs, flops, optimizers
    from groove_vae.model import build_model

    config = configs.from_dict({"batch_size": batch, **overrides}, configs.load_config(name))
    model = build_model(config)
    model.compile(optimizer=optimizers.make_optimizer(config))
    rng = np.random.default_rng(0)
    hits = (rng.random((batch, config.num_steps, 9)) < 0.15).astype(np.float32)
    groove = np.concatenate([hits, hits * 0.6, hits * 0.1], -1)
    inputs = model.representation.to_inputs(tf.constant(groove))
    dataset = tf.data.Dataset.from_tensors(inputs).repeat()
    model.fit(dataset, steps_per_epoch=warmup, epochs=1, verbose=0)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    depth = model.representation.input_depth
    per_example = flops.training_flops_per_example(config, depth, model.representation.output_depth)
    examples_per_second = steps * batch / seconds
    return {"config": name, "batch": batch, "precision": config.precision, "examples_per_s": examples_per_second,
            "examples_per_cpu_s": steps * batch / cpu_seconds, "gflop_per_example": per_example / 1e9,
            "gflops": examples_per_second * per_example / 1e9, "gflop_per_cpu_s": steps * batch * per_example / cpu_seconds / 1e9}


def data_conversion(tfds_name: str, split: str = "train") -> dict:
    from groove_vae import data

    start = time.perf_counter()
    clips = data.load_split(tfds_name, split, use_cache=False)
    cold = time.perf_counter() - start
    data.load_split(tfds_name, split)  # Writes the cache if it was not there.
    start = time.perf_counter()
    data.load_split(tfds_name, split)
    warm = time.perf_counter() - start
    return {"clips": len(clips), "cold_s": cold, "cold_clips_per_s": len(clips) / cold,
            "warm_s": warm, "warm_clips_per_s": len(clips) / warm}


def cold_sample_seconds(num_output: int = 5) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "sample.py"), f"--num_output={num_output}",
                        f"--output_dir={tmp}/out"], check=True, capture_output=True)
        return time.perf_counter() - start


def decode_throughput(batch_sizes, repeats: int, precision: str = "float32") -> dict:
    """Warm clips/s per batch size, as the Python API runs them (small batches through XLA):
    "sample", a seed to beats (its latents, feel draws and decode: `sample_tensors`), and
    "decode", given latents and feel draws to beats (`decode_tensors`)."""
    import groove_vae

    vae = groove_vae.load(precision=precision)
    result = {"sample": {}, "decode": {}}
    for batch in batch_sizes:
        z = vae.sample_latents(batch, seed=0)
        draws = vae.feel_draws(batch, vae.config.num_bars, seed=0, temperature=0.5)
        calls = {"sample": lambda i: vae.sample_tensors(batch, seed=i),
                 "decode": lambda i: vae.decode_tensors(z, 0.5, i, draws)}
        for name, call in calls.items():
            call(0)  # Trace (and compile).
            best = float("inf")
            for i in range(repeats):  # The best of the repeats: other work on the machine only slows one down.
                start = time.perf_counter()
                call(i)
                best = min(best, time.perf_counter() - start)
            result[name][str(batch)] = batch / best
    return result


SERVING_LATENCY = r"""
import sys, time, json, numpy as np, tensorflow as tf
decode = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
z = tf.constant(np.random.default_rng(0).standard_normal((1, int(sys.argv[2]))).astype("float32"))
t, s = tf.constant(1.0), tf.constant(0)
for _ in range(3):
    decode(z=z, temperature=t, seed=s)
times = []
for _ in range(int(sys.argv[3])):
    start = time.perf_counter(); decode(z=z, temperature=t, seed=s)["hits"].numpy(); times.append(time.perf_counter() - start)
print(json.dumps({"p50_ms": 1000 * float(np.percentile(times, 50)), "p99_ms": 1000 * float(np.percentile(times, 99))}))
"""


def serving_latency(calls: int) -> dict:
    import groove_vae
    from groove_vae.export import export_model

    vae = groove_vae.load()
    with tempfile.TemporaryDirectory() as tmp:
        path = export_model(vae, os.path.join(tmp, "groove_vae"))
        out = subprocess.run([sys.executable, "-c", SERVING_LATENCY, path, str(vae.config.z_size), str(calls)],
                             check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


TRAIN_MEMORY = r"""
import json, resource, sys, numpy as np, tensorflow as tf
from groove_vae import configs, optimizers
from groove_vae.model import build_model
config = configs.from_dict(json.loads(sys.argv[3]), configs.load_config(sys.argv[1]))
model = build_model(config)
model.compile(optimizer=optimizers.make_optimizer(config))
hits = (np.random.default_rng(0).random((config.batch_size, 64, 9)) < 0.15).astype("float32")
inputs = model.representation.to_inputs(tf.constant(np.concatenate([hits, hits * 0.6, hits * 0.1], -1)))
model.fit(tf.data.Dataset.from_tensors(inputs).repeat(), steps_per_epoch=int(sys.argv[2]), epochs=1, verbose=0)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # Linux reports KiB.
"""


def training_peak_memory_mb(name: str, steps: int, overrides: dict) -> float:
    """Peak resident memory (MB) of a fresh process that trains `steps` steps."""
    out = subprocess.run([sys.executable, "-c", TRAIN_MEMORY, name, str(steps), json.dumps(overrides)],
                         check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    import tensorflow as tf

    quick, smoke = FLAGS.quick or FLAGS.smoke, FLAGS.smoke
    toy = SMOKE_SIZES if smoke else {}
    f32, bf16 = {"precision": "float32"}, {"precision": "mixed_bfloat16"}  # Pinned: configs default to "auto".
    results = {
        "machine": {"cpu": cpu_model(), "features": cpu_features(), "cores": os.cpu_count(), "tensorflow": tf.__version__,
                    "python": platform.python_version()},
        "command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    n, repeats = (128, 2) if smoke else (1024, 5) if quick else (2048, 10)
    peak, peak_cpu = matmul_peak_gflops(tf, n, repeats)
    results["matmul_peak_gflops"], results["matmul_gflop_per_cpu_s"] = peak, peak_cpu
    results["matmul_peak_gflops_bf16"] = matmul_peak_gflops(tf, n, repeats, "bfloat16")[0]
    runs = [("groovae_4bar", 64, f32), ("groovae_4bar", 64, bf16), ("hierdec_drums_4bar", 64, f32)]
    if not quick:
        runs += [("groovae_4bar", 512, f32), ("groovae_4bar", 512, bf16), ("hierdec_drums_4bar", 512, f32)]
    results["training"] = []
    for name, batch, overrides in runs:
        batch = 4 if smoke else batch
        row = training_throughput(tf, name, batch, warmup=1 if smoke else 2, steps=1 if smoke else 3 if quick else 8,
                                  overrides={**toy, **overrides})
        row["ratio_to_peak"] = row["gflops"] / peak
        row["cpu_ratio_to_peak"] = row["gflop_per_cpu_s"] / peak_cpu
        results["training"].append(row)
    results["data"] = data_conversion(FLAGS.tfds_name, "validation[:2%]" if smoke else "train")
    results["sample_cold_s"] = cold_sample_seconds(1 if smoke else 5)
    batches, repeats = ([1, 2], 1) if smoke else ([1, 64], 5) if quick else ([1, 64, 1024], 10)
    results["clips_per_s"] = decode_throughput(batches, repeats)  # float32: what load() decodes in on a CPU.
    results["clips_per_s_bf16"] = decode_throughput(batches, repeats, "mixed_bfloat16")
    results["serving_default_batch1"] = serving_latency(2 if smoke else 20 if quick else 100)
    memory = {**toy, "batch_size": 4 if smoke else 512}
    steps = 1 if smoke else 2 if quick else 4
    results["training_peak_rss_mb_batch512"] = training_peak_memory_mb("groovae_4bar", steps, memory)
    results["training_peak_rss_mb_batch512_bf16"] = training_peak_memory_mb("groovae_4bar", steps, {**memory, **bf16})

    report(format_table(results), results, FLAGS.output)


def format_table(r: dict) -> str:
    m = r["machine"]
    lines = [f"machine: {m['cpu']} ({m.get('features', '?')}), {m['cores']} cores, TensorFlow {m['tensorflow']}; "
             f"command: {r['command']}; {r['date']}",
             f"{'figure':<52} {'value':>12}", "-" * 65,
             f"{'fp32 matmul peak (GFLOPS; GFLOP per CPU-s)':<52} {r['matmul_peak_gflops']:.1f}; {r['matmul_gflop_per_cpu_s']:.1f}",
             f"{'bf16 matmul peak (GFLOPS)':<52} {r['matmul_peak_gflops_bf16']:>12.1f}"]
    for row in r["training"]:
        label = f"train {row['config']} b{row['batch']}" + (" bf16" if row["precision"] != "float32" else "")
        lines.append(f"{label + ' (examples/s; per CPU-s)':<52} {row['examples_per_s']:.1f}; {row['examples_per_cpu_s']:.1f}")
        lines.append(f"{label + ' (GFLOP/example; GFLOPS; of fp32 peak; CPU-s)':<52} "
                     f"{row['gflop_per_example']:.2f}; {row['gflops']:.1f}; {row['ratio_to_peak']:.0%}; "
                     f"{row['cpu_ratio_to_peak']:.0%}")
    d = r["data"]
    lines.append(f"{'convert train split, cold (s; clips/s)':<52} {d['cold_s']:.1f}; {d['cold_clips_per_s']:.0f}")
    lines.append(f"{'read train split cache, warm (s; clips/s)':<52} {d['warm_s']:.2f}; {d['warm_clips_per_s']:.0f}")
    lines.append(f"{'cold scripts/sample.py --num_output=5 (s)':<52} {r['sample_cold_s']:>12.1f}")
    for name, what in (("sample", "warm sample, seed to beats"), ("decode", "warm decode, latents to beats")):
        for batch, value in r["clips_per_s"][name].items():
            bf16 = r["clips_per_s_bf16"][name][batch]
            lines.append(f"{f'{what}, batch {batch} (clips/s; bf16)':<52} {value:.1f}; {bf16:.1f}")
            if batch == "1":
                lines.append(f"{f'{what}, batch 1 (ms per beat; bf16)':<52} {1000 / value:.1f}; {1000 / bf16:.1f}")
    s = r["serving_default_batch1"]
    lines.append(f"{'SavedModel serving_default b1 (p50; p99 ms)':<52} {s['p50_ms']:.1f}; {s['p99_ms']:.1f}")
    lines.append(f"{'training peak RSS, batch 512 (MB; bf16)':<52} "
                 f"{r['training_peak_rss_mb_batch512']:.0f}; {r['training_peak_rss_mb_batch512_bf16']:.0f}")
    return "\n".join(lines)


if __name__ == "__main__":
    app.run(main)
