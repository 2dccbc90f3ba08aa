r"""Infills a drum beat: keeps the instruments you name exactly as played and plays the others to fit.

Uses the bundled infill model (trained with input_transform=infill: its encoder learned
to hear part of a kit) unless --run_dir names another groove model. Instruments: kick,
snare, closed_hihat, open_hihat, low_tom, mid_tom, high_tom, crash, ride.

Usage:
  python scripts/infill.py --input=beat.mid --keep=kick,snare --output=filled.mid
  python scripts/infill.py --input=beat.mid --add=closed_hihat,open_hihat --output=hats.mid --png
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

flags.DEFINE_string("input", None, "A 4/4 drum MIDI file (any length).", required=True)
flags.DEFINE_list("keep", None, "Instruments to keep exactly as played; the model plays all the others.")
flags.DEFINE_list("add", None, "Instead of --keep: the instruments the model plays; all others are kept.")
flags.DEFINE_string("output", "infilled.mid", "Where to write the beat.")
cli.define_flags(temperature=0.5, run_dir_help="A groove model (default: the bundled infill model).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    if (FLAGS.keep is None) == (FLAGS.add is None):
        raise app.UsageError("Give --keep (the instruments to keep as played) or --add (those to play), one of them.")
    with cli.usage_errors():
        from groove_vae import api

        api.GrooveVAE._keep_classes(FLAGS.keep, FLAGS.add)  # Unknown names, before the model loads.
    cli.check_outputs(FLAGS.output)  # Before the model loads and the song is played.
    vae = cli.load_model(FLAGS.run_dir or "infill")
    with cli.usage_errors():
        filled = vae.infill(FLAGS.input, keep=FLAGS.keep, add=FLAGS.add, temperature=FLAGS.temperature,
                            seed=FLAGS.seed)
    cli.write(filled, FLAGS.output, FLAGS.wav, FLAGS.png, overwrite=FLAGS.overwrite)


if __name__ == "__main__":
    app.run(main)
