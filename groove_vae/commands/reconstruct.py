r"""Reconstructs a drum beat through the model (encode to z, decode): how the model hears it.

Usage:
  python scripts/reconstruct.py --input=beat.mid --output=reconstructed.mid
  python scripts/reconstruct.py --input=beat.mid --output=out.mid --temperature=0.3 --png
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

flags.DEFINE_string("input", None, "A 4/4 drum MIDI file (any length; cut into 4-bar windows).", required=True)
flags.DEFINE_string("output", "reconstructed.mid", "Where to write the reconstruction.")
cli.define_flags(temperature=0.5)
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()

    cli.check_outputs(FLAGS.output)  # Before the model loads and the song is played.
    vae = cli.load_model(FLAGS.run_dir)
    with cli.usage_errors():
        clip = vae.reconstruct(FLAGS.input, FLAGS.temperature, FLAGS.seed)
    cli.write(clip, FLAGS.output, FLAGS.wav, FLAGS.png, overwrite=FLAGS.overwrite)


if __name__ == "__main__":
    app.run(main)
