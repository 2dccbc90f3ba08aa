"""MusicVAE: encoder + decoder, the ELBO with free bits, and the Keras train/test steps."""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from groove_vae import configs, distribute
from groove_vae import groove as layout
from groove_vae.decoders import FlatDecoder, HierarchicalDecoder
from groove_vae.encoder import BidirectionalLstmEncoder
from groove_vae.precision import dtype_policy, resolve_precision
from groove_vae.representations import (decoder_controls, get_representation, hide_instruments, random_keep,
                                         transform_inputs)
from groove_vae.sampling import FeelMemory, Given, SamplingOptions, StepSampler


def kl_divergence(mu, sigma):
    """KL(N(mu, sigma^2) || N(0, I)) per example, in nats: [batch, z] -> [batch]."""
    return tf.reduce_sum(
        0.5 * (tf.square(mu) + tf.square(sigma) - 1.0) - tf.math.log(sigma + 1e-8), axis=-1
    )


@keras.saving.register_keras_serializable(package="groove_vae")
class MusicVAE(keras.Model):
    """A MusicVAE over [batch, 64, depth] drum tensors.

    Reports loss, reconstruction loss (nats per clip), KL (nats per clip), beta, the
    scheduled-sampling probability and step accuracy (the fraction of steps whose
    set of 9 drum classes is predicted exactly, as in the paper's Table 1).

    Example:
    >>> config = configs.load_config("groovae_4bar")
    >>> vae = MusicVAE(config.to_dict())
    >>> vae.build()
    >>> groove = vae.decode(tf.random.normal([2, config.z_size]), SamplingOptions(temperature=0.5))  # [2, 64, 27]
    """

    def __init__(self, config: dict, **kwargs):
        super().__init__(**kwargs)
        self.config = configs.from_dict(config)
        c = self.config
        self.representation = get_representation(
            c.representation, c.groove_loss, c.groove_heads, c.velocity_bins, c.offset_bins)
        depth = self.representation.output_depth
        self.precision = resolve_precision(c.precision)
        # === Layers === (with precision=mixed_bfloat16, all but mu, sigma and the output projections)
        with dtype_policy(self.precision):
            self.encoder = BidirectionalLstmEncoder(c.encoder_rnn_sizes, c.z_size, c.dropout_rate, name="encoder")
            if c.decoder == "hierarchical":
                self.decoder = HierarchicalDecoder(
                    c.conductor_rnn_sizes, c.conductor_output_size, c.decoder_rnn_sizes, depth,
                    c.num_bars, c.steps_per_bar, c.dropout_rate, name="decoder",
                )
            else:
                self.decoder = FlatDecoder(c.decoder_rnn_sizes, depth, c.num_steps, c.dropout_rate, name="decoder")
        # === State set by callbacks ===
        self.beta = tf.Variable(c.max_beta, trainable=False, dtype=tf.float32, name="beta")
        self.sampling_probability = tf.Variable(0.0, trainable=False, dtype=tf.float32, name="sampling_probability")
        self.seed_generator = keras.random.SeedGenerator(c.seed, name="seed_generator")
        self.free_nats = c.free_bits * math.log(2.0)
        self._use_scheduled_sampling = c.sampling_schedule != "constant" or c.sampling_rate > 0
        self.feel = FeelMemory.of(c)  # How each draw remembers the bar before's (fitted after training).
        # === Metrics ===
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("loss", "reconstruction_loss", "hit_nll", "kl", "kl_bits", "beta", "sampling_probability",
                         "accuracy")
        }

    def build(self, input_shape=None):
        """Creates every weight with one eager pass of the reconstruction path, the encoder
        reading a single step: its weights do not depend on the length, and 64 eager steps
        of its LSTMs took most of a second of every cold start."""
        depth = self.representation.input_depth
        mu, _ = self.encode(tf.zeros([1, 1, depth]))
        inputs = tf.zeros([1, self.config.num_steps, depth])
        self.decoder.teacher_forced(mu, inputs, controls=self.controls(inputs))
        super().build(input_shape)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def compile(self, *args, **kwargs):
        """keras.Model.compile, with `jit_compile` (XLA) from the config unless given."""
        kwargs.setdefault("jit_compile", self.config.jit_compile)
        super().compile(*args, **kwargs)

    # === Public verbs ===
    def encode(self, inputs, training=False):
        """[batch, steps, input_depth] model inputs -> mu, sigma ([batch, z_size]).

        The config's input transform applies first: a humanize model encodes the hits
        alone, a tap model the collapsed rhythm.
        """
        if self.config.input_transform == "infill" and training:
            seed = keras.random.randint([2], 0, 2**30, seed=self.seed_generator, dtype="int32")
            inputs = hide_instruments(inputs, random_keep(tf.shape(inputs)[0], seed))
        elif self.config.input_transform != "none":
            inputs = transform_inputs(inputs, self.config.input_transform)
        return self.encoder(inputs, training=training)

    def controls(self, inputs):
        """What the decoder hears at each step of [batch, steps, input_depth] inputs beside z
        (a tap model with decoder_controls=tap: the tapped rhythm), or None."""
        return decoder_controls(inputs, self.config.decoder_controls)

    def drumify_given(self, inputs) -> Given:
        """What Drumify fixes when it plays the rhythm of [batch, steps, input_depth] inputs:
        the controls the decoder hears (if it hears any) and the tapped steps, which the
        sampler keeps (`sampling.on_the_taps`)."""
        return Given(controls=self.controls(inputs), rhythm=tf.reduce_max(layout.hits(inputs), axis=-1))

    def call(self, inputs, training=False):
        """Teacher-forced reconstruction from the posterior mean: raw outputs [batch, steps, depth]."""
        mu, _ = self.encode(inputs, training=training)
        return self.decoder.teacher_forced(mu, inputs, training=training, controls=self.controls(inputs))

    def decode(self, z, options=SamplingOptions(), given=Given(), draws=None, return_outputs=False):
        """z [batch, z_size] -> sampled groove tensors [batch, steps, 27] (drums: at a fixed
        velocity), drawn at `options`' temperature and seed with the model's feel memory (or
        `options.memory`). `given` fixes part of the output (`sampling.Given`: the hits to
        humanize, the instruments an infill keeps); `draws` [batch, steps, 27] are the feel
        memory's normal scores, when one song's windows share them. `return_outputs` also
        returns the raw outputs each step was sampled from. A model with decoder_controls
        plays only with `given.controls` (`controls(inputs)`: drumify's tapped rhythm)."""
        if (given.controls is None) != (self.config.decoder_controls == "none"):
            raise ValueError(
                f"This model's decoder hears {self.config.decoder_controls!r} controls at every step: it plays a "
                "given rhythm (drumify), it cannot decode z alone." if given.controls is None else
                "controls given to a model whose decoder hears none (decoder_controls=none).")
        if draws is None:
            draws = self.feel.scores(tf.shape(z)[0], self.config.num_bars, options.seed, options.temperature,
                                     self.config.steps_per_bar, options.memory)
        seed = tf.stack([tf.cast(options.seed, tf.int32), tf.constant(0, tf.int32)])
        step = StepSampler(self.representation, options.temperature, seed, draws, given)
        if return_outputs:
            outputs, samples = self.decoder.sample(z, step, given.controls, return_outputs=True)
            return self.representation.to_groove(samples), outputs
        return self.representation.to_groove(self.decoder.sample(z, step, given.controls))

    # === Training ===
    def compute_losses(self, inputs, training=False):
        """Returns (mean loss, dict of per-batch metrics) for [batch, steps, depth] inputs."""
        mu, sigma = self.encode(inputs, training=training)
        controls = self.controls(inputs)
        z = mu + sigma * distribute.replica_noise(tf.shape(mu), self.seed_generator)
        if self._use_scheduled_sampling and training:
            seed = keras.random.randint([2], 0, 2**30, seed=self.seed_generator, dtype="int32")
            outputs = tf.cond(
                self.sampling_probability > 0.0,
                lambda: self.decoder.scheduled_sampling(
                    z, inputs, self.representation, seed, self.sampling_probability, training, controls),
                lambda: self.decoder.teacher_forced(z, inputs, training, controls),
            )
        else:
            outputs = self.decoder.teacher_forced(z, inputs, training, controls)
        hit_nll = tf.reduce_sum(self.representation.hit_loss(inputs, outputs), axis=-1)
        feel_nll = tf.reduce_sum(self.representation.feel_loss(inputs, outputs), axis=-1)
        reconstruction = hit_nll + feel_nll
        kl = kl_divergence(mu, sigma)
        kl_cost = tf.maximum(kl - self.free_nats, 0.0)
        loss = tf.reduce_mean(hit_nll + self.config.feel_loss_weight * feel_nll + self.beta * kl_cost)
        correct = tf.reduce_all(
            tf.equal(self.representation.predicted_hits(outputs), self.representation.target_hits(inputs)), axis=-1
        )
        values = {
            "loss": loss,
            "reconstruction_loss": tf.reduce_mean(reconstruction),
            "hit_nll": tf.reduce_mean(hit_nll),
            "kl": tf.reduce_mean(kl),
            "kl_bits": tf.reduce_mean(kl) / math.log(2.0),
            "beta": self.beta,
            "sampling_probability": self.sampling_probability,
            "accuracy": tf.reduce_mean(tf.cast(correct, tf.float32)),
        }
        return loss, values

    def _update(self, values):
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return distribute.step_results({name: tracker.result() for name, tracker in self.trackers.items()})

    def train_step(self, data):
        """One optimizer step (under tf.distribute, one replica's part of it)."""
        inputs, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            loss, values = self.compute_losses(inputs, training=True)
        gradients = tape.gradient(loss, self.trainable_variables)
        distribute.apply_finite_gradients(self.optimizer, self.trainable_variables, loss, gradients,
                                          self.config.clip_norm)
        return self._update(values)

    def test_step(self, data):
        inputs, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        _, values = self.compute_losses(inputs, training=False)
        return self._update(values)

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def build_model(config: configs.Config) -> MusicVAE:
    """Creates a MusicVAE and builds its weights with one call on a dummy batch."""
    model = MusicVAE(config.to_dict())
    model.build()
    return model
