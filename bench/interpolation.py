r"""How smoothly does each interpolation method move from one beat to another? An A/B table.

Usage:
  python bench/interpolation.py                        # 20 test pairs, 9 steps, every method: ~2 minutes on 2 cores
  python bench/interpolation.py --pairs=5 --methods=morph,slerp --output=/tmp/interpolation.json

Picks --pairs random pairs of test-split clips of groove/4bar-midionly
(`groove_vae.paths.random_pairs`, --seed), interpolates each with the bundled model in
--num_steps steps by each of --methods (`vae.interpolate_tensors`, temperature 0.5, as
`groove-vae interpolate` does), and measures on the 64 x 9 hit grids, cell by cell
(`groove_vae.paths`):

  path ratio     the changes made along the path / the cells the ends differ in (1: none wasted)
  largest step   the most cells one step changes / the cells the ends differ in (mean over
                 paths; the worst path's beside it)
  toward B       the share of steps (that change anything) ending nearer B's grid
  ends           the share of paths whose ends play exactly the inputs' reconstructions

and how the steps between the ends play (groove_vae.evaluation's figures over every inner
step), beside the ends themselves and beside prior samples at the same temperature:
hits per bar, timekeeper changes per bar boundary, hits a bar shares with the bar before
(F1), velocity mean and spread (MIDI units), offset spread (16ths).

--morph_variants runs the morph with one part of its plan changed, to show what each part
buys: "cells" flips every cell on its own (the bars of a step may then play different
timekeepers), "random" orders the groups at random instead of by the model's hit
probabilities.
"""

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from absl import app, flags

from machine import cpu_model, report  # bench/ is on sys.path when a bench script runs.

flags.DEFINE_integer("pairs", 20, "Random pairs of test clips.")
flags.DEFINE_integer("num_steps", 9, "Steps on each path, both ends included.")
flags.DEFINE_list("methods", ["morph", "slerp", "linear"], "Interpolation methods to compare.")
flags.DEFINE_list("morph_variants", ["cells", "random"],
                  "Also run the morph with these changes to its plan: cells (each cell flips on its own, not with "
                  "the same drum's cell at the same position of the other bars), random (the groups in a random "
                  "order, not the model's).")
flags.DEFINE_float("temperature", 0.5, "Decode temperature.")
flags.DEFINE_integer("seed", 0, "Picks the pairs and seeds the decoder's draws.")
flags.DEFINE_integer("samples", 500, "Prior samples the steps' feel is compared with.")
flags.DEFINE_string("output", "bench/interpolation.json", "Where to write the figures (JSON).")
FLAGS = flags.FLAGS

TFDS_NAME = "groove/4bar-midionly"


def playing(groove: np.ndarray) -> dict:
    """How a set of clips [n, steps, 27] plays."""
    from groove_vae import evaluation

    feel = evaluation.feel(groove)
    return {"hits_per_bar": float(sum(evaluation.hits_per_bar(groove).values())),
            "timekeeper_change_rate": feel["timekeeper_change_rate"], "bar_hit_agreement": feel["bar_hit_agreement"],
            "velocity_mean": feel["velocity_mean"], "velocity_std": feel["velocity_std"],
            "offset_std_16ths": feel["offset_std_16ths"]}


PLAY_COLUMNS = (("hits_per_bar", "hits/bar", "{:.1f}"), ("timekeeper_change_rate", "tk chg", "{:.3f}"),
                ("bar_hit_agreement", "bar F1", "{:.3f}"), ("velocity_mean", "vel", "{:.1f}"),
                ("velocity_std", "vel sd", "{:.1f}"), ("offset_std_16ths", "off sd", "{:.3f}"))


def variant_thresholds(paths, variant: str):
    """paths.thresholds with one part of the plan changed (see --morph_variants)."""
    original = paths.thresholds

    def thresholds(corner_hits, probs, steps_per_bar=16):
        if variant == "cells":
            return original(corner_hits, probs, steps_per_bar=np.shape(corner_hits)[1])  # No two cells share a group.
        if variant == "random":
            return original(corner_hits, np.random.default_rng(FLAGS.seed).uniform(size=np.shape(probs)[1:])[None],
                            steps_per_bar)
        raise ValueError(f"Unknown morph variant {variant!r}.")

    return thresholds


