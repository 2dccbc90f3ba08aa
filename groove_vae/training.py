"""Training: data, model, optimizer, callbacks, checkpoints and resume, in one call.

A run directory holds everything of a run:
    config.json            the resolved config (a rerun must match it)
    checkpoints/           tf.train checkpoints of model + optimizer (resume from here)
    best.weights.h5        the weights with the lowest validation loss so far
A packaged model directory (the bundled model) holds config.json and weights.npz.
    best.json              that loss and its step
    logs/                  TensorBoard summaries
    history.csv            per-epoch metrics

Under tf.distribute (`strategy=`), only the chief writes there: the other workers of a
multi-worker run save their (identical) checkpoints to a temporary folder they remove,
and read the chief's to resume, so the run directory must be on a filesystem they share.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import shutil
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from groove_vae import callbacks as gv_callbacks
from groove_vae import configs, data
from groove_vae.drums import NUM_CLASSES
from groove_vae.files import atomic_write, write_text
from groove_vae.model import MusicVAE, build_model

CONFIG_FILE = "config.json"
BEST_WEIGHTS = "best.weights.h5"
COMPACT_WEIGHTS = "weights.npz"  # A packaged model's weights, in order, possibly float16.


@keras.saving.register_keras_serializable(package="groove_vae")
class ExponentialDecayToMin(keras.optimizers.schedules.LearningRateSchedule):
    """Magenta's schedule: (lr - min_lr) * decay_rate^step + min_lr."""

    def __init__(self, learning_rate, decay_rate, min_learning_rate):
        self.learning_rate = learning_rate
        self.decay_rate = decay_rate
        self.min_learning_rate = min_learning_rate

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        return (self.learning_rate - self.min_learning_rate) * tf.pow(self.decay_rate, step) + self.min_learning_rate

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "decay_rate": self.decay_rate,
            "min_learning_rate": self.min_learning_rate,
        }


def make_optimizer(config: configs.Config) -> keras.optimizers.Optimizer:
    """Adam on Magenta's schedule. Gradients are clipped to `config.clip_norm` by the
    model's train step, after the all-reduce across replicas."""
    schedule = ExponentialDecayToMin(config.learning_rate, config.decay_rate, config.min_learning_rate)
    return keras.optimizers.Adam(learning_rate=schedule)


STRATEGIES = ("default", "mirrored", "multi_worker")
_strategies: dict[str, tf.distribute.Strategy] = {}


