"""Decoders p(x|z): the hierarchical (conductor + per-bar) decoder and the flat baseline.

Both share `SegmentDecoder`: a stacked LSTM that decodes a sequence cut into
segments, each with its own embedding. The embedding sets the segment's initial
state (dense + tanh) and is fed at every step beside the previous step's output.
The hierarchical decoder uses one segment per bar, with embeddings from the
conductor, so the latent code reaches each bar only through the conductor; the flat
decoder is one segment of all steps with z as its embedding.

Callers use the `Decoder` interface (teacher-forced outputs, sampling, scheduled
sampling). Underneath, two paths compute the same function: `teacher_forced` runs
whole-sequence LSTM calls over all segments at once (training), `autoregressive` runs
one step at a time, a `tf.while_loop` per segment, and feeds back samples. How a step's
outputs become a sample (the temperature, the feel memory's draws, what the caller
fixes) is the sampler's business (`groove_vae.sampling`), handed in as one function.
Without dropout its step is `StackedLstm.conditioned_step`: the embedding's share of
the first layer's product is computed once per segment, not at every step.
"""

from __future__ import annotations

import functools

import keras
import tensorflow as tf

from groove_vae.lstm import LSTM, BuildsOnFirstCall
from groove_vae.precision import has_gpu


@keras.saving.register_keras_serializable(package="groove_vae")
class StackedLstm(BuildsOnFirstCall, keras.layers.Layer):
    """LSTM layers with dropout on each layer's input, callable per sequence or per step.

    States are a flat list [h_0, c_0, h_1, c_1, ...].
    """

    def __init__(self, rnn_sizes=(256, 256), dropout_rate=0.0, **kwargs):
        super().__init__(**kwargs)
        self.rnn_sizes = tuple(rnn_sizes)
        self.dropout_rate = dropout_rate
        self.lstms = [
            LSTM(size, return_sequences=True, return_state=True, name=f"lstm_{i}")
            for i, size in enumerate(self.rnn_sizes)
        ]
        self.dropout = keras.layers.Dropout(dropout_rate)

    @property
    def state_size(self) -> int:
        return 2 * sum(self.rnn_sizes)

    def split_state(self, flat_state):
        """[batch, state_size] -> [h_0, c_0, h_1, c_1, ...]."""
        return tf.split(flat_state, [s for s in self.rnn_sizes for _ in (0, 1)], axis=-1)

    def call(self, inputs, initial_state, training=False):
        """[batch, steps, depth] -> outputs [batch, steps, last size]."""
        x = inputs
        for i, lstm in enumerate(self.lstms):
            x = self.dropout(x, training=training)
            x, _, _ = lstm(x, initial_state=initial_state[2 * i : 2 * i + 2], training=training)
        return x

    def step(self, inputs, states, training=False):
        """One step: [batch, depth] and states -> output [batch, last size], new states."""
        x, new_states = inputs, []
        for i, lstm in enumerate(self.lstms):
            x = self.dropout(x, training=training)
            x, (h, c) = lstm.cell(x, states[2 * i : 2 * i + 2], training=training)
            new_states += [h, c]
        return x, new_states

    def inference_weights(self):
        """The kernels and biases `conditioned_step` multiplies by, prepared once per decode:
        each layer's input and recurrent kernels as one matrix, cast to the compute dtype,
        and the gate columns from Keras's (input, forget, cell, output) to (input, forget,
        output, cell), so the three sigmoid gates are one slice and one activation per step."""
        dtype = self.compute_dtype
        cells = [lstm.cell for lstm in self.lstms]
        kernels = [tf.concat([tf.cast(c.kernel, dtype), tf.cast(c.recurrent_kernel, dtype)], 0) for c in cells]
        biases = [tf.cast(c.bias, dtype) for c in cells]
        return [_gates_last_cell(k) for k in kernels], [_gates_last_cell(b) for b in biases]

    def conditioned_step(self, conditioning, weights=None):
        """An inference step function for a loop whose input at every step is
        [conditioning, x], with conditioning [batch, c] fixed for the whole loop.

        The same function as `step` (no dropout), with less work per step: the
        conditioning's product with the first kernel is computed here, once, and each
        layer's input and recurrent products are one matmul. `weights`: this layer's
        `inference_weights()`, when one decode makes several step functions. Returns
        step(x [batch, depth], states) -> (output [batch, last size], new states).
        """
        dtype = self.compute_dtype
        kernels, biases = self.inference_weights() if weights is None else weights
        size = conditioning.shape[-1]
        fixed = tf.matmul(tf.cast(conditioning, dtype), kernels[0][:size]) + biases[0]
        kernels, biases = [kernels[0][size:], *kernels[1:]], [fixed, *biases[1:]]
        activations = [(lstm.cell.recurrent_activation, lstm.cell.activation) for lstm in self.lstms]

        def step(x, states):
            x, new_states = tf.cast(x, dtype), []
            for i, (gate, activation) in enumerate(activations):
                h, c = states[2 * i : 2 * i + 2]
                z = tf.matmul(tf.concat([x, h], -1), kernels[i]) + biases[i]
                units = c.shape[-1]
                z_i, z_f, z_o = tf.split(_in_float32(gate, z[:, : 3 * units]), 3, axis=-1)
                c = z_f * c + z_i * activation(z[:, 3 * units :])
                x = z_o * activation(c)
                new_states += [x, c]
            return x, new_states

        return step

    def get_config(self):
        return {**super().get_config(), "rnn_sizes": list(self.rnn_sizes), "dropout_rate": self.dropout_rate}


