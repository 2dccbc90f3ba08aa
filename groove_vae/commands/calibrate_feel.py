r"""Fits how much a model's patterns, accents and push repeat from bar to bar, and writes it into its config.

A drummer's bars repeat: a bar shares about 0.69 of its hits with the bar before (F1),
and a repeated hit is within about 12 MIDI units of the same drum's hit a bar before,
where a model that draws every bar afresh shares some 0.60 and changes by some 22. This
plays held-out clips from their posteriors with each memory from 0 to 0.9
(`evaluation.runners.calibrate_memory`): the clips' own hits for the velocity and timing memory,
the model's own hits for the hit memory. It prints each figure beside the drummers' and
writes the closest into <run_dir>/config.json (`hit_memory`, `velocity_memory`,
`timing_memory`), which every way of sampling the model then uses. A lower temperature
makes bars repeat by itself, so the hit memory is fitted at each of
`configs.MEMORY_TEMPERATURES` and read between them. Fit on clips the model did not
train on.

Usage:
  python scripts/calibrate_feel.py --run_dir=runs/x                  # validation split
  python scripts/calibrate_feel.py --run_dir=groove_vae/bundled/groovae_humanize --nowrite
  python scripts/calibrate_feel.py --run_dir=runs/mine --midi_dir=my_held_out_drums/
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

cli.define_run_dir("Model or run directory whose config.json to fit (default: the bundled model).")
cli.define_data()
flags.DEFINE_string("split", "validation", "Split whose clips the model's playing is compared with.")
flags.DEFINE_string("midi_dir", None, "Compare with every 4-bar window of the MIDI files under this folder instead.")
flags.DEFINE_integer("max_clips", 1000, "Use at most this many clips, chosen evenly over the split (0: all).")
flags.DEFINE_bool("write", True, "Write the fitted memories into --run_dir's config.json (--nowrite: only print; "
                  "a bundled model is never written).")
cli.define_seed(help="Seed of the draws.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    import dataclasses

    import numpy as np

    from groove_vae import bundled, configs, data, runs
    from groove_vae.evaluation import runners

    if FLAGS.max_clips < 0:
        raise app.UsageError(f"--max_clips must be 0 (all) or more, got {FLAGS.max_clips}.")
    vae = cli.load_model(FLAGS.run_dir)
    if not vae.model.representation.plays_feel:
        raise app.UsageError(f"{FLAGS.run_dir or 'the bundled model'}: a {vae.config.representation} model draws "
                             "whole drum patterns, not hits; feel memory needs representation=groove.")
    if FLAGS.midi_dir:
        with cli.usage_errors():
            clips = data.load_midi_folder(FLAGS.midi_dir, vae.config.num_steps)
    else:
        clips = data.load_split(FLAGS.tfds_name, FLAGS.split, vae.config.num_steps, FLAGS.data_dir)
    groove = clips.groove
    if FLAGS.max_clips and len(groove) > FLAGS.max_clips:
        groove = groove[np.linspace(0, len(groove) - 1, FLAGS.max_clips).astype(int)]
    if not len(groove):
        raise app.UsageError(f"{FLAGS.midi_dir or FLAGS.split}: no 4/4 drum windows to compare with.")

    fit = runners.calibrate_memory(vae, groove, seed=FLAGS.seed)
    source = FLAGS.midi_dir or f"{FLAGS.tfds_name} {FLAGS.split}"
    print(f"{len(groove)} clips of {source}")
    if fit["velocity_change"]:
        print("How much a repeated hit changes from the bar before (temperature 1)")
        print(f"{'memory':>8} {'velocity (MIDI units)':>23} {'offset (16ths)':>16}")
        for memory in runners.MEMORIES:
            marks = ["<" if memory == fit[key] else " " for key in ("velocity_memory", "timing_memory")]
            print(f"{memory:>8.1f} {fit['velocity_change'][memory]:>21.2f} {marks[0]} "
                  f"{fit['offset_change'][memory]:>14.4f} {marks[1]}")
        print(f"{'drummers':>8} {fit['velocity_change_data']:>21.2f}   {fit['offset_change_data']:>14.4f}\n")
    else:
        print("Squared-error heads play every hit at its mean: no velocity or timing memory to fit.\n")
    temperatures = configs.MEMORY_TEMPERATURES
    print("How much of a bar's hits the bar before played (F1), at each temperature")
    print(f"{'memory':>8}" + "".join(f"{'T=' + str(t):>10}" for t in temperatures))
    for memory in runners.MEMORIES:
        cells = [f"{fit['hit_agreement'][t][memory]:>8.4f} {'<' if memory == fit['hit_memory'][i] else ' '}"
                 for i, t in enumerate(temperatures)]
        print(f"{memory:>8.1f}" + "".join(cells))
    print(f"{'drummers':>8}" + f"{fit['hit_agreement_data']:>8.4f}  " * len(temperatures))
    print("\nTimekeeper changes between bars (T=0.5) by the share of its draw held for the whole performance")
    for memory, rate in fit["timekeeper_changes"].items():
        print(f"{memory:>8.2f} {rate:>8.4f} {'<' if memory == fit['timekeeper_memory'] else ''}")
    print(f"{'drummers':>8} {fit['timekeeper_changes_data']:>8.4f}")
    fitted = {"hit_memory": list(fit["hit_memory"]), "velocity_memory": fit["velocity_memory"],
              "timing_memory": fit["timing_memory"], "timekeeper_memory": fit["timekeeper_memory"]}
    print(", ".join(f"{key}={value}" for key, value in fitted.items()))
    if not FLAGS.write:
        return
    if not FLAGS.run_dir or FLAGS.run_dir in bundled.MODELS:  # Every later load() would play differently.
        print(f"Not written: the bundled models are read-only; to keep the fit, copy the model and pass "
              f"--run_dir=<the copy>.")
        return
    path = os.path.join(bundled.resolve(FLAGS.run_dir), runs.CONFIG_FILE)
    config = dataclasses.replace(configs.read_saved_config(path), **fitted)
    configs.save_config(config, path)
    runs.record_digest(os.path.dirname(path), runs.CONFIG_FILE)
    print(f"Written to {path}")


if __name__ == "__main__":
    app.run(main)