def make_strategy(name: str = "default") -> tf.distribute.Strategy:
    """A tf.distribute strategy by name; create it before any other TensorFlow work.

    "default": one device (a GPU if there is one). "mirrored": a replica on every GPU
    of this machine, or on every logical CPU device when it has no GPU. "multi_worker":
    MultiWorkerMirroredStrategy over the workers that `TF_CONFIG` lists, each with its
    GPUs (or its CPU); the same command runs on every worker.

    A process makes each at most once and reuses it: the collective ops of a second
    MirroredStrategy would collide with those of the first (a shape mismatch between
    "collective instances"), and the multi-worker set-up can only happen at start-up.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}; one of {', '.join(STRATEGIES)}.")
    if name == "multi_worker" and not os.environ.get("TF_CONFIG"):
        raise ValueError("strategy=multi_worker needs TF_CONFIG (the cluster and this worker's index); "
                         "see docs/training.md: Training on several devices or machines.")
    if name not in _strategies:
        if name == "mirrored":
            devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
            _strategies[name] = tf.distribute.MirroredStrategy([d.name for d in devices])
        else:
            _patient_coordination_service()
            _strategies[name] = tf.distribute.MultiWorkerMirroredStrategy()
    return _strategies[name]


HEARTBEAT_TIMEOUT_S = 300  # TensorFlow's default, 10 s, drops a worker that a busy machine starves of CPU.


def _patient_coordination_service() -> None:
    """Sets up the multi-worker coordination service as MultiWorkerMirroredStrategy would,
    with a heartbeat timeout of minutes instead of 10 s: on a loaded 2-core machine a
    worker busy converting data or tracing missed its heartbeats and was declared dead
    ("stopped sending heartbeats"), failing the whole run. A worker that really dies
    still fails the run, named, once the timeout passes. There is no public API for this;
    where TensorFlow's private one moves, the strategy's defaults apply."""
    try:
        from tensorflow.core.protobuf import coordination_config_pb2
        from tensorflow.python.eager import context

        cluster = tf.distribute.cluster_resolver.TFConfigClusterResolver().cluster_spec()
        leader_job = "chief" if "chief" in cluster.jobs else "worker"
        jobs = [coordination_config_pb2.CoordinatedJob(name=job, num_tasks=cluster.num_tasks(job))
                for job in ("chief", "worker") if job in cluster.jobs]
        if context.context().coordination_service is None:
            context.context().configure_coordination_service(
                service_type="standalone", service_leader=f"/job:{leader_job}/replica:0/task:0",
                coordinated_jobs=jobs, heartbeat_timeout_in_ms=HEARTBEAT_TIMEOUT_S * 1000)
    except (ImportError, AttributeError, TypeError) as e:
        print(f"Multi-worker: TensorFlow's default heartbeat timeout applies ({type(e).__name__}: {e}).")


class CheckpointEveryEpoch(keras.callbacks.Callback):
    """Saves model + optimizer through a CheckpointManager (written, then committed)."""

    def __init__(self, manager: tf.train.CheckpointManager):
        super().__init__()
        self.manager = manager

    def on_epoch_end(self, epoch, logs=None):
        if not all(bool(tf.reduce_all(tf.math.is_finite(w))) for w in self.model.trainable_weights):
            print("Not checkpointing: the weights are not finite.")
            return
        self.manager.save(checkpoint_number=int(self.model.optimizer.iterations.numpy()))


class NonFiniteLoss(keras.callbacks.Callback):
    """On a NaN or Inf loss: restores the last good checkpoint, says so, then stops
    (`policy="stop"`) or goes on from the restored state (`policy="continue"`).

    The train step already skips non-finite updates; restoring also undoes any
    finite-but-diverged steps that led there.
    """

    def __init__(self, checkpoint: tf.train.Checkpoint, manager: tf.train.CheckpointManager, policy: str = "stop",
                 resumed_from: str | None = None):
        super().__init__()
        if policy not in ("stop", "continue"):
            raise ValueError(f"on_nonfinite must be 'stop' or 'continue', got {policy!r}.")
        self.checkpoint, self.manager, self.policy = checkpoint, manager, policy
        self.resumed_from = resumed_from  # Until this worker saves its own (a non-chief's manager starts empty).
        self.events = 0

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        self.events += 1
        step = int(self.model.optimizer.iterations.numpy())
        latest = self.manager.latest_checkpoint or self.resumed_from
        if latest:
            self.checkpoint.restore(latest)
        restored = f"restored {latest}" if latest else "no checkpoint to restore yet"
        print(f"\nNon-finite loss at step {step}; {restored}; {'stopping' if self.policy == 'stop' else 'continuing'}.")
        for tracker in self.model.metrics:
            tracker.reset_state()
        if self.policy == "stop":
            self.model.stop_training = True


class KeepBest(keras.callbacks.Callback):
    """Keeps the weights with the lowest validation loss, across resumed runs."""

    def __init__(self, run_dir: str, monitor: str = "val_loss"):
        super().__init__()
        self.run_dir = run_dir
        self.monitor = monitor
        self.record_path = os.path.join(run_dir, "best.json")
        self.best = float("inf")
        if os.path.exists(self.record_path):
            with open(self.record_path) as f:
                self.best = json.load(f)["value"]

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or value >= self.best:
            return
        self.best = float(value)
        tmp = os.path.join(self.run_dir, "best.tmp.weights.h5")
        self.model.save_weights(tmp)
        os.replace(tmp, os.path.join(self.run_dir, BEST_WEIGHTS))
        write_text(self.record_path, json.dumps({"monitor": self.monitor, "value": self.best,
                                                 "step": int(self.model.optimizer.iterations.numpy())}))


def check_training_args(run_dir: str, num_steps: int, steps_per_epoch: int, eval_batches: int) -> None:
    """The numbers and the run directory, refused before any data loads or weights build."""
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise ValueError(f"--run_dir {run_dir} is a file; a run directory must be a folder (or not exist yet).")
    for name, value, most in (("num_steps", num_steps, MAX_NUM_STEPS), ("steps_per_epoch", steps_per_epoch, None),
                              ("eval_batches", eval_batches, None)):
        if value < 1 or (most and value > most):
            bound = f" and at most {most}" if most else ""
            raise ValueError(f"--{name} must be at least 1{bound}, got {value}.")


def resolve_run_config(config: configs.Config, run_dir: str, write: bool = True) -> configs.Config:
    """Writes the config of a new run (if `write`), or checks a rerun against the saved one."""
    path = os.path.join(run_dir, CONFIG_FILE)
    if os.path.exists(path):
        saved = configs.read_saved_config(path)
        if saved != config:
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
    """Loads a run's model: its best weights, else its latest checkpoint. `run_dir` may
    also name one checkpoint of a run (`<run>/checkpoints/ckpt-1000`)."""
    checkpoint = None
    if os.path.exists(run_dir + ".index"):
        checkpoint, run_dir, prefer_best = run_dir, os.path.dirname(os.path.dirname(run_dir)), False
    path = os.path.join(run_dir, CONFIG_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{run_dir}: no {CONFIG_FILE}; not a groove-vae run directory.")
    model = build_model(configs.read_saved_config(path))
    compact = os.path.join(run_dir, COMPACT_WEIGHTS)
    if os.path.exists(compact):
        try:
            with np.load(compact) as f:
                weights = [f[f"w{i:03d}"] for i in range(len(f.files))]
        except Exception as e:  # A truncated or foreign file: zipfile, pickle and key errors alike.
            raise ValueError(f"{compact}: not readable weights ({type(e).__name__}: {e}).") from None
        if [w.shape for w in weights] != [tuple(w.shape) for w in model.weights]:
            raise ValueError(f"{compact}: its weights do not fit the model of {path}.")
        model.set_weights([w.astype(np.float32) for w in weights])
        return model
    best = os.path.join(run_dir, BEST_WEIGHTS)
    if prefer_best and os.path.exists(best):
        try:
            model.load_weights(best)
        except Exception as e:  # h5py's OSError for a truncated file, Keras's ValueError for another model's.
            raise ValueError(f"{best}: not readable weights for this model ({type(e).__name__}: {e}).") from None
        return model
    latest = checkpoint or tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints"))
    if latest is None:
        raise FileNotFoundError(f"{run_dir}: no checkpoint or {BEST_WEIGHTS} to load.")
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


def _variable_kind(variable) -> str:
    """A variable's path below the model with Keras's numbering removed ("backward_lstm_2"
    -> "backward_lstm"): Keras numbers layers per process, so two models built in one
    process have different paths for the same weight."""
    return "/".join(re.sub(r"_\d+$", "", part) for part in variable.path.split("/")[1:])


def transfer_weights(source: MusicVAE, target: MusicVAE) -> str:
    """Copies `source`'s weights into `target` by variable path; returns what it did.

    Every variable must exist in both with the same shape, except the decoder's output
    projection when the groove heads differ (squared-error vs binned): then its hit
    columns are copied and the new heads start fresh, so a model can switch heads
    without forgetting its hits.
    """
    if [_variable_kind(v) for v in source.weights] != [_variable_kind(v) for v in target.weights]:
        raise ValueError("its weights do not fit this config's architecture (other layers).")
    partial = []
    for source_variable, variable in zip(source.weights, target.weights):
        value, key = source_variable.numpy(), _variable_kind(variable)
        if tuple(value.shape) == tuple(variable.shape):
            variable.assign(value)
        elif "output_projection" in key and source.representation.name == target.representation.name == "groove":
            # Kernel [units, depth] or bias [depth]: the first 9 columns are the hit logits in both layouts.
            new = variable.numpy()
            new[..., :NUM_CLASSES] = value[..., :NUM_CLASSES]
            variable.assign(new)
            partial.append(key)
        else:
            raise ValueError(f"its weights do not fit this config's architecture ({key}: "
                             f"{tuple(value.shape)} vs {tuple(variable.shape)}).")
    targets = target.weights
    if partial:
        return (f"{len(targets) - len(partial)} of {len(targets)} weights copied; the {source.config.groove_heads} "
                f"heads became {target.config.groove_heads} (hit logits copied, new heads start fresh)")
    return f"all {len(targets)} weights copied"


def _resolve_init(init_from: str) -> str:
    """"bundled" or a bundled model's name ("tap2drum") -> its directory; else the path as given."""
    from groove_vae.api import BUNDLED_MODELS

    return BUNDLED_MODELS.get("groovae_4bar" if init_from == "bundled" else init_from, init_from)


