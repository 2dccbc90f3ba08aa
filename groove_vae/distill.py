"""Distillation: a narrower bar decoder that plays as a trained model's does, for faster sampling.

The student keeps its teacher's encoder and conductor, copied and frozen, so its latent
space is the teacher's: the fitted prior, the styles and the attribute vectors (fitted to
the encoder's posteriors) carry over unchanged. What was fitted on decoded beats is the
student's to refit: the memories (`calibrate_feel`) and the constraints' critics
(`fit_constraints`). Only the bar decoder is narrower. It starts from the teacher's own
units (the ones whose outgoing weights are largest, in each narrowed layer), and learns
to match the teacher's per-step distributions, teacher-forced on the training clips at
latents drawn from their (fixed) posteriors:

    loss = KL(teacher's hits || student's), at T = 1 and at T = 0.5
           + E[hit] * KL(teacher's velocity and offset bins || student's),

summed over the steps and drums, with E[hit] the teacher's probability of the hit (a
feel matters where a drum plays). The clips are joined by beats the teacher plays from
its own prior: what the student decodes when it samples.
The run directory is an ordinary one (`restore_model`, `package_model` read it).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time

import keras
import numpy as np
import tensorflow as tf

from groove_vae import bundled, callbacks, configs, data, runs, weights
from groove_vae.attributes import ATTRIBUTE_FILE
from groove_vae.drums import NUM_CLASSES
from groove_vae.generator import STYLE_FILE, GrooveGenerator
from groove_vae.model import MusicVAE, build_model
from groove_vae.optimizers import make_optimizer
from groove_vae.sampling import PRIOR_FILE
from groove_vae.training import check_training_args, remove_killed_saves, resume

BAR_DECODER = "decoder/bar_decoder/"
# What a model fits to its encoder's posteriors, which the student shares: copied from the teacher.
LATENT_FILES = (PRIOR_FILE, STYLE_FILE, ATTRIBUTE_FILE)


def student_config(teacher: configs.Config, decoder_rnn_sizes) -> configs.Config:
    """The teacher's config with a narrower bar decoder (each layer at most the teacher's),
    trained without dropout: a student matched to the teacher through dropout's masks plays
    surer than the teacher once they are off (the mean of sigmoids over the masks is
    matched, the sigmoid of the mean logit is played), and at T = 0.5 a little closer to
    the training clips."""
    sizes = tuple(int(s) for s in decoder_rnn_sizes)
    if teacher.decoder != "hierarchical":
        raise ValueError("distillation narrows a hierarchical model's bar decoder; this model's decoder is flat.")
    if len(sizes) != len(teacher.decoder_rnn_sizes) or any(
            not 1 <= s <= t for s, t in zip(sizes, teacher.decoder_rnn_sizes)):
        raise ValueError(f"the student's decoder sizes {list(sizes)} must be as many layers as the teacher's "
                         f"{list(teacher.decoder_rnn_sizes)}, each between 1 and the teacher's size.")
    return dataclasses.replace(teacher, decoder_rnn_sizes=sizes, dropout_rate=0.0)


def kept_units(named: dict[str, np.ndarray], sizes) -> list[np.ndarray]:
    """Per bar-decoder layer, the teacher's units the student keeps (sorted): those whose
    outgoing weights (into the next layer, or the output projection) are largest."""
    kept = []
    for i, size in enumerate(sizes):
        following = (named[f"{BAR_DECODER}lstm/lstms/{i + 1}/cell/kernel"] if i + 1 < len(sizes)
                     else named[f"{BAR_DECODER}output_projection/kernel"])
        strength = np.linalg.norm(following, axis=1)
        kept.append(np.sort(np.argsort(-strength, kind="stable")[:size]))
    return kept


def _gate_columns(units: np.ndarray, teacher_size: int) -> np.ndarray:
    """The columns of an LSTM kernel [.., 4 * size] (four gate blocks) that belong to `units`."""
    return np.concatenate([gate * teacher_size + units for gate in range(4)])


def narrowed_weights(teacher: MusicVAE, student: MusicVAE) -> dict[str, np.ndarray]:
    """The teacher's weights cut to the student's shapes: every weight outside the bar
    decoder as it is, and the bar decoder's at the kept units (`kept_units`)."""
    named = {k: v.numpy() for k, v in weights.named_weights(teacher).items()}
    teacher_sizes = teacher.config.decoder_rnn_sizes
    kept = kept_units(named, student.config.decoder_rnn_sizes)
    cut = dict(named)
    state_columns = []  # The initial state's [h_0, c_0, h_1, c_1, ...] columns of the kept units.
    offset = 0
    for i, (units, size) in enumerate(zip(kept, teacher_sizes)):
        state_columns += [offset + units, offset + size + units]
        offset += 2 * size
        layer = f"{BAR_DECODER}lstm/lstms/{i}/cell/"
        columns = _gate_columns(units, size)
        kernel = named[layer + "kernel"][:, columns]
        cut[layer + "kernel"] = kernel if i == 0 else kernel[kept[i - 1]]
        cut[layer + "recurrent_kernel"] = named[layer + "recurrent_kernel"][units][:, columns]
        cut[layer + "bias"] = named[layer + "bias"][columns]
    state_columns = np.concatenate(state_columns)
    for name in ("kernel", "bias"):
        key = f"{BAR_DECODER}initial_state/{name}"
        cut[key] = named[key][..., state_columns]
    cut[f"{BAR_DECODER}output_projection/kernel"] = named[f"{BAR_DECODER}output_projection/kernel"][kept[-1]]
    return cut


