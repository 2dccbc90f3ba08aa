"""The bidirectional LSTM encoder q(z|x)."""

from __future__ import annotations

import keras
from keras import ops

from groove_vae.lstm import LSTM, BuildsOnFirstCall


@keras.saving.register_keras_serializable(package="groove_vae")
class BidirectionalLstmEncoder(BuildsOnFirstCall, keras.layers.Layer):
    """A stacked bidirectional LSTM whose final states give mu and sigma.

    The last layer's final forward and backward outputs are concatenated and mapped
    by two dense layers to mu and sigma = softplus(...), as in MusicVAE. mu and sigma
    are float32 whatever the layer's dtype policy.

    Example:
    >>> encoder = BidirectionalLstmEncoder(rnn_sizes=(32, 32), z_size=8)
    >>> mu, sigma = encoder(keras.ops.zeros((2, 64, 27)))  # each [2, 8]
    """

    def __init__(self, rnn_sizes=(512, 512), z_size=256, dropout_rate=0.0, **kwargs):
        super().__init__(**kwargs)
        self.rnn_sizes = tuple(rnn_sizes)
        self.z_size = z_size
        self.dropout_rate = dropout_rate
        # === Layers ===
        self.rnns = [
            keras.layers.Bidirectional(
                LSTM(
                    size, return_sequences=i < len(self.rnn_sizes) - 1, dropout=dropout_rate
                ),
                name=f"bilstm_{i}",
            )
            for i, size in enumerate(self.rnn_sizes)
        ]
        self.mu_dense = keras.layers.Dense(z_size, name="mu", dtype="float32")
        self.sigma_dense = keras.layers.Dense(z_size, name="sigma", dtype="float32")

    def call(self, inputs, training=False):
        """[batch, steps, depth] -> mu, sigma, each [batch, z_size]."""
        x = inputs
        for rnn in self.rnns:
            x = rnn(x, training=training)
        return self.mu_dense(x), ops.softplus(self.sigma_dense(x))

    def get_config(self):
        return {
            **super().get_config(),
            "rnn_sizes": list(self.rnn_sizes),
            "z_size": self.z_size,
            "dropout_rate": self.dropout_rate,
        }
