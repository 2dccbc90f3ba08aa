"""Distillation: the narrowed student's weights, its loss, and a run that loads as a model."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import random_groove, tiny_config

from groove_vae import distill, runs, weights
from groove_vae.attributes import ATTRIBUTE_FILE, AttributeVectors
from groove_vae.model import build_model

BINNED = "groove_heads=binned,groove_loss=masked"


def teacher_and_student(sizes, extra=BINNED):
    teacher = build_model(tiny_config(extra=extra))
    student = build_model(distill.student_config(teacher.config, sizes))
    return teacher, student


def silence_units(model, layer_units):
    """Zeroes every weight through which the given bar-decoder units reach anything else
    (their rows in the next layer's kernel, the recurrent kernel and the projection): the
    model's outputs then do not depend on them."""
    named = weights.named_weights(model)
    sizes = model.config.decoder_rnn_sizes
    for layer, units in layer_units.items():
        after = (f"{distill.BAR_DECODER}lstm/lstms/{layer + 1}/cell/kernel" if layer + 1 < len(sizes)
                 else f"{distill.BAR_DECODER}output_projection/kernel")
        for key in (after, f"{distill.BAR_DECODER}lstm/lstms/{layer}/cell/recurrent_kernel"):
            value = named[key].numpy()
            value[units] = 0.0
            named[key].assign(value)


def outputs_of(model, groove, z):
    return model.decoder.teacher_forced(z, tf.constant(groove)).numpy()


@pytest.mark.parametrize("sizes,dropped", [([24, 16], {1: range(16, 24)}), ([16, 16], {0: range(8), 1: range(3, 11)})])
def test_student_drops_only_the_silent_units(sizes, dropped):
    """Where the dropped units reach nothing, the narrowed student computes exactly the
    teacher's outputs: every slice (gate blocks, initial state, next layer, projection)
    picks the units it should."""
    teacher, student = teacher_and_student(sizes)
    silence_units(teacher, {layer: list(units) for layer, units in dropped.items()})
    distill.init_student(teacher, student)
    groove = random_groove(np.random.default_rng(0), 3)
    z = tf.random.normal([3, teacher.config.z_size], seed=1)
    np.testing.assert_allclose(outputs_of(student, groove, z), outputs_of(teacher, groove, z), atol=1e-5)
    # The dropped units were the weakest, so they are the ones left out.
    kept = distill.kept_units({k: v.numpy() for k, v in weights.named_weights(teacher).items()}, sizes)
    for layer, units in dropped.items():
        assert not set(units) & set(kept[layer].tolist())


def test_student_shares_the_latent_space_and_freezes_it():
    teacher, student = teacher_and_student([24, 12])
    distill.init_student(teacher, student)
    for key, value in weights.named_weights(student).items():
        if not key.startswith(distill.BAR_DECODER):
            np.testing.assert_array_equal(value.numpy(), weights.named_weights(teacher)[key].numpy())
    assert not student.encoder.trainable_variables and not student.decoder.conductor.trainable_variables
    assert student.decoder.bar_decoder.trainable_variables


def test_student_config_is_checked():
    config = tiny_config(extra="dropout_rate=0.1")
    student = distill.student_config(config, [24, 8])
    assert student.decoder_rnn_sizes == (24, 8) and student.dropout_rate == 0.0
    for sizes in ([24], [32, 8], [0, 8]):
        with pytest.raises(ValueError, match="decoder sizes"):
            distill.student_config(config, sizes)
    with pytest.raises(ValueError, match="flat"):
        distill.student_config(tiny_config("groovae_4bar_flat"), [24, 8])


@pytest.mark.parametrize("extra", [BINNED, ""])
def test_kl_is_zero_for_the_teacher_itself_and_positive_otherwise(extra):
    teacher, student = teacher_and_student([24, 24], extra)
    groove = tf.constant(random_groove(np.random.default_rng(2), 4))
    z = tf.random.normal([4, teacher.config.z_size], seed=3)
    outputs = teacher.decoder.teacher_forced(z, groove)
    same = distill.distillation_losses(teacher.representation, outputs, outputs)
    np.testing.assert_allclose(np.concatenate([x.numpy() for x in same]), 0.0, atol=1e-4)
    other = distill.distillation_losses(teacher.representation, outputs, student.decoder.teacher_forced(z, groove))
    assert all((x.numpy() > 0).all() for x in other)


def test_tempered_hit_kl_is_the_bernoulli_kl_of_the_tempered_probabilities():
    rng = np.random.default_rng(5)
    teacher, student = (rng.normal(0, 2, (3, 9)).astype(np.float32) for _ in range(2))
    for temperature in (1.0, 0.5):
        p, q = (1 / (1 + np.exp(-x / temperature)) for x in (teacher, student))
        expected = p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))
        np.testing.assert_allclose(distill.hit_kl(teacher, student, temperature).numpy(), expected, rtol=1e-4, atol=1e-6)