def init_student(teacher: MusicVAE, student: MusicVAE) -> None:
    """Sets the student's weights from the teacher's (`narrowed_weights`) and freezes all
    but its bar decoder."""
    cut = narrowed_weights(teacher, student)
    for key, variable in weights.named_weights(student).items():
        variable.assign(cut[key])
    student.encoder.trainable = False
    student.decoder.conductor.trainable = False


def hit_kl(teacher_logits, student_logits, temperature: float = 1.0):
    """KL from the teacher's hit distribution to the student's [..., 9], both at `temperature`."""
    teacher_logits, student_logits = teacher_logits / temperature, student_logits / temperature
    probability = tf.sigmoid(teacher_logits)
    return (tf.nn.sigmoid_cross_entropy_with_logits(labels=probability, logits=student_logits)
            - tf.nn.sigmoid_cross_entropy_with_logits(labels=probability, logits=teacher_logits))


def distillation_losses(representation, teacher_outputs, student_outputs, hit_temperatures=(1.0,)):
    """Per clip [batch]: the hits' KL (summed over `hit_temperatures`) and the feel's
    (velocity and offset bins, weighted by the teacher's hit probability), teacher to
    student, in nats, summed over the steps."""
    teacher_logits, student_logits = teacher_outputs[..., :NUM_CLASSES], student_outputs[..., :NUM_CLASSES]
    hit_probability = tf.sigmoid(teacher_logits)
    hits = tf.add_n([hit_kl(teacher_logits, student_logits, t) for t in hit_temperatures])
    feel_kl = 0.0
    if representation.heads == "binned":
        for teacher_bins, student_bins in zip(representation.bin_logits(teacher_outputs)[1:],
                                              representation.bin_logits(student_outputs)[1:]):
            teacher_log = tf.nn.log_softmax(teacher_bins)
            kl = tf.reduce_sum(tf.exp(teacher_log) * (teacher_log - tf.nn.log_softmax(student_bins)), axis=-1)
            feel_kl += hit_probability * kl
        feel_kl = tf.reduce_sum(feel_kl, axis=[1, 2])
    else:  # Squared-error heads play their mean: match it where the teacher plays.
        _, teacher_velocity, teacher_offset = representation.split(teacher_outputs)
        _, student_velocity, student_offset = representation.split(student_outputs)
        squared = tf.square(student_velocity - teacher_velocity) + tf.square(student_offset - teacher_offset)
        feel_kl = tf.reduce_sum(hit_probability * squared, axis=[1, 2])
    return tf.reduce_sum(hits, axis=[1, 2]), feel_kl


