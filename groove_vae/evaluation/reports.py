"""Evaluation figures as plain-text tables, for the commands to print."""

from __future__ import annotations

import math

import numpy as np

from groove_vae.drums import DRUM_CLASS_NAMES
from groove_vae.evaluation.metrics import (
    feel, feel_by_instrument, split_figures, timekeeper_change_rate, within)

def format_table(results: dict) -> str:
    """The results as a plain-text table: scalars, then hits per bar (prior vs data)."""
    lines = [f"{'metric':<36} {'value':>10}", "-" * 47]
    for key, value in results.items():
        if isinstance(value, float):
            lines.append(f"{key:<36} {value:>10.4f}")
        elif isinstance(value, int) and not isinstance(value, bool):
            lines.append(f"{key:<36} {value:>10d}")
    prior, real = results.get("hits_per_bar_prior"), results.get("hits_per_bar_data")
    if prior and real:
        lines += ["", f"{'hits per bar':<16} {'prior':>8} {'data':>8}", "-" * 34]
        for name in DRUM_CLASS_NAMES:
            lines.append(f"{name:<16} {prior[name]:>8.2f} {real[name]:>8.2f}")
        lines.append(f"{'all':<16} {sum(prior.values()):>8.2f} {sum(real.values()):>8.2f}")
    return "\n".join(lines)


def drumify_table(results: dict, num_clips: int) -> str:
    """A tap model's figures: from each clip's tapped rhythm, the drummer's hits recovered,
    pooled over cells and per clip (Haki et al.'s count), teacher-forced, played greedily and
    played as `drumify` plays; then the hits added off the taps and the timekeeper changes."""
    t = results["temperature"]
    lines = [f"Drumify: each of {num_clips} clips' tapped rhythm -> a full kit, hits against the drummer's",
             f"{'':<24} {'precision':>10} {'recall':>8} {'F1':>7}   {'per clip: precision':>20} {'recall':>7} "
             f"{'F1':>6} {'cells':>6}", "-" * 99]
    rows = (("teacher-forced", "teacher_forced"), ("greedy, the model alone", "sampled"),
            ("drumify greedy", "greedy"), (f"drumify T={t:g}", "played"))
    for label, suffix in rows:
        pooled = [results[f"hit_{k}_{suffix}"] for k in ("precision", "recall", "f1")]
        clip = [results[f"hit_{k}_per_clip_{suffix}"] for k in ("precision", "recall", "f1", "accuracy")]
        lines.append(f"{label:<24} {pooled[0]:>10.3f} {pooled[1]:>8.3f} {pooled[2]:>7.3f}   {clip[0]:>20.3f} "
                     f"{clip[1]:>7.3f} {clip[2]:>6.3f} {clip[3]:>6.3f}")
    lines += ["", "(per clip: each clip's own figures, then their mean, as Haki et al. count; cells: the share of "
              "its 64 x 9 cells, silent ones included, played right, their \"hit accuracy\" (87.4% for Magenta's "
              f"GrooVAE Tap2Drum), {results['hit_accuracy_per_clip_silent']:.3f} if nothing were played; "
              "\"the model alone\": no drumify rule)",
              f"hits on untapped steps: the model alone {results['untapped_hit_share_sampled']:.3f}, "
              f"drumify {results['untapped_hit_share_played']:.3f}",
              f"timekeeper changes between bars: the model alone {results['timekeeper_change_rate_sampled']:.3f}, "
              f"drumify greedy {results['timekeeper_change_rate_greedy']:.3f}, "
              f"drumify T={t:g} {results['timekeeper_change_rate_played']:.3f}, "
              f"drummers {results['timekeeper_change_rate_data']:.3f}"]
    return "\n".join(lines)


