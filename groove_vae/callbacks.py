"""Keras callbacks that act per step: KL warm-up, scheduled sampling, and stopping at a step."""

from __future__ import annotations

import math

import keras


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
