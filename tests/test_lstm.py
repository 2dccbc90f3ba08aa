import keras
import numpy as np
import pytest
import tensorflow as tf

from groove_vae.lstm import LSTM


def _pair(**kwargs):
    """A Keras LSTM and ours with the same weights."""
    x = tf.random.stateless_normal([3, 7, 5], seed=[0, 1])
    theirs, ours = keras.layers.LSTM(4, **kwargs), LSTM(4, **kwargs)
    theirs(x)
    ours(x)
    ours.set_weights(theirs.get_weights())
    return x, theirs, ours


@pytest.mark.parametrize(
    "kwargs",
    [dict(return_sequences=True), dict(return_sequences=False), dict(return_sequences=True, go_backwards=True),
     dict(return_sequences=True, return_state=True)],
)
def test_hoisted_loop_equals_keras_lstm(kwargs):
    x, theirs, ours = _pair(**kwargs)
    initial_state = [tf.fill([3, 4], 0.3), tf.fill([3, 4], -0.2)]
    for a, b in zip(tf.nest.flatten(theirs(x, initial_state=initial_state)),
                    tf.nest.flatten(ours(x, initial_state=initial_state))):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_hoisted_loop_has_the_same_gradients():
    x, theirs, ours = _pair(return_sequences=True)
    gradients = []
    for layer in (theirs, ours):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(layer(x)))
        gradients.append(tape.gradient(loss, layer.trainable_variables))
    for a, b in zip(*gradients):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


def test_input_dropout_matches_keras_with_the_same_seed():
    """One input mask for all steps, as LSTMCell draws it (the same seed gives the same mask)."""
    x, theirs, ours = _pair(return_sequences=True, dropout=0.5, seed=7)
    np.testing.assert_allclose(theirs(x, training=True).numpy(), ours(x, training=True).numpy(), atol=1e-6)
    assert not np.allclose(ours(x, training=True).numpy(), ours(x, training=False).numpy())
