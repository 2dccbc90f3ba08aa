r"""Which prior should unsteered samples come from? Novelty against realism, per candidate prior.

Usage:
  python bench/priors.py                       # every candidate, 3 seeds: ~3 minutes on 2 cores, +2 to encode once
  python bench/priors.py --seeds=1 --components=4,16 --timekeeper_scales=0.45 --plot=/tmp/priors.png
  python bench/priors.py --validation_clips=500  # quicker model selection
  python bench/priors.py --save_dir=/tmp/priors   # also each fitted candidate's weights, means, scales (.npz)

Encodes the training and validation splits of groove/4bar-midionly with the bundled model
(posteriors cached under --cache, keyed by the model's weights), fits each candidate prior
to the training posteriors, draws --samples latents from each, decodes them at each
--temperatures (with the latents' seed, so every candidate hears the same feel draws),
for each of --seeds seeds, and measures (the table: means over the seeds):

  novelty   against the training clips' 64 x 9 hit grids (groove_vae.novelty): exact
            copies, within 4 cells, mean distance to the nearest clip, duplicates among
            the samples, empty samples.
  realism   the figures of groove_vae.evaluation beside the test split's drummers'
            (the split the model never saw): timekeeper changes per bar boundary, the
            share of those a fill or crash marks, and the unmarked ones per bar boundary
            (the switches that sound programmed), hits a bar shares with the bar before
            (F1), loudness jump between bars, velocity change at a repeated hit, velocity
            mean and spread, hits per bar. `realism_gap` folds them into one number: the
            mean over those seven figures (marked changes aside) of |log(figure / drummers')|,
            so 0.1 is "10% off on average"; lower is better.

Candidates (each is, at sampling time, component weights [K], means [K, z] and scales:
Cholesky factors [K, z, z] or diagonals [K, z]; a draw picks a component with a uniform
number and returns mean_k + sqrt(s) * L_k @ eps, with s the covariance scale):

  anchors        today's: 1,024 training clips' posteriors N(mu_i, sigma_i^2), picked as
                 StylePriors.fit picks them (default_rng(0).permutation).
  anchors+0.6    the same, each widened: sigma_i^2 + 0.6^2.
  gaussian       one Gaussian with the aggregate posterior's moments (styles.npz's).
  gmm-pca        a Gaussian mixture fitted by EM (scikit-learn, full covariances) to
                 --draws_per_clip draws z = mu + sigma * eps of every training posterior,
                 projected on the top --subspace_dims principal directions of the training
                 mu, with one full-covariance Gaussian for the rest of z (where mu moves
                 little); K chosen by the mean log-likelihood of the validation clips'
                 posterior draws. Also drawn at each covariance scale in --scales.
  timekeepers    one moment-matched Gaussian per timekeeper sequence of the training clips
                 ("2-2-2-2": closed hi-hat in all four bars, "8-8-2-2": ride, then hi-hat),
                 each with at least 20 clips, weighted by its clips (`fit_timekeeper_mixture`).
                 Also drawn at each covariance scale in --timekeeper_scales.
  The validation log-likelihood of every candidate is printed beside its fit time.

(A mixture with diagonal covariances in all 256 dimensions was tried too: K=4 took 115 s
to fit on 2 cores, scored -353.6 nats on the validation draws against the single
Gaussian's -345.4, and sampled like the Gaussian; it is not run.)

Writes the figures (JSON) to --output and a scatter of realism against novelty (mean
distance to the nearest training clip) for each candidate and temperature to --plot.
"""

import dataclasses
import hashlib
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from absl import app, flags

from machine import cpu_model, report  # bench/ is on sys.path when a bench script runs.

flags.DEFINE_integer("samples", 1000, "Latents drawn from each candidate (at most 1,024: one decode batch).")
flags.DEFINE_integer("seed", 7, "Seed of the latent draws and of the decoder's draws (the first, with --seeds).")
flags.DEFINE_integer("seeds", 3, "Draw and decode with this many seeds from --seed on; the table shows their means.")
flags.DEFINE_list("temperatures", ["0.5", "1.0"], "Decode temperatures.")
flags.DEFINE_integer("draws_per_clip", 4, "Posterior draws per training clip that the mixtures are fitted to.")
flags.DEFINE_list("components", ["1", "4", "16", "32", "64"], "gmm-pca's mixture sizes K to choose among.")
flags.DEFINE_integer("subspace_dims", 16, "gmm-pca's principal directions of mu (0: as many as hold 99% of "
                     "its variance, 56 for the bundled model: slow).")
