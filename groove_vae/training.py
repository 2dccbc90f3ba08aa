"""Training: data, model, optimizer, callbacks, checkpoints and resume, in one call.

What a run directory holds is in `groove_vae.runs`. Under tf.distribute (`strategy=`),
only the chief writes there: the other workers of a multi-worker run save their
(identical) checkpoints to a temporary folder they remove, and read the chief's to
resume, so the run directory must be on a filesystem they share.
"""

from __future__ import annotations

import copy
import glob
import os
import shutil
import tempfile
import time

import keras
import tensorflow as tf

from groove_vae import bundled, callbacks, configs, data, distribute, runs
from groove_vae.model import build_model
from groove_vae.optimizers import make_optimizer

MAX_NUM_STEPS = 10_000_000  # Magenta trains groovae for about 50k; ten million is a typo.


def check_training_args(run_dir: str, num_steps: int, steps_per_epoch: int, eval_batches: int) -> None:
    """The numbers and the run directory, refused before any data loads or weights build."""
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise ValueError(f"--run_dir {run_dir} is a file; a run directory must be a folder (or not exist yet).")
    for name, value, most in (("num_steps", num_steps, MAX_NUM_STEPS), ("steps_per_epoch", steps_per_epoch, None),
                              ("eval_batches", eval_batches, None)):
        if value < 1 or (most and value > most):
            bound = f" and at most {most}" if most else ""
            raise ValueError(f"--{name} must be at least 1{bound}, got {value}.")


def remove_killed_saves(directory: str) -> None:
    """Removes the `<ckpt>_temp` folders a save killed part-way leaves (TensorFlow writes a
    checkpoint there, then moves it into place)."""
    for stale in glob.glob(os.path.join(glob.escape(directory), "*_temp")):
        if os.path.isdir(stale):
            shutil.rmtree(stale, ignore_errors=True)


def resume(checkpoint: tf.train.Checkpoint, directory: str, update: bool = True) -> str | None:
    """Restores the newest readable checkpoint under `directory`; returns it (None: none saved).

    A latest checkpoint cut short (a killed save, a full disk) falls back to the one before,
    saying so, and (with `update`) is dropped from the folder's list so later restores skip
    it; when none can be read, a one-line ValueError names the newest and its problem.
    """
    state = tf.train.get_checkpoint_state(directory)
    if state is None or not state.model_checkpoint_path:
        return None
    paths = [os.path.join(directory, os.path.basename(p)) for p in state.all_model_checkpoint_paths]
    latest = os.path.join(directory, os.path.basename(state.model_checkpoint_path))
    paths = [p for p in paths if p != latest] + [latest]
    problem = None
    for i, path in enumerate(reversed(paths)):
        try:
            checkpoint.restore(path).assert_existing_objects_matched()
        except (tf.errors.OpError, AssertionError, ValueError, IndexError) as e:  # IndexError: a short shard.
            problem = problem or " ".join(str(getattr(e, "message", e)).split())[:200]
            continue
        if i:
            print(f"{latest} could not be read ({problem}); resumed from the one before it instead.")
            if update:
                kept = paths[: len(paths) - i]
                from tensorflow.python.util import deprecation  # The call is the one way to edit the list.

                with deprecation.silence():
                    tf.compat.v1.train.update_checkpoint_state(directory, path, all_model_checkpoint_paths=kept)
        return path
    raise ValueError(f"{latest}: a truncated or foreign checkpoint, and no earlier one could be read ({problem}); "
                     f"move {directory} aside to start the run over.")


