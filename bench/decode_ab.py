r"""Sampling speed of two checkouts of groove-vae, measured in turns on this machine.

Usage:
  git worktree add /tmp/before <commit>
  python bench/decode_ab.py --checkouts=/tmp/before,. --rounds=4

Each round runs, for each checkout in turn and each in a fresh process: a cold
`groove-vae sample --num_output=5` (wall clock from launch to exit), then warm
`sample_tensors` at batch 1 and 64 in the precision `load()` picks, in float32 and in
bfloat16 (best of 15 each). A shared VM's speed drifts by 10-20% from one minute to the
next, so the checkouts alternate and the table gives each figure's range over the rounds.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from absl import app, flags

from machine import cpu_features, cpu_model, report  # bench/ is on sys.path when a bench script runs.

flags.DEFINE_list("checkouts", [".", "."], "Checkouts of groove-vae to compare (their repository roots).")
flags.DEFINE_integer("rounds", 4, "Turns per checkout.")
flags.DEFINE_string("output", "bench/decode_ab.json", "Where to write the JSON.")
FLAGS = flags.FLAGS

COLD = ("import sys; sys.argv = ['groove-vae', 'sample', '--num_output=5', '--output_dir=' + sys.argv[1]]; "
        "from groove_vae.commands import main; main()")
WARM = """
import json, os, time
import groove_vae

def timed(vae, batch, seed):
    start = time.perf_counter()
    vae.sample_tensors(batch, seed=seed)
    return time.perf_counter() - start

figures = {}
for precision in (None, "float32", "mixed_bfloat16"):  # None: what load() picks here.
    vae = groove_vae.load(precision=precision)
    for batch in (1, 64):
        vae.sample_tensors(batch, seed=0)  # Trace and compile.
        figures[f"{precision or 'default'} batch {batch}"] = min(timed(vae, batch, seed) for seed in range(15))
print(json.dumps(figures))
"""


def run_in(checkout: str, *args: str) -> str:
    """`python *args` with `checkout`'s groove_vae first on the path; its stdout."""
    env = {**os.environ, "PYTHONPATH": os.path.abspath(checkout), "TF_CPP_MIN_LOG_LEVEL": "2"}
    run = subprocess.run([sys.executable, *args], cwd=checkout, env=env, capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"{checkout}: exit {run.returncode}:\n{run.stderr[-3000:]}")
    return run.stdout


def cold_seconds(checkout: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run_in(checkout, "-c", COLD, os.path.join(tmp, "out"))
        return time.perf_counter() - start


def warm_seconds(checkout: str) -> dict:
    return json.loads(run_in(checkout, "-c", WARM).strip().splitlines()[-1])


def main(argv):
    del argv
    columns = [f"{i + 1}: {checkout}" for i, checkout in enumerate(FLAGS.checkouts)]  # The same one may come twice.
    figures = {column: {} for column in columns}
    for _ in range(FLAGS.rounds):
        for column, checkout in zip(columns, FLAGS.checkouts):
            runs = figures[column]
            runs.setdefault("cold sample --num_output=5 (s)", []).append(cold_seconds(checkout))
            for name, seconds in warm_seconds(checkout).items():
                batch = int(name.split()[-1])
                key = f"{name} ({'ms per beat' if batch == 1 else 'clips/s'})"
                runs.setdefault(key, []).append(1000 * seconds if batch == 1 else batch / seconds)
    lines = [f"{cpu_model()} ({cpu_features()}), {os.cpu_count()} CPUs; {FLAGS.rounds} rounds, checkouts in turn",
             f"{'figure':<44}" + "".join(f"{c[-24:]:>26}" for c in columns)]
    for key in figures[columns[0]]:
        cells = [f"{min(v):.1f}-{max(v):.1f}" for v in (figures[c][key] for c in columns)]
        lines.append(f"{key:<44}" + "".join(f"{cell:>26}" for cell in cells))
    report("\n".join(lines), {"machine": {"cpu": cpu_model(), "features": cpu_features(), "cpus": os.cpu_count()},
                              "figures": figures}, FLAGS.output)


if __name__ == "__main__":
    app.run(main)
