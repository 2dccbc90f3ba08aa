"""The two tensor representations as model inputs, outputs, losses and samplers.

Both read the same cached groove tensors ([batch, steps, 27]); `to_inputs` turns them
into what the encoder and decoder see, and `to_groove` turns decoder samples back, so
the tensor -> MIDI path is shared.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from groove_vae.converter import GROOVE_DEPTH, NUM_DRUM_PATTERNS
from groove_vae.drums import NUM_CLASSES

# NumPy, not a tf.constant: no TensorFlow op may run at import (multi-worker set-up comes first).
_BITS = np.array([1 << i for i in range(NUM_CLASSES)], np.int32)


def hits_to_labels(hits: tf.Tensor) -> tf.Tensor:
    """[..., 9] {0,1} hits -> [...] int32 9-bit pattern (bit i = class i)."""
    return tf.reduce_sum(tf.cast(hits > 0.5, tf.int32) * _BITS, axis=-1)


def labels_to_hits(labels: tf.Tensor) -> tf.Tensor:
    """[...] 9-bit patterns -> [..., 9] float32 hits."""
    return tf.cast(tf.bitwise.bitwise_and(labels[..., None], _BITS) > 0, tf.float32)


INPUT_TRANSFORMS = ("none", "humanize", "tap")


def transform_inputs(groove: tf.Tensor, transform: str) -> tf.Tensor:
    """What the encoder sees of a groove [..., steps, 27] (GrooVAE's input transforms).

    "humanize": the hits alone, with no velocity or timing (a quantized, flat beat), so
    the model learns to add a drummer's dynamics and microtiming.
    "tap": every step's hits collapsed onto one instrument, keeping the loudest hit's
    velocity and offset (a tapped rhythm), so the model learns to drum a rhythm (Tap2Drum).
    """
    if transform == "none":
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


class GrooveRepresentation:
    """GrooVAE: per step and class a hit (sigmoid), velocity (sigmoid), offset (tanh)."""

    name = "groove"
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
        """Per-step loss [batch, steps]: BCE on hits + squared error on velocity, offset.

        Magenta sums the squared errors over all cells; `masked_loss` counts them
        only where the target has a hit.
        """
        hits, velocity, offset = tf.split(targets, 3, axis=-1)
        hit_logits, pred_velocity, pred_offset = self.split(outputs)
        bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=hits, logits=hit_logits)
        squared = tf.square(pred_velocity - velocity) + tf.square(pred_offset - offset)
        if self.masked_loss:
            squared *= hits
        return tf.reduce_sum(bce + squared, axis=-1)

    def predicted_hits(self, outputs: tf.Tensor) -> tf.Tensor:
        """Thresholded hits (p > 0.5), for reconstruction metrics."""
        return tf.cast(outputs[..., :NUM_CLASSES] > 0.0, tf.float32)

    def target_hits(self, targets: tf.Tensor) -> tf.Tensor:
        return targets[..., :NUM_CLASSES]

    def sample(self, outputs: tf.Tensor, temperature: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        """One step's outputs [batch, 27] -> a groove step; hits ~ Bernoulli(sigmoid(logit/T))."""
        hit_logits, velocity, offset = self.split(outputs)
        noise = tf.random.stateless_uniform(tf.shape(hit_logits), seed=seed)
        hits = tf.cast(noise < tf.sigmoid(hit_logits / temperature), outputs.dtype)
        return tf.concat([hits, velocity * hits, offset * hits], axis=-1)

    def force_hits(self, outputs: tf.Tensor, hits: tf.Tensor) -> tf.Tensor:
        """One step's outputs with the hits given (humanize): the model's velocity and offset."""
        _, velocity, offset = self.split(outputs)
        return tf.concat([hits, velocity * hits, offset * hits], axis=-1)

    def to_groove(self, samples: tf.Tensor) -> tf.Tensor:
        return samples


class DrumsRepresentation:
    """MusicVAE's drums: the set of classes hit at a step, one-hot over 512 values."""

    name = "drums"
    input_depth = NUM_DRUM_PATTERNS
    output_depth = NUM_DRUM_PATTERNS
    velocity = 80.0 / 127.0

    def to_inputs(self, groove: tf.Tensor) -> tf.Tensor:
        return tf.one_hot(hits_to_labels(groove[..., :NUM_CLASSES]), NUM_DRUM_PATTERNS)

    def loss(self, targets: tf.Tensor, outputs: tf.Tensor) -> tf.Tensor:
        labels = tf.argmax(targets, axis=-1)
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=outputs)

    def predicted_hits(self, outputs: tf.Tensor) -> tf.Tensor:
        return labels_to_hits(tf.argmax(outputs, axis=-1, output_type=tf.int32))

    def target_hits(self, targets: tf.Tensor) -> tf.Tensor:
        return labels_to_hits(tf.argmax(targets, axis=-1, output_type=tf.int32))

    def sample(self, outputs: tf.Tensor, temperature: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        labels = tf.random.stateless_categorical(outputs / temperature, 1, seed=seed)[:, 0]
        return tf.one_hot(labels, NUM_DRUM_PATTERNS, dtype=outputs.dtype)

    def to_groove(self, samples: tf.Tensor) -> tf.Tensor:
        hits = self.target_hits(samples)
        return tf.concat([hits, hits * self.velocity, tf.zeros_like(hits)], axis=-1)


def get_representation(name: str, groove_loss: str = "magenta"):
    if name == "groove":
        return GrooveRepresentation(masked_loss=groove_loss == "masked")
    if name == "drums":
        return DrumsRepresentation()
    raise ValueError(f"Unknown representation {name!r}; expected groove or drums.")
