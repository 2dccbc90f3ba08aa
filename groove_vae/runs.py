"""Run and model directories: what a training run writes, and reading a model back.

A run directory holds everything of a run:
    config.json            the resolved config (a rerun must match it)
    checkpoints/           tf.train checkpoints of model + optimizer (resume from here)
    weights.npz            the weights with the lowest validation loss so far
    best.json              that loss and its step
    logs/                  TensorBoard summaries
    history.csv            per-epoch metrics
A model directory (what `package_run` writes; the bundled models) holds config.json,
weights.npz (possibly float16) and provenance.json, and may hold styles.npz. A packaged
directory's provenance.json records the sha256 of its config and weights, and loading
refuses a directory whose files disagree (a half-copied or hand-mixed folder).
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import json
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from groove_vae import configs, weights
from groove_vae.drums import NUM_CLASSES
from groove_vae.files import write_text
from groove_vae.model import MusicVAE, build_model
from groove_vae.optimizers import make_optimizer
from groove_vae.representations import CONTROL_DEPTHS

CONFIG_FILE = "config.json"
WEIGHTS_FILE = weights.WEIGHTS_FILE
LEGACY_BEST_WEIGHTS = "best.weights.h5"  # Keras's format, as runs wrote their best weights before weights.npz.
PROVENANCE_FILE = "provenance.json"
DIGESTS = "sha256"  # provenance.json's key: file name -> sha256 hex digest.


def file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_provenance(model_dir: str) -> dict:
    path = os.path.join(model_dir, PROVENANCE_FILE)
    if not os.path.exists(path):
        return {}
    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable provenance record ({e}).") from None
    if not isinstance(record, dict) or not isinstance(record.get(DIGESTS, {}), dict):
        raise ValueError(f"{path}: not a provenance record (a JSON object with a {DIGESTS!r} object).")
    return record


def verify_digests(model_dir: str) -> None:
    """Refuses a model directory whose files disagree with the digests its provenance.json
    records, naming the file; a directory without digests (older packages, runs) passes."""
    for name, expected in _read_provenance(model_dir).get(DIGESTS, {}).items():
        path = os.path.join(model_dir, name)
        if not os.path.exists(path):
            raise ValueError(f"{path}: missing; {PROVENANCE_FILE} lists it. Package the model again.")
        if file_digest(path) != expected:
            raise ValueError(f"{path}: not the file this model was packaged with (its sha256 differs from "
                             f"{PROVENANCE_FILE}'s): a half-copied or mixed model directory. Package it again.")


def record_digest(model_dir: str, name: str) -> None:
    """After a command rewrites one of a packaged model's files (calibrate_feel's config),
    records its new digest so the directory still loads; nothing for a directory without digests."""
    record = _read_provenance(model_dir)
    if name in record.get(DIGESTS, {}):
        record[DIGESTS][name] = file_digest(os.path.join(model_dir, name))
        write_text(os.path.join(model_dir, PROVENANCE_FILE), json.dumps(record, indent=2))


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


def restore_model(run_dir: str, prefer_best: bool = True, precision=None) -> MusicVAE:
    """Loads a model directory, or a run's best weights (else its latest checkpoint).
    `run_dir` may also name one checkpoint of a run (`<run>/checkpoints/ckpt-1000`);
    `prefer_best=False` reads a run's latest checkpoint even where it has best weights.
    `precision`: "float32", "mixed_bfloat16", or a function of the config's precision
    that gives one; none: the config's."""
    checkpoint = None
    if os.path.exists(run_dir + ".index"):
        checkpoint, run_dir, prefer_best = run_dir, os.path.dirname(os.path.dirname(run_dir)), False
    path = os.path.join(run_dir, CONFIG_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{run_dir}: no {CONFIG_FILE}; not a groove-vae run directory.")
    verify_digests(run_dir)
    config = configs.read_saved_config(path)
    if precision is not None:
        precision = precision(config.precision) if callable(precision) else precision
        config = dataclasses.replace(config, precision=precision)
    model = build_model(config)
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
    without forgetting its hits; and the decoder's first input kernel when the target's
    decoder hears controls the source's did not (a tap model learning to hear its taps at
    every step): their rows start at zero, so the new model first plays as the old one.
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
        elif key.startswith("decoder/") and key.endswith("lstms/0/cell/kernel") and _gains_controls(source, target):
            # Rows [embedding, previous step] -> [embedding, controls, previous step].
            at = value.shape[0] - source.representation.input_depth
            extra = CONTROL_DEPTHS[target.config.decoder_controls]
            variable.assign(np.insert(value, [at] * extra, 0.0, axis=0))
            partial.append(key)
        else:
            raise ValueError(f"its weights do not fit this config's architecture ({key}: "
                             f"{tuple(value.shape)} vs {tuple(variable.shape)}).")
    if not partial:
        return f"all {len(targets)} weights copied"
    changes = []
    if source.config.groove_heads != target.config.groove_heads:
        changes.append(f"the {source.config.groove_heads} heads became {target.config.groove_heads} "
                       "(hit logits copied, new heads start fresh)")
    if _gains_controls(source, target):
        changes.append(f"the decoder hears {target.config.decoder_controls} controls (their weights start at zero)")
    return f"{len(targets) - len(partial)} of {len(targets)} weights copied; {'; '.join(changes)}"


