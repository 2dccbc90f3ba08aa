"""An LSTM layer whose input products run outside the time loop.

On CPU, Keras runs LSTMs as a `tf.while_loop` of `LSTMCell` calls, each computing
x_t @ kernel + h_t-1 @ recurrent_kernel. The first product does not depend on the
loop, so this layer computes it for all steps at once: one large matmul forward, and
one each for its two gradients, instead of one small matmul per step (and one
accumulation of the kernel's gradient per step). The weights are cast once, not at
every step, under mixed precision. Weights, configuration and function are those of
`keras.layers.LSTM`, which still runs where this shortcut does not apply (masks,
recurrent dropout, cuDNN on a GPU).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops


@keras.saving.register_keras_serializable(package="groove_vae")
class LSTM(keras.layers.LSTM):
    """`keras.layers.LSTM` with the input products hoisted out of the time loop.

    Example:
    >>> lstm = LSTM(8, return_sequences=True)
    >>> outputs = lstm(keras.ops.zeros((2, 16, 3)))  # [2, 16, 8]
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if mask is not None or cell.recurrent_dropout or self.unroll or tf.config.list_logical_devices("GPU"):
            return super().inner_loop(sequences, initial_state, mask=mask, training=training)
        if training and 0.0 < cell.dropout < 1.0:  # One mask for all steps, as LSTMCell does.
            sequences = sequences * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0, :]), 1)
        steps, depth = sequences.shape[1], sequences.shape[2]
        sequences = tf.transpose(sequences, [1, 0, 2])  # Time-major: [steps, batch, depth].
        if self.go_backwards:
            sequences = tf.reverse(sequences, [0])
        kernel = ops.convert_to_tensor(cell.kernel)
        products = tf.matmul(tf.reshape(sequences, [-1, depth]), kernel)  # One matmul for all steps.
        if cell.use_bias:
            products = products + cell.bias
        products = tf.reshape(products, [steps, -1, kernel.shape[-1]])
        products = tf.TensorArray(products.dtype, size=steps).unstack(products)
        recurrent_kernel = ops.convert_to_tensor(cell.recurrent_kernel)  # Read (and cast) once.

        def body(t, h, c, *outputs):  # outputs: a TensorArray with return_sequences, else none.
            z_i, z_f, z_c, z_o = tf.split(products.read(t) + tf.matmul(h, recurrent_kernel), 4, axis=-1)
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
