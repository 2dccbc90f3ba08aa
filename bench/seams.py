r"""Do long performances hold together? Bar-to-bar figures at 4-bar boundaries and window seams.

Usage:
  python bench/seams.py                                  # 40 test performances, a minute on 2 cores
  python bench/seams.py --seeds=5                        # each figure's mean and range over 5 seeds
  python bench/seams.py --performances=120 --output=bench/seams.json

Reads whole performances from the test split of groove/full-midionly and measures, for
each pair of consecutive bars that matter, how often the timekeeper (most-played of
closed hi-hat, open hi-hat, ride) changes, how much of the hit grid they share (F1),
and the jump in mean velocity (evaluation.bar_pair_scores):

  continue  the bars after 4, 8 and 12 of 16: the drummers' own; `continue_groove` from
            each performance's first 4 bars; `sample(num_bars=16)`; and four separate
            4-bar samples played one after another.
  songs     the first 32 bars of each performance through reconstruct, humanize (its hits
            given quantized and flat), drumify and infill (kick and snare kept), at the
            bars where the output moves from one window to the next: cut end to end
            (hop 4, every 4 bars), overlapping (hop 2) with each window played once, and
            overlapping with each window the best of 4 copies where it meets the one
            before (windows.choose, the API's default), with each window's feel drawn on its
            own ("own") or as its slice of one song's draws (the API's way); beside the drummers' own figures at
            the same bars; then, overlapping, at the other bars (both from one window),
            which tells a seam's figure from the model's own.
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from absl import app, flags

from machine import cpu_model, report  # bench/ is on sys.path when a bench script runs.

flags.DEFINE_integer("performances", 40, "Test performances to use (those of at least 32 bars, 4/4 and one tempo).")
flags.DEFINE_integer("seed", 0, "Seed of every draw (the first, with --seeds).")
flags.DEFINE_integer("seeds", 1, "Measure with this many seeds from --seed on, and print each figure's mean and range.")
flags.DEFINE_string("output", "bench/seams.json", "Where to write the figures (JSON).")
FLAGS = flags.FLAGS

STEPS_PER_BAR = 16


def performances(count: int, bars: int) -> tuple[list[np.ndarray], list[float], int]:
    """The first `bars` bars of up to `count` test performances as grids, their tempos, and how many were skipped."""
    import tensorflow_datasets as tfds

    from groove_vae import converter

    grids, tempos, skipped = [], [], 0
    for record in tfds.as_numpy(tfds.load("groove/full-midionly", split="test")):
        try:
            ns = converter.read_midi(bytes(record["midi"]), record["id"].decode())
            grid = converter.note_sequence_to_grid(ns)
        except converter.ConversionError:
            skipped += 1
            continue
        if len(grid) >= bars * STEPS_PER_BAR:
            grids.append(grid[: bars * STEPS_PER_BAR])
            tempos.append(ns.tempos[0].qpm if ns.tempos else converter.DEFAULT_QPM)
        if len(grids) == count:
            break
    return grids, tempos, skipped


def flat(grid: np.ndarray) -> np.ndarray:
    """The hits alone, quantized and at one velocity: what humanize is given."""
    from groove_vae import groove as layout

    out = np.zeros_like(grid)
    layout.hits(out)[:] = layout.hits(grid)
    layout.velocities(out)[:] = layout.hits(grid) * 0.6
    return out


KEYS = (("timekeeper_change_rate", 3), ("hit_agreement", 3), ("loudness_jump", 1))


def cell(values: list[float], digits: int, width: int) -> str:
    """The mean over seeds, with the range in brackets when there are several."""
    mean = f"{np.mean(values):.{digits}f}"
    spread = f" [{min(values):.{digits}f}-{max(values):.{digits}f}]" if len(values) > 1 else ""
    return f"{mean + spread:>{width}}"


def row(runs: list[dict], reference: dict) -> str:
    """Timekeeper changes, hit agreement and loudness jump over the seeds' `runs`, each with
    the drummers' in brackets (the same for every seed)."""
    return "".join(cell([r[key] for r in runs], digits, 22) + f" ({reference[key]:.{digits}f})"
                   for key, digits in KEYS)


