"""SavedModel export of the decoder, for TF Serving and for TensorFlow-only consumers.

The `serving_default` signature maps a latent z [batch, z_size] (with a sampling
temperature and seed) to the decoded drum tensors: hits, velocities and offsets,
each [batch, 64, 9]. The export needs TensorFlow only to load: no groove_vae.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import tensorflow as tf

from groove_vae.drums import NUM_CLASSES
from groove_vae.model import MusicVAE


class DecoderExport(tf.Module):
    """What the SavedModel holds: the model's variables and the decode function."""

    def __init__(self, model: MusicVAE):
        super().__init__(name="groove_vae_decoder")
        self.model = model
        z_size = model.config.z_size
        self.serving_default = tf.function(
            self._decode,
            input_signature=[
                tf.TensorSpec([None, z_size], tf.float32, name="z"),
                tf.TensorSpec([], tf.float32, name="temperature"),
                tf.TensorSpec([], tf.int32, name="seed"),
            ],
        )

    def _decode(self, z, temperature, seed):
        tf.debugging.assert_positive(temperature, message="temperature must be positive")
        tf.debugging.assert_all_finite(z, message="z must be finite")
        groove = self.model.decode(z, temperature, seed)
        hits, velocities, offsets = tf.split(groove, [NUM_CLASSES] * 3, axis=-1)
        return {"hits": hits, "velocities": velocities, "offsets": offsets}


def export_decoder(model: MusicVAE, export_dir: str) -> str:
    """Writes a SavedModel to `export_dir` (replaced atomically); returns the path."""
    export_dir = os.path.abspath(export_dir)
    parent = os.path.dirname(export_dir)
    os.makedirs(parent, exist_ok=True)
    module = DecoderExport(model)
    staging = tempfile.mkdtemp(dir=parent, prefix=".export-")
    try:
        assets = os.path.join(staging, "assets.extra")
        tf.saved_model.save(module, staging, signatures={"serving_default": module.serving_default})
        os.makedirs(assets, exist_ok=True)
        with open(os.path.join(assets, "config.json"), "w") as f:
            json.dump(model.config.to_dict(), f, indent=2, sort_keys=True)
        if os.path.exists(export_dir):
            shutil.rmtree(export_dir)
        os.replace(staging, export_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return export_dir