def feel_table(reference: np.ndarray, samples: dict[str, np.ndarray], tolerance: float = 0.10,
               beside: dict[str, np.ndarray] | None = None, reference_name: str = "reference") -> str:
    """Velocity mean, velocity spread and microtiming spread of sample sets, pooled and per
    drum, each marked "ok" when within `tolerance` of `reference`'s: the clips a model can
    learn from (its training and validation clips) when judging its samples, since GMD's
    splits were not played alike. `beside` (say, the test clips) are shown, not judged."""
    sets = {reference_name: reference, **(beside or {}), **samples}
    pooled = {name: feel(g) for name, g in sets.items()}
    per_drum = {name: feel_by_instrument(g) for name, g in sets.items()}
    header = f"{'feel':<34}" + "".join(f"{name:>18}" for name in sets)
    lines = [header, "-" * len(header)]
    references = 1 + len(beside or {})

    def row(label, values):
        cells = [f"{v:>18.3f}" for v in values[:references]]
        cells += [f"{v:>15.3f} {'ok' if within(v, values[0], tolerance) else '  '}" for v in values[references:]]
        lines.append(f"{label:<34}" + "".join(cells))

    for key in ("velocity_mean", "velocity_std", "offset_std_16ths"):
        row(f"all drums {key}", [pooled[n][key] for n in sets])
    for drum in DRUM_CLASS_NAMES:
        if drum not in per_drum[reference_name] or per_drum[reference_name][drum]["hits"] < 200:
            continue
        for key in ("velocity_mean", "velocity_std", "offset_std_16ths"):
            row(f"{drum} {key}", [per_drum[n].get(drum, {}).get(key, math.nan) for n in sets])
    for key in ("timekeeper_change_rate", "bar_hit_agreement", "loudness_jump", "repeated_hit_velocity_change"):
        values = [pooled[n][key] for n in sets]
        lines.append(f"{key:<34}" + "".join(f"{v:>18.3f}" for v in values))
    lines.append(f"(ok: within {tolerance:.0%} of the {reference_name}'s)")
    return "\n".join(lines)


def splits_table(splits: dict[str, np.ndarray], drummers: dict[str, np.ndarray], drum: str = "open_hihat") -> str:
    """Splits side by side (clips, timekeeper changes, every drum's loudness), then each
    drummer's share of them and how they play `drum`: where two splits differ, the drummers
    each holds are usually why. `splits` and `drummers` map a split's name to its clips
    [clips, steps, 27] and their drummers [clips] (see data.ClipSet.drummers)."""
    if drum not in DRUM_CLASS_NAMES:
        raise ValueError(f"Unknown drum {drum!r}; one of {', '.join(DRUM_CLASS_NAMES)}.")
    figures = {name: split_figures(groove) for name, groove in splits.items()}
    width = 16
    lines = [f"{'':<34}" + "".join(f"{name:>{width}}" for name in splits)]
    lines.append("-" * len(lines[0]))

    def row(label, cell):
        lines.append(f"{label:<34}" + "".join(f"{cell(f):>{width}}" for f in figures.values()))

    row("clips", lambda f: f"{f['clips']:,}")
    row("timekeeper changes per boundary", lambda f: f"{f.get('timekeeper_change_rate', math.nan):.3f}")
    row("  of them with a fill or crash", lambda f: f"{f.get('timekeeper_changes_marked', math.nan):.3f}")
    for name in DRUM_CLASS_NAMES:
        def loudness(f, name=name):
            d = f.get("by_drum", {}).get(name)
            return f"{d['velocity_mean']:.1f} / {d['velocity_std']:.1f}" if d else "-"
        row(f"{name} velocity mean / spread", loudness)

    names = sorted({d for ds in drummers.values() for d in ds}, key=lambda d: (len(d), d))
    lines += ["", f"By drummer: clips, timekeeper changes per boundary, {drum} velocity mean (hits)",
              f"{'drummer':<12}" + "".join(f"{name:>30}" for name in splits)]
    for d in names:
        cells = []
        for name, groove in splits.items():
            mine = groove[drummers[name] == d]
            if not len(mine):
                cells.append(f"{'-':>30}")
                continue
            played = feel_by_instrument(mine).get(drum)
            loud = f"{played['velocity_mean']:.1f} ({played['hits']})" if played else "-"
            cells.append(f"{len(mine):>7,} {timekeeper_change_rate(mine):>6.3f} {loud:>15}")
        lines.append(f"{d or '(none)':<12}" + "".join(cells))
    return "\n".join(lines)


def infill_table(scores: dict) -> str:
    """The infill scores as lines: generated hits against the drummer's, infilled and from the prior."""
    kept = ", ".join(scores["kept"])
    lines = [f"infill, keeping {kept}: the generated instruments' hits against the drummer's",
             f"{'':<34}{'infilled':>10}{'prior':>10}{'data':>10}",
             f"{'F1, hi-hats and ride':<34}{scores['timekeeper_f1_infilled']:>10.3f}{scores['timekeeper_f1_prior']:>10.3f}",
             f"{'F1, every generated instrument':<34}{scores['generated_f1_infilled']:>10.3f}"
             f"{scores['generated_f1_prior']:>10.3f}",
             f"{'generated hits per clip':<34}{scores['generated_hits_per_clip_infilled']:>10.1f}{'':>10}"
             f"{scores['generated_hits_per_clip_data']:>10.1f}",
             f"{'timekeeper changes between bars':<34}{scores['timekeeper_change_rate_infilled']:>10.3f}{'':>10}"
             f"{scores['timekeeper_change_rate_data']:>10.3f}"]
    return "\n".join(lines)