def main(argv):
    del argv
    import groove_vae
    from groove_vae import data, evaluation, paths

    vae = groove_vae.load()
    test = data.load_split(TFDS_NAME, "test", vae.config.num_steps)
    results = {"command": "python " + " ".join(sys.argv), "cpu": cpu_model(), "pairs": FLAGS.pairs,
               "num_steps": FLAGS.num_steps, "temperature": FLAGS.temperature, "methods": {}}
    pairs = paths.random_pairs(len(test.groove), FLAGS.pairs, FLAGS.seed)
    ends = None
    runs = [(m, m, None) for m in FLAGS.methods] + [(f"morph/{v}", "morph", v) for v in FLAGS.morph_variants]
    original = paths.thresholds
    for name, method, variant in runs:
        paths.thresholds = variant_thresholds(paths, variant) if variant else original
        vae._plans.clear()
        start = time.perf_counter()
        path = paths.interpolation_paths(vae, test.groove, FLAGS.pairs, FLAGS.num_steps, method, FLAGS.temperature,
                                         FLAGS.seed)
        paths.thresholds = original
        seconds = (time.perf_counter() - start) / FLAGS.pairs
        if ends is None:  # The inputs' reconstructions, as `reconstruct` plays them.
            ends = np.stack([[vae.decode_tensors(vae.encode_tensors(test.groove[[i]]), FLAGS.temperature,
                                                 FLAGS.seed)[0] for i in pair] for pair in pairs])
        same_ends = np.mean([np.array_equal(evaluation.hits_of(p[[0, -1]]), evaluation.hits_of(e)) and
                             np.allclose(p[[0, -1]], e, atol=1e-5) for p, e in zip(path, ends)])
        results["methods"][name] = {**paths.mean_path_figures(path), "ends_are_reconstructions": float(same_ends),
                                      "seconds_per_path": seconds,
                                      "inner_steps": playing(path[:, 1:-1].reshape(-1, *path.shape[2:]))}
    results["ends"] = playing(ends.reshape(-1, *ends.shape[2:]))
    results["prior_samples"] = playing(evaluation.prior_samples(vae, FLAGS.samples, FLAGS.temperature, FLAGS.seed))
    results["test_clips"] = playing(test.groove)

    header = (f"{'method':<14}{'path ratio':>11}{'largest step':>13}{'(worst)':>8}{'toward B':>9}{'ends':>6}"
              + "".join(f"{label:>10}" for _, label, _ in PLAY_COLUMNS) + f"{'s/path':>8}")
    lines = [f"{FLAGS.pairs} pairs of test clips, {FLAGS.num_steps} steps, temperature {FLAGS.temperature}; "
             "playing figures over the inner steps", header]
    for method, r in results["methods"].items():
        play = r["inner_steps"]
        lines.append(f"{method:<14}{r['path_ratio']:>11.2f}{r['largest_step']:>13.3f}{r['largest_step_worst']:>8.3f}"
                     f"{r['toward_b']:>9.2f}{r['ends_are_reconstructions']:>6.2f}"
                     + "".join(f"{fmt.format(play[key]):>10}" for key, _, fmt in PLAY_COLUMNS)
                     + f"{r['seconds_per_path']:>8.2f}")
    for name, label in (("ends", "the ends (reconstructions)"),
                        ("prior_samples", f"prior samples, T={FLAGS.temperature}"), ("test_clips", "the test clips")):
        lines.append(f"{label:<61}" + "".join(f"{fmt.format(results[name][key]):>10}" for key, _, fmt in PLAY_COLUMNS))
    lines.append(f"targets: path ratio <= {paths.TARGETS['path_ratio']}, largest step <= "
                 f"{paths.TARGETS['largest_step']}, toward B >= {paths.TARGETS['toward_b']}")
    report("\n".join(lines), results, FLAGS.output)


if __name__ == "__main__":
    app.run(main)
