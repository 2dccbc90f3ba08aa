"""Run and model directories: what a training run writes, and reading a model back.

A run directory holds everything of a run:
    config.json            the resolved config (a rerun must match it)
    checkpoints/           tf.train checkpoints of model + optimizer (resume from here)
    weights.npz            the weights with the lowest validation loss so far
    best.json              that loss and its step
    logs/                  TensorBoard summaries
    history.csv            per-epoch metrics
A model directory (what `package_run` writes; the bundled models) holds config.json,
weights.npz (possibly float16) and provenance.json, and may hold styles.npz.
"""

from __future__ import annotations

import dataclasses
import json
import os

import tensorflow as tf

from groove_vae import configs, weights
from groove_vae.drums import NUM_CLASSES
from groove_vae.files import write_text
from groove_vae.model import MusicVAE, build_model
from groove_vae.optimizers import make_optimizer

CONFIG_FILE = "config.json"
WEIGHTS_FILE = weights.WEIGHTS_FILE
LEGACY_BEST_WEIGHTS = "best.weights.h5"  # Keras's format, as runs wrote their best weights before weights.npz.


def resolve_run_config(config: configs.Config, run_dir: str, write: bool = True) -> configs.Config:
    """Writes the config of a new run (if `write`), or checks a rerun against the saved one
    (all but the sampling keys that `calibrate_feel` fits after training: the saved ones stay)."""
    path = os.path.join(run_dir, CONFIG_FILE)
    if os.path.exists(path):
        saved = configs.read_saved_config(path)
        if dataclasses.replace(saved, **{k: getattr(config, k) for k in configs.SAMPLING_KEYS}) != config:
            diff = {k: (v, config.to_dict()[k]) for k, v in saved.to_dict().items() if config.to_dict()[k] != v}
            raise ValueError(
                f"{run_dir} was trained with another config; differences (saved, requested): {diff}. "
                "Use a new --run_dir, or the same flags to resume."
            )
        return saved
    if write:
        os.makedirs(run_dir, exist_ok=True)
        configs.save_config(config, path)
    return config


def restore_model(run_dir: str, prefer_best: bool = True) -> MusicVAE:
    """Loads a model directory, or a run's best weights (else its latest checkpoint).
    `run_dir` may also name one checkpoint of a run (`<run>/checkpoints/ckpt-1000`);
    `prefer_best=False` reads a run's latest checkpoint even where it has best weights."""
    checkpoint = None
    if os.path.exists(run_dir + ".index"):
        checkpoint, run_dir, prefer_best = run_dir, os.path.dirname(os.path.dirname(run_dir)), False
    path = os.path.join(run_dir, CONFIG_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{run_dir}: no {CONFIG_FILE}; not a groove-vae run directory.")
    model = build_model(configs.read_saved_config(path))
    checkpoints = os.path.join(run_dir, "checkpoints")
    latest = checkpoint or tf.train.latest_checkpoint(checkpoints)
    best = os.path.join(run_dir, WEIGHTS_FILE)
    if os.path.exists(best) and (prefer_best or latest is None):
        weights.load_weights(model, best)
        return model
    legacy = os.path.join(run_dir, LEGACY_BEST_WEIGHTS)
    if os.path.exists(legacy) and (prefer_best or latest is None):
        try:
            model.load_weights(legacy)
        except Exception as e:  # h5py's OSError for a truncated file, Keras's ValueError for another model's.
            raise ValueError(f"{legacy}: not readable weights for this model ({type(e).__name__}: {e}).") from None
        return model
    if latest is None:
        raise FileNotFoundError(f"{run_dir}: no checkpoint or {WEIGHTS_FILE} to load.")
    # Keras 3 layers' weights reach a tf.train checkpoint only through the optimizer's
    # list of the variables it trains, so read them back through an optimizer built the
    # way training builds it.
    optimizer = make_optimizer(model.config)
    optimizer.build(model.trainable_variables)
    try:
        status = tf.train.Checkpoint(model=model, optimizer=optimizer).read(latest).expect_partial()
        status.assert_existing_objects_matched()
    except (tf.errors.OpError, AssertionError, ValueError, IndexError) as e:  # IndexError: a short shard.
        problem = " ".join(str(getattr(e, "message", e)).split())[:300]
        raise ValueError(f"{latest}: a truncated or foreign checkpoint ({problem}).") from None
    return model


def transfer_weights(source: MusicVAE, target: MusicVAE) -> str:
    """Copies `source`'s weights into `target` by path; returns what it did.

    Every weight must exist in both with the same shape, except the decoder's output
    projection when the groove heads differ (squared-error vs binned): then its hit
    columns are copied and the new heads start fresh, so a model can switch heads
    without forgetting its hits.
    """
    sources, targets = weights.named_weights(source), weights.named_weights(target)
    if list(sources) != list(targets):
        raise ValueError("its weights do not fit this config's architecture (other layers).")
    partial = []
    for key, variable in targets.items():
        value = sources[key].numpy()
        if tuple(value.shape) == tuple(variable.shape):
            variable.assign(value)
        elif "output_projection" in key and source.representation.plays_feel and target.representation.plays_feel:
            # Kernel [units, depth] or bias [depth]: the first 9 columns are the hit logits in both layouts.
            new = variable.numpy()
            new[..., :NUM_CLASSES] = value[..., :NUM_CLASSES]
            variable.assign(new)
            partial.append(key)
        else:
            raise ValueError(f"its weights do not fit this config's architecture ({key}: "
                             f"{tuple(value.shape)} vs {tuple(variable.shape)}).")
    if partial:
        return (f"{len(targets) - len(partial)} of {len(targets)} weights copied; the {source.config.groove_heads} "
                f"heads became {target.config.groove_heads} (hit logits copied, new heads start fresh)")
    return f"all {len(targets)} weights copied"


def package_run(run_dir: str, output_dir: str, provenance: dict | None = None, dtype: str = "float32") -> str:
    """Copies a run's best model into a small model directory (what `load` reads):
    config.json, weights.npz (no optimizer state; float16 halves it) and provenance.json.
    A styles.npz or prior.npz there is removed: rerun compute_styles and fit_prior for the new model."""
    model = restore_model(run_dir)
    os.makedirs(output_dir, exist_ok=True)
    configs.save_config(model.config, os.path.join(output_dir, CONFIG_FILE))
    weights.save_weights(model, os.path.join(output_dir, WEIGHTS_FILE), dtype)
    # Another model's: its styles and prior live in another latent space (fit_prior, compute_styles refit them).
    for stale in (LEGACY_BEST_WEIGHTS, "styles.npz", "prior.npz"):
        if os.path.exists(os.path.join(output_dir, stale)):
            os.remove(os.path.join(output_dir, stale))
    record = {}
    best_path = os.path.join(run_dir, "best.json")
    if os.path.exists(best_path):
        with open(best_path) as f:
            record["best"] = json.load(f)
    record.update(provenance or {})
    write_text(os.path.join(output_dir, "provenance.json"), json.dumps(record, indent=2))
    return output_dir
