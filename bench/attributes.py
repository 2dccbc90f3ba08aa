r"""How each attribute vector moves every attribute: the matrix, on clips the model never saw.

Usage:
  python bench/attributes.py                  # 400 test clips, about a minute on 2 cores
  python bench/attributes.py --clips=1000 --amounts=-2,-1,1,2

Encodes --clips test-split clips with the bundled model, steers each by every attribute
vector at each of --amounts (`GrooveVAE.steer`, temperature 0.5) and prints, per vector,
how far its own attribute moves at each amount (in the attribute's unit), and the change
of every attribute at +1 as a share of that attribute's quartile gap (the diagonal should
stand out), drawn as --matrix_png; the feel of the steered beats at -1 and +1 beside the
test split's drummers'; and one beat steered along density, -2 to +2, as --strip_png.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from absl import app, flags

from machine import cpu_features, cpu_model, report  # bench/ is on sys.path when a bench script runs.

flags.DEFINE_integer("clips", 400, "Test-split clips to steer.")
flags.DEFINE_list("amounts", ["-2", "-1", "1", "2"], "Amounts of each vector.")
flags.DEFINE_integer("seed", 1, "Seed of the decoder's draws (the same for every amount).")
flags.DEFINE_string("output", "bench/attributes.json", "Where to write the figures (JSON).")
flags.DEFINE_string("matrix_png", "docs/img/attribute_matrix.png", "Where to draw the +1 matrix ('' for nowhere).")
flags.DEFINE_string("strip_png", "docs/img/steer_density.png", "Where to draw one beat steered along density.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import groove_vae
    from groove_vae import attributes, data

    vae = groove_vae.load()
    test = data.load_split("groove/4bar-midionly", "test", vae.config.num_steps)
    picks = np.random.default_rng(0).permutation(len(test))[: FLAGS.clips]
    z = vae.encode_tensors(test.groove[picks])
    mean = lambda groove: {k: float(np.nanmean(v)) for k, v in attributes.measure(groove).items()}  # noqa: E731
    base = mean(vae.steer(z, {vae.attribute_names[0]: 0.0}, seed=FLAGS.seed))
    names, gaps = vae.attribute_names, dict(zip(vae.attribute_names, vae.sampler.attributes.gaps.tolist()))
    amounts = [float(a) for a in FLAGS.amounts]
    moved = {name: {a: mean(vae.steer(z, {name: a}, seed=FLAGS.seed)) for a in amounts} for name in names}
    change = {name: {a: {k: moved[name][a][k] - base[k] for k in names} for a in amounts} for name in names}
    lines = [f"machine: {cpu_model()} ({cpu_features()}); {len(z)} test clips, temperature 0.5",
             "Each vector's own attribute, change from the unsteered beats at each amount (its unit):",
             f"{'vector':<12} {'unit':<14}" + "".join(f"{a:>+9g}" for a in amounts) + f"{'quartile gap':>14}"]
    for name in names:
        lines.append(f"{name:<12} {attributes.ATTRIBUTES[name].unit:<14}"
                     + "".join(f"{change[name][a][name]:>9.3f}" for a in amounts) + f"{gaps[name]:>14.3f}")
    lines += ["", "Every attribute's change at +1, as a share of its quartile gap (rows: the vector):",
              f"{'':<12}" + "".join(f"{k[:6]:>7}" for k in names)]
    for name in names:
        lines.append(f"{name:<12}" + "".join(f"{change[name][1.0][k] / gaps[k]:>7.2f}" if 1.0 in amounts else ""
                                             for k in names))
    # Realism: does a steered beat still play like a drummer? The feel figures at -1 and +1.
    from groove_vae import evaluation

    keys = ("timekeeper_change_rate", "bar_hit_agreement", "loudness_jump", "velocity_std", "offset_std_16ths")
    realism = {"unsteered": evaluation.feel(vae.steer(z, {names[0]: 0.0}, seed=FLAGS.seed))}
    for name in names:
        for amount in (-1.0, 1.0):
            realism[f"{name} {amount:+g}"] = evaluation.feel(vae.steer(z, {name: amount}, seed=FLAGS.seed))
    drummers = evaluation.feel(test.groove)
    lines += ["", "Feel of the steered beats at -1 and +1 (the test split's drummers first):",
              f"{'':<18}" + "".join(f"{k[:16]:>18}" for k in keys),
              f"{'drummers':<18}" + "".join(f"{drummers[k]:>18.3f}" for k in keys)]
    lines += [f"{label:<18}" + "".join(f"{figures[k]:>18.3f}" for k in keys) for label, figures in realism.items()]
    if FLAGS.matrix_png:
        draw_matrix(names, change, gaps, FLAGS.matrix_png)
    if FLAGS.strip_png:
        from groove_vae import render

        one = z[:1]
        strip = [vae.steer(one, {"density": a}, seed=FLAGS.seed)[0] for a in (-2.0, -1.0, 0.0, 1.0, 2.0)]
        render.draw_strip(strip, [f"density {a:+g}" for a in (-2, -1, 0, 1, 2)]).save(FLAGS.strip_png)
    report("\n".join(lines), {"machine": cpu_model(), "clips": len(z), "base": base, "gaps": gaps,
                              "change": {n: {str(a): c for a, c in v.items()} for n, v in change.items()},
                              "realism": realism, "drummers": drummers}, FLAGS.output)


def draw_matrix(names, change, gaps, path):
    """The +1 matrix as a heatmap: rows the vectors, columns the attributes, orange up, blue
    down, by the share of the attribute's quartile gap (full colour at 0.5)."""
    from PIL import Image, ImageDraw

    cell, left, top = 34, 100, 100
    image = Image.new("RGB", (left + cell * len(names) + 20, top + cell * len(names) + 40), "white")
    draw = ImageDraw.Draw(image)
    for j, name in enumerate(names):
        draw.text((left + j * cell + 2, top - 14 - (j % 2) * 14), name[:9], fill="black")
    for i, row in enumerate(names):
        draw.text((6, top + i * cell + 10), row, fill="black")
        for j, column in enumerate(names):
            share = change[row][1.0][column] / gaps[column]
            strength = min(abs(share) / 0.5, 1.0)
            colour = (255, int(255 - 140 * strength), int(255 - 230 * strength)) if share > 0 else \
                (int(255 - 200 * strength), int(255 - 120 * strength), 255)
            box = (left + j * cell, top + i * cell, left + (j + 1) * cell - 1, top + (i + 1) * cell - 1)
            draw.rectangle(box, fill=colour, outline=(0, 0, 0) if row == column else None)
            draw.text((box[0] + 3, box[1] + 11), f"{share:+.1f}"[:5], fill="black")
    draw.text((left, top + cell * len(names) + 10), "each vector at +1: every attribute's change as a share of its "
              "quartile gap (rows: the vector; boxed: its own attribute)", fill="black")
    image.save(path)


if __name__ == "__main__":
    app.run(main)
