r"""Exports a trained decoder as a TensorFlow SavedModel (for TF Serving).

Usage:
  python scripts/export.py --run_dir=runs/x --export_dir=export/groove_vae/1
  python scripts/export.py --export_dir=export/groove_vae/1   # the bundled model
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags, logging

flags.DEFINE_string("run_dir", None, "Training run directory (default: the bundled model).")
flags.DEFINE_string("export_dir", "export/groove_vae/1", "SavedModel directory to write.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    import groove_vae
    from groove_vae.export import export_decoder

    try:
        vae = groove_vae.load(FLAGS.run_dir)
    except FileNotFoundError as e:
        raise app.UsageError(str(e))
    path = export_decoder(vae.model, FLAGS.export_dir)
    print(f"SavedModel written to {path} (signature serving_default: z, temperature, seed -> hits, velocities, offsets)")


if __name__ == "__main__":
    app.run(main)