def _gates_last_cell(weights):
    """An LSTM kernel's or bias's last axis from Keras's gate order (i, f, c, o) to (i, f, o, c)."""
    i, f, c, o = tf.split(weights, 4, axis=-1)
    return tf.concat([i, f, o, c], axis=-1)


def _in_float32(function, x):
    """function(x), computed in float32 when x is bfloat16: TensorFlow's bfloat16 sigmoid on
    CPU is several times slower than a float32 one and two casts."""
    if x.dtype == tf.bfloat16:
        return tf.cast(function(tf.cast(x, tf.float32)), x.dtype)
    return function(x)


@keras.saving.register_keras_serializable(package="groove_vae")
class SegmentDecoder(keras.layers.Layer):
    """Decodes [batch, segments * segment_length] steps from per-segment embeddings."""

    def __init__(self, rnn_sizes, output_depth, segment_length, dropout_rate=0.0, **kwargs):
        super().__init__(**kwargs)
        self.rnn_sizes = tuple(rnn_sizes)
        self.output_depth = output_depth
        self.segment_length = segment_length
        self.dropout_rate = dropout_rate
        # === Layers ===
        self.lstm = StackedLstm(rnn_sizes, dropout_rate, name="lstm")
        self.initial_state = keras.layers.Dense(self.lstm.state_size, activation="tanh", name="initial_state")
        # Float32 whatever the policy: the logits feed the loss and the sampler.
        self.output_projection = keras.layers.Dense(output_depth, name="output_projection", dtype="float32")

    def teacher_forced(self, embeddings, previous, training=False, controls=None):
        """Fast path. embeddings [batch, segments, emb]; previous [batch, steps, depth]
        (the targets shifted right by one step); controls [batch, steps, c] or None ->
        outputs [batch, steps, output_depth].

        All segments run as one batch of whole-sequence LSTM calls.
        """
        if controls is not None:  # Heard beside the step before: [embedding, controls, previous].
            previous = tf.concat([tf.cast(controls, previous.dtype), previous], -1)
        batch = tf.shape(embeddings)[0]
        num_segments, emb_size = embeddings.shape[1], embeddings.shape[2]
        depth = previous.shape[-1]
        flat_embeddings = tf.reshape(embeddings, [-1, emb_size])  # [batch * segments, emb]
        states = self.lstm.split_state(self.initial_state(flat_embeddings))
        previous = tf.cast(tf.reshape(previous, [-1, self.segment_length, depth]), embeddings.dtype)
        conditioning = tf.repeat(flat_embeddings[:, None, :], self.segment_length, axis=1)
        outputs = self.lstm(tf.concat([conditioning, previous], -1), states, training=training)
        outputs = tf.reshape(outputs, [batch, num_segments * self.segment_length, outputs.shape[-1]])
        return self.output_projection(outputs)

    def autoregressive(self, embeddings, sample_step, targets=None, sampling_probability=0.0, seed=None,
                       training=False, controls=None, with_outputs=True):
        """Step-by-step path: embeddings [batch, segments, emb] -> (outputs, samples), each
        [batch, steps, depth]. `sample_step(t, outputs)` turns step t's outputs into its
        sample (`sampling.StepSampler`; its `depth` is the sample's), which the next step hears; with `targets` given,
        the next step hears the true step instead unless a coin with
        `sampling_probability` (from `seed` [2]) says to feed the sample (scheduled sampling).
        Step t also hears `controls[:, t]` ([batch, steps, c]) when given. Without
        `with_outputs`, outputs is None: a decode that only plays skips writing them.
        """
        batch = tf.shape(embeddings)[0]
        num_segments = embeddings.shape[1]
        num_steps = num_segments * self.segment_length
        segment_states = self.initial_state(embeddings)  # [batch, segments, state_size]
        # The projection's weights read once, not at every step (the same arithmetic as the layer's).
        kernel, bias = (tf.convert_to_tensor(w) for w in (self.output_projection.kernel, self.output_projection.bias))
        weights = None if training and self.dropout_rate > 0 else self.lstm.inference_weights()

        chains = _chains(embeddings.shape[0], training, sample_step)
        samplers = [sample_step] if chains == [None] else [sample_step.rows(rows) for rows in chains]

        def body(steps, t, previous, states, outputs_ta, samples_ta):
            heard = previous if controls is None else tf.concat([tf.gather(controls, t, axis=1), previous], -1)
            outputs, samples, new_states = [], [], []
            for step, sampler, rows, chain_states in zip(steps, samplers, chains, states):
                out, chain_states = step(_rows(heard, rows), chain_states)
                outputs.append(tf.nn.bias_add(tf.matmul(tf.cast(out, tf.float32), kernel), bias))
                samples.append(sampler(t, outputs[-1]))
                new_states.append(chain_states)
            output, sample = (tf.concat(x, 0) if len(x) > 1 else x[0] for x in (outputs, samples))
            states = new_states
            if targets is not None:
                coin = tf.random.stateless_uniform([batch, 1], seed=seed + tf.stack([0, 2 * t + 1]))
                sample_fed = tf.where(coin < sampling_probability, sample, targets[:, t])
            else:
                sample_fed = sample
            if with_outputs:
                outputs_ta = outputs_ta.write(t, output)
            return t + 1, sample_fed, states, outputs_ta, samples_ta.write(t, sample)

        def segment_body(segment, previous, outputs_ta, samples_ta):
            """One segment: a loop over its steps from the segment's fresh state."""
            embedding, flat_states = (tf.gather(x, segment, axis=1) for x in (embeddings, segment_states))
            steps = [self._step_function(_rows(embedding, rows), training, weights) for rows in chains]
            states = [self.lstm.split_state(_rows(flat_states, rows)) for rows in chains]
            start = segment * self.segment_length
            _, previous, _, outputs_ta, samples_ta = tf.while_loop(
                lambda t, *_: t < start + self.segment_length,
                functools.partial(body, steps),
                (start, previous, states, outputs_ta, samples_ta),
                maximum_iterations=self.segment_length,
            )
            return segment + 1, previous, outputs_ta, samples_ta

        # A loop over segments around a loop over each one's steps: the step is traced once.
        previous = tf.zeros([batch, targets.shape[-1] if targets is not None else sample_step.depth])
        _, _, outputs_ta, samples_ta = tf.while_loop(
            lambda segment, *_: segment < num_segments,
            segment_body,
            (tf.constant(0), previous, tf.TensorArray(tf.float32, size=num_steps if with_outputs else 0),
             tf.TensorArray(tf.float32, size=num_steps)),
            maximum_iterations=num_segments,
        )
        outputs = tf.transpose(outputs_ta.stack(), [1, 0, 2]) if with_outputs else None
        samples = tf.transpose(samples_ta.stack(), [1, 0, 2])
        return outputs, samples

    def _step_function(self, embedding, training, weights):
        """step(previous [batch, depth], states) -> (output, states) for one segment
        (`weights`: the LSTM's `inference_weights()`, where it runs without dropout)."""
        if training and self.dropout_rate > 0:  # Dropout masks the embedding too, at each step.
            return lambda x, states: self.lstm.step(
                tf.concat([embedding, tf.cast(x, embedding.dtype)], -1), states, training=True
            )
        return self.lstm.conditioned_step(embedding, weights)

    def get_config(self):
        return {
            **super().get_config(),
            "rnn_sizes": list(self.rnn_sizes),
            "output_depth": self.output_depth,
            "segment_length": self.segment_length,
            "dropout_rate": self.dropout_rate,
        }


