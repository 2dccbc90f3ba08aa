"""How good a set of grooves is, measured as the MusicVAE paper (Table 1) and GrooVAE measure it.

Plain numpy on groove tensors ([clips, steps, 27]: hits, velocities in [0, 1], offsets
in [-1, 1]), so each can be checked on hand-made cases; `runners` fills them in from a model.
"""

from __future__ import annotations

import math

import numpy as np

from groove_vae import groove as layout
from groove_vae.converter import STEPS_PER_QUARTER
from groove_vae.drums import DRUM_CLASS_NAMES, NUM_CLASSES

TIMEKEEPERS = layout.TIMEKEEPERS


hits_of, velocities_of, offsets_of = layout.hits, layout.velocities, layout.offsets


timekeepers = layout.timekeepers


def step_accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Fraction of steps whose set of 9 drum classes is exactly right (paper, Table 1)."""
    return float(np.mean(np.all(hits_of(predicted) == hits_of(truth), axis=-1)))


def hit_scores(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Precision, recall and F1 of hits over (step, instrument) cells."""
    p, t = hits_of(predicted) > 0.5, hits_of(truth) > 0.5
    true_positives = float(np.sum(p & t))
    precision = true_positives / max(float(np.sum(p)), 1.0)
    recall = true_positives / max(float(np.sum(t)), 1.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"hit_precision": precision, "hit_recall": recall, "hit_f1": f1}


