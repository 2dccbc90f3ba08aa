r"""Moves a drum beat along the model's attribute vectors (denser, more swing, louder, ...),
or edits it until it plays what constraints ask (no toms, on the ride, 20-30 hits a bar).

Usage:
  groove-vae steer --input=beat.mid --attributes=density=+1,swing=+0.5 --output=steered.mid
  groove-vae steer --input=beat.mid --attributes=ride_share=+2 --output=ride.mid --png
  groove-vae steer --input=beat.mid --constraints=no=toms,timekeeper=ride --output=edited.mid

Each 4-bar window of the input is encoded, moved by the sum of amount times each named
attribute's vector (1: about the gap between the attribute's bottom and top quartiles of
the training clips; -3 to 3) and played back, at the input's tempo. With --constraints,
each window's latent is then moved to the nearest one whose beat meets them (by the
model's constraint critics: `groove-vae fit_constraints`), so most of the beat survives.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

flags.DEFINE_string("input", None, "A 4/4 drum MIDI file (any length; cut into 4-bar windows).", required=True)
flags.DEFINE_string("attributes", None, "What to change, e.g. density=+1,swing=+0.5 (amounts -3 to 3).")
flags.DEFINE_string("constraints", None, "What the beat must play, e.g. no=toms,timekeeper=ride,density=..20 "
                    "(docs/sampling.md#latent-constraints).")
flags.DEFINE_string("output", "steered.mid", "Where to write the steered beat.")
cli.define_flags(temperature=0.5)
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    with cli.usage_errors():  # Before the model loads.
        if not FLAGS.attributes and not FLAGS.constraints:
            raise ValueError("Nothing to steer by: give --attributes, --constraints, or both.")
        amounts, wanted = cli.parse_steering(FLAGS.attributes, FLAGS.constraints)
    cli.check_outputs(FLAGS.output)
    vae = cli.load_model(FLAGS.run_dir)
    with cli.usage_errors():
        steered = vae.steer(FLAGS.input, amounts, FLAGS.temperature, FLAGS.seed, constraints=wanted)
    cli.write(steered, FLAGS.output, FLAGS.wav, FLAGS.png, overwrite=FLAGS.overwrite)


if __name__ == "__main__":
    app.run(main)
