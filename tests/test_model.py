import numpy as np
import pytest
import tensorflow as tf
from helpers import CONFIG_NAMES, random_groove, tiny_config

from groove_vae import callbacks, converter, optimizers, weights
from groove_vae.groove import hits as hits_of
from groove_vae.groove import velocities as velocities_of
from groove_vae.model import build_model, kl_divergence
from groove_vae.sampling import SamplingOptions


@pytest.mark.parametrize("name", CONFIG_NAMES)
def test_output_shapes_for_every_config(name):
    config = tiny_config(name)
    model = build_model(config)
    depth = 27 if config.representation == "groove" else 512
    inputs = model.representation.to_inputs(tf.constant(random_groove(np.random.default_rng(0), 3)))
    assert inputs.shape == (3, 64, depth)
    # Binned heads: 9 hit logits, then 32 velocity and 32 offset bin logits per class.
    output_depth = {"mse": 27, "binned": 9 * (1 + 32 + 32)}[config.groove_heads] if depth == 27 else 512
    assert model(inputs).shape == (3, 64, output_depth)
    mu, sigma = model.encode(inputs)
    assert mu.shape == sigma.shape == (3, 8) and bool(tf.reduce_all(sigma > 0))
    samples = model.decode(tf.random.normal([2, model.config.z_size], seed=1), SamplingOptions(1.0, 1))
    assert samples.shape == (2, 64, 27)
    hits = hits_of(samples).numpy()
    assert set(np.unique(hits)) <= {0.0, 1.0}
    assert np.all(velocities_of(samples).numpy()[hits == 0] == 0)


@pytest.mark.parametrize("name", ["groovae_4bar", "drums_4bar_flat"])
def test_fast_teacher_forced_path_equals_step_by_step_path(name):
    model = build_model(tiny_config(name))
    inputs = model.representation.to_inputs(tf.constant(random_groove(np.random.default_rng(1), 4)))
    mu, _ = model.encode(inputs)
    fast = model.decoder.teacher_forced(mu, inputs)
    slow = model.decoder.scheduled_sampling(mu, inputs, model.representation, tf.constant([0, 0]), probability=0.0)
    assert float(tf.reduce_max(tf.abs(fast))) > 0.01
    np.testing.assert_allclose(fast.numpy(), slow.numpy(), atol=1e-5)


def test_hierarchical_bars_see_z_only_through_the_conductor():
    """Changing the inputs of bar 0 must not change bar 2's outputs beyond its own first step."""
    model = build_model(tiny_config("groovae_4bar"))
    inputs = random_groove(np.random.default_rng(2), 1)
    z = tf.zeros([1, 8])
    a = model.decoder.teacher_forced(z, tf.constant(inputs))
    changed = inputs.copy()
    changed[:, :16] = random_groove(np.random.default_rng(3), 1)[:, :16]
    b = model.decoder.teacher_forced(z, tf.constant(changed))
    np.testing.assert_allclose(a[:, 32:].numpy(), b[:, 32:].numpy(), atol=1e-6)
    assert not np.allclose(a[:, :16].numpy(), b[:, :16].numpy())


@pytest.mark.parametrize("name", [  # One of each representation by default; the others in the slow set.
    name if name in ("groovae_4bar", "drums_4bar_flat") else pytest.param(name, marks=pytest.mark.slow)
    for name in CONFIG_NAMES])
def test_a_few_training_steps_lower_the_loss(name):
    config = tiny_config(name, "learning_rate=0.01,free_bits=0,max_beta=0.01")
    model = build_model(config)
    model.compile(optimizer=optimizers.make_optimizer(config))
    inputs = model.representation.to_inputs(tf.constant(random_groove(np.random.default_rng(4), 8)))
    before = float(model.compute_losses(inputs)[0])
    model.fit(tf.data.Dataset.from_tensors(inputs).repeat(), steps_per_epoch=15, epochs=1, verbose=0)
    after = float(model.compute_losses(inputs)[0])
    # Binned heads start at log(32) nats per head and hit and must memorize random
    # velocities and offsets, with gradients clipped to norm 1: they fall more slowly.
    assert after < (0.85 if config.groove_heads == "binned" else 0.8) * before


@pytest.mark.slow  # The step-by-step decoder loop under a gradient tape: about 20 s.
def test_scheduled_sampling_trains_through_the_step_loop():
    config = tiny_config("hierdec_drums_4bar", "learning_rate=0.01")
    model = build_model(config)
    model.compile(optimizer=optimizers.make_optimizer(config))
    model.sampling_probability.assign(0.5)
    inputs = model.representation.to_inputs(tf.constant(random_groove(np.random.default_rng(5), 8)))
    logs = model.train_on_batch(inputs, return_dict=True)
    assert np.isfinite(logs["loss"]) and logs["sampling_probability"] == pytest.approx(0.5)


