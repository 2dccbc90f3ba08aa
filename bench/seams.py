r"""Do long performances hold together? Bar-to-bar figures at 4-bar boundaries and window seams.

Usage:
  python bench/seams.py                                  # 40 test performances, a few minutes on 2 cores
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
flags.DEFINE_integer("seed", 0, "Seed of every draw.")
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


def row(scores: dict, reference: dict) -> str:
    """Timekeeper changes, hit agreement and loudness jump, each with the drummers' in brackets."""
    return "".join(f"{scores[key]:>{width}.{digits}f} ({reference[key]:.{digits}f})"
                   for key, width, digits in (("timekeeper_change_rate", 12, 3), ("hit_agreement", 8, 3),
                                              ("loudness_jump", 8, 1)))


def main(argv):
    del argv
    from absl import logging

    logging.set_verbosity(logging.WARNING)
    import groove_vae
    from groove_vae import converter, evaluation, windows

    vae, humanizer, tapper, filler = (groove_vae.load(name, precision="float32")
                                      for name in (None, "humanize", "tap2drum", "infill"))
    grids, tempos, skipped = performances(FLAGS.performances, 32)
    print(f"{len(grids)} test performances of 32 bars or more ({skipped} skipped: not 4/4, tempo changes, ...)")
    data = np.stack(grids)
    to_grid = converter.note_sequence_to_grid

    # === Continue: boundaries after bars 4, 8 and 12 of 16 ===
    boundaries = [4, 8, 12]
    inside = [b for b in range(1, 16) if b not in boundaries]
    continued = []
    for i, grid in enumerate(grids):
        intro = converter.groove_to_note_sequence(grid[: 4 * STEPS_PER_BAR], tempos[i])
        continued.append(to_grid(vae.continue_groove(intro, 12, seed=FLAGS.seed + i))[: 16 * STEPS_PER_BAR])
    sampled = np.stack([converter.note_sequence_to_groove(ns, 16 * STEPS_PER_BAR) for ns in
                        vae.sample(len(grids), 0.5, FLAGS.seed, num_bars=16)])
    separate = vae.sample_tensors(4 * len(grids), 0.5, FLAGS.seed).reshape(len(grids), -1, converter.GROOVE_DEPTH)
    sets = {"drummers (GMD)": data[:, : 16 * STEPS_PER_BAR], "continue_groove": np.stack(continued),
            "sample(num_bars=16)": sampled, "4-bar samples, stitched": separate}
    results = {"machine": cpu_model(), "performances": len(grids), "continue": {}, "songs": {}}
    lines = ["Continue: bar b against bar b - 1, at b = 4, 8, 12 (inside: the other bars of 16)",
             f"{'':<28}{'timekeeper changes':>20}{'hit agreement':>15}{'loudness jump':>15}"]
    for name, groove in sets.items():
        at, within = evaluation.bar_pair_scores(groove, boundaries), evaluation.bar_pair_scores(groove, inside)
        results["continue"][name] = {"at_boundaries": at, "inside": within}
        lines.append(f"{name:<28}{at['timekeeper_change_rate']:>12.3f} ({within['timekeeper_change_rate']:.3f})"
                     f"{at['hit_agreement']:>8.3f} ({within['hit_agreement']:.3f})"
                     f"{at['loudness_jump']:>8.1f} ({within['loudness_jump']:.1f})")

    # === Whole songs: the bars where the output moves to another window ===
    keep = np.zeros(9, np.float32)
    keep[[0, 1]] = 1.0
    verbs = {
        "reconstruct": (vae, lambda m, w, d=None: m.decode_tensors(m.encode_tensors(w), 0.5, FLAGS.seed, d),
                        lambda g: g),
        "humanize": (humanizer, lambda m, w, d=None: m.humanize_tensors(w, FLAGS.seed, d), flat),
        "drumify": (tapper, lambda m, w, d=None: m.drumify_tensors(w, 0.5, FLAGS.seed, d), lambda g: g),
        "infill (kick, snare kept)": (filler, lambda m, w, d=None: m.infill_tensors(w, keep, 0.5, FLAGS.seed, d),
                                      lambda g: g),
    }
    lines += ["", "Whole songs (32 bars): bar b against bar b - 1 at the window seams",
              "(in brackets: the drummers' own at the same bars)",
              f"{'':<27}{'hop':>12}{'timekeeper changes':>20}{'hit agreement':>15}{'loudness jump':>15}{'s/song':>10}"]
    # Away from the seams (both bars from one window): is a figure the stitching's, or the model's everywhere?
    inside_lines = ["", "The same songs away from the seams (hop 2: both bars from one window; drummers in brackets)"]
    for name, (model, play, given) in verbs.items():
        # Each window with its own feel draws, then (the API's way) with its slice of one song's draws.
        for hop, candidates, shared in ((4, 1, True), (2, 1, True), (2, windows.CANDIDATES, False),
                                        (2, windows.CANDIDATES, True)):
            seams = windows.seams(32, 4, hop)
            play(model, np.zeros((1, 4 * STEPS_PER_BAR, converter.GROOVE_DEPTH), np.float32))  # Traced before timing.
            song_draws = (lambda copies, bars, m=model: m.feel_draws(copies, bars, FLAGS.seed)) if shared else None
            start = time.perf_counter()
            out = np.stack([windows.play(given(g), lambda *w, m=model: play(m, *w), STEPS_PER_BAR, 4, hop, candidates,
                                         song_draws) for g in grids])
            seconds = (time.perf_counter() - start) / len(grids)
            scores, reference = evaluation.bar_pair_scores(out, seams), evaluation.bar_pair_scores(data, seams)
            key = (f"hop_{hop}" + (f"_chosen_of_{candidates}" if candidates > 1 else "")
                   + ("" if shared else "_own_draws"))
            results["songs"].setdefault(name, {})[key] = {"seams": seams, **scores, "drummers": reference,
                                                          "seconds_per_song": seconds}
            label = f"{hop}" + (f", best of {candidates}" if candidates > 1 else "") + ("" if shared else ", own")
            lines.append(f"{name:<27}{label:>12}" + row(scores, reference) + f"{seconds:>10.2f}")
            if hop == 2:
                inside = [b for b in range(1, 32) if b not in seams]
                scores, reference = evaluation.bar_pair_scores(out, inside), evaluation.bar_pair_scores(data, inside)
                results["songs"][name][f"{key}_inside"] = {**scores, "drummers": reference}
                inside_lines.append(f"{name:<27}{label:>12}" + row(scores, reference))
    reference = evaluation.bar_pair_scores(data, list(range(1, 32)))
    lines.append(f"{'drummers, every bar':<27}{'':>12}{reference['timekeeper_change_rate']:>20.3f}"
                 f"{reference['hit_agreement']:>15.3f}{reference['loudness_jump']:>15.1f}")
    results["songs"]["drummers, every bar"] = reference
    lines += inside_lines
    results["command"] = "python bench/seams.py " + " ".join(f"--{k}={v}" for k, v in
                                                             (("performances", FLAGS.performances), ("seed", FLAGS.seed)))
    report("\n".join(lines), results, FLAGS.output)


if __name__ == "__main__":
    app.run(main)
