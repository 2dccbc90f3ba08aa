r"""Continues a groove: the input as played, then N more bars in its groove.

The model hears the input's last 4 bars (1 to 3 bars are repeated to fill them) and
plays each new 4-bar phrase from that groove's latent with its own draws: the same
timekeeper, kick and snare and feel, varied; --variation lets the phrases wander.

Usage:
  python scripts/continue.py --input=intro.mid --num_bars=12 --output=song.mid
  groove-vae continue --input=intro.mid --num_bars=28 --variation=0.3 --seed=2 --png
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

flags.DEFINE_string("input", None, "A 4/4 drum MIDI file of 1 bar or more.", required=True)
flags.DEFINE_integer("num_bars", 4, "How many bars to add after the input.")
flags.DEFINE_float("variation", 0.0, "0 keeps every new phrase in the input's groove; up to 1 lets them wander.")
flags.DEFINE_string("output", "continued.mid", "Where to write the input and its continuation.")
cli.define_flags(temperature=0.5)
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    from groove_vae import checks

    with cli.usage_errors():
        checks.check_count("--num_bars", FLAGS.num_bars, 1, checks.MAX_NUM_BARS)
        if not 0.0 <= FLAGS.variation <= 1.0:
            raise ValueError(f"--variation must be between 0 and 1, got {FLAGS.variation}.")
    cli.check_outputs(FLAGS.output)  # Before the model loads and the song is played.
    vae = cli.load_model(FLAGS.run_dir)
    with cli.usage_errors():
        song = vae.continue_groove(FLAGS.input, FLAGS.num_bars, FLAGS.temperature, FLAGS.seed, FLAGS.variation)
    cli.write(song, FLAGS.output, FLAGS.wav, FLAGS.png, overwrite=FLAGS.overwrite)


if __name__ == "__main__":
    app.run(main)
