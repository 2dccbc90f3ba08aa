"""Sampling: where a latent comes from, and how the decoder's outputs become notes.

Everything a sample depends on, besides the network's weights, is here:

- `Prior`: where z is drawn from. `StandardNormal` (the VAE's nominal prior) and
  `GaussianMixture`, fitted to the training clips' posteriors and saved beside each model
  as prior.npz; a GMD style's Gaussian (`StylePriors`) steers a draw toward that style.
- `FeelMemory`: how much each hit, velocity and offset draw remembers the same drum's a
  bar before, with the hit memory tabled per temperature (`groove-vae calibrate_feel`).
- `SamplingOptions`: the one object (temperature, seed, prior, style, strength, steer,
  memory) that every verb passes down, in place of a dozen loose arguments.
- `Given` and `StepSampler`: how one decoder step's outputs become a groove step, with
  whatever the caller fixes (the hits to humanize, the instruments an infill keeps).

Every draw is made by TensorFlow ops from the seed, so the Python API, the commands, the
web app and the exported SavedModel draw the same latents and the same memory and play
the same beat (`Sampler`).

Example:
>>> sampler = Sampler(GaussianMixture.load("model/prior.npz"), styles, FeelMemory(0.5, 0.8, 0.2))
>>> z = sampler.latents(4, SamplingOptions(seed=3, style="funk"))
>>> scores = sampler.memory.scores(4, 4, seed=3, temperature=0.5)   # [4, 64, 27]
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from typing import Protocol

import numpy as np
import tensorflow as tf

from groove_vae import checks
from groove_vae import groove as layout
from groove_vae.attributes import check_amounts
from groove_vae.configs import MEMORY_TEMPERATURES  # Where a hit memory table is read.

PRIORS = ("fitted", "normal")  # The model's own prior (prior.npz), or N(0, I).
STEERING = ("prior", "vector")
PRIOR_FILE = "prior.npz"


# === Options ===
@dataclasses.dataclass(frozen=True)
class SamplingOptions:
    """How to sample: one object from the API or a command down to the decoder.

    temperature: divides the hit logits (below 1, steadier grooves; the feel loosens only
      above 1). seed: every random draw follows from it. prior: "fitted" (the model's
      prior.npz) or "normal" (N(0, I)). style, strength, steer: steer the latent toward a GMD
      style (see `Sampler.latents`). memory: (hit, velocity, timing) in place of the model's
      fitted feel memory. attributes: {attribute: amount} moves the latent along the
      model's attribute vectors (`attributes.AttributeVectors`), e.g. {"density": 1.0}.

    Values given as Python numbers are checked here; inside a graph they may be tensors.
    """

    temperature: float = 0.5
    seed: int = 0
    prior: str = "fitted"
    style: str | None = None
    strength: float = 1.0
    steer: str = "prior"
    memory: tuple[float, float, float] | None = None
    attributes: dict[str, float] | None = None

    def __post_init__(self):
        if not tf.is_tensor(self.temperature):
            checks.check_temperature(self.temperature)
        if not tf.is_tensor(self.seed):
            checks.check_seed(self.seed)
        if self.prior not in PRIORS:
            raise ValueError(f"prior must be one of {', '.join(PRIORS)}, got {self.prior!r}.")
        check_steering(self.steer, self.strength)
        if self.memory is not None and not tf.is_tensor(self.memory) and len(self.memory) != 3:
            raise ValueError(f"memory is (hit, velocity, timing), got {self.memory}.")


def check_steering(steer: str, strength: float) -> None:
    if steer not in STEERING:
        raise ValueError(f"steer must be one of {', '.join(STEERING)}, got {steer!r}.")
    if not tf.is_tensor(strength) and not 0.0 <= strength <= 3.0:
        raise ValueError(f"strength must be from 0 to 3 (0: no style, 1: the style), got {strength}.")


# === Priors ===
class Prior(Protocol):
    """A density over z that draws from standard normal noise and one uniform number."""

    z_size: int
    name: str

    def latents(self, noise: tf.Tensor, pick: tf.Tensor) -> tf.Tensor:
        """noise [n, z] ~ N(0, I) and pick [n] ~ U(0, 1) -> z [n, z], as TensorFlow ops."""

    def log_density(self, z: tf.Tensor) -> tf.Tensor:
        """log p(z) per dimension, up to a constant [n]: differentiable, so latent
        constraints can keep what they move where the prior draws."""


@dataclasses.dataclass(frozen=True)
class StandardNormal:
    """N(0, I): what the KL term pulls the posteriors toward, but not where they all are."""

    z_size: int
    name = "standard normal"

    def latents(self, noise, pick):
        return tf.convert_to_tensor(noise, tf.float32)

    def log_density(self, z):
        return -0.5 * tf.reduce_mean(tf.square(tf.convert_to_tensor(z, tf.float32)), -1)


SPREAD = 0.6  # The fitted prior's covariance scale: see GaussianMixture.


@dataclasses.dataclass(frozen=True, eq=False)
class GaussianMixture:
    """sum_k weights[k] N(means[k], spread * scales[k] scales[k]^T): a density over z.

    `fit` gives it one component per way of keeping time across the 4 bars (closed hi-hat
    throughout, ride then hi-hat, ...): the Gaussian with the moments of the training
    posteriors of the clips that keep time that way. A draw then lands where clips that
    agree on their timekeeper live, so the decoder switches timekeeper no more often than
    they do; a single Gaussian, or N(0, I), lands between such groups and switches more.
    And it lands between the clips of its group, not on one of them: the posteriors of the
    training clips themselves are so tight that the decoder replays the clip, most of all
    at a low temperature. `spread` (0.6) scales each component's covariance: draws nearer
    its centre switch timekeeper less and still copy no training clip (the A/B is in
    experiments/2026-12-06-prior.md).

    weights [K], means [K, z], scales [K, z, z] (lower-triangular Cholesky factors) and
    `names` [K], what each component holds.
    """

    weights: np.ndarray
    means: np.ndarray
    scales: np.ndarray
    spread: float = 1.0
    names: tuple[str, ...] = ()

    def __post_init__(self):
        k, z = self.means.shape
        if self.weights.shape != (k,) or self.scales.shape != (k, z, z):
            raise ValueError(f"A mixture needs weights [K], means [K, z], scales [K, z, z]; got "
                             f"{self.weights.shape}, {self.means.shape}, {self.scales.shape}.")
        if not (np.all(np.isfinite(self.means)) and np.all(np.isfinite(self.scales))
                and np.all(self.weights >= 0) and abs(self.weights.sum() - 1.0) < 1e-3 and self.spread > 0):
            raise ValueError("A mixture's weights must sum to 1, its means and scales be finite and its spread "
                             "positive.")

    @classmethod
    def fit(cls, mu: np.ndarray, sigma: np.ndarray, labels, min_clips: int = 20,
            spread: float = SPREAD) -> "GaussianMixture":
        """Posteriors mu, sigma [clips, z] and a label per clip (`timekeeper_labels`) -> one
        moment-matched Gaussian per label with at least `min_clips` clips, weighted by its
        clips. Clips labelled "" are left out."""
        names, counts, means, scales = gaussians_by_label(mu, sigma, labels, min_clips)
        if not names:
            raise ValueError(f"No label has {min_clips} clips or more: nothing to fit a prior to.")
        return cls(counts / counts.sum(), means, scales, spread, names)

    @property
    def z_size(self) -> int:
        return self.means.shape[1]

    @property
    def name(self) -> str:
        k = len(self.weights)
        return ("Gaussian fitted to the training posteriors" if k == 1
                else f"mixture of {k} Gaussians fitted to the training posteriors, one per timekeeper sequence")

    def latents(self, noise, pick):
        noise = tf.convert_to_tensor(noise, tf.float32)
        if tf.executing_eagerly():
            cumulative, means, _, factors = self._tensors()
        else:  # In a graph (the SavedModel's): its own constants.
            cumulative, means, scales = (tf.constant(array) for array in self._arrays)
            factors = tf.unstack(scales)
        k = tf.minimum(tf.searchsorted(cumulative, tf.cast(pick, tf.float32), side="right"), len(self.weights) - 1)
        # The rows that picked each component, times its factor alone: a K-th of the arithmetic
        # of every component's draw for every row (0.8 against 2.6 ms for 64 rows of 26
        # components). The same numbers eagerly and in a graph; a row's last bits can depend
        # on how many rows picked its component.
        rows = tf.dynamic_partition(tf.range(tf.shape(noise)[0]), k, len(factors))
        spread = [tf.matmul(tf.gather(noise, r), factor, transpose_b=True) for r, factor in zip(rows, factors)]
        return tf.gather(means, k) + tf.dynamic_stitch(rows, spread)

    def log_density(self, z):
        _, means, scales, _ = self._tensors()
        z = tf.convert_to_tensor(z, tf.float32)
        centred = tf.transpose(z[None] - means[:, None], [0, 2, 1])  # [K, z, n]
        whitened = tf.linalg.triangular_solve(scales, centred, lower=True)
        log_det = tf.reduce_sum(tf.math.log(tf.abs(tf.linalg.diag_part(scales))), -1)  # [K]
        log_k = np.log(np.maximum(self.weights, 1e-30)).astype(np.float32)[:, None] - log_det[:, None] - 0.5 * (
            tf.reduce_sum(tf.square(whitened), 1))
        return tf.reduce_logsumexp(log_k, 0) / self.z_size

    @functools.cached_property
    def _arrays(self):
        """The cumulative weights [K], means [K, z] and scales times sqrt(spread) [K, z, z], float32."""
        return (np.cumsum(self.weights, dtype=np.float64).astype(np.float32), self.means.astype(np.float32),
                (np.sqrt(self.spread) * self.scales).astype(np.float32))

    def _tensors(self):
        """`_arrays` as tensors, and the scales one per component, made once: converting
        26 x 256 x 256 scales took longer than the draw."""
        if "_cached_tensors" not in self.__dict__:
            tensors = tuple(tf.constant(array) for array in self._arrays)
            self.__dict__["_cached_tensors"] = (*tensors, tuple(tf.unstack(tensors[2])))
        return self.__dict__["_cached_tensors"]

    # === Files ===
    def save(self, path: str) -> None:
        """Scales in float16 (1.6 MB for 26 components of 256): as a model reads them back."""
        from groove_vae.files import atomic_write

        with atomic_write(path) as f:
            np.savez_compressed(f, weights=self.weights.astype(np.float64), means=self.means.astype(np.float32),
                                scales=self.scales.astype(np.float16), spread=np.float64(self.spread),
                                names=np.array(self.names, dtype=str))

    @classmethod
    def load(cls, path: str) -> "GaussianMixture":
        """Reads `save`'s file; a file that is not one is a ValueError naming it."""
        try:
            with np.load(path) as f:
                return cls(f["weights"].astype(np.float64), f["means"].astype(np.float32),
                           f["scales"].astype(np.float32), float(f["spread"]), tuple(f["names"].tolist()))
        except (OSError, KeyError, ValueError, EOFError) as e:
            raise ValueError(f"{path}: not a prior file (weights, means and scales of a Gaussian mixture): {e}") from None


