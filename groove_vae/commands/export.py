r"""Exports a trained model as a versioned TensorFlow SavedModel for TF Serving.

Usage:
  python scripts/export.py --run_dir=runs/x --export_dir=export/groove_vae        # -> export/groove_vae/<next>
  python scripts/export.py --run_dir=runs/x --export_dir=export/groove_vae/1      # an explicit version
  python scripts/export.py --export_dir=export/groove_vae --version=2             # the bundled model
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

cli.define_run_dir()
flags.DEFINE_string("export_dir", "export/groove_vae", "Model base directory, or <base>/<version>.")
flags.DEFINE_integer("version", None, "Version number (default: from --export_dir, else the next free one).")
cli.define_overwrite("Replace an existing version directory.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    import groove_vae
    from groove_vae.export import SIGNATURES, export_model, resolve_export_path

    try:
        target = resolve_export_path(FLAGS.export_dir, FLAGS.version)
        if os.path.exists(target) and not FLAGS.overwrite:  # Before the model loads.
            raise FileExistsError(f"{target} exists; pass --overwrite to replace it, or export a new version.")
        vae = groove_vae.load(FLAGS.run_dir)
        path = export_model(vae, FLAGS.export_dir, FLAGS.version, FLAGS.overwrite)
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        raise app.UsageError(str(e))
    print(f"SavedModel written to {path} (signatures: {', '.join(SIGNATURES)})")


if __name__ == "__main__":
    app.run(main)
