r"""Fits each GMD style's conditional prior for a model, and shows how well it steers.

Writes <model dir>/styles.npz, which `sample.py --style=...` and `GrooveVAE.sample(style=...)`
read. Then, per style, prints how far plain, vector-steered and prior-steered samples are
from that style's clips, in hits per bar (density) and in where the bar is hit (pattern).

Usage:
  python scripts/compute_styles.py --run_dir=groove_vae/bundled/groovae_4bar
  python scripts/compute_styles.py --run_dir=runs/x --temperature=1.0 --num_samples=500
  python scripts/compute_styles.py --check_split=test     # compare with clips it was not fitted on
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

cli.define_run_dir("Model or run directory to write styles.npz into (default: the bundled model).")
cli.define_data("Labelled TFDS dataset (its clips carry a style).")
flags.DEFINE_string("split", "train", "Split whose clips define the styles.")
flags.DEFINE_string("check_split", None, "Split whose clips the check compares with (default: --split).")
flags.DEFINE_integer("min_clips", 20, "Leave out styles with fewer clips.")
flags.DEFINE_integer("num_samples", 200, "Samples per style for the check.")
cli.define_temperature(0.5, "Decoder temperature for the check (sample's default).")
flags.DEFINE_float("strength", 1.0, "Strength used in the check.")
cli.define_seed(1, "Seed of the samples in the check.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    import numpy as np

    from groove_vae import api, bundled, data, styles

    vae = cli.load_model(FLAGS.run_dir)
    clips = data.load_split(FLAGS.tfds_name, FLAGS.split, vae.config.num_steps, FLAGS.data_dir)
    mu, sigma = vae.posterior_tensors(clips.groove)
    vae.styles = styles.StylePriors.fit(mu, sigma, clips.styles, FLAGS.min_clips)
    out = os.path.join(FLAGS.run_dir or bundled.resolve(None), api.STYLE_FILE)
    vae.styles.save(out)
    print(f"{out}: {len(vae.style_names)} styles")

    check = clips
    if FLAGS.check_split and FLAGS.check_split != FLAGS.split:
        check = data.load_split(FLAGS.tfds_name, FLAGS.check_split, vae.config.num_steps, FLAGS.data_dir)
    rows = styles.compare_steering(vae, check.groove, check.styles, FLAGS.num_samples, FLAGS.temperature,
                                   FLAGS.strength, FLAGS.seed)
    if not rows:
        print(f"No style has {FLAGS.min_clips} clips in the {FLAGS.split} split and also clips to compare with.")
        return
    print(f"\nL1 distance to each style's {FLAGS.check_split or FLAGS.split} clips: hits per bar (density) / onset pattern "
          f"({FLAGS.num_samples} samples, temperature {FLAGS.temperature}, strength {FLAGS.strength})")
    print(f"{'style':<14} {'clips':>5} {'plain':>12} {'vector':>12} {'prior':>12} {'recon':>12}  nearest style: prior / recon")
    for r in rows:
        cells = " ".join(f"{r[f'{m}_density']:>6.2f}/{r[f'{m}_pattern']:<5.2f}" for m in ("plain", "vector", "prior", "recon"))
        print(f"{r['style']:<14} {r['clips']:>5} {cells}  {r['prior_nearest']} / {r['recon_nearest']}")
    for metric in ("density", "pattern"):
        plain = np.array([r[f"plain_{metric}"] for r in rows])
        summary = ", ".join(f"{m} {np.mean([r[f'{m}_{metric}'] for r in rows]):.2f} "
                            f"(closer for {sum(r[f'{m}_{metric}'] < p for r, p in zip(rows, plain))}/{len(rows)})"
                            for m in ("vector", "prior", "recon"))
        print(f"mean {metric}: plain {plain.mean():.2f}, {summary}")
    own = {m: sum(r[f"{m}_nearest"] == r["style"] for r in rows) for m in ("prior", "recon")}
    print(f"nearest their own style (onset pattern): prior samples {own['prior']}/{len(rows)}, "
          f"reconstructions {own['recon']}/{len(rows)}")


if __name__ == "__main__":
    app.run(main)