def test_distilling_lowers_the_kl():
    teacher, student = teacher_and_student([24, 8])
    distill.init_student(teacher, student)
    distiller = distill.Distiller(teacher, student)
    distiller.compile(optimizer=keras.optimizers.Adam(3e-3))
    groove = random_groove(np.random.default_rng(4), 16)
    dataset = distill.posterior_dataset(student, groove, 8, True, 0)
    before = distiller.evaluate(dataset, steps=4, verbose=0, return_dict=True)["loss"]
    distiller.fit(dataset, steps_per_epoch=30, epochs=1, verbose=0)
    after = distiller.evaluate(dataset, steps=4, verbose=0, return_dict=True)["loss"]
    assert after < 0.8 * before
    assert all(v.trainable for v in student.decoder.bar_decoder.trainable_variables)


def test_teacher_beats_are_what_the_teacher_plays_from_its_latents(tmp_path):
    teacher = build_model(tiny_config(extra=BINNED))
    runs.resolve_run_config(teacher.config, str(tmp_path))
    weights.save_weights(teacher, os.path.join(tmp_path, runs.WEIGHTS_FILE))
    inputs, z, sigma = distill.teacher_beats(str(tmp_path), teacher, 5, (0.5, 1.0), seed=3)
    assert inputs.shape == (10, 64, 27) and z.shape == (10, teacher.config.z_size) and not sigma.any()
    hits = inputs[..., :9]
    assert set(np.unique(hits)) <= {0.0, 1.0} and hits.sum() > 0
    assert not np.array_equal(z[:5], z[5:])  # Each temperature's beats from their own latents.
    from groove_vae.generator import GrooveGenerator

    again = GrooveGenerator.load(str(tmp_path)).decode_tensors(z[5:], 1.0, 4)
    np.testing.assert_array_equal(again, inputs[5:])


@pytest.mark.slow
def test_distill_run_resumes_and_loads_as_a_model(tmp_path, tfds_data_dir):
    """On the real training split, from a small trained model: the run keeps its best
    student, carries the teacher's latent-space files, loads, samples, and resumes."""
    teacher_dir = str(tmp_path / "teacher")
    model = build_model(tiny_config(extra=BINNED))
    runs.resolve_run_config(model.config, teacher_dir)
    weights.save_weights(model, os.path.join(teacher_dir, runs.WEIGHTS_FILE))
    vectors = np.arange(2 * model.config.z_size, dtype=np.float32).reshape(2, -1)
    AttributeVectors(("density", "swing"), vectors, np.ones(2, np.float32)).save(os.path.join(teacher_dir, ATTRIBUTE_FILE))
    run_dir = str(tmp_path / "student")
    distill.distill(teacher_dir, run_dir, [24, 12], num_steps=4, steps_per_epoch=2, eval_batches=1, verbose=0)
    assert os.path.exists(os.path.join(run_dir, runs.WEIGHTS_FILE))
    np.testing.assert_array_equal(AttributeVectors.load(os.path.join(run_dir, ATTRIBUTE_FILE)).vectors, vectors)
    student = runs.restore_model(run_dir)
    assert student.config.decoder_rnn_sizes == (24, 12)
    with open(os.path.join(run_dir, "best.json")) as f:
        assert json.load(f)["step"] in (2, 4)
    assert distill.distill(teacher_dir, run_dir, [24, 12], num_steps=4, verbose=0) is None  # Already there.
    with pytest.raises(ValueError, match="another config"):
        distill.distill(teacher_dir, run_dir, [24, 8], num_steps=6, verbose=0)
