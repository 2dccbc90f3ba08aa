"""Style steering by latent attribute vectors (MusicVAE, section 5.4).

A style's vector is the mean posterior mean of that style's clips minus the mean over
all clips; adding it (times a strength) to z ~ N(0, I) moves samples toward the style.
"""

from __future__ import annotations

import numpy as np

from groove_vae.evaluation import hits_per_bar


def attribute_vectors(mu: np.ndarray, styles: np.ndarray, min_clips: int = 20) -> dict[str, np.ndarray]:
    """mu [clips, z_size] and each clip's style label -> {style: mean(mu[style]) - mean(mu)}.

    Styles with fewer than `min_clips` clips are left out: their mean is mostly noise.
    """
    styles = np.asarray(styles)
    global_mean = mu.mean(axis=0)
    vectors = {}
    for style in sorted(set(styles.tolist()) - {""}):
        members = mu[styles == style]
        if len(members) >= min_clips:
            vectors[style] = (members.mean(axis=0) - global_mean).astype(np.float32)
    return vectors


def density_profile(groove: np.ndarray) -> np.ndarray:
    """Hits per bar for each of the 9 instruments: what a style's beats look like."""
    return np.array(list(hits_per_bar(groove).values()))


def style_distance(samples: np.ndarray, reference: np.ndarray) -> float:
    """L1 distance between the density profiles of two sets of clips (hits per bar)."""
    return float(np.abs(density_profile(samples) - density_profile(reference)).sum())
