r"""Fits the latent constraints of a model (constraints.npz): the critics and the actor that
let `sample --constraints` and `steer --constraints` ask for beats by what they play.

Encodes the training split; decodes its posterior draws, as many prior draws and as many
draws moved along the attribute vectors, at temperatures 0.5, 0.75 and 1, and measures
what each beat plays; then trains, in latent space, attribute critics (what a latent's beat
plays), a style critic (the GMD style of a latent's clip) and the actor that moves a prior
draw to meet a condition while the model's prior still finds it likely
(`groove_vae.constraints`). About 10 CPU-minutes on 2 cores for the bundled model.

Usage:
  groove-vae fit_constraints --run_dir=runs/x
  groove-vae fit_constraints --run_dir=runs/x --epochs=10 --actor_steps=1000
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

cli.define_run_dir("Model or run directory to write constraints.npz into.", required=True)
cli.define_data()
flags.DEFINE_string("split", "train", "Split whose clips the critics learn from.")
flags.DEFINE_integer("epochs", 20, "Passes of each critic over its data.")
flags.DEFINE_integer("actor_steps", 3000, "Training steps of the actor (batches of 256 random conditions).")
flags.DEFINE_float("distance_weight", 0.1, "How much the actor is asked to stay near the draw it moves.")
cli.define_seed(0, "Seed of the draws and the networks' initial weights.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    with cli.usage_errors():
        from groove_vae import checks

        checks.check_count("--epochs", FLAGS.epochs, 1, 1000)
        checks.check_count("--actor_steps", FLAGS.actor_steps, 1, 1_000_000)
        if not 0.0 <= FLAGS.distance_weight <= 100.0:
            raise ValueError(f"--distance_weight must be from 0 to 100, got {FLAGS.distance_weight}.")
    if not os.path.isdir(FLAGS.run_dir):
        raise app.UsageError(f"--run_dir={FLAGS.run_dir}: not a model or run directory.")
    import time

    vae = cli.load_model(FLAGS.run_dir)  # First: it quiets TensorFlow's start-up lines.
    from groove_vae import constraints, data

    clips = data.load_split(FLAGS.tfds_name, FLAGS.split, vae.config.num_steps, FLAGS.data_dir)
    start = time.process_time()
    mu, sigma = vae.posterior_tensors(clips.groove)
    model = constraints.fit(vae, mu, sigma, clips.styles, epochs=FLAGS.epochs, actor_steps=FLAGS.actor_steps,
                            distance_weight=FLAGS.distance_weight, seed=FLAGS.seed)
    path = os.path.join(FLAGS.run_dir, constraints.CONSTRAINT_FILE)
    model.save(path)
    print(f"{path}: critics of {len(model.names)} attributes and {len(model.styles)} styles, and the actor "
          f"({time.process_time() - start:.0f} CPU-seconds)")


if __name__ == "__main__":
    app.run(main)
