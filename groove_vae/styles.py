"""Style steering: a conditional prior per GMD style, and the statistics that check it.

MusicVAE (section 5.4) steers with attribute vectors: a style's mean posterior mean minus
the mean over all clips, added to z ~ N(0, I). With a 4-bar drum model that pulls every
style toward one busier profile, because a shifted unit Gaussian still lands mostly where
no clip of the style lives. A conditional prior samples where the style's clips do: per
style, the Gaussian that matches the moments of its aggregate posterior,

    mean = mean_i(mu_i),   cov = Cov_i(mu_i) + diag(mean_i(sigma_i^2)),

over the style's clips i. Its samples match the style about as well as the model's own
reconstructions of those clips (docs/results.md: Styles). Both ways are kept, so the comparison
can be rerun: `steer="prior"` (default) or `steer="vector"`.

Example:
>>> priors = StylePriors.fit(mu, sigma, labels)        # posteriors of labelled clips
>>> priors.save("run/styles.npz")
>>> z = priors.latents("funk", np.random.randn(8, 256))
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from groove_vae import groove as layout
from groove_vae.converter import NUM_CLASSES
from groove_vae.evaluation import hits_per_bar

STEERING = ("prior", "vector")
NUM_ANCHORS = 1024  # Training posteriors kept for unsteered samples: 1 MB in float16.


@dataclasses.dataclass(frozen=True, eq=False)
class StylePriors:
    """Per style: clip count, Gaussian mean [z] and its lower-triangular scale [z, z].

    `global_mean` [z] is the mean posterior over all clips, from which attribute vectors
    are measured. Unsteered samples are drawn from the aggregate posterior itself: the
    posteriors N(`anchor_mu`, `anchor_sigma`) [anchors, z] of a random subset of the
    training clips, one chosen per draw. N(0, I), and even the single Gaussian with the
    aggregate posterior's moments (`prior_scale` [z, z], with `global_mean`), put draws
    between the clips' posteriors, where the decoder hesitates between grooves and
    switches timekeeper from bar to bar far more often than any clip does (docs/feel.md);
    from the anchors it switches as often as the training clips. Files without anchors
    use the Gaussian; files without either, N(0, I).
    """

    names: tuple[str, ...]
    counts: np.ndarray
    means: np.ndarray
    scales: np.ndarray
    global_mean: np.ndarray
    prior_scale: np.ndarray | None = None
    anchor_mu: np.ndarray | None = None
    anchor_sigma: np.ndarray | None = None

    @classmethod
    def fit(cls, mu: np.ndarray, sigma: np.ndarray, labels, min_clips: int = 20,
            num_anchors: int = NUM_ANCHORS) -> "StylePriors":
        """Posteriors mu, sigma [clips, z] and each clip's style -> one Gaussian per style.

        Styles with fewer than `min_clips` clips, and unlabelled clips (""), are left out:
        too few clips give a mean that is mostly noise.
        """
        mu, sigma = np.asarray(mu, np.float64), np.asarray(sigma, np.float64)
        labels = np.asarray(labels)
        if mu.shape != sigma.shape or mu.ndim != 2 or len(labels) != len(mu):
            raise ValueError(f"Expected mu and sigma [clips, z] and one label per clip, got "
                             f"{mu.shape}, {sigma.shape} and {len(labels)} labels.")
        names, counts, means, scales = [], [], [], []
        for style in sorted(set(labels.tolist()) - {""}):
            members = labels == style
            if members.sum() < min_clips:
                continue
            mean, scale = _moment_matched_gaussian(mu[members], sigma[members], f"Style {style!r}")
            names.append(style)
            counts.append(int(members.sum()))
            means.append(mean)
            scales.append(scale)
        z_size = mu.shape[1]
        global_mean, prior_scale = _moment_matched_gaussian(mu, sigma, "All clips")
        anchors = np.random.default_rng(0).permutation(len(mu))[:num_anchors]
        return cls(tuple(names), np.array(counts, np.int64), np.array(means, np.float32).reshape(-1, z_size),
                   np.array(scales, np.float32).reshape(-1, z_size, z_size), global_mean.astype(np.float32),
                   prior_scale.astype(np.float32), mu[anchors].astype(np.float32), sigma[anchors].astype(np.float32))

    def prior_latents(self, noise: np.ndarray) -> np.ndarray:
        """Standard normal noise [n, z] -> unsteered latents: each row a draw from one
        anchor clip's posterior (the anchor picked by a hash of the row, so the same noise
        gives the same latent); without anchors, the fitted Gaussian, else the noise."""
        noise = np.asarray(noise, np.float32)
        if self.has_anchors:
            picks = np.array([int.from_bytes(hashlib.sha1(row.tobytes()).digest()[:8], "little")
                              for row in noise], np.uint64) % np.uint64(len(self.anchor_mu))
            picks = picks.astype(np.int64)
            return (self.anchor_mu[picks] + self.anchor_sigma[picks] * noise).astype(np.float32)
        if self.prior_scale is None:
            return noise
        return self.global_mean + noise @ self.prior_scale.T

    @property
    def has_anchors(self) -> bool:
        return self.anchor_mu is not None and len(self.anchor_mu) > 0

    @property
    def prior_name(self) -> str:
        if self.has_anchors:
            return f"aggregate posterior ({len(self.anchor_mu)} training clips' posteriors)"
        return "standard normal" if self.prior_scale is None else "Gaussian fitted to the aggregate posterior"

    # === Steering ===
    def vector(self, style: str) -> np.ndarray:
        """The style's attribute vector [z]: its mean posterior minus the global one."""
        return self.means[self.index(style)] - self.global_mean

    def latents(self, style: str, noise: np.ndarray, strength: float = 1.0, steer: str = "prior") -> np.ndarray:
        """Standard normal noise [n, z] -> latents [n, z] steered toward `style`.

        prior: strength 0 returns the noise itself (the unconditioned prior), 1 a draw
        from the style's Gaussian, values in between move along the way with the same
        noise, so a strength slider morphs one beat; above 1 exaggerates the style: the
        draw moves further along its attribute vector, away from the average clip.
        vector: noise + strength * the attribute vector.
        """
        check_steering(steer, strength)
        noise = np.asarray(noise, np.float32)
        plain = self.prior_latents(noise)
        if steer == "vector":
            return plain + strength * self.vector(style)
        i = self.index(style)
        styled = self.means[i] + noise @ self.scales[i].T
        if strength > 1.0:
            return styled + (strength - 1.0) * self.vector(style)
        return strength * styled + (1.0 - strength) * plain

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

        prior = {} if self.prior_scale is None else {"prior_scale": self.prior_scale}
        if self.anchor_mu is not None:
            prior.update(anchor_mu=self.anchor_mu.astype(np.float16), anchor_sigma=self.anchor_sigma.astype(np.float16))
        with atomic_write(path) as f:
            np.savez_compressed(f, names=np.array(self.names), counts=self.counts, means=self.means,
                                scales=self.scales.astype(np.float16), global_mean=self.global_mean, **prior)

    @classmethod
    def load(cls, path: str) -> "StylePriors":
        """Reads `save`'s file; an older file of bare attribute vectors loads as unit Gaussians
        around them, so both ways of steering still do what they did."""
        with np.load(path) as f:
            if "names" in f.files:
                prior_scale = f["prior_scale"].astype(np.float32) if "prior_scale" in f.files else None
                anchors = [f[k].astype(np.float32) if k in f.files else None for k in ("anchor_mu", "anchor_sigma")]
                return cls(tuple(f["names"].tolist()), f["counts"], f["means"], f["scales"].astype(np.float32),
                           f["global_mean"], prior_scale, *anchors)
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


def _moment_matched_gaussian(mu: np.ndarray, sigma: np.ndarray, what: str):
    """Posteriors [clips, z] -> the mean [z] and Cholesky factor [z, z] of the Gaussian with
    their aggregate posterior's moments: Cov(mu) + diag(mean sigma^2)."""
    mean = mu.mean(axis=0)
    centred = mu - mean
    cov = centred.T @ centred / len(centred) + np.diag((sigma**2).mean(axis=0))
    try:
        return mean, np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(f"{what}: the posterior covariance is not positive definite (sigma is zero somewhere?).") from None


def check_steering(steer: str, strength: float) -> None:
    if steer not in STEERING:
        raise ValueError(f"steer must be one of {', '.join(STEERING)}, got {steer!r}.")
    if not strength >= 0.0:
        raise ValueError(f"strength must be 0 or more (0: no style, 1: the style), got {strength}.")


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
