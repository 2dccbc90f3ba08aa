r"""How each attribute vector moves every attribute: the matrix, on clips the model never saw.

Usage:
  python bench/attributes.py                  # 400 test clips, about a minute on 2 cores
  python bench/attributes.py --clips=1000 --amounts=-2,-1,1,2

Encodes --clips test-split clips with the bundled model, steers each by every attribute
vector at each of --amounts (`GrooveVAE.steer`, temperature 0.5) and prints, per vector,
how far its own attribute moves at each amount (in the attribute's unit), and the change
of every attribute at +1 as a share of that attribute's quartile gap (the diagonal should
stand out).
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
    report("\n".join(lines), {"machine": cpu_model(), "clips": len(z), "base": base, "gaps": gaps,
                              "change": {n: {str(a): c for a, c in v.items()} for n, v in change.items()}},
           FLAGS.output)


if __name__ == "__main__":
    app.run(main)