def timekeeper_labels(groove: np.ndarray, steps_per_bar: int = 16) -> np.ndarray:
    """Each clip's timekeeper bar by bar ("2-2-2-2": closed hi-hat throughout, "8-8-2-2": ride,
    then closed hi-hat; `groove.timekeepers`), or "" where a bar has none (endings, breaks):
    what `GaussianMixture.fit` groups the training clips by."""
    keepers = layout.timekeepers(groove, steps_per_bar)
    return np.array(["" if (row < 0).any() else "-".join(map(str, row)) for row in keepers])


def gaussians_by_label(mu: np.ndarray, sigma: np.ndarray, labels, min_clips: int = 20):
    """Posteriors mu, sigma [clips, z] and a label per clip -> (names, counts [K], means [K, z],
    scales [K, z, z]): the moment-matched Gaussian (`moment_matched_gaussian`) of each label's
    clips, for labels with at least `min_clips` clips; "" is no label. Too few clips give a
    Gaussian that is mostly noise."""
    mu, sigma = np.asarray(mu, np.float64), np.asarray(sigma, np.float64)
    labels = np.asarray(labels)
    if mu.shape != sigma.shape or mu.ndim != 2 or len(labels) != len(mu):
        raise ValueError(f"Expected mu and sigma [clips, z] and one label per clip, got "
                         f"{mu.shape}, {sigma.shape} and {len(labels)} labels.")
    names, counts, means, scales = [], [], [], []
    for label in sorted(set(labels.tolist()) - {""}):
        members = labels == label
        if members.sum() < min_clips:
            continue
        mean, scale = moment_matched_gaussian(mu[members], sigma[members], f"{label!r}")
        names.append(label)
        counts.append(int(members.sum()))
        means.append(mean)
        scales.append(scale)
    z_size = mu.shape[1]
    return (tuple(names), np.array(counts, np.int64), np.array(means, np.float32).reshape(-1, z_size),
            np.array(scales, np.float32).reshape(-1, z_size, z_size))


