"""The two tensor representations as model inputs, outputs, losses and samplers.

Both read the same cached groove tensors ([batch, steps, 27]); `to_inputs` turns them
into what the encoder and decoder see, and `to_groove` turns decoder samples back, so
the tensor -> MIDI path is shared.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import tensorflow as tf

from groove_vae import groove as layout
from groove_vae.converter import GROOVE_DEPTH, NUM_DRUM_PATTERNS
from groove_vae.drums import NUM_CLASSES
from groove_vae.evaluation.metrics import crps_binned

# NumPy, not a tf.constant: no TensorFlow op may run at import (multi-worker set-up comes first).
_BITS = np.array([1 << i for i in range(NUM_CLASSES)], np.int32)


def hits_to_labels(hits: tf.Tensor) -> tf.Tensor:
    """[..., 9] {0,1} hits -> [...] int32 9-bit pattern (bit i = class i)."""
    return tf.reduce_sum(tf.cast(hits > 0.5, tf.int32) * _BITS, axis=-1)


def labels_to_hits(labels: tf.Tensor) -> tf.Tensor:
    """[...] 9-bit patterns -> [..., 9] float32 hits."""
    return tf.cast(tf.bitwise.bitwise_and(labels[..., None], _BITS) > 0, tf.float32)


INPUT_TRANSFORMS = ("none", "humanize", "tap", "infill")


def hide_instruments(groove: tf.Tensor, keep: tf.Tensor) -> tf.Tensor:
    """A groove [batch, steps, 27] with only the instruments of `keep` [batch, 9] (1 = kept)
    left in it: hits, velocities and offsets of the others set to zero."""
    keep = tf.cast(keep, groove.dtype)[:, None, :]
    return groove * tf.tile(keep, [1, 1, 3])


def random_keep(batch: tf.Tensor, seed) -> tf.Tensor:
    """[batch, 9] random instrument subsets for infill training: each instrument kept
    with probability 1/2, so every subset (GrooVAE's "no hi-hats" among them) is seen."""
    return tf.cast(tf.random.stateless_uniform([batch, NUM_CLASSES], seed=seed) < 0.5, tf.float32)


def transform_inputs(groove: tf.Tensor, transform: str) -> tf.Tensor:
    """What the encoder sees of a groove [..., steps, 27] (GrooVAE's input transforms).

    ("infill" hides random instruments while training, see `random_keep`; at inference
    the caller hides the ones to generate, so here it passes the groove through.)

    "humanize": the hits alone, with no velocity or timing (a quantized, flat beat), so
    the model learns to add a drummer's dynamics and microtiming.
    "tap": every step's hits collapsed onto one instrument, keeping the loudest hit's
    velocity and offset (a tapped rhythm), so the model learns to drum a rhythm (Tap2Drum).
    """
    if transform in ("none", "infill"):
        return groove
    hits, velocity, offset = tf.split(groove, 3, axis=-1)
    if transform == "humanize":
        return tf.concat([hits, tf.zeros_like(velocity), tf.zeros_like(offset)], -1)
    if transform == "tap":
        loudest = tf.one_hot(tf.argmax(velocity * hits, axis=-1), NUM_CLASSES)
        tap = tf.reduce_max(hits, axis=-1, keepdims=True)
        first = tf.one_hot(0, NUM_CLASSES)
        return tf.concat([
            tap * first,
            tf.reduce_sum(velocity * loudest, -1, keepdims=True) * first,
            tf.reduce_sum(offset * loudest, -1, keepdims=True) * first,
        ], -1)
    raise ValueError(f"Unknown input transform {transform!r}; expected one of {INPUT_TRANSFORMS}.")


# What a decoder can hear at each step beside z and the step before, and how many numbers.
CONTROL_DEPTHS = {"none": 0, "tap": 3}


def decoder_controls(groove: tf.Tensor, controls: str) -> tf.Tensor | None:
    """What the decoder hears at each step of a groove [..., steps, 27] (GrooVAE's hits as
    controls), or None.

    "tap": the tapped rhythm, [..., steps, 3]: whether the step is tapped, and the loudest
    hit's velocity and offset, so every step's decoder knows where the taps fall (the
    encoder alone blurs them: it hears all 64 steps at once through z).
    """
    if controls == "none":
        return None
    if controls == "tap":
        tap = transform_inputs(groove, "tap")
        return tf.gather(tap, [0, NUM_CLASSES, 2 * NUM_CLASSES], axis=-1)
    raise ValueError(f"Unknown decoder controls {controls!r}; expected one of {tuple(CONTROL_DEPTHS)}.")


class Representation(Protocol):
    """What the model, the sampler and the evaluation ask of a representation; callers use
    these and the three flags, never the representation's name. Tensors are [..., depth]:
    model inputs and samples `input_depth` deep, raw decoder outputs `output_depth`, grooves 27."""

    name: str
    input_depth: int
    output_depth: int
    plays_feel: bool  # Each hit has its own velocity and offset (else a fixed velocity on the grid).
    draws_feel: bool  # They are drawn from a distribution (else played at the heads' point value).
    draws_by_row: bool  # Given quantiles, a row's draw reads only its own: a batch can be drawn in slices.

    def to_inputs(self, groove: tf.Tensor) -> tf.Tensor:
        """Groove tensors -> model inputs."""

    def to_groove(self, samples: tf.Tensor) -> tf.Tensor:
        """Samples -> groove tensors."""

    def loss(self, targets: tf.Tensor, outputs: tf.Tensor) -> tf.Tensor:
        """Per-step loss [batch, steps]: `hit_loss` plus `feel_loss`."""

    def hit_loss(self, targets: tf.Tensor, outputs: tf.Tensor) -> tf.Tensor:
        """The hits' share of the loss [batch, steps]."""

    def feel_loss(self, targets: tf.Tensor, outputs: tf.Tensor) -> tf.Tensor:
        """The velocities' and offsets' share of the loss [batch, steps]."""

    def predicted_hits(self, outputs: tf.Tensor) -> tf.Tensor:
        """Raw outputs -> the most likely hits [..., 9]."""

    def target_hits(self, targets: tf.Tensor) -> tf.Tensor:
        """Model inputs -> their hits [..., 9]."""

    def point_estimate(self, outputs: tf.Tensor, hits: tf.Tensor | None = None) -> tf.Tensor:
        """Raw outputs -> a groove of the predicted hits (or `hits`) at the heads' point feel."""

    def sample(self, outputs: tf.Tensor, temperature: tf.Tensor, seed: tf.Tensor, quantiles=None) -> tf.Tensor:
        """One step's raw outputs [batch, output_depth] -> a sample [batch, input_depth]."""

    def force_hits(self, outputs: tf.Tensor, hits: tf.Tensor, temperature=1.0, seed=None, quantiles=None) -> tf.Tensor:
        """One step's sample with the hits [batch, 9] given (humanize)."""

    def keep_given(self, sample: tf.Tensor, given: tf.Tensor, keep: tf.Tensor) -> tf.Tensor:
        """One step's sample with the instruments `keep` [batch, 9] as in the groove step `given` (infill)."""

    def feel_errors(self, outputs: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
        """Per true hit of `truth` (grooves): how far the predicted velocity and offset
        distributions are from it ("velocity_crps", "offset_crps", in the groove's units),
        and any further per-hit scores; empty where the representation plays no feel."""


class GrooveRepresentation:
    """GrooVAE with squared-error heads: per step and class a hit (sigmoid), velocity
    (sigmoid), offset (tanh). The heads predict the mean of what a drummer might play,
    so sampled velocity and timing have less spread than a drummer's."""

    name = "groove"
    heads = "mse"
    plays_feel = True
    draws_feel = False
    draws_by_row = True
    input_depth = GROOVE_DEPTH
    output_depth = GROOVE_DEPTH

    def __init__(self, masked_loss: bool = False):
        self.masked_loss = masked_loss

    def to_inputs(self, groove: tf.Tensor) -> tf.Tensor:
        return groove

    def split(self, outputs: tf.Tensor):
        """[..., 27] raw outputs -> hit logits, velocities in [0,1], offsets in [-1,1]."""
        hit_logits, velocity, offset = tf.split(outputs, 3, axis=-1)
        return hit_logits, tf.sigmoid(velocity), tf.tanh(offset)

    def loss(self, targets: tf.Tensor, outputs: tf.Tensor) -> tf.Tensor:
        """Per-step loss [batch, steps]: the hits' loss plus the feel's."""
        return self.hit_loss(targets, outputs) + self.feel_loss(targets, outputs)

    def feel_loss(self, targets: tf.Tensor, outputs: tf.Tensor) -> tf.Tensor:
        """The velocities' and offsets' share of the loss [batch, steps]: squared errors.

        Magenta sums the squared errors over all cells; `masked_loss` counts them
        only where the target has a hit.
        """
        hits, velocity, offset = tf.split(targets, 3, axis=-1)
        _, pred_velocity, pred_offset = self.split(outputs)
        squared = tf.square(pred_velocity - velocity) + tf.square(pred_offset - offset)
        if self.masked_loss:
            squared *= hits
        return tf.reduce_sum(squared, axis=-1)

    def hit_loss(self, targets: tf.Tensor, outputs: tf.Tensor) -> tf.Tensor:
        """The hits' share of the loss [batch, steps]: comparable across heads."""
        return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=layout.hits(targets), logits=outputs[..., :NUM_CLASSES]), axis=-1)

    def predicted_hits(self, outputs: tf.Tensor) -> tf.Tensor:
        """Thresholded hits (p > 0.5), for reconstruction metrics."""
        return tf.cast(outputs[..., :NUM_CLASSES] > 0.0, tf.float32)

    def target_hits(self, targets: tf.Tensor) -> tf.Tensor:
        return layout.hits(targets)

    def point_estimate(self, outputs: tf.Tensor, hits: tf.Tensor | None = None) -> tf.Tensor:
        """Raw outputs -> a groove of thresholded hits (or the `hits` given) with the heads'
        point velocity and offset (here the predicted mean), for reconstruction metrics."""
        hits = self.predicted_hits(outputs) if hits is None else hits
        _, velocity, offset = self.split(outputs)
        return tf.concat([hits, velocity * hits, offset * hits], -1)

    def sample(self, outputs: tf.Tensor, temperature: tf.Tensor, seed: tf.Tensor, quantiles=None) -> tf.Tensor:
        """One step's outputs [batch, 27] -> a groove step; hits ~ Bernoulli(sigmoid(logit/T)).

        A drum plays where its uniform number falls below its probability: `quantiles`
        [batch, 27] in (0, 1) gives those numbers (each drum's hit, then its velocity's and
        its offset's quantile, see `force_hits`), so a caller can correlate draws
        (`SegmentDecoder`'s feel memory); without them they are drawn from `seed`.
        """
        hit_logits = outputs[..., :NUM_CLASSES]
        if quantiles is None:
            noise = tf.random.stateless_uniform(tf.shape(hit_logits), seed=seed)
        else:
            noise = tf.cast(quantiles[..., :NUM_CLASSES], hit_logits.dtype)
        hits = tf.cast(noise < tf.sigmoid(hit_logits / temperature), outputs.dtype)
        return self.force_hits(outputs, hits, temperature, seed, quantiles)

    def force_hits(self, outputs: tf.Tensor, hits: tf.Tensor, temperature=1.0, seed=None, quantiles=None) -> tf.Tensor:
        """One step's outputs with the hits given (humanize): the model's velocity and offset.
        These heads play their mean; `quantiles` (where a distributional head draws) is unused."""
        _, velocity, offset = self.split(outputs)
        return tf.concat([hits, velocity * hits, offset * hits], axis=-1)

    def keep_given(self, sample: tf.Tensor, given: tf.Tensor, keep: tf.Tensor) -> tf.Tensor:
        """One step's sample [batch, 27] with the kept instruments (`keep` [batch, 9]) as `given`."""
        keep = tf.tile(tf.cast(keep, sample.dtype), [1, 3]) > 0.5
        return tf.where(keep, tf.cast(given, sample.dtype), sample)

    def to_groove(self, samples: tf.Tensor) -> tf.Tensor:
        return samples

    def feel_errors(self, outputs: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
        """The absolute error of the heads' point velocity and offset (a point forecast's CRPS)."""
        hit = layout.hits(truth) > 0.5
        _, velocity, offset = (x.numpy() for x in self.split(tf.constant(outputs)))
        return {"velocity_crps": np.abs(velocity[hit] - layout.velocities(truth)[hit]),
                "offset_crps": np.abs(offset[hit] - layout.offsets(truth)[hit])}


class BinnedGrooveRepresentation(GrooveRepresentation):
    """GrooVAE with distributional heads: each hit's velocity and offset is a softmax
    over equal-width bins of its range, sampled at generation time, so samples keep a
    drummer's spread instead of playing the average.

    The temperature divides the bin logits only when it is above 1 (a looser drummer).
    Below 1 it tames which hits are played, not how: sharpening the bins too shrank the
    microtiming well below the drummers' (experiments/2026-12-05-feel.md), the stiff, programmed feel these
    heads exist to avoid.

    Outputs [..., 9 + 9 * velocity_bins + 9 * offset_bins]: hit logits, then each
    class's velocity bin logits, then each class's offset bin logits. Velocity and
    offset are scored on true hits only (a silent cell has no loudness or timing). A
    sampled value is uniform within its bin, so written notes are not quantized.
    """

    heads = "binned"
    draws_feel = True

    def __init__(self, velocity_bins: int = 32, offset_bins: int = 32):
        super().__init__(masked_loss=True)
        self.velocity_bins = velocity_bins
        self.offset_bins = offset_bins
        self.output_depth = NUM_CLASSES * (1 + velocity_bins + offset_bins)

    def bin_logits(self, outputs: tf.Tensor):
        """Raw outputs -> hit logits [..., 9], velocity [..., 9, Bv] and offset [..., 9, Bo] bin logits."""
        shape = tf.shape(outputs)[:-1]
        hit_logits, velocity, offset = tf.split(
            outputs, [NUM_CLASSES, NUM_CLASSES * self.velocity_bins, NUM_CLASSES * self.offset_bins], axis=-1)
        velocity = tf.reshape(velocity, tf.concat([shape, [NUM_CLASSES, self.velocity_bins]], 0))
        offset = tf.reshape(offset, tf.concat([shape, [NUM_CLASSES, self.offset_bins]], 0))
        return hit_logits, velocity, offset

    def velocity_bin(self, velocity: tf.Tensor) -> tf.Tensor:
        """Velocities in [0, 1] -> bin indices in [0, Bv)."""
        return tf.clip_by_value(tf.cast(tf.floor(velocity * self.velocity_bins), tf.int32), 0, self.velocity_bins - 1)

    def offset_bin(self, offset: tf.Tensor) -> tf.Tensor:
        """Offsets in [-1, 1] -> bin indices in [0, Bo)."""
        index = tf.floor((offset + 1.0) / 2.0 * self.offset_bins)
        return tf.clip_by_value(tf.cast(index, tf.int32), 0, self.offset_bins - 1)

    def groove_nll(self, targets: tf.Tensor, outputs: tf.Tensor):
        """Cross-entropy of the true velocity and offset bins [..., 9] (nats; 0 where silent)."""
        hits, velocity, offset = tf.split(targets, 3, axis=-1)
        _, velocity_logits, offset_logits = self.bin_logits(outputs)
        velocity_nll = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=self.velocity_bin(velocity), logits=velocity_logits)
        offset_nll = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=self.offset_bin(offset), logits=offset_logits)
        return velocity_nll * hits, offset_nll * hits

    def feel_loss(self, targets: tf.Tensor, outputs: tf.Tensor) -> tf.Tensor:
        """Cross-entropy of the true velocity and offset bins on true hits [batch, steps]."""
        velocity_nll, offset_nll = self.groove_nll(targets, outputs)
        return tf.reduce_sum(velocity_nll + offset_nll, axis=-1)

    def probabilities(self, outputs: tf.Tensor):
        """Velocity [..., 9, Bv] and offset [..., 9, Bo] bin probabilities."""
        _, velocity_logits, offset_logits = self.bin_logits(outputs)
        return tf.nn.softmax(velocity_logits), tf.nn.softmax(offset_logits)

    def point_estimate(self, outputs: tf.Tensor, hits: tf.Tensor | None = None) -> tf.Tensor:
        """Thresholded hits (or the `hits` given) with each distribution's median (the point
        that minimizes the expected absolute error, which is what MAE scores), read off the
        piecewise-linear CDF."""
        hits = self.predicted_hits(outputs) if hits is None else hits
        velocity_probs, offset_probs = self.probabilities(outputs)
        velocity = _median(velocity_probs)
        offset = _median(offset_probs) * 2.0 - 1.0
        return tf.concat([hits, velocity * hits, offset * hits], -1)

    def force_hits(self, outputs: tf.Tensor, hits: tf.Tensor, temperature=1.0, seed=None, quantiles=None) -> tf.Tensor:
        """The hits given; velocity and offset drawn from their bins at max(`temperature`, 1).

        A draw is the distribution's quantile at a uniform number: `quantiles` [batch, 27]
        in (0, 1) gives them (laid out as a groove step: the hits' share is unused here,
        then each class's velocity, then its offset), so a caller can correlate draws
        (`SegmentDecoder`'s feel memory); without them they are drawn independently from `seed`.
        """
        if quantiles is None:
            seed = tf.zeros([2], tf.int32) if seed is None else seed
            quantiles = tf.random.stateless_uniform(tf.concat([tf.shape(hits)[:-1], [3 * NUM_CLASSES]], 0),
                                                    seed=tf.random.experimental.stateless_fold_in(seed, 1),
                                                    minval=1e-7, maxval=1.0 - 1e-7)
        quantiles = tf.cast(quantiles, outputs.dtype)
        feel_temperature = tf.maximum(tf.cast(temperature, outputs.dtype), 1.0)
        if self.velocity_bins == self.offset_bins:  # One softmax and quantile for both: fewer ops per step.
            shape = tf.concat([tf.shape(outputs)[:-1], [2 * NUM_CLASSES, self.velocity_bins]], 0)
            logits = tf.reshape(outputs[..., NUM_CLASSES:], shape)
            feel = _quantile(_softmax_weights(logits / feel_temperature), quantiles[..., NUM_CLASSES:])
            velocity, offset = tf.split(feel, 2, axis=-1)
        else:
            _, velocity_logits, offset_logits = self.bin_logits(outputs)
            _, velocity_q, offset_q = tf.split(quantiles, 3, axis=-1)
            velocity = _quantile(_softmax_weights(velocity_logits / feel_temperature), velocity_q)
            offset = _quantile(_softmax_weights(offset_logits / feel_temperature), offset_q)
        return tf.concat([hits, velocity * hits, (offset * 2.0 - 1.0) * hits], axis=-1)


    def feel_errors(self, outputs: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
        """The CRPS of the true velocity and offset under the bins' distributions, and the true bins' NLL."""
        hit = layout.hits(truth) > 0.5
        velocity_probs, offset_probs = (p.numpy() for p in self.probabilities(tf.constant(outputs)))
        velocity_nll, offset_nll = (x.numpy()[hit] for x in self.groove_nll(tf.constant(truth), tf.constant(outputs)))
        return {"velocity_crps": crps_binned(velocity_probs[hit], layout.velocities(truth)[hit]),
                "offset_crps": crps_binned(offset_probs[hit], (layout.offsets(truth)[hit] + 1.0) / 2.0) * 2.0,
                "velocity_bin_nll": velocity_nll, "offset_bin_nll": offset_nll}


def _quantile(weights: tf.Tensor, q) -> tf.Tensor:
    """The q-quantile in [0, 1] of distributions over equal bins [..., bins], uniform
    within each bin; q broadcasts to [...]. At a uniform random q it is a draw. `weights`
    are the bins' probabilities or any positive multiple of them (a softmax before its
    division: `_softmax_weights`), since only their shares of the total count.

    Bin j spans [j, j + 1) / bins and holds weight w_j above the cumulative weight W_(j-1)
    below it, so the quantile is the sum over bins of clip((q W - W_(j-1)) / w_j, 0, 1) /
    bins, W being the total: each bin wholly below q counts 1, the one q falls in its
    fraction. A handful of ops with no gather (this runs at every decoding step); the
    cumulative weights are a product with a triangular matrix of ones, as tf.cumsum is
    several times slower on a short axis on CPU."""
    bins = weights.shape[-1]
    triangle = np.triu(np.ones([bins, bins], weights.dtype.as_numpy_dtype))
    cumulative = tf.matmul(weights, triangle)  # W_j, broadcast over the leading axes.
    target = tf.cast(q, weights.dtype)[..., None] * cumulative[..., -1:]
    return tf.reduce_sum(tf.clip_by_value((target - cumulative + weights) / tf.maximum(weights, 1e-12), 0.0, 1.0),
                         axis=-1) / bins


def _softmax_weights(logits: tf.Tensor) -> tf.Tensor:
    """exp(logits - their max) [..., bins]: proportional to the softmax, largest 1, without
    its division (`_quantile` needs only the proportions; a third fewer ops per step)."""
    return tf.exp(logits - tf.reduce_max(logits, axis=-1, keepdims=True))


def _median(probs: tf.Tensor) -> tf.Tensor:
    """The median in [0, 1] of distributions over equal bins [..., bins], uniform within each bin."""
    return _quantile(probs, 0.5)


class DrumsRepresentation:
    """MusicVAE's drums: the set of classes hit at a step, one-hot over 512 values."""

    name = "drums"
    plays_feel = False
    draws_feel = False
    draws_by_row = False  # Each step's pattern is drawn from the seed, over the whole batch.
    input_depth = NUM_DRUM_PATTERNS
    output_depth = NUM_DRUM_PATTERNS
    velocity = 80.0 / 127.0

    def to_inputs(self, groove: tf.Tensor) -> tf.Tensor:
        return tf.one_hot(hits_to_labels(layout.hits(groove)), NUM_DRUM_PATTERNS)

    def loss(self, targets: tf.Tensor, outputs: tf.Tensor) -> tf.Tensor:
        labels = tf.argmax(targets, axis=-1)
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=outputs)

    def hit_loss(self, targets: tf.Tensor, outputs: tf.Tensor) -> tf.Tensor:
        return self.loss(targets, outputs)

    def feel_loss(self, targets: tf.Tensor, outputs: tf.Tensor) -> tf.Tensor:
        """Drums have no velocity or timing to score: zeros [batch, steps]."""
        return tf.zeros(tf.shape(targets)[:-1], outputs.dtype)

    def predicted_hits(self, outputs: tf.Tensor) -> tf.Tensor:
        return labels_to_hits(tf.argmax(outputs, axis=-1, output_type=tf.int32))

    def point_estimate(self, outputs: tf.Tensor, hits: tf.Tensor | None = None) -> tf.Tensor:
        """The most likely pattern at each step (or `hits`), as a groove at the fixed velocity."""
        hits = self.predicted_hits(outputs) if hits is None else hits
        return tf.concat([hits, hits * self.velocity, tf.zeros_like(hits)], axis=-1)

    def target_hits(self, targets: tf.Tensor) -> tf.Tensor:
        return labels_to_hits(tf.argmax(targets, axis=-1, output_type=tf.int32))

    def sample(self, outputs: tf.Tensor, temperature: tf.Tensor, seed: tf.Tensor, quantiles=None) -> tf.Tensor:
        """One step's outputs [batch, 512] -> a one-hot pattern; these heads draw no velocity
        or offset, so `quantiles` is unused."""
        labels = tf.random.stateless_categorical(outputs / temperature, 1, seed=seed)[:, 0]
        return tf.one_hot(labels, NUM_DRUM_PATTERNS, dtype=outputs.dtype)

    def force_hits(self, outputs: tf.Tensor, hits: tf.Tensor, temperature=1.0, seed=None, quantiles=None) -> tf.Tensor:
        """The pattern of the hits given: there is no feel to draw around them."""
        return tf.one_hot(hits_to_labels(hits), NUM_DRUM_PATTERNS, dtype=outputs.dtype)

    def keep_given(self, sample: tf.Tensor, given: tf.Tensor, keep: tf.Tensor) -> tf.Tensor:
        """The sampled pattern with the kept instruments' hits as in `given`."""
        hits = tf.where(tf.cast(keep, tf.float32) > 0.5, tf.cast(layout.hits(given), tf.float32), self.target_hits(sample))
        return tf.one_hot(hits_to_labels(hits), NUM_DRUM_PATTERNS, dtype=sample.dtype)

    def to_groove(self, samples: tf.Tensor) -> tf.Tensor:
        return self.point_estimate(samples, self.target_hits(samples))

    def feel_errors(self, outputs: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
        return {}


def get_representation(name: str, groove_loss: str = "magenta", groove_heads: str = "mse",
                       velocity_bins: int = 32, offset_bins: int = 32) -> Representation:
    if name == "groove":
        if groove_heads == "binned":
            return BinnedGrooveRepresentation(velocity_bins, offset_bins)
        return GrooveRepresentation(masked_loss=groove_loss == "masked")
    if name == "drums":
        return DrumsRepresentation()
    raise ValueError(f"Unknown representation {name!r}; expected groove or drums.")