def hit_scores_per_clip(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Precision, recall, F1 and cell accuracy (silent cells included) of each clip's hits,
    averaged over clips: how Haki et al. (NIME 2022) count with their GrooveEvaluator
    ("Relative - Precision", "Relative - Accuracy"), a clip with no predicted hits scoring
    precision 0. Pooled figures (`hit_scores`) weigh busy clips more."""
    p, t = hits_of(predicted) > 0.5, hits_of(truth) > 0.5
    true_positives = np.sum(p & t, axis=(1, 2)).astype(np.float64)
    predicted_hits, true_hits = np.sum(p, axis=(1, 2)), np.sum(t, axis=(1, 2))
    precision = np.where(predicted_hits > 0, true_positives / np.maximum(predicted_hits, 1), 0.0)
    recall = np.where(true_hits > 0, true_positives / np.maximum(true_hits, 1), 0.0)
    f1 = np.where(predicted_hits + true_hits > 0, 2 * true_positives / np.maximum(predicted_hits + true_hits, 1), 0.0)
    accuracy = np.mean((p == t).reshape(len(p), -1), axis=1)
    return {"hit_precision_per_clip": float(precision.mean()), "hit_recall_per_clip": float(recall.mean()),
            "hit_f1_per_clip": float(f1.mean()), "hit_accuracy_per_clip": float(accuracy.mean())}


def untapped_hit_share(predicted: np.ndarray, rhythm: np.ndarray) -> float:
    """Of the hits played, the share on steps the rhythm [clips, steps, 27] leaves silent:
    Drumify's own additions to what was tapped."""
    hits = hits_of(predicted) > 0.5
    silent = ~np.any(hits_of(rhythm) > 0.5, axis=-1)
    return float(np.sum(hits & silent[..., None]) / max(int(np.sum(hits)), 1))


def timing_errors(predicted: np.ndarray, truth: np.ndarray, qpm: np.ndarray) -> dict[str, float]:
    """Velocity MAE (MIDI units) and offset MAE (milliseconds at each clip's tempo),
    on cells that are hits in both."""
    both = (hits_of(predicted) > 0.5) & (hits_of(truth) > 0.5)
    if not both.any():
        return {"velocity_mae": math.nan, "offset_mae_ms": math.nan}
    velocity_error = np.abs(velocities_of(predicted) - velocities_of(truth)) * 127.0
    step_ms = 60000.0 / np.asarray(qpm, np.float64) / STEPS_PER_QUARTER  # [clips]
    # An offset of 1 is half a step.
    offset_error_ms = np.abs(offsets_of(predicted) - offsets_of(truth)) / 2.0 * step_ms[:, None, None]
    return {
        "velocity_mae": float(velocity_error[both].mean()),
        "offset_mae_ms": float(offset_error_ms[both].mean()),
    }


def hits_per_bar(groove: np.ndarray, steps_per_bar: int = 16) -> dict[str, float]:
    """Mean hits per bar for each instrument."""
    num_bars = groove.shape[1] / steps_per_bar
    per_class = hits_of(groove).sum(axis=(0, 1)) / (len(groove) * num_bars)
    return {name: float(v) for name, v in zip(DRUM_CLASS_NAMES, per_class)}


def feel(groove: np.ndarray, steps_per_bar: int = 16) -> dict[str, float]:
    """What a listener hears beyond the hits: loudness and its spread (MIDI units),
    microtiming spread (fractions of a 16th), and how bars relate: of consecutive bar
    pairs, the share with identical hit grids, the share of their cells that agree, how
    much of a bar's hits the bar before played too (`bar_hit_agreement`), the share whose
    timekeeper changes, how far their mean velocity jumps, and how much a hit's
    velocity changes from the same drum at the same step of the bar before (a
    drummer's bars repeat their accents; bars whose velocities are drawn afresh don't)."""
    hit = hits_of(groove) > 0.5
    velocities, offsets = velocities_of(groove)[hit] * 127.0, offsets_of(groove)[hit] / 2.0
    bars = hit.reshape(len(groove), -1, steps_per_bar, NUM_CLASSES)
    same_cells = bars[:, 1:] == bars[:, :-1]
    return {
        "velocity_mean": float(velocities.mean()) if velocities.size else math.nan,
        "velocity_std": float(velocities.std()) if velocities.size else math.nan,
        "offset_std_16ths": float(offsets.std()) if offsets.size else math.nan,
        "repeated_bar_fraction": float(np.mean(np.all(same_cells, axis=(2, 3)))),
        "bar_cell_agreement": float(np.mean(same_cells)),
        "bar_hit_agreement": bar_hit_agreement(groove, steps_per_bar),
        "timekeeper_change_rate": timekeeper_change_rate(groove, steps_per_bar),
        "loudness_jump": loudness_jump(groove, steps_per_bar),
        "repeated_hit_velocity_change": repeated_hit_velocity_change(groove, steps_per_bar),
    }


def repeated_hit_velocity_change(groove: np.ndarray, steps_per_bar: int = 16) -> float:
    """Mean |velocity difference| (MIDI units) between a hit and the same drum's hit at the
    same step of the bar before, over every such pair: how well accents repeat."""
    return _repeated_hit_change(groove, velocities_of(groove) * 127.0, steps_per_bar)


def repeated_hit_offset_change(groove: np.ndarray, steps_per_bar: int = 16) -> float:
    """The same for offsets (16ths): how well the push and pull repeat."""
    return _repeated_hit_change(groove, offsets_of(groove) / 2.0, steps_per_bar)


def _repeated_hit_change(groove: np.ndarray, values: np.ndarray, steps_per_bar: int) -> float:
    hit = (hits_of(groove) > 0.5).reshape(len(groove), -1, steps_per_bar, NUM_CLASSES)
    values = values.reshape(hit.shape)
    both = hit[:, 1:] & hit[:, :-1]
    return float(np.abs(values[:, 1:] - values[:, :-1])[both].mean()) if both.any() else math.nan


def bar_hit_agreement(groove: np.ndarray, steps_per_bar: int = 16) -> float:
    """How much of a bar's pattern the bar before played too: the mean over consecutive
    bar pairs of the F1 of one bar's hits against the other's. Drummers repeat most of a
    bar (about 0.69 on GMD's clips); a model that draws each bar's hits afresh, less."""
    hit = (hits_of(groove) > 0.5).reshape(len(groove), -1, steps_per_bar, NUM_CLASSES)
    agreement = _hits_shared(hit[:, :-1], hit[:, 1:])
    return float(np.mean(agreement)) if agreement.size else math.nan


def _hits_shared(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Bar pairs [..., steps_per_bar, 9] -> the F1 of one bar's hits against the other's,
    for each pair with a hit in either."""
    shared = (before & after).sum(axis=(-2, -1))
    total = before.sum(axis=(-2, -1)) + after.sum(axis=(-2, -1))
    return (2 * shared / np.maximum(total, 1))[total > 0]


def loudness_jump(groove: np.ndarray, steps_per_bar: int = 16) -> float:
    """Mean |change| of the mean velocity (MIDI units) between consecutive bars that both have hits."""
    jumps = _loudness_jumps(groove, range(1, groove.shape[1] // steps_per_bar), steps_per_bar)
    return float(np.mean(jumps)) if jumps.size else math.nan


def _loudness_jumps(groove: np.ndarray, bars, steps_per_bar: int) -> np.ndarray:
    """|mean velocity of bar b - that of bar b - 1| (MIDI units), for each b in `bars` and
    each performance whose two bars both have hits, bar by bar."""
    hit = (hits_of(groove) > 0.5).reshape(len(groove), -1, steps_per_bar, NUM_CLASSES)
    loudness = (velocities_of(groove).reshape(hit.shape) * hit).sum(axis=(2, 3))
    count = hit.sum(axis=(2, 3))
    mean = loudness / np.maximum(count, 1)
    jumps = [np.abs(mean[:, b] - mean[:, b - 1])[(count[:, b] > 0) & (count[:, b - 1] > 0)] * 127 for b in bars]
    return np.concatenate(jumps) if jumps else np.zeros(0)


def feel_by_instrument(groove: np.ndarray) -> dict[str, dict[str, float]]:
    """Per drum class with hits: velocity mean and spread (MIDI units), microtiming
    spread (16ths) and the number of hits. Kick, snare and hats play at different
    loudness, so a pooled spread can match the data while every drum is wrong."""
    hit = hits_of(groove) > 0.5
    result = {}
    for c, name in enumerate(DRUM_CLASS_NAMES):
        cells = hit[..., c]
        if not cells.any():
            continue
        velocity, offset = velocities_of(groove)[..., c][cells] * 127.0, offsets_of(groove)[..., c][cells] / 2.0
        result[name] = {"velocity_mean": float(velocity.mean()), "velocity_std": float(velocity.std()),
                        "offset_std_16ths": float(offset.std()), "hits": int(cells.sum())}
    return result


def timekeeper_change_rate(groove: np.ndarray, steps_per_bar: int = 16) -> float:
    """The share of consecutive bar pairs, both with a timekeeper, whose timekeeper differs."""
    keeper = timekeepers(groove, steps_per_bar)
    both = (keeper[:, 1:] >= 0) & (keeper[:, :-1] >= 0)
    if not both.any():
        return math.nan
    return float(np.mean((keeper[:, 1:] != keeper[:, :-1])[both]))


FILL_DRUMS = (layout.LOW_TOM, layout.MID_TOM, layout.HIGH_TOM)


def marked_timekeeper_changes(groove: np.ndarray, steps_per_bar: int = 16) -> float:
    """The share of timekeeper changes a drummer marks: a tom, or a snare roll (3 or more
    hits), in the last beat before the change, or a crash in the first beat after it.
    Drummers switch from ride to hi-hat at a section's edge with a fill; a switch with
    neither is the "programmed" change listeners notice. NaN where nothing changes."""
    keeper = timekeepers(groove, steps_per_bar)
    changed = (keeper[:, 1:] >= 0) & (keeper[:, :-1] >= 0) & (keeper[:, 1:] != keeper[:, :-1])
    if not changed.any():
        return math.nan
    hit = hits_of(groove) > 0.5
    bars = hit.reshape(len(groove), -1, steps_per_bar, NUM_CLASSES)
    beat = steps_per_bar // 4
    last_beat, first_beat = bars[:, :-1, -beat:], bars[:, 1:, :beat]  # Either side of each boundary.
    fill = last_beat[..., list(FILL_DRUMS)].any(axis=(2, 3)) | (last_beat[..., layout.SNARE].sum(axis=2) >= 3)
    crash = first_beat[..., layout.CRASH].any(axis=2)
    return float(np.mean((fill | crash)[changed]))


def crps_binned(probs: np.ndarray, truth: np.ndarray, resolution: int = 8) -> np.ndarray:
    """The continuous ranked probability score of values in [0, 1] under distributions
    over equal bins [..., bins], uniform within each bin: the integral of
    (F(x) - [x >= truth])^2 over [0, 1], in the values' units (lower is better; for a
    point forecast it is the absolute error, so it compares distributional and
    point heads)."""
    probs = np.asarray(probs, np.float64)
    bins = probs.shape[-1]
    grid = (np.arange(bins * resolution) + 0.5) / (bins * resolution)  # Midpoints, [G].
    index, fraction = np.divmod(grid * bins, 1.0)
    index = index.astype(int)
    below = np.concatenate([np.zeros(probs.shape[:-1] + (1,)), np.cumsum(probs, -1)[..., :-1]], -1)
    cdf = below[..., index] + probs[..., index] * fraction  # [..., G]
    step = (grid >= np.asarray(truth, np.float64)[..., None]).astype(np.float64)
    return np.mean(np.square(cdf - step), axis=-1)


def active_dimensions(mu: np.ndarray, threshold: float = 0.01) -> int:
    """Latent dimensions whose posterior mean varies across clips (Burda et al., 2016)."""
    return int(np.sum(np.var(mu, axis=0) > threshold))


def within(value: float, reference: float, tolerance: float) -> bool:
    """Whether `value` lies within `tolerance` (a fraction) of `reference`."""
    return abs(value - reference) <= tolerance * abs(reference)


def split_figures(groove: np.ndarray) -> dict:
    """The data figures the feel targets are set against, for one set of clips: how many,
    the timekeeper change rate and the share of changes with a fill or crash, and each
    drum's velocity mean and spread (`feel_by_instrument`)."""
    if not len(groove):
        return {"clips": 0}
    return {"clips": len(groove), "timekeeper_change_rate": timekeeper_change_rate(groove),
            "timekeeper_changes_marked": marked_timekeeper_changes(groove), "by_drum": feel_by_instrument(groove)}


def bar_pair_scores(groove: np.ndarray, bars: list[int], steps_per_bar: int = 16) -> dict[str, float]:
    """How bar b follows bar b - 1, for each b in `bars`, over performances [n, steps, 27]:
    how often the timekeeper changes, how much of the hit grid the two bars share (F1 of
    one bar's hits against the other's), and the jump in mean velocity (MIDI units).
    Measured at window seams and at the same bars of real performances, it shows
    whether a stitched performance holds together as a drummer's does."""
    hit = (hits_of(groove) > 0.5).reshape(len(groove), -1, steps_per_bar, NUM_CLASSES)
    keeper = timekeepers(groove, steps_per_bar)
    changes, agreement = [], []
    for b in bars:
        both = (keeper[:, b] >= 0) & (keeper[:, b - 1] >= 0)
        changes += list((keeper[both, b] != keeper[both, b - 1]).astype(float))
        agreement += list(_hits_shared(hit[:, b - 1], hit[:, b]))
    mean = lambda values: float(np.mean(values)) if len(values) else math.nan  # noqa: E731
    return {"timekeeper_change_rate": mean(changes), "hit_agreement": mean(agreement),
            "loudness_jump": mean(_loudness_jumps(groove, bars, steps_per_bar))}
