"""Paths between beats: how the morph builds each step's hits, and how smooth a path is.

A latent path (slerp or linear) decoded step by step wanders: cells switch on and off
and back, and most of the change can land in one step. The morph instead plays, at each
point of a blend of K corner beats (2 for `interpolate`, 4 for the Beat Blender), each
cell that the corners disagree on when the weight of the corners that play it passes
that cell's threshold. A cell therefore changes at most once along any straight path,
only toward the far end, and the thresholds are spread evenly (by rank, within each set
of corners that play the cell), so every step of an evenly spaced path changes about
the same number of cells and a beat's density moves in a straight line between its
ends. The order comes from the model: a cell the decoder plays readily across the blend
(its mean hit probability over a few probe latents) needs less weight. The cells of one
drum at one position of the bar switch together in all four bars, so every bar of a step
plays the same pattern (no hi-hat in one bar and ride in the next within one beat).

Path figures (on hit grids [steps, 64, 9], cell by cell; d is the number of cells two
grids differ in):
  path ratio     sum of d between neighbours / d(first, last): 1 when no cell changes twice.
  largest step   the largest d between neighbours / d(first, last): 1 / (steps - 1) at best.
  toward B       of the steps that change anything, the share that end nearer the last grid.

Example:
>>> grids = np.stack([a, mid, b])          # [3, 64, 9] hits
>>> path_figures(grids)                    # {"path_ratio": 1.0, "largest_step": 0.5, "toward_b": 1.0}
"""

from __future__ import annotations

import math

import numpy as np

from groove_vae import groove as layout

METHODS = ("morph", "slerp", "linear")  # The first is the default.
DEFAULT_METHOD = METHODS[0]
TARGETS = {"path_ratio": 1.3, "largest_step": 0.3, "toward_b": 0.9}  # What a smooth path reaches.


def check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}.")


# === Figures ===
def _hit_grids(path) -> np.ndarray:
    path = np.asarray(path)
    return (layout.hits(path) if path.shape[-1] == layout.GROOVE_DEPTH else path) > 0.5


def path_figures(path) -> dict[str, float]:
    """One path, groove tensors [steps, 64, 27] or hit grids [steps, 64, 9] -> its figures
    (NaN when its ends play the same hits)."""
    grids = _hit_grids(path).reshape(len(path), -1)
    end_to_end = float(np.sum(grids[0] != grids[-1]))
    step_sizes = np.sum(grids[1:] != grids[:-1], axis=1)
    to_b = np.sum(grids != grids[-1], axis=1)
    moved = step_sizes > 0
    if end_to_end == 0:
        return {"path_ratio": math.nan, "largest_step": math.nan, "toward_b": math.nan}
    return {
        "path_ratio": float(step_sizes.sum()) / end_to_end,
        "largest_step": float(step_sizes.max()) / end_to_end,
        "toward_b": float(np.mean((to_b[1:] < to_b[:-1])[moved])),
    }


def mean_path_figures(paths) -> dict[str, float]:
    """Many paths -> each figure's mean over them (paths whose ends agree left out), and the
    worst path's largest step."""
    figures = [path_figures(p) for p in paths]
    figures = [f for f in figures if not math.isnan(f["path_ratio"])]
    if not figures:
        return {"paths": 0, "path_ratio": math.nan, "largest_step": math.nan, "toward_b": math.nan,
                "largest_step_worst": math.nan}
    mean = {key: float(np.mean([f[key] for f in figures])) for key in ("path_ratio", "largest_step", "toward_b")}
    return {"paths": len(figures), **mean, "largest_step_worst": max(f["largest_step"] for f in figures)}


def meets_targets(figures: dict[str, float]) -> bool:
    return (figures["path_ratio"] <= TARGETS["path_ratio"] and figures["largest_step"] <= TARGETS["largest_step"]
            and figures["toward_b"] >= TARGETS["toward_b"])


