r"""How much the step loop's chains (`groove_vae.decoders.CHAIN_ROWS`) speed up a batch.

Usage:
  python bench/chains.py                          # one chain against chains of 8, 16 and 32 rows
  python bench/chains.py --rows=16 --batch=32 --rounds=30

Loads the bundled model once per chain size (in float32, as `load()` decodes on a CPU;
each traces its XLA decode with `CHAIN_ROWS` set), then times, in turns in one process
so that the machine's drift touches all alike: `sample_tensors` (a seed to beats: the
latents, the feel draws and the decode) and `decode_tensors` (given latents and draws).
It checks that every chain size plays the same hits as one chain, and prints what a
sample adds to the decode: the seed's latents and feel draws.
"""

import functools
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from absl import app, flags

from machine import cpu_features, cpu_model, report  # bench/ is on sys.path when a bench script runs.

flags.DEFINE_list("rows", ["8", "16", "32"], "Rows per chain to compare with one chain of all rows.")
flags.DEFINE_integer("batch", 64, "Beats per call (the API decodes up to 64 through XLA).")
flags.DEFINE_integer("rounds", 20, "Timed calls per size and figure; the table shows the best and the median.")
flags.DEFINE_string("output", "bench/chains.json", "Where to write the figures (JSON).")
FLAGS = flags.FLAGS

ONE_CHAIN = 1 << 30


def main(argv):
    del argv
    import groove_vae
    from groove_vae import decoders

    sizes = [ONE_CHAIN] + [int(r) for r in FLAGS.rows]
    batch, vaes = FLAGS.batch, {}
    for rows in sizes:
        decoders.CHAIN_ROWS = rows  # Read when the decode is traced, at its first call below.
        vaes[rows] = groove_vae.load(precision="float32")
        vaes[rows].sample_tensors(batch, seed=0)
    decoders.CHAIN_ROWS = 16
    z = vaes[ONE_CHAIN].sample_latents(batch, seed=1)
    draws = vaes[ONE_CHAIN].feel_draws(batch, 4, seed=1, temperature=0.5)
    played = {rows: vae.decode_tensors(z, 0.5, 1, draws) for rows, vae in vaes.items()}
    same_hits = {rows: bool((p[..., :9] == played[ONE_CHAIN][..., :9]).all()) for rows, p in played.items()}

    calls = {"sample_tensors": lambda vae, i: vae.sample_tensors(batch, seed=i),
             "decode_tensors": lambda vae, i: vae.decode_tensors(z, 0.5, i, draws)}
    seconds = {(name, rows): [] for name in calls for rows in sizes}
    for i in range(FLAGS.rounds):
        for name, call in calls.items():
            for rows, vae in vaes.items():
                seconds[name, rows].append(timed(functools.partial(call, vae), i))

    vae = vaes[ONE_CHAIN]  # What a sample adds to the decode: the seed's latents and feel draws.
    extras = {"sample_latents": lambda i: vae.sample_latents(batch, seed=i),
              "feel_draws": lambda i: vae.feel_draws(batch, 4, seed=i, temperature=0.5)}
    extra_ms = {name: 1000 * min(timed(call, i) for i in range(FLAGS.rounds)) for name, call in extras.items()}

    label = lambda rows: "one chain" if rows == ONE_CHAIN else f"chains of {rows}"  # noqa: E731
    lines = [f"{cpu_model()} ({cpu_features()}), {os.cpu_count()} CPUs; batch {batch}, {FLAGS.rounds} rounds in turn",
             f"{'':<16}" + "".join(f"{name + ' best; median (clips/s)':>42}" for name in calls) + f"{'same hits':>11}"]
    figures = {}
    for rows in sizes:
        cells = []
        for name in calls:
            best, median = np.min(seconds[name, rows]), np.median(seconds[name, rows])
            figures[f"{name} {label(rows)}"] = {"best_clips_per_s": batch / best, "median_clips_per_s": batch / median}
            cells.append(f"{batch / best:.0f}; {batch / median:.0f}")
        lines.append(f"{label(rows):<16}" + "".join(f"{c:>42}" for c in cells) + f"{str(same_hits[rows]):>11}")
    lines.append("best of each, in a sample: " + "; ".join(f"{name} {ms:.2f} ms" for name, ms in extra_ms.items()))
    report("\n".join(lines), {"machine": {"cpu": cpu_model(), "features": cpu_features(), "cpus": os.cpu_count()},
                              "batch": batch, "figures": figures, "same_hits": {label(r): v for r, v in same_hits.items()},
                              "ms": extra_ms}, FLAGS.output)


def timed(call, i: int) -> float:
    start = time.perf_counter()
    call(i)
    return time.perf_counter() - start


if __name__ == "__main__":
    app.run(main)
