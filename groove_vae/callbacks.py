"""Keras callbacks of a training run: per step, KL warm-up, scheduled sampling, stopping
at a step and recovering from a non-finite loss; per epoch, checkpoints and the best weights."""

from __future__ import annotations

import json
import math
import os

import keras
import tensorflow as tf

from groove_vae import weights
from groove_vae.files import write_text


def _step(model) -> int:
    return int(model.optimizer.iterations.numpy())


class KLWarmup(keras.callbacks.Callback):
    """Sets the model's beta each step: a linear rise from 0 to `max_beta`.

    Magenta's groovae configs use no warm-up (beta = max_beta from step 0); a
    linear ramp over `warmup_steps` lets the decoder learn before the KL term
    pushes the posterior toward the prior. `warmup_steps=0` reproduces Magenta.
    """

    def __init__(self, max_beta: float, warmup_steps: int = 0):
        super().__init__()
        self.max_beta = max_beta
        self.warmup_steps = warmup_steps

    def beta_at(self, step: int) -> float:
        if self.warmup_steps <= 0:
            return self.max_beta
        return self.max_beta * min(1.0, step / self.warmup_steps)

    def on_train_batch_begin(self, batch, logs=None):
        self.model.beta.assign(self.beta_at(_step(self.model)))

    def on_test_begin(self, logs=None):
        self.model.beta.assign(self.beta_at(_step(self.model)))


class ScheduledSampling(keras.callbacks.Callback):
    """Sets the probability of feeding the decoder its own samples in training.

    "constant": `rate` at every step. "inverse_sigmoid" (Magenta's, with k = `rate`):
    p = 1 - k / (k + exp(step / k)), rising from 0 toward 1.
    """

    def __init__(self, schedule: str = "constant", rate: float = 0.0):
        super().__init__()
        self.schedule = schedule
        self.rate = rate

    def probability_at(self, step: int) -> float:
        if self.schedule == "constant":
            return self.rate
        k = self.rate
        return 1.0 - k / (k + math.exp(min(step / k, 700.0)))

    def on_train_batch_begin(self, batch, logs=None):
        self.model.sampling_probability.assign(self.probability_at(_step(self.model)))


class StopAtStep(keras.callbacks.Callback):
    """Ends training once the optimizer has taken `num_steps` steps, mid-epoch if need
    be: Keras then still validates and runs every epoch-end callback (the checkpoint),
    so a run stops at exactly the step asked for, with a checkpoint there."""

    def __init__(self, num_steps: int):
        super().__init__()
        self.num_steps = num_steps

    def on_train_batch_end(self, batch, logs=None):
        if _step(self.model) >= self.num_steps:
            self.model.stop_training = True


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
    """Keeps the weights with the lowest validation loss (weights.npz, the format `load`
    reads) and that loss and its step (best.json), across resumed runs."""

    def __init__(self, run_dir: str, monitor: str = "val_loss", weights_of=None):
        super().__init__()
        self.run_dir = run_dir
        self.monitor = monitor
        self.weights_of = weights_of or (lambda model: model)  # The layer to save, given the model trained.
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
        weights.save_weights(self.weights_of(self.model), os.path.join(self.run_dir, weights.WEIGHTS_FILE))
        write_text(self.record_path, json.dumps({"monitor": self.monitor, "value": self.best,
                                                 "step": int(self.model.optimizer.iterations.numpy())}))