def moment_matched_gaussian(mu: np.ndarray, sigma: np.ndarray, what: str):
    """Posteriors [clips, z] -> the mean [z] and Cholesky factor [z, z] of the Gaussian with
    their aggregate posterior's moments: Cov(mu) + diag(mean sigma^2)."""
    mean = mu.mean(axis=0)
    centred = mu - mean
    cov = centred.T @ centred / len(centred) + np.diag((sigma**2).mean(axis=0))
    try:
        return mean, np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(f"{what}: the posterior covariance is not positive definite (sigma is zero somewhere?).") from None


def load_prior(model_dir: str, z_size: int) -> Prior:
    """The prior saved with a model (its prior.npz), or N(0, I) for a model without one."""
    import os

    path = os.path.join(model_dir, PRIOR_FILE)
    if not os.path.exists(path):
        return StandardNormal(z_size)
    prior = GaussianMixture.load(path)
    if prior.z_size != z_size:
        raise ValueError(f"{path}: a prior over z of size {prior.z_size}, the model's is {z_size}; "
                         f"refit it with `groove-vae fit_prior --run_dir={model_dir}`.")
    return prior


# === Feel memory ===
@dataclasses.dataclass(frozen=True)
class FeelMemory:
    """How much each draw remembers the same drum's at the same step a bar before.

    Whether a drum plays, and where its velocity and offset fall in their distributions,
    are decided by normal scores that follow a Gaussian AR(1) from bar to bar with these
    correlations: each draw is still one from the model's distribution, but patterns,
    accents and push repeat as a drummer's do. A lower temperature already makes bars
    repeat, so `hit` is one value or one for each of MEMORY_TEMPERATURES (read linearly
    between them and held beyond). `timekeeper`: the share of each timekeeper's hit score
    that is one draw for the whole performance (`shared_timekeeper`).
    """

    hit: tuple[float, ...] = (0.0,)
    velocity: float = 0.0
    timing: float = 0.0
    timekeeper: float = 0.0

    @classmethod
    def of(cls, config) -> "FeelMemory":
        """A model config's fitted memory (its hit_memory, velocity_memory, timing_memory,
        timekeeper_memory)."""
        return cls(tuple(config.hit_memory), config.velocity_memory, config.timing_memory, config.timekeeper_memory)

    def at(self, temperature):
        """(hit, velocity, timing) at `temperature` (a float or a scalar tensor)."""
        hit = tf.constant(self.hit[0], tf.float32)
        if len(self.hit) > 1:
            temperature = tf.cast(temperature, tf.float32)
            for (t0, m0), (t1, m1) in itertools.pairwise(zip(MEMORY_TEMPERATURES, self.hit)):
                hit += (m1 - m0) * tf.clip_by_value((temperature - t0) / (t1 - t0), 0.0, 1.0)
        return hit, self.velocity, self.timing

    def scores(self, n, num_bars: int, seed, temperature, steps_per_bar: int = 16, memory=None):
        """Where the hits, velocities and offsets of `n` performances of `num_bars` are drawn:
        normal scores [n, num_bars * steps_per_bar, 27] from `seed`, each bar's remembering
        the bar before's. A 4-bar window draws its own; the windows of one long input take
        their slices of one song's, so the memory carries across the seams between them.
        `memory` (hit, velocity, timing) replaces this one's at `temperature`."""
        noise = tf.random.stateless_normal([n, num_bars, steps_per_bar, layout.GROOVE_DEPTH],
                                           seed=tf.stack([tf.cast(seed, tf.int32), 3]))
        memory = self.at(temperature) if memory is None else memory
        scores = tf.reshape(remembered(noise, memory), [n, num_bars * steps_per_bar, layout.GROOVE_DEPTH])
        return shared_timekeeper(scores, self.timekeeper, n, seed)

    def song(self, n: int, num_bars: int, seed: int, temperature: float, steps_per_bar: int = 16,
             memory=None) -> "SongDraws":
        """`scores` of one long song, made a span of bars at a time (eagerly): see `SongDraws`."""
        return SongDraws(n, num_bars, seed, self.at(temperature) if memory is None else memory, steps_per_bar,
                         self.timekeeper)