# The hits are matched as played at temperature 1 and at the default 0.5, which sharpens
# them: there a logit the student gets a little too sure of (at 1 a small KL) makes its
# beats steadier and closer to the training clips than the teacher's.
HIT_TEMPERATURES = (1.0, 0.5)


class Distiller(keras.Model):
    """Trains `student`'s bar decoder to play as `teacher` does, on (clip, posterior mean,
    posterior scale) batches: both decode the same latent, teacher-forced on the clip."""

    def __init__(self, teacher: MusicVAE, student: MusicVAE, seed: int = 0, hit_temperatures=HIT_TEMPERATURES,
                 **kwargs):
        super().__init__(**kwargs)
        self.teacher, self.student = teacher, student
        self.hit_temperatures = tuple(hit_temperatures)
        self.teacher.trainable = False
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss", "hit_kl", "feel_kl")}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def losses_of(self, batch, training):
        inputs, mu, sigma = batch
        z = mu + sigma * keras.random.normal(tf.shape(mu), seed=self.seed_generator)
        controls = self.student.controls(inputs)
        teacher_outputs = tf.stop_gradient(self.teacher.decoder.teacher_forced(z, inputs, controls=controls))
        student_outputs = self.student.decoder.teacher_forced(z, inputs, training=training, controls=controls)
        hits, feel = distillation_losses(self.student.representation, tf.cast(teacher_outputs, tf.float32),
                                         tf.cast(student_outputs, tf.float32), self.hit_temperatures)
        return tf.reduce_mean(hits + feel), {"hit_kl": tf.reduce_mean(hits), "feel_kl": tf.reduce_mean(feel)}

    def train_step(self, batch):
        variables = self.student.decoder.bar_decoder.trainable_variables
        with tf.GradientTape() as tape:
            loss, values = self.losses_of(batch, training=True)
        gradients = tape.gradient(loss, variables)
        gradients, _ = tf.clip_by_global_norm(gradients, self.student.config.clip_norm)
        self.optimizer.apply_gradients(zip(gradients, variables))
        return self._update(loss, values)

    def test_step(self, batch):
        loss, values = self.losses_of(batch, training=False)
        return self._update(loss, values)

    def _update(self, loss, values):
        for name, value in {"loss": loss, **values}.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}


def teacher_beats(teacher_dir: str, model: MusicVAE, n: int, temperatures, seed: int):
    """(inputs, z, zeros) of n beats the teacher plays from its own prior at each temperature
    (loaded as `load()` plays it, in float32 on a CPU): what the student decodes when it
    samples, where teacher forcing on the training clips alone leaves it less sure than the
    teacher (a student distilled on clips alone played a little closer to the training
    clips at T=0.5)."""
    generator = GrooveGenerator.load(teacher_dir)
    parts, chunk = [], 1024  # The most one call draws.
    for temperature in temperatures:
        for start in range(0, n, chunk):
            z = generator.sample_latents(min(chunk, n - start), seed=seed + len(parts))
            grooves = generator.decode_tensors(z, temperature, seed + len(parts))
            parts.append((model.representation.to_inputs(tf.constant(grooves, tf.float32)).numpy(), z))
    inputs, z = (np.concatenate([p[k] for p in parts]).astype(np.float32) for k in (0, 1))
    return inputs, z, np.zeros_like(z)


