r"""Interpolates between two drum beats in latent space: one MIDI file per step, plus the whole path.

Usage:
  python scripts/interpolate.py --input_a=a.mid --input_b=b.mid --num_steps=8 --output_dir=out
  python scripts/interpolate.py --input_a=a.mid --input_b=b.mid --method=slerp --png --wav
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

flags.DEFINE_string("input_a", None, "The first beat (MIDI; its first 4 bars are used).", required=True)
flags.DEFINE_string("input_b", None, "The last beat (MIDI; its first 4 bars are used).", required=True)
flags.DEFINE_integer("num_steps", 8, "Clips on the path, both ends included (>= 2).")
flags.DEFINE_enum("method", "morph", ["morph", "slerp", "linear"],
                  "morph: each cell a and b disagree on changes once, in the model's order, about as many per "
                  "step; slerp / linear: each step decoded from its latent on the great circle / straight line.")
flags.DEFINE_string("output_dir", "interpolation", "Where to write the files.")
cli.define_flags(temperature=0.5)
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    import numpy as np

    from groove_vae import checks, converter, render

    with cli.usage_errors():
        checks.check_count("--num_steps", FLAGS.num_steps, 2, checks.MAX_INTERPOLATION_STEPS)
    # Before any work: the steps' files, and path.mid with its .wav and its strip, path.png.
    names = [f"step_{i:02d}.mid" for i in range(FLAGS.num_steps)] + ["path.mid"]
    cli.check_outputs(*(os.path.join(FLAGS.output_dir, n) for n in names))
    vae = cli.load_model(FLAGS.run_dir)
    with cli.usage_errors():
        path = vae.interpolate(FLAGS.input_a, FLAGS.input_b, FLAGS.num_steps, FLAGS.method, FLAGS.temperature, FLAGS.seed)
    for i, clip in enumerate(path):
        step_path = os.path.join(FLAGS.output_dir, f"step_{i:02d}.mid")
        cli.write(clip, step_path, FLAGS.wav, FLAGS.png, f"step {i + 1}/{len(path)}", overwrite=FLAGS.overwrite)
    grids = [render.sequence_to_grid(clip, vae.config.num_steps) for clip in path]
    whole = converter.groove_to_note_sequence(np.concatenate(grids), path[0].tempos[0].qpm)
    whole_path = os.path.join(FLAGS.output_dir, "path.mid")
    cli.write(whole, whole_path, FLAGS.wav, png=False, overwrite=FLAGS.overwrite)
    if FLAGS.png:
        strip = os.path.join(FLAGS.output_dir, "path.png")
        render.draw_strip(grids, [f"step {i + 1}/{len(path)}" for i in range(len(path))]).save(strip)
        print(f"{strip}: the path, one row per step")


if __name__ == "__main__":
    app.run(main)