class SongDraws:
    """A song's feel draws, `FeelMemory.scores(n, num_bars, seed, ...)`, made a span of bars
    at a time, so that a song of hours never holds them all: `bars(first, stop)` is
    scores[:, first * steps_per_bar : stop * steps_per_bar], the same numbers.

    The fresh noise of a span is the same stretch of the seed's one stream of normal draws
    (its Philox counter moved on past the draws before it), and each span's first bar
    remembers the last bar made before it. Spans may overlap the one before but not start
    before it: bars before the last span's first are dropped.
    """

    def __init__(self, n: int, num_bars: int, seed: int, memory, steps_per_bar: int = 16, timekeeper: float = 0.0):
        self.n, self.num_bars, self.steps_per_bar = n, num_bars, steps_per_bar
        self.memory, self.timekeeper, self.song_seed = memory, timekeeper, seed
        self.seed = tf.stack([tf.cast(seed, tf.int32), 3])  # As `FeelMemory.scores` seeds its noise.
        self.first = 0  # The first bar kept.
        self.kept = np.zeros((n, 0, steps_per_bar, layout.GROOVE_DEPTH), np.float32)

    def bars(self, first: int, stop: int) -> np.ndarray:
        """[n, (stop - first) * steps_per_bar, 27]: the draws of bars first to stop - 1."""
        if not self.first <= first < stop <= self.num_bars:
            raise ValueError(f"Bars {first} to {stop} of a song of {self.num_bars}, after bar {self.first}: "
                             "spans of a song's draws go forward.")
        made = self.first + self.kept.shape[1]
        if stop > made:
            bar_size = self.steps_per_bar * layout.GROOVE_DEPTH
            noise = np.stack([normal_span(self.seed, (c * self.num_bars + made) * bar_size, (stop - made) * bar_size)
                              for c in range(self.n)]).reshape(self.n, stop - made, self.steps_per_bar, -1)
            previous = self.kept[:, -1] if made else None
            self.kept = np.concatenate([self.kept, remembered(tf.constant(noise), self.memory, previous).numpy()], 1)
        self.kept = self.kept[:, first - self.first :]  # Before the shared timekeeper draw: the AR(1)'s own.
        self.first = first
        scores = self.kept[:, : stop - first].reshape(self.n, -1, layout.GROOVE_DEPTH)
        return np.asarray(shared_timekeeper(tf.constant(scores), self.timekeeper, self.n, self.song_seed))