# Rows per chain of the inference step loop (`_chains`).
CHAIN_ROWS = 16


def _chains(batch_size: int | None, training: bool, sample_step) -> list:
    """The row slices the inference step loop runs as independent chains, each with its
    own LSTM states, matmuls and draws, joined only to be written out. XLA's CPU runtime
    runs independent ops at once, so four chains of 16 rows keep both cores busy where
    one chain of 64 waits on each small matmul and then on the sampler
    (experiments/2026-12-07-sampling-speed.md). Rows do not mix, so each row is decoded
    as alone (to float rounding: a matmul's sums may run in another order). One chain
    of all rows (None) where the batch size is unknown when traced, under
    2 * CHAIN_ROWS, in training, where the sampler draws over the whole batch, or on a
    GPU, where one wide kernel beats several narrow ones."""
    if (training or batch_size is None or batch_size < 2 * CHAIN_ROWS
            or not getattr(sample_step, "draws_by_row", False) or has_gpu()):
        return [None]
    return [slice(start, start + CHAIN_ROWS) for start in range(0, batch_size, CHAIN_ROWS)]


def _rows(x, rows: slice | None):
    """x's rows of one chain (`_chains`): all of them for None."""
    return x if rows is None else x[rows]


def shift_right(x):
    """[batch, steps, depth] -> the same, one step later, with zeros at step 0."""
    return tf.pad(x[:, :-1], [[0, 0], [1, 0], [0, 0]])