flags.DEFINE_list("scales", ["0.5"], "Covariance scales s < 1 to draw the chosen gmm-pca at, besides 1.")
flags.DEFINE_list("timekeeper_scales", ["0.6", "0.45"], "The same for the timekeeper mixture.")
flags.DEFINE_integer("validation_clips", 0, "Validation clips whose posterior draws choose K (0: all).")
flags.DEFINE_integer("max_iter", 200, "EM iterations at most per mixture.")
flags.DEFINE_string("cache", "/tmp/groove_vae_priors", "Where posteriors are cached.")
flags.DEFINE_string("save_dir", "", "If set, each fitted candidate's weights, means and scales go to "
                    "<save_dir>/<name>.npz.")
flags.DEFINE_string("output", "bench/priors.json", "Where to write the figures (JSON).")
flags.DEFINE_string("plot", "experiments/img/priors.png", "Where to write the scatter (PNG).")
FLAGS = flags.FLAGS

TFDS_NAME = "groove/4bar-midionly"
NUM_ANCHORS = 1024  # As styles.NUM_ANCHORS.
STEPS_PER_BAR = 16
REALISM = (  # (key, label, digits, counts in realism_gap)
    ("timekeeper_change_rate", "timekeeper changes", 3, True),
    ("marked_timekeeper_changes", "marked by a fill", 2, False),
    ("unmarked_timekeeper_changes", "unmarked", 3, False),
    ("bar_hit_agreement", "hits shared", 3, True),
    ("loudness_jump", "loud jump", 1, True),
    ("repeated_hit_velocity_change", "vel change", 1, True),
    ("velocity_mean", "vel mean", 1, True),
    ("velocity_std", "vel std", 1, True),
    ("hits_per_bar", "hits/bar", 1, True),
)


