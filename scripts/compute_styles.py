r"""Computes style attribute vectors for a model from GMD's style labels, and shows they steer.

Writes <model dir>/styles.npz, which `sample.py --style=...` and `GrooveVAE.sample(style=...)` read,
and prints, per style, how far unconditioned and steered samples are from that style's clips.

Usage:
  python scripts/compute_styles.py --run_dir=groove_vae/bundled/groovae_4bar
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags, logging

flags.DEFINE_string("run_dir", None, "Model or run directory to write styles.npz into (default: bundled).")
flags.DEFINE_string("tfds_name", "groove/4bar-midionly", "Labelled dataset.")
flags.DEFINE_string("split", "train", "Split whose clips define the styles.")
flags.DEFINE_integer("num_samples", 200, "Samples per style for the check.")
flags.DEFINE_float("strength", 1.0, "Strength used in the check.")
flags.DEFINE_integer("min_clips", 20, "Leave out styles with fewer clips.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    import numpy as np

    from groove_vae import api, cli, data, styles

    vae = cli.load_model(FLAGS.run_dir)
    clips = data.load_split(FLAGS.tfds_name, FLAGS.split, vae.config.num_steps)
    mu = np.concatenate([vae.encode_tensors(clips.groove[i : i + 512]) for i in range(0, len(clips), 512)])
    vectors = styles.attribute_vectors(mu, clips.styles, FLAGS.min_clips)
    out = os.path.join(FLAGS.run_dir or api.BUNDLED_DIR, api.STYLE_FILE)
    np.savez(out, **vectors)
    vae.style_vectors = vectors
    print(f"{out}: {len(vectors)} styles")

    plain = vae.sample_tensors(FLAGS.num_samples, seed=1)
    print(f"{'style':<14} {'clips':>6} {'plain':>8} {'steered':>8}   (L1 distance of hits per bar to the style's clips)")
    for style in vectors:
        reference = clips.groove[clips.styles == style]
        steered = vae.sample_tensors(FLAGS.num_samples, seed=1, style=style, strength=FLAGS.strength)
        print(f"{style:<14} {len(reference):>6} {styles.style_distance(plain, reference):>8.2f} "
              f"{styles.style_distance(steered, reference):>8.2f}")


if __name__ == "__main__":
    app.run(main)