def normal_span(seed, start: int, size: int) -> np.ndarray:
    """Draws start to start + size - 1 of tf.random.stateless_normal([start + size], seed),
    without making the ones before: Philox gives 4 normal draws per counter value, so the
    counter moves on by start // 4. (Eager.)"""
    key, counter, alg = tf.raw_ops.StatelessRandomGetKeyCounterAlg(seed=seed)
    skip, lead = divmod(start, 4)
    low, high = (int(c) for c in counter.numpy())
    low += skip
    counter = tf.constant([low % 2**64, (high + low // 2**64) % 2**64], tf.uint64)
    draws = tf.raw_ops.StatelessRandomNormalV2(shape=[lead + size], key=key, counter=counter, alg=alg)
    return draws.numpy()[lead:]


def shared_timekeeper(scores, share, n, seed):
    """Normal scores [n, steps, 27] with each timekeeper's hit score (closed and open hi-hat,
    ride) mixed with one draw per performance from `seed`, `share` of its variance (each score
    still N(0, 1)): where the model wavers between hi-hat and ride, a performance keeps
    choosing alike, bar after bar and window after window."""
    if not share:
        return scores
    shared = tf.random.stateless_normal([n, 1, len(layout.TIMEKEEPERS)], seed=tf.stack([tf.cast(seed, tf.int32), 5]))
    own = np.ones(layout.GROOVE_DEPTH, np.float32)  # How much of each score is its own draw.
    own[list(layout.TIMEKEEPERS)] = np.sqrt(np.float32(1.0 - share))
    placed = np.eye(layout.GROOVE_DEPTH, dtype=np.float32)[list(layout.TIMEKEEPERS)]  # [3, 27]: where each shared draw goes.
    return scores * own + np.sqrt(np.float32(share)) * tf.matmul(tf.cast(shared, scores.dtype), placed)


def remembered(noise, memory, previous=None):
    """Fresh normal noise [n, bars, steps_per_bar, 27] -> normal scores of the same shape,
    each bar's the bar before's times `memory` plus the fresh noise times sqrt(1 - memory^2)
    (a Gaussian AR(1) across bars, each score still N(0, 1)). `memory` is (hit, velocity,
    timing); the 27 are laid out as a groove step's. `previous` [n, steps_per_bar, 27]: the
    scores of the bar before the first (none: the first bar's are its noise)."""
    if len(memory) != 3:
        raise ValueError(f"memory is (hit, velocity, timing), got {memory}.")
    memory = tf.repeat(tf.cast(tf.stack(memory), noise.dtype), layout.NUM_CLASSES)
    bars = [noise[:, 0]] if previous is None else [tf.constant(previous, noise.dtype)]
    for b in range(0 if previous is not None else 1, noise.shape[1]):
        bars.append(memory * bars[-1] + tf.sqrt(1.0 - memory**2) * noise[:, b])
    return tf.stack(bars[1:] if previous is not None else bars, axis=1)


# === One decoder step ===
@dataclasses.dataclass(frozen=True)
class Given:
    """What the caller fixes of a decoded groove; the model plays the rest.

    hits [batch, steps, 9]: the hits (humanize), the model plays velocities and offsets.
    groove [batch, steps, 27] with keep [batch, 9]: the kept instruments exactly as given,
    heard by the model as it plays the others (infill). point_feel: every hit at its
    point velocity and offset rather than a draw (greedy reconstruction, humanize's MAE).
    controls [batch, steps, c]: what a decoder with `decoder_controls` hears at each step
    (a tap model's: the tapped rhythm, `representations.decoder_controls`). rhythm [batch,
    steps] (1 = tapped): Drumify's rule, hits only on tapped steps and at least one on each
    (the drum the model finds likeliest, where it drew none), as GrooVAE's hits-as-controls
    play exactly the hits they are given.
    """

    hits: tf.Tensor | None = None
    groove: tf.Tensor | None = None
    keep: tf.Tensor | None = None
    point_feel: bool = False
    controls: tf.Tensor | None = None
    rhythm: tf.Tensor | None = None

    def rows(self, rows: slice) -> Given:
        """What is given of a slice of the batch's rows (every field but `point_feel` is batch-first)."""
        values = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        return dataclasses.replace(self, **{
            name: value[rows] for name, value in values.items() if value is not None and not isinstance(value, bool)})


class StepSampler:
    """sample(t, outputs [batch, output depth]) -> step t's sample [batch, depth]: each hit,
    velocity and offset drawn at the quantile that its normal score in `scores`
    [batch, steps, 27] gives (`FeelMemory.scores`), with what `given` fixes; `seed` [2]
    draws what a score does not decide (the drums representation's pattern)."""

    def __init__(self, representation, temperature, seed, scores, given: Given = Given()):
        self.representation = representation
        self.depth = representation.input_depth  # What the decoder hears of each step.
        self.temperature = tf.cast(temperature, tf.float32)
        self.seed = seed
        self.given = given
        self.draws_by_row = representation.draws_by_row  # Each row's draws read only its own scores.
        self.scores = scores
        self.quantiles = tf.clip_by_value(0.5 * (1.0 + tf.math.erf(tf.cast(scores, tf.float32) / 2**0.5)),
                                          1e-6, 1.0 - 1e-6)

    def rows(self, rows: slice) -> StepSampler:
        """This sampler over a slice of its batch's rows, drawing for them what it would
        draw in the whole batch (the step loop's chains, `decoders.SegmentDecoder`): only
        where `draws_by_row`."""
        if not self.draws_by_row:
            raise ValueError(f"The {self.representation.name} representation draws over the whole batch, not by row.")
        return StepSampler(self.representation, self.temperature, self.seed, self.scores[rows], self.given.rows(rows))

    def __call__(self, t, output):
        rep, given = self.representation, self.given
        step_seed = self.seed + tf.stack([0, 2 * t])
        draws = tf.gather(self.quantiles, t, axis=1)
        sample = rep.sample(output, self.temperature, step_seed, draws)
        if given.point_feel:
            hits = layout.hits(sample) if given.hits is None else given.hits[:, t]
            sample = rep.point_estimate(output, hits)
        elif given.hits is not None:
            sample = rep.force_hits(output, given.hits[:, t], self.temperature, step_seed, draws)
        if given.rhythm is not None:
            hits = on_the_taps(layout.hits(sample), output[:, : layout.NUM_CLASSES], given.rhythm[:, t])
            sample = (rep.point_estimate(output, hits) if given.point_feel else
                      rep.force_hits(output, hits, self.temperature, step_seed, draws))
        if given.groove is not None:
            sample = rep.keep_given(sample, given.groove[:, t], given.keep)
        return sample


def on_the_taps(hits, hit_logits, tapped):
    """One step's hits [batch, 9] moved onto a rhythm (`tapped` [batch], 1 = tapped): none
    where it is silent, and where it is tapped but nothing was drawn, the drum with the
    highest logit (the groove heads' first 9 outputs)."""
    tapped = tf.cast(tapped, hits.dtype)[:, None]
    hits = hits * tapped
    likeliest = tf.one_hot(tf.argmax(hit_logits, axis=-1), tf.shape(hits)[-1], dtype=hits.dtype)
    silent = tf.cast(tf.reduce_sum(hits, axis=-1, keepdims=True) == 0.0, hits.dtype)
    return hits + silent * tapped * likeliest


# === A model's whole recipe ===
class Sampler:
    """A model's prior, its style priors and its feel memory: everything that turns a seed
    into latents and draws, the same in Python and inside the SavedModel's graph."""

    def __init__(self, prior: Prior, styles, memory: FeelMemory, attributes=None):
        self.prior = prior
        self.styles = styles
        self.memory = memory
        self.attributes = attributes  # attributes.AttributeVectors, or None.
        self.normal = StandardNormal(prior.z_size)

    @property
    def z_size(self) -> int:
        return self.prior.z_size

    def latents(self, n, options: SamplingOptions) -> tf.Tensor:
        """n latents [n, z] for `options` (its seed, prior and style), as TensorFlow ops:
        `steer` of the seed's `noise`."""
        return self.steer(*self.noise(n, options.seed), options)

    def noise(self, n, seed):
        """The standard normal noise [n, z] and uniform picks [n] that a seed gives."""
        seed = tf.cast(seed, tf.int32)
        return (tf.random.stateless_normal(tf.stack([n, self.z_size]), seed=tf.stack([seed, 1])),
                tf.random.stateless_uniform(tf.reshape(n, [1]), seed=tf.stack([seed, 4])))

    def steer(self, noise, pick, options: SamplingOptions) -> tf.Tensor:
        """Noise [n, z] and picks [n] -> latents [n, z] from the prior `options` names
        ("fitted": this model's, "normal": N(0, I)), steered toward `options.style` and
        moved by `options.attributes` along the attribute vectors.

        With a style, the same noise is moved into that style's Gaussian (steer="prior"):
        strength 0 is the plain prior's draw, 1 the style's own, values between morph one
        into the other, above 1 push further along the style's attribute vector; or it is
        shifted by strength times the attribute vector (steer="vector", MusicVAE's way).
        """
        noise = tf.convert_to_tensor(noise, tf.float32)
        return self.styled(noise, pick, options) + self.shift(options.attributes)

    def shift(self, amounts) -> np.ndarray | float:
        """The latent shift [z] that attribute `amounts` ask for (0 for none)."""
        if not amounts:
            return 0.0
        if self.attributes is None:
            check_amounts(amounts, ())  # Names the file this model lacks.
        return self.attributes.shift(amounts)

    def styled(self, noise, pick, options: SamplingOptions) -> tf.Tensor:
        prior = self.normal if options.prior == "normal" else self.prior
        plain = prior.latents(noise, pick)
        if options.style is None:
            return plain
        mean, scale, vector = self.styles.gaussian(options.style)
        strength = tf.cast(options.strength, tf.float32)
        if options.steer == "vector":
            return plain + strength * vector
        styled = mean + tf.matmul(noise, scale, transpose_b=True)
        return tf.where(strength > 1.0, styled + (strength - 1.0) * vector,
                        strength * styled + (1.0 - strength) * plain)
