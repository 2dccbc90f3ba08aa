r"""Moves a drum beat along the model's attribute vectors: denser, more swing, louder, ...

Usage:
  groove-vae steer --input=beat.mid --attributes=density=+1,swing=+0.5 --output=steered.mid
  groove-vae steer --input=beat.mid --attributes=ride_share=+2 --output=ride.mid --png

Each 4-bar window of the input is encoded, moved by the sum of amount times each named
attribute's vector (1: about the gap between the attribute's bottom and top quartiles of
the training clips; -3 to 3) and played back, at the input's tempo.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

flags.DEFINE_string("input", None, "A 4/4 drum MIDI file (any length; cut into 4-bar windows).", required=True)
flags.DEFINE_string("attributes", None, "What to change, e.g. density=+1,swing=+0.5 (amounts -3 to 3).",
                    required=True)
flags.DEFINE_string("output", "steered.mid", "Where to write the steered beat.")
cli.define_flags(temperature=0.5)
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    from groove_vae import attributes

    with cli.usage_errors():  # Before the model loads.
        amounts = attributes.parse_amounts(FLAGS.attributes)
        attributes.check_amounts(amounts, list(attributes.ATTRIBUTES))
    cli.check_writable([FLAGS.output], FLAGS.overwrite)
    vae = cli.load_model(FLAGS.run_dir)
    with cli.usage_errors():
        steered = vae.steer(FLAGS.input, amounts, FLAGS.temperature, FLAGS.seed)
    cli.write(steered, FLAGS.output, FLAGS.wav, FLAGS.png, overwrite=FLAGS.overwrite)


if __name__ == "__main__":
    app.run(main)