MAX_NUM_STEPS = 10_000_000  # Magenta trains groovae for about 50k; ten million is a typo.


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
        strategy = make_strategy(strategy)  # First: multi-worker collectives must be set up before any op runs.
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise ValueError(f"batch_size {config.batch_size} does not split evenly over {replicas} replicas.")
    chief = strategy.extended.should_checkpoint
    # Checked now, written only once the data and the starting weights are in hand: a start
    # that fails leaves no config.json to refuse the corrected rerun.
    config = resolve_run_config(config, run_dir, write=False)
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
    latest = tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints"))  # The chief's, for every worker.
    if latest:
        checkpoint.restore(latest).assert_existing_objects_matched()
        print(f"Resumed from {latest} (step {int(optimizer.iterations.numpy())}).")
    elif init_from:
        print(f"Initialized from {init_from}: {transfer_weights(restore_model(_resolve_init(init_from)), model)}.")
    if chief:
        resolve_run_config(config, run_dir, write=True)

    step = _same_on_every_worker(strategy, int(optimizer.iterations.numpy()))
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
    callbacks = [
        gv_callbacks.StopAtStep(num_steps),
        gv_callbacks.KLWarmup(config.max_beta, config.beta_warmup_steps),
        gv_callbacks.ScheduledSampling(config.sampling_schedule, config.sampling_rate),
        NonFiniteLoss(checkpoint, manager, on_nonfinite, resumed_from=latest),
        CheckpointEveryEpoch(manager),
    ]
    if chief:
        callbacks += [
            KeepBest(run_dir),
            keras.callbacks.TensorBoard(os.path.join(run_dir, "logs"), update_freq=max(1, steps_per_epoch // 4)),
            keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=True),
        ]
    start = time.time()
    try:
        history = model.fit(
            _shard_by_data(train_ds),
            epochs=epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch,
            validation_data=_shard_by_data(val_ds),
            validation_steps=eval_batches,
            callbacks=callbacks,
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


def _shard_by_data(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Every worker reads the same seeded stream and keeps its slice of each global batch
    (AutoShardPolicy.DATA), so the replicas of step t together see one process's batch t."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def _same_on_every_worker(strategy: tf.distribute.Strategy, step: int) -> int:
    """Checks that every worker resumed from the same step (a worker that cannot see the
    chief's run directory would start over and silently train a different model)."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return step

    @tf.function
    def mean_and_mean_square():
        value = tf.constant([step, step * step], tf.float64)
        return strategy.reduce(tf.distribute.ReduceOp.MEAN, strategy.run(lambda: value), axis=None)

    mean, mean_square = mean_and_mean_square().numpy()
    if mean_square != mean * mean:
        raise ValueError(f"The workers resumed from different steps (this one from {step}): every worker must "
                         "see the chief's run directory (a shared filesystem).")
    return step


def package_run(run_dir: str, output_dir: str, provenance: dict | None = None, dtype: str = "float32") -> str:
    """Copies a run's best model into a small model directory (what `load` reads):
    config.json, weights.npz (no optimizer state; float16 halves it) and provenance.json.
    A styles.npz there is removed: rerun scripts/compute_styles.py for the new model."""
    model = restore_model(run_dir)
    os.makedirs(output_dir, exist_ok=True)
    configs.save_config(model.config, os.path.join(output_dir, CONFIG_FILE))
    weights = {f"w{i:03d}": w.astype(dtype) for i, w in enumerate(model.get_weights())}
    with atomic_write(os.path.join(output_dir, COMPACT_WEIGHTS)) as f:
        np.savez_compressed(f, **weights)
    for stale in (BEST_WEIGHTS, "styles.npz"):  # Another model's: its styles live in another latent space.
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