def test_saved_weights_load_into_a_fresh_model(tmp_path):
    config = tiny_config()
    model = build_model(config)
    inputs = tf.constant(random_groove(np.random.default_rng(6), 2))
    weights.save_weights(model, str(tmp_path / "weights.npz"))
    other = build_model(config)
    assert not np.allclose(model(inputs).numpy(), other(inputs).numpy())
    weights.load_weights(other, str(tmp_path / "weights.npz"))
    np.testing.assert_allclose(model(inputs).numpy(), other(inputs).numpy(), atol=1e-6)
    z = tf.random.stateless_normal([2, model.config.z_size], seed=[3, 1])
    np.testing.assert_array_equal(model.decode(z, SamplingOptions(1.0, 3)).numpy(),
                                  other.decode(z, SamplingOptions(1.0, 3)).numpy())


def test_samples_become_valid_midi(tmp_path):
    model = build_model(tiny_config())
    groove = model.decode(tf.random.stateless_normal([1, model.config.z_size], seed=[7, 1]), SamplingOptions(1.0, 7)).numpy()[0]
    path = converter.write_midi(converter.groove_to_note_sequence(groove, qpm=90), tmp_path / "s.mid")
    ns = converter.read_midi(path)
    assert len(ns.notes) == int(hits_of(groove).sum()) > 0
    assert all(n.is_drum for n in ns.notes)
    assert ns.tempos[0].qpm == pytest.approx(90, rel=1e-4)  # MIDI stores microseconds per quarter.


def test_kl_divergence_matches_closed_form():
    mu = tf.constant([[0.0, 1.0]])
    sigma = tf.constant([[1.0, 0.5]])
    expected = 0.5 * (1.0 + 0.25 - 1.0) - np.log(0.5)
    assert float(kl_divergence(mu, sigma)[0]) == pytest.approx(expected, rel=1e-5)
    assert float(kl_divergence(tf.zeros([1, 4]), tf.ones([1, 4]))[0]) == pytest.approx(0.0, abs=1e-6)


def test_schedules():
    warmup = callbacks.KLWarmup(max_beta=0.2, warmup_steps=100)
    assert [warmup.beta_at(s) for s in (0, 50, 100, 500)] == pytest.approx([0.0, 0.1, 0.2, 0.2])
    assert callbacks.KLWarmup(0.2, 0).beta_at(0) == 0.2
    sampling = callbacks.ScheduledSampling("inverse_sigmoid", 1000)
    assert sampling.probability_at(0) == pytest.approx(1 - 1000 / 1001)
    assert sampling.probability_at(10000) < sampling.probability_at(20000) < 1.0
    schedule = optimizers.ExponentialDecayToMin(1e-3, 0.9999, 1e-5)
    assert float(schedule(0)) == pytest.approx(1e-3)
    assert float(schedule(10**6)) == pytest.approx(1e-5)


@pytest.mark.parametrize("options", [pytest.param("precision=mixed_bfloat16", marks=pytest.mark.slow),  # Emulated on AVX2.
                                     pytest.param("jit_compile=true", marks=pytest.mark.slow)])  # XLA: ~30 s.
def test_speed_options_train_with_a_finite_loss(options):
    config = tiny_config("groovae_4bar", "learning_rate=0.01,dropout_rate=0.3," + options)
    model = build_model(config)
    model.compile(optimizer=optimizers.make_optimizer(config))
    assert model.jit_compile == config.jit_compile
    inputs = model.representation.to_inputs(tf.constant(random_groove(np.random.default_rng(8), 8)))
    before = [w.numpy() for w in model.trainable_weights]
    logs = model.train_on_batch(inputs, return_dict=True)
    assert np.isfinite(logs["loss"])
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(before, model.trainable_weights))


@pytest.mark.parametrize("name", ["groovae_4bar", "hierdec_drums_4bar"])
def test_a_bfloat16_model_computes_in_bfloat16_and_returns_float32(name):
    fp32 = build_model(tiny_config(name))
    bf16 = build_model(tiny_config(name, "precision=mixed_bfloat16"))
    bf16.set_weights(fp32.get_weights())
    assert bf16.decoder.bar_decoder.lstm.lstms[0].compute_dtype == "bfloat16"
    assert all(w.dtype == "float32" for w in bf16.weights)
    inputs = bf16.representation.to_inputs(tf.constant(random_groove(np.random.default_rng(9), 4)))
    loss, values = bf16.compute_losses(inputs)
    mu, sigma = bf16.encode(inputs)
    outputs = bf16(inputs)
    for tensor in (loss, *values.values(), mu, sigma, outputs, bf16.decode(tf.zeros([2, bf16.config.z_size]), SamplingOptions(1.0, 1))):
        assert tensor.dtype == tf.float32
    # The same function as the float32 model, to bfloat16's precision (8 bits of mantissa).
    np.testing.assert_allclose(outputs.numpy(), fp32(inputs).numpy(), atol=0.05)
    assert float(loss) == pytest.approx(float(fp32.compute_losses(inputs)[0]), rel=0.02)
