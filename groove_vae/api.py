"""The user-facing API: load a model and turn latents into drum MIDI.

Example:
>>> import groove_vae
>>> vae = groove_vae.load()                    # the bundled model
>>> beats = vae.sample(4, temperature=1.0, seed=0)  # four 4-bar NoteSequences
>>> paths = groove_vae.write_midi_files(beats, "samples")
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from groove_vae import converter, training
from groove_vae.model import MusicVAE

BUNDLED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bundled", "groovae_4bar")


class GrooveVAE:
    """A trained model with musicians' verbs; outputs are NoteSequences."""

    def __init__(self, model: MusicVAE):
        self.model = model
        self.config = model.config
        self._decode = tf.function(
            model.decode,
            input_signature=[
                tf.TensorSpec([None, self.config.z_size], tf.float32),
                tf.TensorSpec([], tf.float32),
                tf.TensorSpec([], tf.int32),
            ],
        )

    @classmethod
    def load(cls, path: str | None = None) -> "GrooveVAE":
        """Loads the bundled model (no `path`) or a training run directory."""
        path = path or BUNDLED_DIR
        if not os.path.isdir(path):
            raise FileNotFoundError(f"{path}: no such model directory.")
        return cls(training.restore_model(path))

    def decode_tensors(self, z, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
        """z [batch, z_size] -> groove tensors [batch, steps, 27]."""
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}.")
        z = np.asarray(z, np.float32)
        if z.ndim != 2 or z.shape[1] != self.config.z_size:
            raise ValueError(f"z must have shape [batch, {self.config.z_size}], got {list(z.shape)}.")
        return self._decode(tf.constant(z), tf.constant(temperature, tf.float32), tf.constant(seed, tf.int32)).numpy()

    def sample_tensors(self, n: int, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
        """z ~ N(0, I) -> groove tensors [n, steps, 27]; the same seed gives the same beats."""
        if n <= 0:
            raise ValueError(f"The number of samples must be positive, got {n}.")
        z = tf.random.stateless_normal([n, self.config.z_size], seed=[seed, 1]).numpy()
        return self.decode_tensors(z, temperature, seed)

    def decode(self, z, temperature: float = 1.0, seed: int = 0, qpm: float = converter.DEFAULT_QPM):
        """z [batch, z_size] -> a list of 4-bar drum NoteSequences at `qpm`."""
        return [converter.groove_to_note_sequence(g, qpm) for g in self.decode_tensors(z, temperature, seed)]

    def sample(self, n: int, temperature: float = 1.0, seed: int = 0, qpm: float = converter.DEFAULT_QPM):
        """n beats from the prior, as 4-bar drum NoteSequences at `qpm`."""
        return [converter.groove_to_note_sequence(g, qpm) for g in self.sample_tensors(n, temperature, seed)]


def load(path: str | None = None) -> GrooveVAE:
    """Loads the bundled model, or the model of a training run directory."""
    return GrooveVAE.load(path)


def write_midi_files(sequences: Sequence, output_dir: str, prefix: str = "sample") -> list[str]:
    """Writes NoteSequences as `<output_dir>/<prefix>_000.mid`, ...; returns the paths."""
    os.makedirs(output_dir, exist_ok=True)
    return [
        converter.write_midi(ns, os.path.join(output_dir, f"{prefix}_{i:03d}.mid"))
        for i, ns in enumerate(sequences)
    ]
