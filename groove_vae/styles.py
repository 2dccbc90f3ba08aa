"""Style steering: a conditional prior per GMD style, and the statistics that check it.

MusicVAE (section 5.4) steers with attribute vectors: a style's mean posterior mean minus
the mean over all clips, added to a prior draw. With a 4-bar drum model that pulls every
style toward one busier profile, because a shifted prior draw still lands mostly where
no clip of the style lives. A conditional prior samples where the style's clips do: per
style, the Gaussian that matches the moments of its aggregate posterior,

    mean = mean_i(mu_i),   cov = Cov_i(mu_i) + diag(mean_i(sigma_i^2)),

over the style's clips i. Its samples match the style about as well as the model's own
reconstructions of those clips (experiments/2026-12-05-results.md: Styles). Both ways are kept, so the comparison
can be rerun: `steer="prior"` (default) or `steer="vector"`; `sampling.Sampler.latents`
draws them.

Example:
>>> priors = StylePriors.fit(mu, sigma, labels)        # posteriors of labelled clips
>>> priors.save("run/styles.npz")
>>> mean, scale, vector = priors.gaussian("funk")
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from groove_vae import groove as layout
from groove_vae.converter import NUM_CLASSES
from groove_vae.evaluation.metrics import hits_per_bar
from groove_vae.sampling import STEERING, gaussians_by_label


@dataclasses.dataclass(frozen=True, eq=False)
class StylePriors:
    """Per style: clip count, Gaussian mean [z] and its lower-triangular scale [z, z].

    `global_mean` [z] is the mean posterior over all clips, from which attribute vectors
    are measured.
    """

    names: tuple[str, ...]
    counts: np.ndarray
    means: np.ndarray
    scales: np.ndarray
    global_mean: np.ndarray

    @classmethod
    def fit(cls, mu: np.ndarray, sigma: np.ndarray, labels, min_clips: int = 20) -> "StylePriors":
        """Posteriors mu, sigma [clips, z] and each clip's style -> one Gaussian per style.

        Styles with fewer than `min_clips` clips, and unlabelled clips (""), are left out:
        too few clips give a mean that is mostly noise.
        """
        names, counts, means, scales = gaussians_by_label(mu, sigma, labels, min_clips)
        return cls(names, counts, means, scales, np.asarray(mu, np.float64).mean(axis=0).astype(np.float32))

    # === Steering ===
    def vector(self, style: str) -> np.ndarray:
        """The style's attribute vector [z]: its mean posterior minus the global one."""
        return self.means[self.index(style)] - self.global_mean

    def gaussian(self, style):
        """A style's (mean [z], scale [z, z], attribute vector [z]) as tensors. `style` is a
        name, or inside a graph a string tensor (the SavedModel's), which fails with an
        InvalidArgument error naming the known styles when it is not one of them."""
        if isinstance(style, str):
            i = self.index(style)
        else:
            known = ", ".join(self.names) or "none"
            found = tf.where(tf.equal(tf.constant(list(self.names), tf.string), style))[:, 0]
            check = tf.debugging.assert_equal(tf.size(found), 1, message=f"Unknown style. Known styles: {known}.")
            with tf.control_dependencies([check]):
                i = tf.identity(found[0]) if self.names else tf.constant(0, tf.int64)
        means = tf.constant(self.means, tf.float32)
        return (tf.gather(means, i), tf.gather(tf.constant(self.scales, tf.float32), i),
                tf.gather(means, i) - tf.constant(self.global_mean, tf.float32))

    @property
    def z_size(self) -> int:
        return self.means.shape[1]

    def index(self, style: str) -> int:
        if style not in self.names:
            known = ", ".join(self.names) or "none (no styles.npz, or no style with enough clips)"
            raise ValueError(f"Unknown style {style!r}. Known styles: {known}.")
        return self.names.index(style)

    # === Files ===
    def save(self, path: str) -> None:
        from groove_vae.files import atomic_write

        with atomic_write(path) as f:
            np.savez_compressed(f, names=np.array(self.names), counts=self.counts, means=self.means,
                                scales=self.scales.astype(np.float16), global_mean=self.global_mean)

    @classmethod
    def load(cls, path: str) -> "StylePriors":
        """Reads `save`'s file; an older file of bare attribute vectors loads as unit Gaussians
        around them, so both ways of steering still do what they did."""
        with np.load(path) as f:
            if "names" in f.files:
                return cls(tuple(f["names"].tolist()), f["counts"], f["means"], f["scales"].astype(np.float32),
                           f["global_mean"])
            vectors = {k: f[k] for k in f.files}
        if not vectors:
            return cls.empty(0)
        names = tuple(sorted(vectors))
        z_size = len(next(iter(vectors.values())))
        return cls(names, np.zeros(len(names), np.int64),
                   np.array([vectors[n] for n in names], np.float32).reshape(-1, z_size),
                   np.tile(np.eye(z_size, dtype=np.float32), (len(names), 1, 1)), np.zeros(z_size, np.float32))

    @classmethod
    def empty(cls, z_size: int) -> "StylePriors":
        return cls((), np.zeros(0, np.int64), np.zeros((0, z_size), np.float32),
                   np.zeros((0, z_size, z_size), np.float32), np.zeros(z_size, np.float32))


