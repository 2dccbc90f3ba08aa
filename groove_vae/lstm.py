"""An LSTM layer that casts its weights once per call under mixed precision.

On CPU, Keras runs an LSTM as a `tf.while_loop` of `LSTMCell` calls. Under a mixed
policy each call casts the float32 kernels to bfloat16, and the backward pass keeps
every step's cast: at groovae_4bar's size that is as much memory in weight copies as
bfloat16 saves on the activations (experiments/2026-12-05-performance.md). This layer casts the kernels once,
before the loop, and runs the same step; the kernels' gradients are then summed over
the steps in bfloat16 (Keras sums each step's in float32), which 50 steps of training
showed no sign of (experiments/2026-12-05-performance.md). In float32 (or with masks, recurrent dropout,
unrolling or a GPU) it is `keras.layers.LSTM` unchanged, with the same weights.

`inner_loop` is not public Keras API, so setup.py pins Keras to the minor versions
that tests/test_lstm.py (this layer against keras.layers.LSTM) passes with.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops


@keras.saving.register_keras_serializable(package="groove_vae")
class LSTM(keras.layers.LSTM):
    """`keras.layers.LSTM` whose mixed-precision loop reads its cast weights once.

    Example:
    >>> lstm = LSTM(8, return_sequences=True, dtype="mixed_bfloat16")
    >>> outputs = lstm(keras.ops.zeros((2, 16, 3)))  # [2, 16, 8] bfloat16
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if (self.compute_dtype == self.variable_dtype or mask is not None or cell.recurrent_dropout
                or self.unroll or tf.config.list_logical_devices("GPU")):
            return super().inner_loop(sequences, initial_state, mask=mask, training=training)
        if training and 0.0 < cell.dropout < 1.0:  # One mask for all steps, as LSTMCell draws it.
            sequences = sequences * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0, :]), 1)
        kernel, recurrent_kernel = (tf.cast(w, self.compute_dtype) for w in (cell.kernel, cell.recurrent_kernel))
        bias = tf.cast(cell.bias, self.compute_dtype) if cell.use_bias else 0.0
        steps = sequences.shape[1]
        sequences = tf.transpose(sequences, [1, 0, 2])  # Time-major.
        if self.go_backwards:
            sequences = tf.reverse(sequences, [0])
        inputs = tf.TensorArray(sequences.dtype, size=steps).unstack(sequences)

        def body(t, h, c, *outputs):  # outputs: a TensorArray with return_sequences, else none.
            z = tf.matmul(inputs.read(t), kernel) + tf.matmul(h, recurrent_kernel) + bias
            z_i, z_f, z_c, z_o = tf.split(z, 4, axis=-1)
            c = cell.recurrent_activation(z_f) * c + cell.recurrent_activation(z_i) * cell.activation(z_c)
            h = cell.recurrent_activation(z_o) * cell.activation(c)
            return (t + 1, h, c, *(ta.write(t, h) for ta in outputs))

        h, c = initial_state
        outputs = [tf.TensorArray(h.dtype, size=steps)] if self.return_sequences else []
        _, h, c, *outputs = tf.while_loop(
            lambda t, *_: t < steps, body, (tf.constant(0), h, c, *outputs), maximum_iterations=steps
        )
        # As Keras returns them: [batch, steps, units], in the order of processing.
        outputs = tf.transpose(outputs[0].stack(), [1, 0, 2]) if outputs else h
        return h, outputs, [h, c]


class BuildsOnFirstCall:
    """A mixin for a layer made only of sublayers, each of which builds its weights on its
    first call: Keras's default build would first trace the whole call symbolically (most
    of a second of every model load), only to build the same sublayers."""

    def build(self, input_shape=None):
        self.built = True
