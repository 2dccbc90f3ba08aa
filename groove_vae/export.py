"""SavedModel export for TF Serving and for TensorFlow-only consumers.

Layout: `<export_base>/<version>/`, as TF Serving's `--model_base_path` expects.
Signatures (every output [batch, 64, 9] float32 unless noted):

  serving_default  decode: z [batch, z_size] float32, temperature [] float32 (default
                   1.0), seed [] int32 (default 0) -> hits, velocities, offsets
  sample           batch_size [] int32, temperature (0.5), seed (0), style [] string
                   ("": none), strength (1.0) -> hits, velocities, offsets, z [batch,
                   z_size]: z drawn from the model's own prior (its prior.npz) or the
                   style's, with its feel memory: for the same seed, temperature and
                   style, the beat `groove-vae sample` and the Python API give.
  steer            z [batch, z_size], amounts [17] float32 (one per attribute of
                   `groove_vae.attributes.ATTRIBUTES`, in its order; -3 to 3), temperature
                   (0.5), seed (0) -> hits, velocities, offsets, z: the latents moved along
                   the model's attribute vectors, decoded
  constrain        batch_size [] int32 (at most 16), lows [17] and highs [17] float32 (one range per
                   attribute of `ATTRIBUTES`, in its order, in the attribute's units; a
                   bound at or beyond the attribute's valid range, e.g. -1e9 or 1e9, is no
                   bound), style [] string ("": any), temperature (0.5), seed (0) -> hits,
                   velocities, offsets, z: of 128 prior draws per beat, the one the model's
                   constraint critics rank best, decoded: `sample(constraints=..., tries=1)`
                   of the Python API (only in models with a constraints.npz)
  encode           groove [batch, 64, 27] float32 (hits, velocities, offsets per step)
                   -> mu, sigma [batch, z_size]

Defaults are recorded in the SignatureDef, so a request may leave them out. Bad
values (non-finite z or groove, temperature outside (0, 10] or not finite, a negative
seed, batch_size outside 1 to 1024, an unknown style, strength outside 0 to 3) fail with an InvalidArgument error that says what
is wrong: the same ranges as `groove_vae.checks`. The model's config is in
`assets.extra/groove_vae_config.json`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf

from groove_vae import groove as layout
from groove_vae import checks
from groove_vae.converter import DEFAULT_QPM, GROOVE_DEPTH
from groove_vae.drums import NUM_CLASSES
from groove_vae.attributes import ATTRIBUTES, MAX_AMOUNT
from groove_vae.constraints import CANDIDATES, CONSTRAIN_CHUNK
from groove_vae.model import build_model
from groove_vae.sampling import Sampler, SamplingOptions

CONFIG_ASSET = "groove_vae_config.json"
ASSETS_EXTRA = "assets.extra"  # SavedModel's folder for files of higher-level libraries.
SIGNATURES = ("serving_default", "sample", "steer", "constrain", "encode")  # constrain: with constraints.npz.


def _split_groove(groove):
    hits, velocities, offsets = tf.split(groove, [NUM_CLASSES] * 3, axis=-1)
    return {"hits": hits, "velocities": velocities, "offsets": offsets}


def _checked(tensor, *assertions):
    """`tensor`, usable only after every assertion has passed: in a graph an assertion runs
    in program order only among stateful ops, so a decode could otherwise start (and
    allocate a million clips) before the check that refuses it."""
    with tf.control_dependencies([a for a in assertions if a is not None]):
        return tf.identity(tensor)


def _temperature_and_seed_checks(temperature, seed):
    message = f"temperature must be above 0 and at most {checks.MAX_TEMPERATURE:g}"
    return [tf.debugging.assert_positive(temperature, message=message),
            tf.debugging.assert_less_equal(temperature, checks.MAX_TEMPERATURE, message=message),  # False for NaN.
            tf.debugging.assert_non_negative(seed, message=f"seed must be from 0 to {checks.MAX_SEED}")]


def build_archive(model, sampler: Sampler, constraint_model=None) -> keras.export.ExportArchive:
    """The endpoints over a model and its sampler (prior, styles, feel memory, attribute
    vectors), and its latent constraints' actor if it has one, in Keras's ExportArchive. A
    model whose decoder hears controls (Tap2Drum) plays grooves, not latents: its
    serving_default drumifies a groove, and encode is its only other signature.

    ExportArchive (rather than a hand-made tf.Module) keeps every variable tracked
    under a name that TF Serving's session-based loader finds.
    """
    z_size, steps = model.config.z_size, model.config.num_steps
    temperature_spec = tf.TensorSpec([], tf.float32, name="temperature")
    seed_spec = tf.TensorSpec([], tf.int32, name="seed")

    def decode(z, temperature=tf.constant(1.0), seed=tf.constant(0)):
        z = _checked(z, *_temperature_and_seed_checks(temperature, seed),
                     tf.debugging.assert_less_equal(tf.shape(z)[0], checks.MAX_BATCH,
                                                    message=f"at most {checks.MAX_BATCH} latents per request"))
        z = tf.debugging.assert_all_finite(z, message="z must be finite (no NaN or Inf)")
        return _split_groove(model.decode(z, SamplingOptions(temperature, seed)))

    def sample(batch_size, temperature=tf.constant(0.5), seed=tf.constant(0), style=tf.constant(""),
               strength=tf.constant(1.0)):
        message = f"batch_size must be from 1 to {checks.MAX_BATCH}"
        batch_size = _checked(batch_size, *_temperature_and_seed_checks(temperature, seed),
                              tf.debugging.assert_positive(batch_size, message=message),
                              tf.debugging.assert_less_equal(batch_size, checks.MAX_BATCH, message=message),
                              tf.debugging.assert_greater_equal(strength, 0.0, message="strength must be from 0 to 3"),
                              tf.debugging.assert_less_equal(strength, 3.0, message="strength must be from 0 to 3"))
        z = tf.cond(tf.equal(style, ""),
                    lambda: sampler.latents(batch_size, SamplingOptions(temperature, seed)),
                    lambda: sampler.latents(batch_size, SamplingOptions(temperature, seed, style=style,
                                                                        strength=strength)))
        z = tf.ensure_shape(z, [None, z_size])
        return {**_split_groove(model.decode(z, SamplingOptions(temperature, seed))), "z": z}

    vectors = np.zeros((len(ATTRIBUTES), z_size), np.float32)  # An attribute the model has no vector for: 0.
    if sampler.attributes is not None:
        for name, vector in zip(sampler.attributes.names, sampler.attributes.vectors):
            vectors[list(ATTRIBUTES).index(name)] = vector

    def steer(z, amounts, temperature=tf.constant(0.5), seed=tf.constant(0)):
        message = f"amounts holds one number per attribute, -3 to 3, in this order: {', '.join(ATTRIBUTES)}"
        z = _checked(z, *_temperature_and_seed_checks(temperature, seed),
                     tf.debugging.assert_less_equal(tf.shape(z)[0], checks.MAX_BATCH,
                                                    message=f"at most {checks.MAX_BATCH} latents per request"),
                     tf.debugging.assert_equal(tf.size(amounts), len(ATTRIBUTES), message=message),
                     tf.debugging.assert_less_equal(tf.abs(amounts), MAX_AMOUNT, message=message))  # False for NaN.
        z = tf.debugging.assert_all_finite(z, message="z must be finite (no NaN or Inf)")
        z = z + tf.linalg.matvec(tf.constant(vectors), amounts, transpose_a=True)
        return {**_split_groove(model.decode(z, SamplingOptions(temperature, seed))), "z": z}

    def constrain(batch_size, lows, highs, style=tf.constant(""), temperature=tf.constant(0.5),
                  seed=tf.constant(0)):
        message = f"batch_size must be from 1 to {CONSTRAIN_CHUNK}"
        ranges = (f"lows and highs hold one number per attribute, in this order: {', '.join(ATTRIBUTES)}, "
                  "each low at most its high")
        styles = tf.constant(list(constraint_model.styles) + [""], tf.string)
        batch_size = _checked(batch_size, *_temperature_and_seed_checks(temperature, seed),
                              tf.debugging.assert_positive(batch_size, message=message),
                              tf.debugging.assert_less_equal(batch_size, CONSTRAIN_CHUNK, message=message),
                              tf.debugging.assert_equal(tf.size(lows), len(ATTRIBUTES), message=ranges),
                              tf.debugging.assert_equal(tf.size(highs), len(ATTRIBUTES), message=ranges),
                              tf.debugging.assert_less_equal(lows, highs, message=ranges),  # False for NaN.
                              tf.debugging.assert_equal(tf.reduce_any(tf.equal(styles, style)), True,
                                                        message="style must be one of the model's styles or \"\""))
        # As the API: of CANDIDATES prior draws per beat, the one the critics rank best.
        candidates = tf.reshape(sampler.latents(batch_size * CANDIDATES, SamplingOptions(temperature, seed)),
                                [batch_size, CANDIDATES, z_size])
        missed = constraint_model.missed(tf.reshape(candidates, [-1, z_size]),
                                         constraint_model.condition_tensor(lows, highs, style), temperature)
        best = tf.argmin(tf.reshape(missed, [batch_size, CANDIDATES]), axis=-1, output_type=tf.int32)
        z = tf.ensure_shape(tf.gather(candidates, best, axis=1, batch_dims=1), [None, z_size])
        return {**_split_groove(model.decode(z, SamplingOptions(temperature, seed))), "z": z}

    def checked_groove(groove, *assertions):
        groove = _checked(groove, *assertions, tf.debugging.assert_less_equal(
            tf.shape(groove)[0], checks.MAX_BATCH, message=f"at most {checks.MAX_BATCH} clips per request"))
        groove = tf.debugging.assert_all_finite(groove, message="groove must be finite (no NaN or Inf)")
        hits = layout.hits(groove)
        return _checked(groove, tf.debugging.assert_equal(
            tf.reduce_all((hits == 0.0) | (hits == 1.0)), True, message="hits (groove[..., 0:9]) must be 0 or 1"))

    def encode(groove):
        mu, sigma = model.encode(model.representation.to_inputs(checked_groove(groove)))
        return {"mu": mu, "sigma": sigma}

    def drumify(groove, temperature=tf.constant(0.5), seed=tf.constant(0)):
        inputs = model.representation.to_inputs(checked_groove(groove, *_temperature_and_seed_checks(temperature, seed)))
        mu, _ = model.encode(inputs)
        return _split_groove(model.decode(mu, SamplingOptions(temperature, seed), model.drumify_given(inputs)))

    groove_spec = tf.TensorSpec([None, steps, GROOVE_DEPTH], tf.float32, name="groove")
    archive = keras.export.ExportArchive()
    archive.track(model)
    if model.config.decoder_controls != "none":  # Its decoder hears the rhythm: it plays grooves, not z.
        archive.add_endpoint("serving_default", drumify, input_signature=[groove_spec, temperature_spec, seed_spec])
        archive.add_endpoint("encode", encode, input_signature=[groove_spec])
        return archive
    archive.add_endpoint(
        "serving_default", decode,
        input_signature=[tf.TensorSpec([None, z_size], tf.float32, name="z"), temperature_spec, seed_spec],
    )
    archive.add_endpoint(
        "sample", sample, input_signature=[tf.TensorSpec([], tf.int32, name="batch_size"), temperature_spec, seed_spec,
                                           tf.TensorSpec([], tf.string, name="style"),
                                           tf.TensorSpec([], tf.float32, name="strength")]
    )
    archive.add_endpoint(
        "steer", steer, input_signature=[tf.TensorSpec([None, z_size], tf.float32, name="z"),
                                         tf.TensorSpec([len(ATTRIBUTES)], tf.float32, name="amounts"),
                                         temperature_spec, seed_spec]
    )
    if constraint_model is not None:
        archive.track(constraint_model.attribute_critic)
        archive.track(constraint_model.style_critic)
        archive.add_endpoint(
            "constrain", constrain,
            input_signature=[tf.TensorSpec([], tf.int32, name="batch_size"),
                             tf.TensorSpec([len(ATTRIBUTES)], tf.float32, name="lows"),
                             tf.TensorSpec([len(ATTRIBUTES)], tf.float32, name="highs"),
                             tf.TensorSpec([], tf.string, name="style"), temperature_spec, seed_spec])
    archive.add_endpoint("encode", encode, input_signature=[groove_spec])
    return archive


def next_version(export_base: str) -> int:
    """1 + the highest numeric version already under `export_base` (1 if none)."""
    if not os.path.isdir(export_base):
        return 1
    versions = [int(d) for d in os.listdir(export_base) if re.fullmatch(r"\d+", d)]
    return max(versions, default=0) + 1


def resolve_export_path(export_dir: str, version: int | None = None) -> str:
    """`export/groove_vae/3` is used as given; `export/groove_vae` gets a version."""
    if version is None and re.fullmatch(r"\d+", os.path.basename(os.path.normpath(export_dir))):
        return os.path.abspath(export_dir)
    if version is None:
        version = next_version(export_dir)
    if version <= 0:
        raise ValueError(f"The version must be a positive integer, got {version}.")
    return os.path.abspath(os.path.join(export_dir, str(version)))


def export_model(vae, export_dir: str, version: int | None = None, overwrite: bool = False) -> str:
    """Writes a loaded model's (`groove_vae.load()`) SavedModel, atomically (staged, then
    renamed), with its prior, style priors and feel memory; returns its path.

    An existing version is replaced only with `overwrite`: TF Serving may be serving it.
    """
    path = resolve_export_path(export_dir, version)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists; pass --overwrite to replace it, or export a new version.")
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(dir=parent, prefix=".export-")
    try:
        # Dropout is for training only; an inference copy has none to capture.
        model = vae.model
        inference = build_model(dataclasses.replace(model.config, dropout_rate=0.0))
        inference.set_weights(model.get_weights())
        saved = os.path.join(staging, "model")
        build_archive(inference, vae.sampler, vae.constraint_model).write_out(saved, verbose=False)
        os.makedirs(os.path.join(saved, ASSETS_EXTRA))
        with open(os.path.join(saved, ASSETS_EXTRA, CONFIG_ASSET), "w") as f:
            json.dump({**model.config.to_dict(), "default_qpm": DEFAULT_QPM,
                       "prior": vae.prior.name, "styles": list(vae.style_names),
                       "attributes": list(ATTRIBUTES), "attributes_fitted": list(vae.attribute_names),
                       "constraints": vae.constraint_model is not None,
                       "outputs": "hits, velocities, offsets: [batch, steps, 9]"}, f, indent=2, sort_keys=True)
        if os.path.exists(path):
            shutil.rmtree(path)
        os.replace(saved, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path