def train(
    config: configs.Config,
    run_dir: str,
    num_steps: int,
    tfds_name: str = data.DEFAULT_TFDS_NAME,
    steps_per_epoch: int = 100,
    eval_batches: int = 8,
    data_dir: str | None = None,
    verbose: int | str = "auto",
    init_from: str | None = None,
    on_nonfinite: str = "stop",
    midi_dir: str | None = None,
    validation_fraction: float = 0.1,
    strategy: str | tf.distribute.Strategy = "default",
) -> keras.callbacks.History | None:
    """Trains (or resumes) a run until the optimizer has taken `num_steps` steps.

    `init_from` (a model or run directory, or "bundled") starts a new run from
    trained weights of the same architecture, e.g. a humanize model from the bundled one.
    `midi_dir` trains on a folder of MIDI files instead of `tfds_name`.
    `strategy` ("default", "mirrored", "multi_worker" or a tf.distribute.Strategy) spreads
    each step over replicas: `config.batch_size` is the global batch, split evenly.
    """
    check_training_args(run_dir, num_steps, steps_per_epoch, eval_batches)
    if isinstance(strategy, str):
        strategy = distribute.make_strategy(strategy)  # First: multi-worker collectives must be set up before any op runs.
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise ValueError(f"batch_size {config.batch_size} does not split evenly over {replicas} replicas.")
    chief = strategy.extended.should_checkpoint
    # Checked now, written only once the data and the starting weights are in hand: a start
    # that fails leaves no config.json to refuse the corrected rerun.
    config = runs.resolve_run_config(config, run_dir, write=False)
    keras.utils.set_random_seed(config.seed)

    if midi_dir:
        splits = data.load_midi_dir(midi_dir, config.num_steps, validation_fraction)
        train_clips, val_clips = splits["train"], splits["validation"]
        if len(train_clips) + len(val_clips) == 0:
            stats = copy.deepcopy(train_clips.stats)
            stats.merge(val_clips.stats)
            raise ValueError(f"{midi_dir}: no file gave a 4/4 drum window to train on ({stats.summary()}).")
        if len(val_clips) == 0:
            raise ValueError(f"{midi_dir}: no validation windows; add files or raise --validation_fraction.")
    else:
        train_clips = data.load_split(tfds_name, "train", config.num_steps, data_dir)
        val_clips = data.load_split(tfds_name, "validation", config.num_steps, data_dir)
    print(f"train: {len(train_clips)} windows; {train_clips.stats.summary()}")
    print(f"validation: {len(val_clips)} windows; {val_clips.stats.summary()}")
    if len(train_clips) == 0:
        raise ValueError(f"{midi_dir or tfds_name}: no usable training clips ({train_clips.stats.summary()}).")
    val_batch = min(config.batch_size, len(val_clips)) // replicas * replicas
    if val_batch == 0:
        raise ValueError(f"{len(val_clips)} validation windows are fewer than the {replicas} replicas.")

    with strategy.scope():
        model = build_model(config)
        optimizer = make_optimizer(config)
        model.compile(optimizer=optimizer)
        optimizer.build(model.trainable_variables)

    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
    if chief:
        remove_killed_saves(os.path.join(run_dir, "checkpoints"))
    latest = resume(checkpoint, os.path.join(run_dir, "checkpoints"), update=chief)  # The chief's, for every worker.
    if latest:
        print(f"Resumed from {latest} (step {int(optimizer.iterations.numpy())}).")
    elif init_from:
        print(f"Initialized from {init_from}: {runs.transfer_weights(runs.restore_model(bundled.resolve(init_from)), model)}.")
    if chief:
        runs.resolve_run_config(config, run_dir, write=True)

    step = distribute.same_on_every_worker(strategy, int(optimizer.iterations.numpy()))
    if step >= num_steps:
        print(f"{run_dir} already trained {step} steps (asked for {num_steps}).")
        return None
    # Epochs keep their length; the last one ends at exactly `num_steps` (StopAtStep).
    initial_epoch = step // steps_per_epoch
    epochs = -(-num_steps // steps_per_epoch)

    # A non-chief worker saves as the chief does (saving may all-reduce), into a folder it removes.
    write_dir = run_dir if chief else tempfile.mkdtemp(prefix="groove_vae_worker_")
    manager = tf.train.CheckpointManager(checkpoint, os.path.join(write_dir, "checkpoints"), max_to_keep=3)
    representation = model.representation
    train_ds = data.make_dataset(train_clips.groove, representation, config.batch_size, seed=config.seed)
    val_ds = data.make_dataset(val_clips.groove, representation, val_batch, shuffle=True, seed=config.seed + 1)
    run_callbacks = [
        callbacks.StopAtStep(num_steps),
        callbacks.KLWarmup(config.max_beta, config.beta_warmup_steps),
        callbacks.ScheduledSampling(config.sampling_schedule, config.sampling_rate),
        callbacks.NonFiniteLoss(checkpoint, manager, on_nonfinite, resumed_from=latest),
        callbacks.CheckpointEveryEpoch(manager),
    ]
    if chief:
        run_callbacks += [
            callbacks.KeepBest(run_dir),
            keras.callbacks.TensorBoard(os.path.join(run_dir, "logs"), update_freq=max(1, steps_per_epoch // 4)),
            keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=True),
        ]
    start = time.time()
    try:
        history = model.fit(
            distribute.shard_by_data(train_ds),
            epochs=epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch,
            validation_data=distribute.shard_by_data(val_ds),
            validation_steps=eval_batches,
            callbacks=run_callbacks,
            verbose=verbose,
        )
    finally:
        if not chief:
            shutil.rmtree(write_dir, ignore_errors=True)
    elapsed = time.time() - start
    steps_done = int(optimizer.iterations.numpy()) - step
    print(f"Trained {steps_done} steps in {elapsed:.0f} s "
          f"({steps_done * config.batch_size / max(elapsed, 1e-9):.1f} examples/s). Run: {run_dir}")
    return history