def figures_line(figures: dict[str, float]) -> str:
    return (f"path ratio {figures['path_ratio']:.2f}, largest step {figures['largest_step']:.3f} "
            f"(worst {figures['largest_step_worst']:.3f}), toward B {figures['toward_b']:.2f} "
            f"over {figures['paths']} paths")


# === The morph ===
def thresholds(corner_hits, probs, steps_per_bar: int = 16) -> np.ndarray:
    """Each cell's threshold: corner hit grids [K, steps, 9] (0/1) and the hit probabilities
    [M, steps, 9] the decoder gives at M probe latents across the blend -> [steps, 9] in
    (0, 1); cells all corners agree on get 0.5 (unused).

    Cells are grouped by which corners play them and by (drum, position in the bar); the
    groups of one set of corners are ranked by their mean probability, most likely first,
    and each gets the middle of its share of that set's cells as its threshold."""
    corner_hits = np.asarray(corner_hits) > 0.5
    num_corners, steps, classes = corner_hits.shape
    mean_prob = np.asarray(probs, np.float64).mean(axis=0)
    # Which corners play each cell, as a number: 0 and all-ones are agreements.
    pattern = np.tensordot(1 << np.arange(num_corners), corner_hits.astype(np.int64), axes=1)
    position = np.arange(steps)[:, None] % steps_per_bar
    group = (pattern * steps_per_bar + position) * classes + np.arange(classes)[None, :]
    result = np.full((steps, classes), 0.5)
    for p in np.unique(pattern):
        if p == 0 or p == (1 << num_corners) - 1:
            continue
        cells = pattern == p
        keys, inverse, sizes = np.unique(group[cells], return_inverse=True, return_counts=True)
        score = np.bincount(inverse, weights=mean_prob[cells]) / sizes
        # Ties broken by the key, so a plan is the same on every machine.
        order = np.lexsort((keys, -score))
        before = np.concatenate([[0], np.cumsum(sizes[order])[:-1]])
        middle = np.empty(len(keys))
        middle[order] = (before + sizes[order] / 2.0) / cells.sum()
        result[cells] = middle[inverse]
    return result


def blend_hits(corner_hits, weights, cell_thresholds) -> np.ndarray:
    """Corner hit grids [K, steps, 9], weights [P, K] (each row summing to 1) and the
    cells' thresholds -> the P points' hit grids [P, steps, 9]: a cell plays where the
    weight of the corners that play it exceeds its threshold (a corner's own weight 1
    plays exactly its hits)."""
    corner_hits = (np.asarray(corner_hits) > 0.5).astype(np.float64)
    weights = np.asarray(weights, np.float64)
    vote = np.tensordot(weights, corner_hits, axes=1)  # [P, steps, 9]
    return (vote > np.asarray(cell_thresholds)[None] + 1e-9).astype(np.float32)


# === Measuring a model's paths ===
def random_pairs(num_clips: int, num_pairs: int, seed: int = 0) -> np.ndarray:
    """`num_pairs` pairs of distinct clip indices [num_pairs, 2], the same for a seed."""
    if num_clips < 2:
        raise ValueError(f"Pairs need at least 2 clips, got {num_clips}.")
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(num_clips, 2, replace=False) for _ in range(num_pairs)])


def interpolation_paths(vae, groove, num_pairs: int = 20, num_steps: int = 9, method: str = DEFAULT_METHOD,
                        temperature: float = 0.5, seed: int = 0) -> np.ndarray:
    """`vae.interpolate_tensors` between `num_pairs` random pairs of clips [n, steps, 27]
    (`random_pairs(len(groove), num_pairs, seed)`) -> paths [num_pairs, num_steps, steps, 27]."""
    return np.stack([vae.interpolate_tensors(groove[i], groove[j], num_steps, method, temperature, seed)
                     for i, j in random_pairs(len(groove), num_pairs, seed)])
