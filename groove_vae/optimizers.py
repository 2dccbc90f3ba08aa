"""The optimizer and its learning-rate schedule, as Magenta's MusicVAE trains."""

from __future__ import annotations

import keras
import tensorflow as tf

from groove_vae import configs


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
