r"""Writes a slice of the raw Groove MIDI Dataset archive as a MIDI folder.

For fine-tuning on one drummer's performances the bundled model never trained on (GMD's
validation and test splits), scoring on a quarter of them kept out of fine-tuning:
  python scripts/extract_gmd.py --zip=../shared/data/groove-v1.0.0-midionly.zip \
      --drummer=drummer7 --split=validation,test --output_dir=d7/tune \
      --held_out_dir=d7/score --held_out_fraction=0.25
  python scripts/train.py --midi_dir=d7/tune --init_from=bundled ...
  python scripts/evaluate.py --run_dir=... --midi_dir=d7/score
"""

import os

from absl import app, flags

from groove_vae import cli, gmd
from groove_vae.files import WriteError

flags.DEFINE_string("zip", None, "The GMD archive (groove-v1.0.0-midionly.zip).", required=True)
flags.DEFINE_string("output_dir", None, "Where to write the .mid files.", required=True)
flags.DEFINE_list("drummer", [], "Drummers to keep, e.g. drummer1,drummer7 (default: all).")
flags.DEFINE_list("split", [], "GMD splits to keep: train, validation, test (default: all).")
flags.DEFINE_list("style", [], "Primary styles to keep, e.g. funk,rock (default: all).")
flags.DEFINE_list("beat_type", [], "beat or fill (default: both).")
flags.DEFINE_string("held_out_dir", None, "Write a fixed share of the files (by path) here instead.")
flags.DEFINE_float("held_out_fraction", 0.25, "With --held_out_dir: the share of files held out.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    try:
        paths = gmd.extract(FLAGS.zip, FLAGS.output_dir, FLAGS.held_out_dir, FLAGS.held_out_fraction,
                            drummers=FLAGS.drummer, splits=FLAGS.split, styles=FLAGS.style,
                            beat_types=FLAGS.beat_type)
    except (ValueError, WriteError) as e:
        raise app.UsageError(str(e)) from None
    if not paths:
        raise app.UsageError("No performance matches those filters.")
    held_out = sum(1 for p in paths if FLAGS.held_out_dir and p.startswith(os.path.join(FLAGS.held_out_dir, "")))
    print(f"Wrote {len(paths) - held_out} performances to {FLAGS.output_dir}"
          + (f" and {held_out} to {FLAGS.held_out_dir}" if FLAGS.held_out_dir else ""))


if __name__ == "__main__":
    app.run(main)
