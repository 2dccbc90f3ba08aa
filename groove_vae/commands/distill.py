r"""Trains a narrower bar decoder that plays as a trained model does: the same beats' feel, faster sampling.

The student keeps the teacher's encoder and conductor (copied, frozen), so the teacher's
prior, styles and attribute vectors fit it unchanged (they are copied into the run), and
learns to match the teacher's per-step distributions on the training clips. Rerun the
same command to resume; then `calibrate_feel` and `fit_constraints` (they fit decoded
beats), and `package_model` turns the run into a model.

Usage:
  groove-vae distill --run_dir=runs/fast
  groove-vae distill --teacher=runs/x --run_dir=runs/x_fast --decoder_rnn_sizes=256,192 --num_steps=4000
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

flags.DEFINE_string("teacher", "bundled", "The model to distill: 'bundled', a bundled model's name, or a model/run directory.")
cli.define_run_dir("Run directory of the student (a rerun resumes).", required=True)
flags.DEFINE_list("decoder_rnn_sizes", ["256", "128"], "The student's bar decoder layer sizes, each at most the teacher's.")
flags.DEFINE_integer("num_steps", 3000, "Total optimizer steps to train to (resume counts).")
flags.DEFINE_float("learning_rate", 1e-3, "Initial learning rate (decaying as the teacher's config says).")
flags.DEFINE_integer("steps_per_epoch", 250, "Steps between validation and checkpoints.")
flags.DEFINE_integer("eval_batches", 8, "Validation batches per evaluation.")
cli.define_data()
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    from groove_vae import distill

    try:
        sizes = [int(s) for s in FLAGS.decoder_rnn_sizes]
    except ValueError:
        raise app.UsageError(f"--decoder_rnn_sizes must be whole numbers, got {','.join(FLAGS.decoder_rnn_sizes)}.")
    if not FLAGS.learning_rate > 0:
        raise app.UsageError(f"--learning_rate must be above 0, got {FLAGS.learning_rate}.")
    try:
        distill.distill(FLAGS.teacher, FLAGS.run_dir, sizes, FLAGS.num_steps, tfds_name=FLAGS.tfds_name,
                        steps_per_epoch=FLAGS.steps_per_epoch, eval_batches=FLAGS.eval_batches,
                        data_dir=FLAGS.data_dir, learning_rate=FLAGS.learning_rate)
    except (ValueError, FileNotFoundError) as e:
        raise app.UsageError(str(e))


if __name__ == "__main__":
    app.run(main)