def posterior_dataset(model: MusicVAE, groove: np.ndarray, batch_size: int, shuffle: bool, seed: int, extra=None):
    """(inputs, mu, sigma) batches over the clips (and `extra` such triples), repeated: each
    clip's posterior is computed once, as the frozen encoder gives the same one at every step."""
    mu, sigma = GrooveGenerator(model).posterior_tensors(groove)
    inputs = model.representation.to_inputs(tf.constant(groove, tf.float32)).numpy()
    if extra is not None:
        inputs, mu, sigma = (np.concatenate([a, b]) for a, b in zip((inputs, mu, sigma), extra))
    dataset = tf.data.Dataset.from_tensor_slices((inputs, mu, sigma))
    if shuffle:
        dataset = dataset.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
    return dataset.repeat().batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def distill(teacher_dir: str, run_dir: str, decoder_rnn_sizes, num_steps: int,
            tfds_name: str = data.DEFAULT_TFDS_NAME, steps_per_epoch: int = 100, eval_batches: int = 8,
            data_dir: str | None = None, learning_rate: float | None = None, verbose: int | str = "auto",
            teacher_samples: int = 8192, temperatures=(0.5, 1.0)):
    """Trains (or resumes) a student of `teacher_dir` (a model or run directory, or a
    bundled model's name) with `decoder_rnn_sizes` in `run_dir`, to `num_steps` steps, on
    the training clips and `teacher_samples` beats the teacher samples at each of
    `temperatures` (`teacher_beats`). The run keeps the student's weights with the lowest
    validation loss (weights.npz), scored on the validation clips."""
    check_training_args(run_dir, num_steps, steps_per_epoch, eval_batches)
    teacher_name, teacher_dir = teacher_dir, bundled.resolve(teacher_dir)
    teacher = runs.restore_model(teacher_dir)
    config = student_config(teacher.config, decoder_rnn_sizes)
    if learning_rate is not None:
        config = dataclasses.replace(config, learning_rate=learning_rate, min_learning_rate=min(
            config.min_learning_rate, learning_rate))
    config = runs.resolve_run_config(config, run_dir, write=False)
    keras.utils.set_random_seed(config.seed)
    train_clips = data.load_split(tfds_name, "train", config.num_steps, data_dir)
    val_clips = data.load_split(tfds_name, "validation", config.num_steps, data_dir)
    if len(train_clips) == 0 or len(val_clips) == 0:
        raise ValueError(f"{tfds_name}: no training or validation clips to distill on.")

    student = build_model(config)
    init_student(teacher, student)
    distiller = Distiller(teacher, student, seed=config.seed)
    optimizer = make_optimizer(config)
    distiller.compile(optimizer=optimizer)
    optimizer.build(student.decoder.bar_decoder.trainable_variables)

    checkpoint = tf.train.Checkpoint(model=student, optimizer=optimizer)
    remove_killed_saves(os.path.join(run_dir, "checkpoints"))
    latest = resume(checkpoint, os.path.join(run_dir, "checkpoints"))
    runs.resolve_run_config(config, run_dir, write=True)
    for name in LATENT_FILES:
        if os.path.exists(os.path.join(teacher_dir, name)) and not os.path.exists(os.path.join(run_dir, name)):
            shutil.copyfile(os.path.join(teacher_dir, name), os.path.join(run_dir, name))
    step = int(optimizer.iterations.numpy())
    print(f"Resumed from {latest} (step {step})." if latest else
          f"Student of {teacher_name}: bar decoder {list(config.decoder_rnn_sizes)} "
          f"(the teacher's {list(teacher.config.decoder_rnn_sizes)}), from the teacher's strongest units.")
    if step >= num_steps:
        print(f"{run_dir} already trained {step} steps (asked for {num_steps}).")
        return None

    manager = tf.train.CheckpointManager(checkpoint, os.path.join(run_dir, "checkpoints"), max_to_keep=3)
    beats = teacher_beats(teacher_dir, student, teacher_samples, temperatures, config.seed) if teacher_samples else None
    train_ds = posterior_dataset(student, train_clips.groove, config.batch_size, True, config.seed, beats)
    val_batch = min(config.batch_size, len(val_clips))
    val_ds = posterior_dataset(student, val_clips.groove, val_batch, True, config.seed + 1)
    start = time.time()
    history = distiller.fit(
        train_ds, epochs=-(-num_steps // steps_per_epoch), initial_epoch=step // steps_per_epoch,
        steps_per_epoch=steps_per_epoch, validation_data=val_ds, validation_steps=eval_batches, verbose=verbose,
        callbacks=[callbacks.StopAtStep(num_steps), callbacks.CheckpointEveryEpoch(manager),
                   callbacks.KeepBest(run_dir, weights_of=lambda model: model.student),
                   keras.callbacks.TensorBoard(os.path.join(run_dir, "logs"), update_freq=max(1, steps_per_epoch // 4)),
                   keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=True)])
    steps_done = int(optimizer.iterations.numpy()) - step
    print(f"Distilled {steps_done} steps in {time.time() - start:.0f} s. Run: {run_dir}")
    return history
