r"""Humanizes a quantized drum beat: the same hits, with a drummer's velocities and microtiming.

Uses the bundled humanize model (trained with input_transform=humanize: its encoder
sees only the hits) unless --run_dir names another groove model.

Usage:
  python scripts/humanize.py --input=beat.mid --output=played.mid
  python scripts/humanize.py --input=beat.mid --output=played.mid --run_dir=runs/humanize --wav --png
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

flags.DEFINE_string("input", None, "A 4/4 drum MIDI file (any length; cut into 4-bar windows).", required=True)
flags.DEFINE_string("output", "humanized.mid", "Where to write the played beat.")
cli.define_flags(run_dir_help="A groove or humanize model (default: the bundled humanize model).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    cli.check_outputs(FLAGS.output)  # Before the model loads and the song is played.
    vae = cli.load_model(FLAGS.run_dir or "humanize")
    with cli.usage_errors():
        played = vae.humanize(FLAGS.input, seed=FLAGS.seed)
    cli.write(played, FLAGS.output, FLAGS.wav, FLAGS.png, overwrite=FLAGS.overwrite)


if __name__ == "__main__":
    app.run(main)
