r"""Samples 4-bar drum grooves as MIDI files, from the bundled model or a training run.

Usage:
  python scripts/sample.py --num_output=5
  python scripts/sample.py --run_dir=runs/x --num_output=8 --temperature=0.8 --seed=3 \
      --qpm=96 --output_dir=samples
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags, logging

flags.DEFINE_integer("num_output", 5, "How many 4-bar clips to write.")
flags.DEFINE_string("output_dir", "samples", "Where to write the .mid files.")
flags.DEFINE_string("run_dir", None, "A training run directory (default: the bundled model).")
flags.DEFINE_float("temperature", 1.0, "Sampling temperature (> 0); lower is tamer.")
flags.DEFINE_integer("seed", 0, "Random seed; the same seed gives the same files.")
flags.DEFINE_float("qpm", 120.0, "Tempo of the written files, in quarter notes per minute.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    if FLAGS.num_output <= 0:
        raise app.UsageError("--num_output must be positive.")
    if FLAGS.temperature <= 0:
        raise app.UsageError("--temperature must be positive.")
    if FLAGS.qpm <= 0:
        raise app.UsageError("--qpm must be positive.")
    import groove_vae
    from groove_vae import converter

    try:
        vae = groove_vae.load(FLAGS.run_dir)
    except FileNotFoundError as e:
        raise app.UsageError(str(e))
    beats = vae.sample(FLAGS.num_output, temperature=FLAGS.temperature, seed=FLAGS.seed, qpm=FLAGS.qpm)
    for path, beat in zip(groove_vae.write_midi_files(beats, FLAGS.output_dir), beats):
        print(f"{path}: {converter.describe(beat)}")


if __name__ == "__main__":
    app.run(main)