# === Candidates ===
@dataclasses.dataclass
class Mixture:
    """A prior as it runs at sampling time: z = means[k] + sqrt(scale) * L_k @ eps, k ~ weights.
    `scales` is [K, z, z] (lower-triangular Cholesky factors) or [K, z] (diagonal ones)."""

    weights: np.ndarray
    means: np.ndarray
    scales: np.ndarray
    fit_s: float = 0.0
    log_likelihood: object = None  # z [n, z] -> [n]; None: `mixture_log_likelihood`.

    def sample(self, n: int, seed: int, scale: float = 1.0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        picks = np.minimum(np.searchsorted(np.cumsum(self.weights), rng.random(n) * self.weights.sum(), side="right"),
                           len(self.weights) - 1)
        eps = rng.standard_normal((n, self.means.shape[1]))
        if self.scales.ndim == 2:
            spread = self.scales[picks] * eps
        else:
            spread = np.einsum("nij,nj->ni", self.scales[picks], eps)
        return (self.means[picks] + math.sqrt(scale) * spread).astype(np.float32)

    @property
    def size_bytes(self) -> int:
        """float32 bytes to ship it: weights, means and scales (a Cholesky factor's upper half is zeros)."""
        return 4 * (self.weights.size + self.means.size + self.scales.size)


def mixture_log_likelihood(mixture: Mixture, z: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """log p(z) [n] under a mixture, per row: diagonal scales by matrix products, full ones by
    a triangular solve per component."""
    from scipy.linalg import solve_triangular
    from scipy.special import logsumexp

    z = np.asarray(z, np.float64)
    d = z.shape[1]
    log_w = np.log(mixture.weights / mixture.weights.sum())
    out = []
    for start in range(0, len(z), chunk):
        x = z[start:start + chunk]
        if mixture.scales.ndim == 2:
            inv = 1.0 / mixture.scales.astype(np.float64) ** 2
            m = mixture.means.astype(np.float64)
            maha = (x**2) @ inv.T - 2 * x @ (m * inv).T + np.sum(m**2 * inv, axis=1)
            log_det = np.sum(np.log(mixture.scales.astype(np.float64)), axis=1)
        else:
            maha = np.empty((len(x), len(log_w)))
            log_det = np.empty(len(log_w))
            for k, L in enumerate(mixture.scales.astype(np.float64)):
                maha[:, k] = np.sum(solve_triangular(L, (x - mixture.means[k]).T, lower=True) ** 2, axis=0)
                log_det[k] = np.sum(np.log(np.diag(L)))
        out.append(logsumexp(log_w - 0.5 * maha - log_det - 0.5 * d * math.log(2 * math.pi), axis=1))
    return np.concatenate(out)


def fit_anchors(mu, sigma, widen: float = 0.0) -> Mixture:
    """Today's prior: NUM_ANCHORS training posteriors, picked as StylePriors.fit picks them."""
    start = time.perf_counter()
    picks = np.random.default_rng(0).permutation(len(mu))[:NUM_ANCHORS]
    scales = np.sqrt(sigma[picks].astype(np.float64) ** 2 + widen**2)
    return Mixture(np.full(len(picks), 1.0 / len(picks)), mu[picks].astype(np.float64), scales,
                   time.perf_counter() - start)


def fit_gaussian(mu, sigma) -> Mixture:
    """The Gaussian with the aggregate posterior's moments: Cov(mu) + diag(mean sigma^2)."""
    from groove_vae.sampling import moment_matched_gaussian

    start = time.perf_counter()
    mean, scale = moment_matched_gaussian(mu.astype(np.float64), sigma.astype(np.float64), "All clips")
    return Mixture(np.ones(1), mean[None], scale[None], time.perf_counter() - start)


def posterior_draws(mu, sigma, draws: int, seed: int) -> np.ndarray:
    """`draws` samples z = mu + sigma * eps of each clip's posterior: the aggregate posterior."""
    rng = np.random.default_rng(seed)
    return np.concatenate([mu + sigma * rng.standard_normal(mu.shape) for _ in range(draws)]).astype(np.float64)


def fit_timekeeper_mixture(mu, sigma, groove, min_clips: int = 20) -> Mixture:
    """The bundled prior (`sampling.GaussianMixture.fit` over `sampling.timekeeper_labels`):
    one moment-matched Gaussian per timekeeper sequence with at least `min_clips` clips,
    weighted by its clips; clips with a bar without a timekeeper left out (their Gaussians
    draw near-empty beats). Drawn here at covariance scale 1 and each --timekeeper_scales."""
    from groove_vae import sampling

    start = time.perf_counter()
    fitted = sampling.GaussianMixture.fit(mu, sigma, sampling.timekeeper_labels(groove), min_clips, spread=1.0)
    return Mixture(fitted.weights, fitted.means.astype(np.float64), fitted.scales.astype(np.float64),
                   time.perf_counter() - start)


@dataclasses.dataclass
class Subspace:
    """z's centre, an orthonormal basis [z, z] whose first `dims` columns are mu's top principal
    directions, and the full covariance of the draws in the remaining directions."""

    centre: np.ndarray
    basis: np.ndarray
    dims: int
    rest_cov: np.ndarray

    @classmethod
    def fit(cls, mu, z, dims: int) -> "Subspace":
        centre = mu.mean(axis=0).astype(np.float64)
        values, vectors = np.linalg.eigh(np.cov(mu.T.astype(np.float64), bias=True))
        basis = vectors[:, np.argsort(values)[::-1]]
        if dims <= 0:
            explained = np.cumsum(np.sort(values)[::-1]) / values.sum()
            dims = int(np.searchsorted(explained, 0.99) + 1)
        rest = (z - centre) @ basis[:, dims:]
        return cls(centre, basis, dims, rest.T @ rest / len(rest))

    def split(self, z):
        y = (z - self.centre) @ self.basis
        return y[:, : self.dims], y[:, self.dims:]

    def rest_log_likelihood(self, rest):
        L = np.linalg.cholesky(self.rest_cov)
        from scipy.linalg import solve_triangular

        maha = np.sum(solve_triangular(L, rest.T, lower=True) ** 2, axis=0)
        return -0.5 * maha - np.sum(np.log(np.diag(L))) - 0.5 * rest.shape[1] * math.log(2 * math.pi)


def fit_gmm_pca(subspace: Subspace, z, k: int, seed: int, max_iter: int) -> Mixture:
    """EM with full covariances in the principal subspace; each component's covariance in z is
    basis @ blockdiag(C_k, rest_cov) @ basis.T, given as its Cholesky factor."""
    from sklearn.mixture import GaussianMixture

    start = time.perf_counter()
    head, _ = subspace.split(z)
    gmm = GaussianMixture(k, covariance_type="full", random_state=seed, max_iter=max_iter, reg_covar=1e-4).fit(head)
    fit_s = time.perf_counter() - start
    d, size = subspace.dims, subspace.basis.shape[0]
    means = subspace.centre + gmm.means_ @ subspace.basis[:, :d].T
    scales = np.empty((k, size, size))
    for j, cov in enumerate(gmm.covariances_):
        block = np.zeros((size, size))
        block[:d, :d], block[d:, d:] = cov, subspace.rest_cov
        full = subspace.basis @ block @ subspace.basis.T
        scales[j] = np.linalg.cholesky((full + full.T) / 2)

    def log_likelihood(x):  # The same density, from its two independent blocks (the basis is orthonormal).
        head, rest = subspace.split(np.asarray(x, np.float64))
        return gmm.score_samples(head) + subspace.rest_log_likelihood(rest)

    return Mixture(gmm.weights_, means, scales, fit_s, log_likelihood)


def select(fit, ks, validation_z, label: str) -> tuple[Mixture, dict]:
    """Fits a mixture for each K; keeps the one whose validation draws are most likely."""
    best, table = None, {}
    for k in ks:
        mixture = fit(k)
        ll = float(np.mean(log_likelihood(mixture, validation_z)))
        table[k] = {"validation_log_likelihood": ll, "fit_s": mixture.fit_s}
        print(f"  {label} K={k:<4} validation log-likelihood {ll:9.2f}  fit {mixture.fit_s:6.1f} s", flush=True)
        if best is None or ll > best[1]:
            best = (mixture, ll, k)
    best[0].k = best[2]
    return best[0], table


def log_likelihood(mixture: Mixture, z) -> np.ndarray:
    return mixture.log_likelihood(z) if mixture.log_likelihood else mixture_log_likelihood(mixture, z)


# === Data and the model ===
def posteriors(vae, model_dir: str, split: str):
    """The split's clips and their posteriors mu, sigma [clips, z], cached by the model's weights."""
    from groove_vae import data

    clips = data.load_split(TFDS_NAME, split, vae.config.num_steps)
    digest = hashlib.sha1()
    for name in sorted(os.listdir(model_dir)):
        if name.endswith((".npz", ".json", ".index")) or ".data-" in name:
            with open(os.path.join(model_dir, name), "rb") as f:
                digest.update(f.read())
    digest.update(clips.groove.tobytes()[:1 << 20] + str(clips.groove.shape).encode())
    path = os.path.join(FLAGS.cache, f"posteriors-{split}-{digest.hexdigest()[:12]}.npz")
    if os.path.exists(path):
        with np.load(path) as f:
            return clips, f["mu"], f["sigma"]
    mu, sigma = vae.posterior_tensors(clips.groove)
    os.makedirs(FLAGS.cache, exist_ok=True)
    np.savez(path, mu=mu, sigma=sigma)
    return clips, mu, sigma


def realism(groove: np.ndarray) -> dict:
    """The figures a listener notices beyond the hit grid's novelty (see the module docstring)."""
    from groove_vae import evaluation

    feel = evaluation.feel(groove, STEPS_PER_BAR)
    hits = (groove[..., :9] > 0.5).sum()
    figures = {key: feel[key] for key in ("timekeeper_change_rate", "bar_hit_agreement", "loudness_jump",
                                          "repeated_hit_velocity_change", "velocity_mean", "velocity_std")}
    figures["marked_timekeeper_changes"] = evaluation.marked_timekeeper_changes(groove, STEPS_PER_BAR)
    # Per bar boundary: the changes no fill or crash marks, the ones a listener hears as programmed.
    figures["unmarked_timekeeper_changes"] = (figures["timekeeper_change_rate"]
                                              * (1 - figures["marked_timekeeper_changes"]))
    figures["hits_per_bar"] = float(hits / (len(groove) * groove.shape[1] / STEPS_PER_BAR))
    return figures


def mean_of(figures: list[dict]) -> dict:
    """Each figure's mean over seeds; empty beats are counted over all of them."""
    return {key: (int(sum(f[key] for f in figures)) if key == "empty" else float(np.mean([f[key] for f in figures])))
            for key in figures[0]}


def realism_gap(figures: dict, drummers: dict) -> float:
    """Mean |log(figure / drummers')| over the figures that count: 0 is the drummers' own."""
    return float(np.mean([abs(math.log(figures[key] / drummers[key])) for key, _, _, counts in REALISM if counts]))


# === Output ===
def table(rows: list[dict], drummers: dict, validation: dict) -> str:
    head = (f"{'candidate':<22}{'T':>4}{'copies':>8}{'within4':>8}{'nearest':>8}{'dups':>7}{'empty':>6}"
            + "".join(f"{label:>{max(len(label) + 1, 9)}}" for _, label, _, _ in REALISM) + f"{'gap':>7}")

    def realism_cells(figures):
        return "".join(f"{figures[key]:>{max(len(label) + 1, 9)}.{digits}f}" for key, label, digits, _ in REALISM)

    def novelty_cells(n):
        return (f"{100 * n['exact_copies']:>7.1f}%{100 * n['within_4']:>7.1f}%{n['mean_nearest']:>8.1f}"
                f"{100 * n['duplicates']:>6.1f}%{n['empty']:>6g}")

    lines = [head]
    for r in rows:
        lines.append(f"{r['candidate']:<22}{r['temperature']:>4.1f}" + novelty_cells(r["novelty"])
                     + realism_cells(r["realism"]) + f"{r['realism_gap']:>7.3f}")
    lines.append(f"{'validation clips':<22}{'':>4}" + novelty_cells(validation["novelty"])
                 + realism_cells(validation["realism"]) + f"{realism_gap(validation['realism'], drummers):>7.3f}")
    lines.append(f"{'test drummers':<22}{'':>4}{'':>37}" + realism_cells(drummers) + f"{0.0:>7.3f}")
    return "\n".join(lines)


def scatter(rows: list[dict], drummers: dict, validation: dict, path: str) -> None:
    """Two panels, realism against novelty (x: mean cells to the nearest training clip): the
    timekeeper change rate (drummers' as a line) and the realism gap. Pillow alone."""
    from PIL import Image, ImageDraw

    panels = [("timekeeper changes per bar boundary", lambda r: r["realism"]["timekeeper_change_rate"],
               drummers["timekeeper_change_rate"]),
              ("realism gap (mean |log ratio| to the test drummers)", lambda r: r["realism_gap"], 0.0)]
    width, height, margin = 760, 560, 70
    image = Image.new("RGB", (2 * width, height + 140), "white")
    draw = ImageDraw.Draw(image)
    names = sorted({r["candidate"] for r in rows}, key=[r["candidate"] for r in rows].index)
    palette = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
               (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
    colour = {name: palette[i % len(palette)] for i, name in enumerate(names)}
    xs = [r["novelty"]["mean_nearest"] for r in rows] + [validation["novelty"]["mean_nearest"]]
    x_low, x_high = math.floor(min(xs) - 1), math.ceil(max(xs) + 1)
    for p, (title, value, reference) in enumerate(panels):
        left = p * width
        ys = [value(r) for r in rows] + [reference]
        y_low, y_high = 0.0, max(ys) * 1.15
        box = (left + margin, 40, left + width - 20, height - margin + 40)

        def at(x, y, box=box, y_low=y_low, y_high=y_high):
            return (box[0] + (x - x_low) / (x_high - x_low) * (box[2] - box[0]),
                    box[3] - (y - y_low) / (y_high - y_low) * (box[3] - box[1]))

        draw.rectangle(box, outline="black")
        draw.text((left + margin, 12), title, fill="black")
        for i in range(6):
            x = x_low + i * (x_high - x_low) / 5
            y = y_low + i * (y_high - y_low) / 5
            draw.text((at(x, y_low)[0] - 10, box[3] + 6), f"{x:.0f}", fill="black")
            draw.text((box[0] - 45, at(x_low, y)[1] - 6), f"{y:.3f}", fill="black")
        draw.text((box[0] + 120, box[3] + 24), "mean distance to the nearest training clip (cells; right = newer)",
                  fill="black")
        line = at(x_low, reference)[1]
        draw.line((box[0], line, box[2], line), fill=(160, 160, 160), width=1)
        draw.text((box[2] - 140, line - 14), "test drummers", fill=(120, 120, 120))
        if p == 0:
            vx, vy = at(validation["novelty"]["mean_nearest"], validation["realism"]["timekeeper_change_rate"])
        else:
            vx, vy = at(validation["novelty"]["mean_nearest"], realism_gap(validation["realism"], drummers))
        draw.rectangle((vx - 5, vy - 5, vx + 5, vy + 5), outline="black")
        draw.text((vx + 8, vy - 6), "validation clips", fill="black")
        for r in rows:
            x, y = at(r["novelty"]["mean_nearest"], value(r))
            c = colour[r["candidate"]]
            if r["temperature"] < 0.75:
                draw.ellipse((x - 5, y - 5, x + 5, y + 5), outline=c, width=2)
            else:
                draw.ellipse((x - 5, y - 5, x + 5, y + 5), fill=c)
    for i, name in enumerate(names):  # Legend.
        x, y = 40 + (i % 4) * 360, height + 70 + (i // 4) * 20
        draw.ellipse((x, y, x + 10, y + 10), fill=colour[name])
        draw.text((x + 16, y - 1), name, fill="black")
    draw.text((40, height + 50), "hollow: T=0.5   filled: T=1.0   square: the validation clips themselves",
              fill="black")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    image.save(path)
    print(f"Plot written to {path}")


def main(argv):
    del argv
    from absl import logging

    logging.set_verbosity(logging.WARNING)
    import groove_vae
    from groove_vae import bundled, data, novelty

    if not 0 < FLAGS.samples <= 1024:
        raise app.UsageError(f"--samples must be 1 to 1,024 (one decode batch), got {FLAGS.samples}.")
    temperatures = [float(t) for t in FLAGS.temperatures]
    ks = [int(k) for k in FLAGS.components]
    scales = [float(s) for s in FLAGS.scales]
    timekeeper_scales = [float(s) for s in FLAGS.timekeeper_scales]
    started = time.perf_counter()
    model_dir = bundled.resolve(None)
    vae = groove_vae.load()
    train, mu, sigma = posteriors(vae, model_dir, "train")
    validation, val_mu, val_sigma = posteriors(vae, model_dir, "validation")
    test = data.load_split(TFDS_NAME, "test", vae.config.num_steps)
    print(f"Posteriors: {len(mu)} training, {len(val_mu)} validation clips ({time.perf_counter() - started:.0f} s)",
          flush=True)
    active = int(np.sum(np.var(mu, axis=0) > 0.01))
    if FLAGS.validation_clips:
        val_mu, val_sigma = val_mu[: FLAGS.validation_clips], val_sigma[: FLAGS.validation_clips]
    z = posterior_draws(mu, sigma, FLAGS.draws_per_clip, FLAGS.seed)
    validation_z = posterior_draws(val_mu, val_sigma, FLAGS.draws_per_clip, FLAGS.seed + 1)

    candidates = {"anchors": fit_anchors(mu, sigma), "anchors+0.6": fit_anchors(mu, sigma, 0.6),
                  "gaussian": fit_gaussian(mu, sigma)}
    selection = {}
    subspace = Subspace.fit(mu, z, FLAGS.subspace_dims)
    print(f"gmm-pca: {subspace.dims} principal directions of mu ({active} dimensions with Var(mu) > 0.01); "
          "K by validation log-likelihood", flush=True)
    candidates["gmm-pca"], selection["gmm-pca"] = select(
        lambda k: fit_gmm_pca(subspace, z, k, FLAGS.seed, FLAGS.max_iter), ks, validation_z, "gmm-pca")
    candidates["timekeepers"] = fit_timekeeper_mixture(mu, sigma, train.groove)
    likelihoods = {name: float(np.mean(log_likelihood(m, validation_z))) for name, m in candidates.items()}

    if FLAGS.save_dir:
        os.makedirs(FLAGS.save_dir, exist_ok=True)
        for name, m in candidates.items():
            np.savez(os.path.join(FLAGS.save_dir, f"{name}.npz"), weights=m.weights.astype(np.float32),
                     means=m.means.astype(np.float32), scales=m.scales.astype(np.float32))
    draws = {name: (m, 1.0) for name, m in candidates.items()}
    draws.update({f"gmm-pca s={s:g}": (candidates["gmm-pca"], s) for s in scales if s != 1.0})
    draws.update({f"timekeepers s={s:g}": (candidates["timekeepers"], s) for s in timekeeper_scales if s != 1.0})
    rows = []
    seeds = list(range(FLAGS.seed, FLAGS.seed + FLAGS.seeds))
    for name, (mixture, scale) in draws.items():
        runs = {t: [] for t in temperatures}
        for seed in seeds:
            latents = mixture.sample(FLAGS.samples, seed, scale)
            for temperature in temperatures:
                groove = vae.decode_tensors(latents, temperature, seed)
                runs[temperature].append({"seed": seed, "novelty": novelty.novelty(groove, train.groove),
                                          "realism": realism(groove)})
        for temperature, per_seed in runs.items():
            rows.append({"candidate": name, "temperature": temperature, "covariance_scale": scale,
                         "novelty": mean_of([r["novelty"] for r in per_seed]),
                         "realism": mean_of([r["realism"] for r in per_seed]), "per_seed": per_seed})
        print(f"  decoded {name} ({time.perf_counter() - started:.0f} s)", flush=True)
    drummers = realism(test.groove)
    for r in rows:
        r["realism_gap"] = realism_gap(r["realism"], drummers)
    own = {"novelty": novelty.novelty(validation.groove, train.groove), "realism": realism(validation.groove)}

    results = {
        "machine": cpu_model(), "samples": FLAGS.samples, "seeds": seeds, "temperatures": temperatures,
        "training_clips": len(mu), "validation_clips_for_selection": len(val_mu),
        "draws_per_clip": FLAGS.draws_per_clip, "subspace_dims": subspace.dims, "active_dims": active,
        "candidates": {name: {"components": len(m.weights), "fit_s": m.fit_s, "size_mb": m.size_bytes / 2**20,
                              "validation_log_likelihood": likelihoods[name]} for name, m in candidates.items()},
        "selection": selection, "rows": rows, "validation_clips": own, "test_drummers": drummers,
        "seconds": time.perf_counter() - started,
    }
    several = f"seeds {seeds[0]}-{seeds[-1]}: means, empty summed" if len(seeds) > 1 else f"seed {seeds[0]}"
    lines = [f"{FLAGS.samples} samples per candidate and temperature ({several}); novelty against "
             f"{len(mu)} training clips' hit grids; realism beside the test split's {len(test)} clips",
             table(rows, drummers, own), "",
             f"{'candidate':<14}{'K':>6}{'fit s':>8}{'MB':>8}{'val log-lik':>13}"]
    for name, m in candidates.items():
        lines.append(f"{name:<14}{len(m.weights):>6}{m.fit_s:>8.1f}{m.size_bytes / 2**20:>8.1f}"
                     f"{likelihoods[name]:>13.2f}")
    lines.append(f"Total {time.perf_counter() - started:.0f} s")
    scatter(rows, drummers, own, FLAGS.plot)
    report("\n".join(lines), results, FLAGS.output)


if __name__ == "__main__":
    app.run(main)
