r"""Latent constraints against the prior, rejection sampling and the attribute vectors.

Usage:
  python bench/constraints.py                 # 200 beats per condition, about 5 minutes on 2 cores
  python bench/constraints.py --beats=500 --temperature=1.0

For each condition of --conditions, draws --beats beats at --temperature with the bundled
model and prints the share that play what was asked (measured on the beats), with their
feel and novelty beside the unconditional prior's:

  prior          the plain prior, one decode per beat
  rejection      prior draws, kept at the first of 4 that meets the condition (4 decodes)
  vectors        the prior's draw moved along the attribute vectors toward the range's
                 middle (a style: the style's conditional prior), one decode
  actor          the paper's actor: the prior's draw moved by the constraint actor, one decode
  critics        of 128 prior draws, the one the critics rank best, one decode (tries=1)
  critics+4      the critics' ranking, decoded in turn until one meets, at most 4 decodes
                 (`sample(constraints=...)`'s default)
and, for scale, the test split's clips that meet the condition ("drummers").

Then edits of test clips (`steer(constraints=...)`): how many meet the condition, and how
much of each clip survives (hit F1 of the edit to the clip), for the attribute vectors, the
actor and gradient edits at several distance weights.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from absl import app, flags

from machine import cpu_features, cpu_model, report  # bench/ is on sys.path when a bench script runs.

CONDITIONS = ["density=24..32", "density=..10", "swing=0.15..", "timekeeper=ride", "with=crash", "loudness=90..",
              "no=toms,timekeeper=hihat,density=14..20", "style=jazz", "style=funk,no=toms"]
EDITS = {"no=toms": lambda v: v["toms"] >= 1.0, "timekeeper=ride": lambda v: v["ride_share"] <= 0.25,
         "density=24..": lambda v: v["density"] <= 18.0}

flags.DEFINE_integer("beats", 200, "Beats per condition and method.")
flags.DEFINE_float("temperature", 0.5, "Temperature of every decode.")
flags.DEFINE_list("conditions", CONDITIONS, "Conditions to ask for (`groove_vae.constraints.Constraints.parse`).")
flags.DEFINE_integer("edit_clips", 100, "Test clips to edit per edit condition (0: no edits).")
flags.DEFINE_string("run_dir", None, "Model directory (default: the bundled model).")
flags.DEFINE_integer("seed", 3, "Seed of the draws.")
flags.DEFINE_string("output", "bench/constraints.json", "Where to write the figures (JSON).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import groove_vae
    from groove_vae import attributes, constraints, data, evaluation, novelty

    vae = groove_vae.load(FLAGS.run_dir)
    vae.jit_max_batch = 0
    train = data.load_split("groove/4bar-midionly", "train", vae.config.num_steps)
    test = data.load_split("groove/4bar-midionly", "test", vae.config.num_steps)
    n, t, seed = FLAGS.beats, FLAGS.temperature, FLAGS.seed
    vectors = vae.sampler.attributes
    base = {k: float(np.nanmean(v)) for k, v in attributes.measure(vae.sample_tensors(n, t, seed)).items()}

    def toward(wanted):
        """The attribute amounts that move a prior draw's beat toward each range's middle."""
        amounts = {}
        for name, (low, high) in wanted.ranges.items():
            gap = float(vectors.gaps[vectors.names.index(name)])
            target = (low + high) / 2 if np.isfinite(low + high) else (low + gap / 2 if np.isfinite(low) else high
                                                                         - gap / 2)
            amounts[name] = float(np.clip((target - base[name]) / gap, -3, 3))
        return amounts

    def rejection(wanted, tries=4):
        beats, met = None, np.zeros(n, bool)
        for k in range(tries):
            groove = vae.sample_tensors(n, t, seed * 7919 + k if k else seed)
            meets = vae.meets(groove, wanted)
            beats = groove if beats is None else beats
            take = ~met & meets
            beats[take], met = groove[take], met | meets
        return beats

    def figures(groove, wanted):
        feel = evaluation.feel(groove)
        new = novelty.novelty(groove, train.groove)
        return {"met": float(vae.meets(groove, wanted).mean()), "timekeeper": feel["timekeeper_change_rate"],
                "repetition": feel["bar_hit_agreement"], "velocity_std": feel["velocity_std"],
                "nearest": new["mean_nearest"], "copies": new["exact_copies"], "empty": new["empty"]}

    drummers = evaluation.feel(test.groove)
    lines = [f"machine: {cpu_model()} ({cpu_features()}); {n} beats per row, temperature {t:g}, seed {seed}",
             f"test split's drummers: timekeeper changes {drummers['timekeeper_change_rate']:.3f} per bar, "
             f"bar-to-bar hit F1 {drummers['bar_hit_agreement']:.3f}, velocity std {drummers['velocity_std']:.3f}",
             "", f"{'condition':<42} {'method':<10} {'met':>6} {'tk/bar':>7} {'rep F1':>7} {'vel sd':>7} "
             f"{'nearest':>8} {'copies':>7}"]
    results = {}
    for text in FLAGS.conditions:
        wanted = constraints.Constraints.parse(text)
        rows = {"prior": vae.sample_tensors(n, t, seed), "rejection": rejection(wanted)}
        if wanted.ranges and not wanted.style:
            rows["vectors"] = vae.sample_tensors(n, t, seed, attributes=toward(wanted))
        elif wanted.style and not wanted.ranges:
            rows["vectors"] = vae.sample_tensors(n, t, seed, style=wanted.style)
        moved = vae.constraint_model.actor_latents(vae.sample_latents(n, seed), wanted, t)
        rows["actor"] = vae.decode_phrases(moved, None, t, seed)
        rows["critics"] = vae.sample_tensors(n, t, seed, constraints=wanted, tries=1)
        rows["critics+4"] = vae.sample_tensors(n, t, seed, constraints=wanted, tries=4)
        drummers_meeting = test.groove[vae.meets(test.groove, wanted)]
        if len(drummers_meeting):
            rows["drummers"] = drummers_meeting
        results[text] = {method: figures(groove, wanted) for method, groove in rows.items()}
        for method, f in results[text].items():
            lines.append(f"{text:<42} {method:<10} {f['met']:>6.1%} {f['timekeeper']:>7.3f} {f['repetition']:>7.3f} "
                         f"{f['velocity_std']:>7.3f} {f['nearest']:>8.1f} {f['copies']:>7.1%}")
    edits = {}
    if FLAGS.edit_clips:
        lines += ["", f"Edits of test clips (hit F1 of the edited beat to the clip; reconstruction for scale):",
                  f"{'condition':<20} {'method':<22} {'met':>6} {'hit F1':>7}"]
        values = attributes.measure(test.groove)
        for text, eligible in EDITS.items():
            wanted = constraints.Constraints.parse(text)
            picks = np.flatnonzero(eligible(values))
            picks = np.random.default_rng(0).permutation(picks)[: FLAGS.edit_clips]
            clips = test.groove[picks]
            z = vae.encode_tensors(clips)
            model = vae.constraint_model
            moved = {"reconstruction": z}
            if not wanted.style:
                amounts = {name: (2.0 if low > -np.inf else -2.0) for name, (low, high) in wanted.ranges.items()}
                moved["vectors (2)"] = z + vectors.shift(amounts)
            moved["actor"] = model.actor_latents(z, wanted, t)
            for weight in (0.2, 0.5, 1.0):
                moved[f"gradient (distance {weight:g})"] = model.edit_latents(z, wanted, t, distance_weight=weight)
            edits[text] = {}
            for method, latents in moved.items():
                groove = vae.decode_tensors(latents, t, seed)
                f1 = evaluation.hit_scores(groove, clips)["hit_f1"]
                edits[text][method] = {"met": float(vae.meets(groove, wanted).mean()), "hit_f1": f1}
                lines.append(f"{text:<20} {method:<22} {edits[text][method]['met']:>6.1%} {f1:>7.3f}")
    report("\n".join(lines), {"machine": cpu_model(), "beats": n, "temperature": t, "drummers": drummers,
                              "sampling": results, "edits": edits}, FLAGS.output)


if __name__ == "__main__":
    app.run(main)
