r"""Samples drum grooves as MIDI files (4 bars, or --num_bars), from the bundled model or a training run.

Usage:
  python scripts/sample.py --num_output=5
  python scripts/sample.py --run_dir=runs/x --num_output=8 --temperature=0.8 --seed=3 \
      --qpm=96 --output_dir=samples --style=funk --wav --png
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

flags.DEFINE_integer("num_output", 5, "How many beats to write.")
flags.DEFINE_integer("num_bars", 4, "Bars per beat, a multiple of 4: each file is one performance of that length.")
flags.DEFINE_string("output_dir", "samples", "Where to write the .mid files.")
cli.define_flags(temperature=0.5)  # Magenta's music_vae_generate default: steadier grooves than 1.0.
flags.DEFINE_float("qpm", 120.0, "Tempo of the written files, in quarter notes per minute.")
flags.DEFINE_string("style", None, "Steer toward a GMD style (funk, rock, jazz, latin, hiphop, ...).")
flags.DEFINE_float("strength", 1.0, "How far toward --style: 0 is the plain prior, 1 the style's own, above 1 exaggerates.")
flags.DEFINE_enum("steer", "prior", ["prior", "vector"],
                  "How to steer: the style's conditional prior, or its attribute vector (MusicVAE's way).")
flags.DEFINE_string("attributes", None, "Move each beat along attribute vectors, e.g. density=+1,swing=+0.5 "
                    "(amounts -3 to 3; the names: docs/sampling.md).")
flags.DEFINE_string("constraints", None, "Ask for what the beats play, e.g. density=20..30,timekeeper=ride,no=toms "
                    "(docs/sampling.md#latent-constraints).")
flags.DEFINE_integer("tries", 4, "With --constraints: decodes per beat until one meets them (1 to 16).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()
    import numpy as np

    from groove_vae import checks

    with cli.usage_errors():  # Before the model loads (which checks the shared flags).
        amounts, wanted = cli.parse_steering(FLAGS.attributes, FLAGS.constraints)
        checks.check_count("--tries", FLAGS.tries, 1, checks.MAX_TRIES)
        checks.check_count("--num_output", FLAGS.num_output)
        checks.check_count("--num_bars", FLAGS.num_bars, 1, checks.MAX_NUM_BARS)
        if FLAGS.num_bars % 4:
            raise ValueError(f"--num_bars must be a multiple of 4 (the model's phrase), got {FLAGS.num_bars}.")
        checks.check_qpm(FLAGS.qpm)
    prefix = f"{FLAGS.style}_" if FLAGS.style else ""
    paths = [os.path.join(FLAGS.output_dir, f"{prefix}sample_{i:03d}.mid") for i in range(FLAGS.num_output)]
    cli.check_outputs(*paths)  # Before any work, so nothing is half done.

    vae = cli.load_model(FLAGS.run_dir)
    with cli.usage_errors():
        options = dict(style=FLAGS.style, strength=FLAGS.strength, steer=FLAGS.steer, num_bars=FLAGS.num_bars,
                       attributes=amounts)
        if wanted is None:
            grooves = vae.sample_tensors(FLAGS.num_output, FLAGS.temperature, FLAGS.seed, **options)
        else:
            _, grooves, met = vae.constrained_sample(FLAGS.num_output, wanted, FLAGS.temperature, FLAGS.seed,
                                                     tries=FLAGS.tries, **options)
            print(f"{int(met.sum())} of {len(met)} beats meet {wanted.describe()} (in at most {FLAGS.tries} draws "
                  "each)" + ("" if met.all() else f"; not: {', '.join(str(i) for i in np.flatnonzero(~met))}"))
    from groove_vae import converter

    beats = [converter.groove_to_note_sequence(g, FLAGS.qpm) for g in grooves]
    for path, beat in zip(paths, beats):
        if not beat.notes:  # Rare with the fitted prior, but a silent file is never what was asked for.
            print(f"{path}: not written: the model drew no notes for this beat (seed {FLAGS.seed}); "
                  "try another --seed.")
            continue
        cli.write(beat, path, FLAGS.wav, FLAGS.png, overwrite=FLAGS.overwrite)


if __name__ == "__main__":
    app.run(main)
