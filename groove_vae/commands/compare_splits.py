r"""Shows what a dataset's splits hold: each split's timekeeper changes and drum loudness, and each drummer's share.

GMD's splits were not played alike, and a model learns the clips of its training split:
where a model's figure misses the test clips' but matches the training clips', this says
which drummers make the difference. `--without` leaves drummers out of every split.

Usage:
  python scripts/compare_splits.py                              # groove/4bar-midionly: train, validation, test
  python scripts/compare_splits.py --drum=crash --without=drummer2
  python scripts/compare_splits.py --midi_dir=my_drums/         # your own MIDI beside the test split
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

cli.define_data()
flags.DEFINE_list("splits", ["train", "validation", "test"], "Splits to compare.")
flags.DEFINE_string("midi_dir", None, "Also show the 4-bar windows (sliding bar by bar) of the .mid/.midi files "
                    "under this folder, as a column of their own.")
flags.DEFINE_string("drum", "open_hihat", "The drum whose loudness the by-drummer table shows.")
flags.DEFINE_list("without", [], "Drummers to leave out of every split (e.g. drummer2).")
flags.DEFINE_integer("num_steps", 64, "Steps per clip (64: 4 bars of 16ths); whole bars, 16 to 256.")
FLAGS = flags.FLAGS
GMD_DRUMMERS = tuple(f"drummer{i}" for i in range(1, 11))
MAX_NUM_STEPS = 256  # 16 bars: GMD's train split at 256 steps is already about 500 MB of float32.


def main(argv):
    del argv
    cli.start()
    import numpy as np

    from groove_vae import data
    from groove_vae.evaluation import reports
    from groove_vae.drums import DRUM_CLASS_NAMES

    if FLAGS.drum not in DRUM_CLASS_NAMES:
        raise app.UsageError(f"--drum must be one of {', '.join(DRUM_CLASS_NAMES)}, got {FLAGS.drum!r}.")
    bad = [d for d in FLAGS.without if data.drummer_of(d) != d or d not in GMD_DRUMMERS]
    if bad:
        raise app.UsageError(f"--without takes GMD drummers (drummer1 ... drummer10), got {', '.join(bad)}.")
    if not (16 <= FLAGS.num_steps <= MAX_NUM_STEPS and FLAGS.num_steps % 16 == 0):
        raise app.UsageError(f"--num_steps must be whole bars of 16th notes, 16 to {MAX_NUM_STEPS}, "
                             f"got {FLAGS.num_steps}.")
    with cli.usage_errors():
        sets = {split: data.load_split(FLAGS.tfds_name, split, FLAGS.num_steps, FLAGS.data_dir)
                for split in FLAGS.splits}
        if FLAGS.midi_dir:
            sets[os.path.basename(os.path.normpath(FLAGS.midi_dir))] = data.load_midi_folder(
                FLAGS.midi_dir, FLAGS.num_steps)
    for name, clips in sets.items():
        print(f"{name}: {clips.stats.summary()}")
    drummers = {name: clips.drummers for name, clips in sets.items()}
    keep = {name: ~np.isin(drummers[name], FLAGS.without) for name in sets}
    if FLAGS.without:
        dropped = ", ".join(f"{name} {int((~k).sum()):,}" for name, k in keep.items())
        print(f"Leaving out {', '.join(FLAGS.without)}: clips dropped per split: {dropped}")
    print()
    print(reports.splits_table({name: clips.groove[keep[name]] for name, clips in sets.items()},
                                  {name: drummers[name][keep[name]] for name in sets}, FLAGS.drum))


if __name__ == "__main__":
    app.run(main)