def continue_figures(vae, grids, tempos, data, seed):
    """Bar-to-bar figures at and between the 4-bar boundaries of 16 bars: the drummers',
    `continue_groove` from their first 4 bars, `sample(num_bars=16)` and 4-bar samples stitched."""
    from groove_vae import converter, evaluation

    boundaries = [4, 8, 12]
    inside = [b for b in range(1, 16) if b not in boundaries]
    continued = []
    for i, grid in enumerate(grids):
        intro = converter.groove_to_note_sequence(grid[: 4 * STEPS_PER_BAR], tempos[i])
        continued.append(converter.note_sequence_to_grid(vae.continue_groove(intro, 12, seed=seed + i))
                         [: 16 * STEPS_PER_BAR])
    sampled = np.stack([converter.note_sequence_to_groove(ns, 16 * STEPS_PER_BAR) for ns in
                        vae.sample(len(grids), 0.5, seed, num_bars=16)])
    separate = vae.sample_tensors(4 * len(grids), 0.5, seed).reshape(len(grids), -1, converter.GROOVE_DEPTH)
    sets = {"drummers (GMD)": data[:, : 16 * STEPS_PER_BAR], "continue_groove": np.stack(continued),
            "sample(num_bars=16)": sampled, "4-bar samples, stitched": separate}
    return {name: {"at_boundaries": evaluation.bar_pair_scores(groove, boundaries),
                   "inside": evaluation.bar_pair_scores(groove, inside)} for name, groove in sets.items()}


def song_figures(models, grids, data, seed):
    """Each verb's 32-bar songs at the window seams and away from them, for each way of
    cutting and playing the windows; figures keyed by verb, then by way."""
    from groove_vae import converter, evaluation, windows

    vae, humanizer, tapper, filler = models
    keep = np.zeros(9, np.float32)
    keep[[0, 1]] = 1.0
    # Each verb: its model, how it plays windows (with their feel draws), what it is given, its temperature.
    verbs = {
        "reconstruct": (vae, lambda m, w, d=None: m.decode_tensors(m.encode_tensors(w), 0.5, seed, d), lambda g: g,
                        0.5),
        "humanize": (humanizer, lambda m, w, d=None: m.humanize_tensors(w, seed, d), flat, 1.0),
        "drumify": (tapper, lambda m, w, d=None: m.drumify_tensors(w, 0.5, seed, d), lambda g: g, 0.5),
        "infill (kick, snare kept)": (filler, lambda m, w, d=None: m.infill_tensors(w, keep, 0.5, seed, d),
                                      lambda g: g, 0.5),
    }
    figures = {}
    for name, (model, play, given, temperature) in verbs.items():
        # Each window with its own feel draws, then (the API's way) with its slice of one song's draws.
        for hop, candidates, shared in ((4, 1, True), (2, 1, True), (2, windows.CANDIDATES, False),
                                        (2, windows.CANDIDATES, True)):
            seams = windows.seams(32, 4, hop)
            play(model, np.zeros((1, 4 * STEPS_PER_BAR, converter.GROOVE_DEPTH), np.float32))  # Traced before timing.
            song_draws = ((lambda copies, bars, m=model, t=temperature:
                           m.feel_draws(copies, bars, seed, temperature=t)) if shared else None)
            start = time.perf_counter()
            out = np.stack([windows.play(given(g), lambda *w, m=model, p=play: p(m, *w), STEPS_PER_BAR, 4, hop,
                                         candidates, song_draws) for g in grids])
            seconds = (time.perf_counter() - start) / len(grids)
            key = (f"hop_{hop}" + (f"_chosen_of_{candidates}" if candidates > 1 else "")
                   + ("" if shared else "_own_draws"))
            label = f"{hop}" + (f", best of {candidates}" if candidates > 1 else "") + ("" if shared else ", own")
            figures.setdefault(name, {})[key] = {
                "label": label, "seams": seams, **evaluation.bar_pair_scores(out, seams),
                "drummers": evaluation.bar_pair_scores(data, seams), "seconds_per_song": seconds}
            if hop == 2:
                inside = [b for b in range(1, 32) if b not in seams]
                figures[name][f"{key}_inside"] = {"label": label, **evaluation.bar_pair_scores(out, inside),
                                                  "drummers": evaluation.bar_pair_scores(data, inside)}
    return figures