# === How close a set of beats is to a style ===
def density_profile(groove: np.ndarray) -> np.ndarray:
    """Hits per bar for each of the 9 instruments [9]: how busy a style is, drum by drum."""
    return np.array(list(hits_per_bar(groove).values()))


def onset_pattern(groove: np.ndarray, steps_per_bar: int = 16) -> np.ndarray:
    """How often each instrument is hit on each 16th of the bar [16, 9]: where a style plays."""
    hits = layout.hits(np.asarray(groove)) > 0.5
    return hits.reshape(len(hits), -1, steps_per_bar, NUM_CLASSES).mean(axis=(0, 1))


def style_distance(samples: np.ndarray, reference: np.ndarray) -> float:
    """L1 distance between the density profiles of two sets of clips (hits per bar)."""
    return float(np.abs(density_profile(samples) - density_profile(reference)).sum())


def pattern_distance(samples: np.ndarray, reference: np.ndarray) -> float:
    """L1 distance between the onset patterns of two sets of clips (summed over 16 x 9 cells)."""
    return float(np.abs(onset_pattern(samples) - onset_pattern(reference)).sum())


def compare_steering(vae, groove: np.ndarray, labels, num_samples: int = 200, temperature: float = 0.5,
                     strength: float = 1.0, seed: int = 1) -> list[dict]:
    """For each of `vae`'s styles: how far plain and steered samples are from the style's clips.

    `groove` [clips, steps, 27] and `labels` are the labelled clips that stand for each
    style. Every row holds the density and pattern distances of plain, vector- and
    prior-steered samples (same seed, so only the steering differs); of reconstructions
    of the style's own clips (`recon`, the closest the decoder comes); and for those two,
    `*_nearest`: the style whose clips their onset pattern is closest to.
    """
    labels = np.asarray(labels)
    references = {s: groove[labels == s] for s in vae.style_names if np.any(labels == s)}
    patterns = {s: onset_pattern(clips) for s, clips in references.items()}
    plain = vae.sample_tensors(num_samples, temperature, seed)
    rows = []
    for style, reference in references.items():
        spread = np.linspace(0, len(reference) - 1, min(num_samples, len(reference))).astype(int)
        sets = {"plain": plain,
                **{steer: vae.sample_tensors(num_samples, temperature, seed, style, strength, steer) for steer in STEERING},
                "recon": vae.decode_tensors(vae.encode_tensors(reference[spread]), temperature, seed)}
        row = {"style": style, "clips": len(reference)}
        for name, samples in sets.items():
            pattern = onset_pattern(samples)
            row[f"{name}_density"] = style_distance(samples, reference)
            row[f"{name}_pattern"] = float(np.abs(pattern - patterns[style]).sum())
            if name in ("prior", "recon"):
                row[f"{name}_nearest"] = min(patterns, key=lambda s: np.abs(patterns[s] - pattern).sum())
        rows.append(row)
    return rows
