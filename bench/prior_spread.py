r"""How the fitted prior's covariance scale (`spread`) trades novelty against timekeeper switching.

Usage:
  python bench/prior_spread.py                        # the bundled model, spreads 0.45-1, seeds 7-9
  python bench/prior_spread.py --spreads=0.6 --seeds=1

Draws --samples beats from the bundled model's prior at each spread and temperature (0.5 and
1), exactly as `groove-vae sample` does at the default precision, and prints the means over
the seeds of their novelty against the training clips (groove_vae.novelty) beside the
timekeeper change rate and the hits a bar shares with the bar before.
"""

import dataclasses
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from absl import app, flags

from machine import cpu_features, cpu_model, report  # bench/ is on sys.path when a bench script runs.

flags.DEFINE_list("spreads", ["0.45", "0.6", "0.8", "1.0"], "Covariance scales to draw at.")
flags.DEFINE_integer("samples", 1000, "Beats per spread, temperature and seed.")
flags.DEFINE_integer("seed", 7, "The first seed.")
flags.DEFINE_integer("seeds", 3, "Seeds from --seed on; the table shows their means.")
flags.DEFINE_string("output", "bench/prior_spread.json", "Where to write the figures (JSON).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import groove_vae
    from groove_vae import data, evaluation, novelty

    vae = groove_vae.load()
    train = data.load_split("groove/4bar-midionly", "train", vae.config.num_steps)
    fitted = vae.sampler.prior
    rows = []
    for spread in (float(s) for s in FLAGS.spreads):
        vae.sampler.prior = dataclasses.replace(fitted, spread=spread)
        for temperature in (0.5, 1.0):
            runs = []
            for seed in range(FLAGS.seed, FLAGS.seed + FLAGS.seeds):
                beats = vae.sample_tensors(FLAGS.samples, temperature, seed)
                runs.append({**novelty.novelty(beats, train.groove),
                             "timekeeper_change_rate": evaluation.timekeeper_change_rate(beats),
                             "bar_hit_agreement": evaluation.bar_hit_agreement(beats)})
            rows.append({"spread": spread, "temperature": temperature, "per_seed": runs,
                         **{k: float(np.mean([r[k] for r in runs])) for k in runs[0]},
                         "lowest_nearest": min(r["mean_nearest"] for r in runs)})
    lines = [f"machine: {cpu_model()} ({cpu_features()}); {FLAGS.samples} samples, seeds {FLAGS.seed}-"
             f"{FLAGS.seed + FLAGS.seeds - 1} (means); novelty against {len(train)} training clips",
             f"{'spread':>6} {'T':>4} {'copies':>7} {'within 4':>9} {'nearest (lowest)':>17} {'dups':>6} {'empty':>6} "
             f"{'timekeeper':>11} {'hits shared':>12}"]
    for r in rows:
        lines.append(f"{r['spread']:>6g} {r['temperature']:>4g} {r['exact_copies']:>7.2%} {r['within_4']:>9.2%} "
                     f"{r['mean_nearest']:>9.1f} ({r['lowest_nearest']:.1f}) {r['duplicates']:>6.2%} "
                     f"{r['empty']:>6.1f} {r['timekeeper_change_rate']:>11.3f} {r['bar_hit_agreement']:>12.3f}")
    report("\n".join(lines), {"machine": cpu_model(), "features": cpu_features(), "rows": rows}, FLAGS.output)


if __name__ == "__main__":
    app.run(main)