def main(argv):
    del argv
    from absl import logging

    logging.set_verbosity(logging.WARNING)
    import groove_vae
    from groove_vae import evaluation

    if FLAGS.seeds < 1:
        raise app.UsageError(f"--seeds must be 1 or more, got {FLAGS.seeds}.")
    models = [groove_vae.load(name, precision="float32") for name in (None, "humanize", "tap2drum", "infill")]
    grids, tempos, skipped = performances(FLAGS.performances, 32)
    print(f"{len(grids)} test performances of 32 bars or more ({skipped} skipped: not 4/4, tempo changes, ...)")
    data = np.stack(grids)
    seeds = list(range(FLAGS.seed, FLAGS.seed + FLAGS.seeds))
    continued = [continue_figures(models[0], grids, tempos, data, seed) for seed in seeds]
    songs = [song_figures(models, grids, data, seed) for seed in seeds]
    results = {"machine": cpu_model(), "performances": len(grids), "seeds": seeds,
               "continue": continued[0] if len(seeds) == 1 else continued,
               "songs": songs[0] if len(seeds) == 1 else songs}
    several = " (mean over seeds [their range])" if len(seeds) > 1 else ""

    header = f"{'':<28}{'timekeeper changes':>22}{'hit agreement':>22}{'loudness jump':>22}"
    lines = [f"Continue: bar b against bar b - 1, at b = 4, 8, 12 of 16 (then inside: the other bars){several}",
             header]
    for where in ("at_boundaries", "inside"):
        if where == "inside":
            lines += ["Inside the phrases", header]
        for name in continued[0]:
            lines.append(f"{name:<28}" + "".join(cell([c[name][where][key] for c in continued], digits, 22)
                                                 for key, digits in KEYS))

    lines += ["", f"Whole songs (32 bars): bar b against bar b - 1 at the window seams{several}",
              "(in brackets: the drummers' own at the same bars)",
              f"{'':<27}{'hop':>20}{'timekeeper changes':>30}{'hit agreement':>30}{'loudness jump':>30}{'s/song':>10}"]
    inside_lines = ["", "The same songs away from the seams (hop 2: both bars from one window; drummers in brackets)"]
    for name, ways in songs[0].items():
        for key, way in ways.items():
            runs = [song[name][key] for song in songs]
            text = f"{name:<27}{way['label']:>20}" + row(runs, way["drummers"])
            if key.endswith("_inside"):
                inside_lines.append(text)
            else:
                lines.append(text + f"{np.mean([r['seconds_per_song'] for r in runs]):>10.2f}")
    reference = evaluation.bar_pair_scores(data, list(range(1, 32)))
    lines.append(f"{'drummers, every bar':<27}{'':>20}" + "".join(
        f"{reference[key]:>22.{digits}f}{'':>8}" for key, digits in KEYS))
    results["drummers, every bar"] = reference
    lines += inside_lines
    results["command"] = "python bench/seams.py " + " ".join(
        f"--{k}={v}" for k, v in (("performances", FLAGS.performances), ("seed", FLAGS.seed), ("seeds", FLAGS.seeds)))
    report("\n".join(lines), results, FLAGS.output)


if __name__ == "__main__":
    app.run(main)
