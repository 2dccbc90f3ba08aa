r"""Fits the prior a model samples from (prior.npz) and the attribute vectors that steer its
beats (attributes.npz), and shows how new its beats are.

Encodes the training split, groups the clips by the timekeeper each bar plays and fits
one Gaussian per group (`sampling.GaussianMixture.fit`); fits one latent direction per
attribute of `groove_vae.attributes` (top quartile minus bottom quartile); then draws
1,000 beats at temperatures 0.5 and 1 and prints how close they come to the training clips.

Usage:
  groove-vae fit_prior --run_dir=runs/x
  groove-vae fit_prior --run_dir=runs/x --spread=0.6 --min_clips=50
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

cli.define_run_dir("Model or run directory to write prior.npz into.", required=True)
cli.define_data()
flags.DEFINE_string("split", "train", "Split whose clips' posteriors the prior is fitted to.")
flags.DEFINE_integer("min_clips", 20, "Leave out timekeeper sequences with fewer clips.")
flags.DEFINE_float("spread", 0.6, "Scale of each component's covariance (0 to 1: lower switches timekeeper less).")
flags.DEFINE_integer("num_samples", 1000, "Beats drawn at each temperature for the novelty figures (0: none).")
cli.define_seed(7, "Seed of those beats.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    if not 0.0 < FLAGS.spread <= 1.0:
        raise app.UsageError(f"--spread must be above 0 and at most 1, got {FLAGS.spread}.")
    if not os.path.isdir(FLAGS.run_dir):
        raise app.UsageError(f"--run_dir={FLAGS.run_dir}: not a model or run directory.")
    import numpy as np

    from groove_vae import attributes, data, novelty, sampling

    vae = cli.load_model(FLAGS.run_dir)
    clips = data.load_split(FLAGS.tfds_name, FLAGS.split, vae.config.num_steps, FLAGS.data_dir)
    mu, sigma = vae.posterior_tensors(clips.groove)
    with cli.usage_errors():
        prior = sampling.GaussianMixture.fit(mu, sigma, sampling.timekeeper_labels(clips.groove), FLAGS.min_clips,
                                             FLAGS.spread)
    path = os.path.join(FLAGS.run_dir, sampling.PRIOR_FILE)
    prior.save(path)
    print(f"{path}: {len(prior.names)} components over {int(np.sum(np.isin(sampling.timekeeper_labels(clips.groove), prior.names)))} "
          f"of {len(clips)} {FLAGS.split} clips (largest: {prior.names[int(np.argmax(prior.weights))]}), spread {prior.spread:g}")
    vae.sampler.prior = sampling.GaussianMixture.load(path)  # As `load` will read it (float16 scales).
    vectors = attributes.AttributeVectors.fit(mu, attributes.measure(clips.groove))
    vectors.save(os.path.join(FLAGS.run_dir, attributes.ATTRIBUTE_FILE))
    print(f"{os.path.join(FLAGS.run_dir, attributes.ATTRIBUTE_FILE)}: {len(vectors.names)} attribute vectors "
          f"({', '.join(vectors.names)})")
    if FLAGS.num_samples:
        print(f"\n{FLAGS.num_samples} samples against the {len(clips)} {FLAGS.split} clips' hit grids:")
        print(f"{'temperature':<12} {'copies':>7} {'within 4':>9} {'nearest':>8} {'duplicates':>11} {'empty':>6}")
        for temperature in (0.5, 1.0):
            samples = np.concatenate([vae.sample_tensors(min(1024, FLAGS.num_samples - s), temperature, FLAGS.seed + i)
                                      for i, s in enumerate(range(0, FLAGS.num_samples, 1024))])
            n = novelty.novelty(samples, clips.groove)
            print(f"{temperature:<12g} {n['exact_copies']:>7.1%} {n['within_4']:>9.1%} {n['mean_nearest']:>8.1f} "
                  f"{n['duplicates']:>11.1%} {n['empty']:>6d}")


if __name__ == "__main__":
    app.run(main)