class Decoder(keras.layers.Layer):
    """p(x|z): what the model, the evaluation and the API ask of a decoder.

    A subclass turns z into one embedding per segment (`embeddings(z, training)` ->
    [batch, segments, embedding size]) and plays them with the `SegmentDecoder` its
    `_segments` names; the three methods below are the whole interface, so callers
    never reach into either.
    """

    def teacher_forced(self, z, targets, training=False, controls=None):
        """Each step sees the true previous step: z and targets [batch, steps, depth] ->
        raw outputs [batch, steps, output_depth] (training and reconstruction scores).
        `controls` [batch, steps, c]: what each step hears besides (a tap model's rhythm)."""
        return self._segments.teacher_forced(self.embeddings(z, training), shift_right(targets), training, controls)

    def sample(self, z, sample_step, controls=None, return_outputs=False):
        """Each step hears the previous step's sample: z -> samples [batch, steps, depth],
        and with `return_outputs` the raw outputs each was drawn from, (outputs, samples);
        `sample_step(t, outputs)` draws each step (`sampling.StepSampler`)."""
        outputs, samples = self._segments.autoregressive(self.embeddings(z), sample_step, controls=controls,
                                                         with_outputs=return_outputs)
        return (outputs, samples) if return_outputs else samples

    def scheduled_sampling(self, z, targets, representation, seed, probability, training=False, controls=None):
        """Each step sees its own sample with `probability`, else the true previous step:
        z and targets [batch, steps, depth] -> raw outputs."""
        seed = tf.cast(seed, tf.int32)
        sample_step = lambda t, output: representation.sample(output, 1.0, seed + tf.stack([0, 2 * t]))  # noqa: E731
        outputs, _ = self._segments.autoregressive(self.embeddings(z, training), sample_step, targets, probability,
                                                   seed, training, controls)
        return outputs


