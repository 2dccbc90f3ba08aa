r"""Trains a groove-vae model on a TFDS MIDI dataset; rerun the same command to resume.

Usage:
  python scripts/train.py --tfds_name=groove/4bar-midionly
  python scripts/train.py --midi_dir=my_drums/ --init_from=bundled --config=groovae_4bar_cpu --num_steps=500
  python scripts/train.py --tfds_name=groove/4bar-midionly --config=groovae_4bar \
      --run_dir=runs/x --num_steps=20000 --batch_size=64 --hparams=dropout_rate=0.5
  python scripts/train.py --strategy=mirrored --batch_size=1024 --run_dir=runs/gpus        # every GPU here
  TF_CONFIG='{"cluster": {"worker": ["host0:12345", "host1:12345"]}, "task": {"type": "worker", "index": 0}}' \
      python scripts/train.py --strategy=multi_worker --run_dir=/shared/runs/x             # on each machine
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

cli.define_data("TFDS dataset of MIDI clips (or whole performances, e.g. groove/full-midionly, cut into "
                "4-bar windows).")
flags.DEFINE_string("midi_dir", None, "Train on every .mid/.midi under this folder instead of --tfds_name.")
flags.DEFINE_float("validation_fraction", 0.1, "With --midi_dir: the share of files held out for validation.")
flags.DEFINE_string("config", "groovae_4bar", "A named config (configs/) or a JSON path.")
cli.define_run_dir("Run directory (default: runs/<config>, so a rerun resumes).")
flags.DEFINE_integer("num_steps", 50000, "Total optimizer steps to train to (resume counts).")
flags.DEFINE_integer("batch_size", None, "Overrides the config's batch size.")
flags.DEFINE_string("hparams", "", "Config overrides: key=value,... (e.g. z_size=128,dropout_rate=0.5).")
flags.DEFINE_integer("steps_per_epoch", 200, "Steps between validation, checkpoint and summaries: "
                     "an interrupted run loses at most this many steps.")
flags.DEFINE_enum("on_nonfinite", "stop", ["stop", "continue"],
                  "On a NaN/Inf loss, restore the last checkpoint, then stop or continue.")
flags.DEFINE_integer("eval_batches", 8, "Validation batches per evaluation.")
flags.DEFINE_string("init_from", None, "Start a new run from trained weights: 'bundled', a bundled model's name (tap2drum) or a model/run directory.")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker"],
                  "tf.distribute strategy: one device; every GPU (or logical CPU) of this machine; or every "
                  "worker in TF_CONFIG. The batch size is global, split over the replicas.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    from groove_vae import configs, training

    try:
        config = configs.apply_hparams(configs.load_config(FLAGS.config), FLAGS.hparams)
        if FLAGS.batch_size:
            config = configs.from_dict({"batch_size": FLAGS.batch_size}, config)
    except ValueError as e:
        raise app.UsageError(str(e))
    name = os.path.splitext(os.path.basename(FLAGS.config))[0]
    run_dir = FLAGS.run_dir or os.path.join("runs", name)
    print(f"Run directory: {run_dir}")
    try:
        training.train(
            config,
            run_dir,
            num_steps=FLAGS.num_steps,
            tfds_name=FLAGS.tfds_name,
            steps_per_epoch=FLAGS.steps_per_epoch,
            eval_batches=FLAGS.eval_batches,
            data_dir=FLAGS.data_dir,
            init_from=FLAGS.init_from,
            on_nonfinite=FLAGS.on_nonfinite,
            midi_dir=FLAGS.midi_dir,
            validation_fraction=FLAGS.validation_fraction,
            strategy=FLAGS.strategy,
        )
    except (ValueError, FileNotFoundError) as e:
        raise app.UsageError(str(e))
    print(f"Run directory: {run_dir}")

if __name__ == "__main__":
    app.run(main)
