r"""Packs a training run's best model into a small model directory, e.g. the bundled one.

Usage:
  python scripts/package_model.py --run_dir=runs/groovae_4bar_cpu \
      --output_dir=groove_vae/bundled/groovae_4bar --note="command, hardware, wall time"
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

cli.define_run_dir("Training run directory.", required=True)
flags.DEFINE_string("output_dir", None, "Model directory to write (built beside it, then swapped in whole).",
                    required=True)
flags.DEFINE_string("note", "", "How the run was made (recorded in provenance.json).")
flags.DEFINE_enum("dtype", "float32", ["float32", "float16"], "Storage precision of the weights.")
cli.define_overwrite("Replace an existing model directory, whole (its styles and prior go with it).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    from groove_vae import configs, runs

    try:
        provenance = {"note": FLAGS.note} if FLAGS.note else None
        path = runs.package_run(FLAGS.run_dir, FLAGS.output_dir, provenance, FLAGS.dtype, FLAGS.overwrite)
    except (FileNotFoundError, ValueError, OSError) as e:
        raise app.UsageError(str(e)) from None
    if configs.read_saved_config(os.path.join(path, runs.CONFIG_FILE)).decoder_controls != "none":
        print(f"Model written to {path}; it drumifies rhythms (its decoder hears them), so it needs no prior.")
        return
    print(f"Model written to {path}; fit the prior its new beats come from with "
          f"`groove-vae fit_prior --run_dir={path}` (until then it samples from N(0, I)).")


if __name__ == "__main__":
    app.run(main)