@keras.saving.register_keras_serializable(package="groove_vae")
class Conductor(BuildsOnFirstCall, keras.layers.Layer):
    """z -> one embedding per bar: an LSTM with no input whose initial state comes from z."""

    def __init__(self, rnn_sizes=(256, 256), num_bars=4, output_size=256, **kwargs):
        super().__init__(**kwargs)
        self.rnn_sizes = tuple(rnn_sizes)
        self.num_bars = num_bars
        self.output_size = output_size
        self.lstm = StackedLstm(rnn_sizes, name="lstm")
        self.initial_state = keras.layers.Dense(self.lstm.state_size, activation="tanh", name="initial_state")
        self.output_projection = keras.layers.Dense(output_size, name="output_projection")

    def call(self, z, training=False):
        """[batch, z_size] -> [batch, num_bars, output_size]."""
        states = self.lstm.split_state(self.initial_state(z))
        zeros = tf.zeros([tf.shape(z)[0], self.num_bars, 1])
        return self.output_projection(self.lstm(zeros, states, training=training))

    def get_config(self):
        return {
            **super().get_config(),
            "rnn_sizes": list(self.rnn_sizes),
            "num_bars": self.num_bars,
            "output_size": self.output_size,
        }


@keras.saving.register_keras_serializable(package="groove_vae")
class HierarchicalDecoder(Decoder):
    """MusicVAE's decoder: a conductor emits one embedding per bar; each bar is decoded
    by the same LSTM from a fresh state."""

    def __init__(self, conductor_rnn_sizes, conductor_output_size, decoder_rnn_sizes,
                 output_depth, num_bars, steps_per_bar, dropout_rate=0.0, **kwargs):
        super().__init__(**kwargs)
        self._args = dict(
            conductor_rnn_sizes=list(conductor_rnn_sizes),
            conductor_output_size=conductor_output_size,
            decoder_rnn_sizes=list(decoder_rnn_sizes),
            output_depth=output_depth,
            num_bars=num_bars,
            steps_per_bar=steps_per_bar,
            dropout_rate=dropout_rate,
        )
        self.conductor = Conductor(conductor_rnn_sizes, num_bars, conductor_output_size, name="conductor")
        self.bar_decoder = SegmentDecoder(
            decoder_rnn_sizes, output_depth, steps_per_bar, dropout_rate, name="bar_decoder"
        )

    def embeddings(self, z, training=False):
        return self.conductor(z, training=training)

    @property
    def _segments(self) -> SegmentDecoder:
        return self.bar_decoder

    def get_config(self):
        return {**super().get_config(), **self._args}


@keras.saving.register_keras_serializable(package="groove_vae")
class FlatDecoder(Decoder):
    """The paper's baseline: one LSTM over all steps, its state and input from z."""

    def __init__(self, decoder_rnn_sizes, output_depth, num_steps, dropout_rate=0.0, **kwargs):
        super().__init__(**kwargs)
        self._args = dict(
            decoder_rnn_sizes=list(decoder_rnn_sizes),
            output_depth=output_depth,
            num_steps=num_steps,
            dropout_rate=dropout_rate,
        )
        self.sequence_decoder = SegmentDecoder(
            decoder_rnn_sizes, output_depth, num_steps, dropout_rate, name="sequence_decoder"
        )

    def embeddings(self, z, training=False):
        return z[:, None, :]

    @property
    def _segments(self) -> SegmentDecoder:
        return self.sequence_decoder

    def get_config(self):
        return {**super().get_config(), **self._args}
