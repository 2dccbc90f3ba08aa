r"""Drumify (GrooVAE's Tap2Drum): a rhythm in, a full-kit groove that follows it out.

The input may be any drum MIDI; only when each step is hit counts (a tapped rhythm on
one drum is typical). Uses the bundled tap2drum model unless --run_dir names another
model trained with input_transform=tap.

Usage:
  python scripts/drumify.py --input=taps.mid --output=groove.mid
  python scripts/drumify.py --input=taps.mid --output=groove.mid --temperature=0.3 --wav --png
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

flags.DEFINE_string("input", None, "A 4/4 drum MIDI rhythm (any length; cut into 4-bar windows).", required=True)
flags.DEFINE_string("output", "drumified.mid", "Where to write the groove.")
cli.define_flags(temperature=0.5, run_dir_help="A model trained with input_transform=tap (default: bundled tap2drum).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()

    cli.check_outputs(FLAGS.output)  # Before the model loads and the song is played.
    vae = cli.load_model(FLAGS.run_dir or "tap2drum")
    with cli.usage_errors():
        groove = vae.drumify(FLAGS.input, FLAGS.temperature, FLAGS.seed)
    cli.write(groove, FLAGS.output, FLAGS.wav, FLAGS.png, overwrite=FLAGS.overwrite)


if __name__ == "__main__":
    app.run(main)
