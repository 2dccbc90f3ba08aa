r"""Writes a slice of the raw Groove MIDI Dataset archive as a MIDI folder.

For fine-tuning on one drummer and scoring on sessions the model never saw:
  python scripts/extract_gmd.py --zip=../shared/data/groove-v1.0.0-midionly.zip \
      --drummer=drummer7 --split=validation --output_dir=data/drummer7_tune
  python scripts/train.py --midi_dir=data/drummer7_tune --init_from=bundled ...
"""

from absl import app, flags

from groove_vae import gmd

flags.DEFINE_string("zip", None, "The GMD archive (groove-v1.0.0-midionly.zip).", required=True)
flags.DEFINE_string("output_dir", None, "Where to write the .mid files.", required=True)
flags.DEFINE_list("drummer", [], "Drummers to keep, e.g. drummer1,drummer7 (default: all).")
flags.DEFINE_list("split", [], "GMD splits to keep: train, validation, test (default: all).")
flags.DEFINE_list("style", [], "Primary styles to keep, e.g. funk,rock (default: all).")
flags.DEFINE_list("beat_type", [], "beat or fill (default: both).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    try:
        paths = gmd.extract(FLAGS.zip, FLAGS.output_dir, drummers=FLAGS.drummer, splits=FLAGS.split,
                            styles=FLAGS.style, beat_types=FLAGS.beat_type)
    except ValueError as e:
        raise app.UsageError(str(e))
    if not paths:
        raise app.UsageError("No performance matches those filters.")
    print(f"Wrote {len(paths)} performances to {FLAGS.output_dir}")


if __name__ == "__main__":
    app.run(main)