def _gains_controls(source: MusicVAE, target: MusicVAE) -> bool:
    return source.config.decoder_controls == "none" and target.config.decoder_controls != "none"


def package_run(run_dir: str, output_dir: str, provenance: dict | None = None, dtype: str = "float32",
                overwrite: bool = False) -> str:
    """Copies a run's best model into a small model directory (what `load` reads):
    config.json, weights.npz (no optimizer state; float16 halves it) and provenance.json
    with their digests.

    The folder is built beside `output_dir` and swapped in whole, so a failure part-way
    leaves the old one as it was. An existing folder is replaced only with `overwrite`,
    and then whole: its styles, prior and other fits belong to another latent space
    (rerun fit_prior and compute_styles for the new model).
    """
    target = os.path.abspath(output_dir)
    source = os.path.abspath(run_dir if os.path.isdir(run_dir) else os.path.dirname(run_dir))
    if os.path.realpath(source) == os.path.realpath(target) or os.path.realpath(source).startswith(
            os.path.join(os.path.realpath(target), "")):
        raise ValueError(f"--output_dir {output_dir}: holds the run being packaged; package it to another folder.")
    if os.path.lexists(target):
        if not os.path.isdir(target) or os.path.islink(target):
            raise ValueError(f"--output_dir {output_dir}: exists and is not a folder.")
        if os.listdir(target) and not overwrite:
            raise ValueError(f"--output_dir {output_dir} exists; pass --overwrite to replace it whole.")
        if os.listdir(target) and not os.path.exists(os.path.join(target, CONFIG_FILE)):
            raise ValueError(f"--output_dir {output_dir}: holds files but no {CONFIG_FILE}; "
                             "not replacing a folder that is not a model directory.")
    parent, name = os.path.dirname(target), os.path.basename(target)
    os.makedirs(parent, exist_ok=True)
    remove_stale_builds(target)
    model = restore_model(run_dir)
    build = tempfile.mkdtemp(dir=parent, prefix=f".{name}.", suffix=".tmp")
    try:
        configs.save_config(model.config, os.path.join(build, CONFIG_FILE))
        weights.save_weights(model, os.path.join(build, WEIGHTS_FILE), dtype)
        record = {}
        best_path = os.path.join(run_dir, "best.json")
        if os.path.exists(best_path):
            with open(best_path) as f:
                record["best"] = json.load(f)
        record.update(provenance or {})
        record[DIGESTS] = {file: file_digest(os.path.join(build, file)) for file in (CONFIG_FILE, WEIGHTS_FILE)}
        write_text(os.path.join(build, PROVENANCE_FILE), json.dumps(record, indent=2))
        os.chmod(build, 0o777 & ~_umask())
        old = None
        if os.path.exists(target):
            old = tempfile.mkdtemp(dir=parent, prefix=f".{name}.", suffix=".old")
            os.replace(target, os.path.join(old, name))
        os.replace(build, target)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    if old:
        shutil.rmtree(old, ignore_errors=True)
    return output_dir


def remove_stale_builds(target: str) -> None:
    """Removes what a killed `package_run` left beside `target`: its half-built and old folders."""
    parent, name = os.path.dirname(os.path.abspath(target)), os.path.basename(os.path.abspath(target))
    for stale in glob.glob(os.path.join(parent, glob.escape(f".{name}.") + "*")):
        if not (stale.endswith((".tmp", ".old")) and os.path.isdir(stale)):
            continue
        kept = os.path.join(stale, name)
        if stale.endswith(".old") and os.path.isdir(kept) and not os.path.lexists(target):
            os.replace(kept, target)  # Killed between the two renames: the old model comes back.
        shutil.rmtree(stale, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
