"""Distributional (binned) groove heads against squared-error heads, and what they are scored with."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import random_groove, tiny_config

from groove_vae import configs, evaluation, optimizers, runs
from groove_vae.groove import hits as hits_of
from groove_vae.groove import offsets as offsets_of
from groove_vae.groove import velocities as velocities_of
from groove_vae.model import build_model
from groove_vae.representations import BinnedGrooveRepresentation, _median, _quantile
from groove_vae.sampling import Given, SamplingOptions


def test_values_fall_in_the_bins_that_hold_them():
    rep = BinnedGrooveRepresentation(velocity_bins=4, offset_bins=4)
    np.testing.assert_array_equal(rep.velocity_bin(tf.constant([0.0, 0.24, 0.25, 0.99, 1.0])).numpy(), [0, 0, 1, 3, 3])
    np.testing.assert_array_equal(rep.offset_bin(tf.constant([-1.0, -0.51, -0.5, 0.0, 1.0])).numpy(), [0, 0, 1, 2, 3])


def test_the_loss_is_the_cross_entropy_of_the_true_bins_on_hits_only():
    rep = BinnedGrooveRepresentation(velocity_bins=4, offset_bins=2)
    target = np.zeros((1, 1, 27), np.float32)
    target[0, 0, 0], target[0, 0, 9], target[0, 0, 18] = 1.0, 0.6, -0.5  # Kick: velocity bin 2, offset bin 0.
    outputs = np.zeros((1, 1, rep.output_depth), np.float32)
    outputs[0, 0, 9 + 2] = np.log(3.0)  # Kick's velocity bin 2: p = 3 / 6.
    loss = rep.loss(tf.constant(target), tf.constant(outputs)).numpy()[0, 0]
    hits_bce = np.log(2.0) * 9  # Every hit logit is 0: p = 0.5, right or wrong.
    assert loss == pytest.approx(hits_bce + np.log(2.0) + np.log(2.0), rel=1e-5)


def test_draws_follow_the_bin_probabilities_and_dividing_the_logits_sharpens_them():
    rep = BinnedGrooveRepresentation(velocity_bins=4, offset_bins=4)
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    outputs = tf.constant(np.tile(np.concatenate([np.zeros(9), np.tile(np.log(probs), 18)]), (20000, 1)), tf.float32)
    hits = tf.ones([20000, 9])
    draws = rep.force_hits(outputs, hits, 1.0, tf.constant([3, 4])).numpy()[:, 9]  # The kick's velocity.
    counts = np.bincount(np.minimum(draws * 4, 3).astype(int), minlength=4) / len(draws)
    np.testing.assert_allclose(counts, probs, atol=0.015)
    assert np.all((draws >= 0) & (draws <= 1))
    assert len(np.unique(draws)) > 19000  # Spread within each bin, not four values.
    sharp = rep.force_hits(outputs, hits, 4.0, tf.constant([3, 4])).numpy()[:, 9]  # Logits / 4: flatter.
    assert sharp.std() > draws.std()


def test_a_draw_is_the_quantile_of_its_uniform_number():
    probs = tf.constant([[0.1, 0.2, 0.3, 0.4]] * 5)
    q = tf.constant([0.05, 0.1, 0.25, 0.6, 0.99])
    # Bin 0 holds q < 0.1, bin 1 up to 0.3, bin 2 up to 0.6, bin 3 the rest; uniform within each.
    np.testing.assert_allclose(_quantile(probs, q).numpy(), [0.125, 0.25, 0.4375, 0.75, 0.99375], atol=1e-6)


def test_temperature_loosens_the_feel_above_1_and_leaves_it_below():
    rep = BinnedGrooveRepresentation(velocity_bins=8, offset_bins=8)
    bins = np.zeros(8)
    bins[5] = 3.0  # One likely bin: a drummer's usual loudness and push.
    outputs = tf.constant(np.tile(np.concatenate([np.zeros(9), np.tile(bins, 18)]), (4000, 1)), tf.float32)
    hits = tf.ones([4000, 9])
    seed = tf.constant([5, 6])
    cool, plain, hot = (rep.force_hits(outputs, hits, t, seed).numpy() for t in (0.5, 1.0, 2.0))
    np.testing.assert_array_equal(cool, plain)  # Below 1: the model's own spread.
    assert hot[:, 9:].std(axis=0).mean() > plain[:, 9:].std(axis=0).mean() * 1.2


def test_the_median_reads_the_piecewise_linear_cdf():
    medians = _median(tf.constant([[0.0, 1.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], [0.5, 0.0, 0.0, 0.5]])).numpy()
    np.testing.assert_allclose(medians, [0.375, 0.5, 0.25], atol=1e-6)


def test_crps_is_zero_for_certainty_and_the_absolute_error_for_a_point():
    bins = 64
    point = np.zeros(bins)
    point[40] = 1.0  # All mass in [40/64, 41/64).
    centre = 40.5 / bins
    assert evaluation.crps_binned(point, np.float64(centre), resolution=64) < 1 / bins
    assert evaluation.crps_binned(point, np.float64(0.1), resolution=64) == pytest.approx(centre - 0.1, abs=1 / bins)
    uniform = np.full(bins, 1 / bins)
    assert evaluation.crps_binned(uniform, np.float64(0.5), resolution=16) == pytest.approx(1 / 12, abs=1e-3)


def train_on(config, groove, steps):
    model = build_model(config)
    model.compile(optimizer=optimizers.make_optimizer(config))
    dataset = tf.data.Dataset.from_tensor_slices(groove).repeat().batch(config.batch_size)
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    return model


@pytest.mark.slow  # About 40 s: two models trained far enough to tell the heads apart.
def test_binned_heads_keep_a_bimodal_velocity_that_squared_error_averages_away():
    """Every hit is played at velocity 30 or 110, at random: the mean (70) is what no
    drummer plays. Squared-error heads learn the mean; binned heads sample both."""
    rng = np.random.default_rng(0)
    groove = random_groove(rng, 64, density=0.2)
    loud = rng.random(hits_of(groove).shape) < 0.5
    velocities_of(groove)[:] = hits_of(groove) * np.where(loud, 110, 30) / 127
    velocities = {}
    for heads in ("mse", "binned"):
        config = tiny_config(extra=f"groove_heads={heads},groove_loss=masked,batch_size=16,learning_rate=3e-3,"
                             "min_learning_rate=3e-3,precision=float32")
        model = train_on(config, groove, 150)
        hits = tf.constant(hits_of(groove[:16]))
        played = model.decode(tf.zeros([16, config.z_size]), SamplingOptions(1.0, 0), Given(hits=hits)).numpy()
        velocities[heads] = velocities_of(played)[hits_of(groove[:16]) > 0.5] * 127
    assert velocities["mse"].std() < 15  # Near the mean for every hit.
    assert velocities["binned"].std() > 30  # Data: 40.
    assert np.mean(velocities["binned"] < 50) > 0.25 and np.mean(velocities["binned"] > 90) > 0.25


def test_switching_heads_keeps_the_hits_learned():
    rng = np.random.default_rng(1)
    mse = build_model(tiny_config(extra="groove_heads=mse"))
    binned = build_model(tiny_config(extra="groove_heads=binned"))
    message = runs.transfer_weights(mse, binned)
    assert "hit logits copied" in message
    groove = tf.constant(random_groove(rng, 3))
    np.testing.assert_allclose(hits_of(binned(groove).numpy()), hits_of(mse(groove).numpy()), atol=1e-5)
    assert binned.representation.output_depth == 9 * (1 + 32 + 32)


def test_the_point_trajectory_plays_each_steps_median_and_ignores_the_seed():
    rng = np.random.default_rng(3)
    model = build_model(tiny_config(extra="groove_heads=binned"))
    groove = random_groove(rng, 2)
    hits = tf.constant(hits_of(groove))
    z = tf.constant(rng.normal(size=(2, model.config.z_size)), tf.float32)
    point, outputs = model.decode(z, SamplingOptions(1.0), Given(hits=hits, point_feel=True), return_outputs=True)
    np.testing.assert_array_equal(point.numpy(), model.decode(z, SamplingOptions(1.0, 7), Given(hits=hits, point_feel=True)).numpy())
    np.testing.assert_allclose(point.numpy(), model.representation.point_estimate(outputs, hits).numpy(), atol=1e-6)
    drawn = model.decode(z, SamplingOptions(1.0, 7), Given(hits=hits)).numpy()
    assert np.array_equal(hits_of(drawn), hits_of(point.numpy())) and not np.allclose(drawn, point.numpy())
    # Greedy reconstruction: near-argmax hits, each played at its point velocity and offset.
    greedy, outputs = model.decode(z, SamplingOptions(1e-4, 7), Given(point_feel=True), return_outputs=True)
    own_hits = tf.constant(hits_of(greedy.numpy()))
    np.testing.assert_allclose(greedy.numpy(), model.representation.point_estimate(outputs, own_hits).numpy(),
                               atol=1e-6)


def test_the_feel_weight_scales_only_the_objective():
    rng = np.random.default_rng(4)
    groove = tf.constant(random_groove(rng, 4))
    full = build_model(tiny_config(extra="groove_heads=binned"))
    light = build_model(tiny_config(extra="groove_heads=binned,feel_loss_weight=0.1"))
    light.set_weights(full.get_weights())
    full.beta.assign(0.0), light.beta.assign(0.0)
    loss_full, values_full = full.compute_losses(groove)
    loss_light, values_light = light.compute_losses(groove)
    assert values_light["reconstruction_loss"].numpy() == pytest.approx(values_full["reconstruction_loss"].numpy())
    hit, feel = values_full["hit_nll"].numpy(), values_full["reconstruction_loss"].numpy() - values_full["hit_nll"].numpy()
    assert loss_full.numpy() == pytest.approx(hit + feel, rel=1e-5)
    assert loss_light.numpy() == pytest.approx(hit + 0.1 * feel, rel=1e-5)


@pytest.mark.slow  # Evaluates two models; the heads' own tests run by default.
def test_evaluation_scores_both_heads_on_the_same_scale():
    rng = np.random.default_rng(2)
    truth = random_groove(rng, 4)
    for heads in ("mse", "binned"):
        model = build_model(tiny_config(extra=f"groove_heads={heads}"))
        results = evaluation.evaluate(model, truth, np.full(4, 120.0), batch_size=2)
        assert results["velocity_crps_teacher_forced"] > 0 and results["offset_crps_ms_teacher_forced"] > 0
        assert ("velocity_bin_nll_teacher_forced" in results) == (heads == "binned")
        # An untrained binned head is near uniform over [0, 127]: CRPS ~ a third of the range's mean error.
        if heads == "binned":
            assert 10 < results["velocity_crps_teacher_forced"] < 40


def test_hit_memory_repeats_the_pattern_bar_to_bar_and_keeps_how_often_each_drum_plays():
    model = build_model(tiny_config(extra="groove_heads=binned"))
    z = tf.constant(np.random.default_rng(9).normal(size=(256, model.config.z_size)), tf.float32)
    played = {memory: model.decode(z, SamplingOptions(1.0, 5, memory=(memory, 0.0, 0.0))).numpy() for memory in (0.0, 0.9)}
    free, remembered = played[0.0], played[0.9]
    np.testing.assert_array_equal(remembered[:, :16], free[:, :16])  # The first bar has nothing to remember.
    assert evaluation.bar_hit_agreement(remembered) > evaluation.bar_hit_agreement(free) + 0.1
    # Each draw is still one from the model's distribution: every drum plays about as often.
    np.testing.assert_allclose(hits_of(remembered).mean(axis=(0, 1)), hits_of(free).mean(axis=(0, 1)), atol=0.05)


def test_the_hit_memory_table_is_read_between_the_temperatures_it_was_fitted_at():
    table = "hit_memory=[0.0,0.1,0.6,0.8,0.8],velocity_memory=0.7,timing_memory=0.2"
    model = build_model(tiny_config(extra=f"groove_heads=binned,{table}"))
    assert configs.MEMORY_TEMPERATURES == (0.5, 0.75, 1.0, 1.25, 1.5)
    for temperature, hit in ((0.1, 0.0), (0.5, 0.0), (0.625, 0.05), (0.875, 0.35), (1.0, 0.6), (1.1, 0.68), (3, 0.8)):
        memory = model.feel.at(temperature)
        assert float(memory[0]) == pytest.approx(hit) and memory[1:] == (0.7, 0.2)
        assert float(tf.function(lambda t: model.feel.at(t)[0])(tf.constant(temperature, tf.float32))) == \
            pytest.approx(hit)  # The same inside a graph, as a SavedModel reads it.
    constant = build_model(tiny_config(extra="groove_heads=binned,hit_memory=0.4"))
    assert [float(constant.feel.at(t)[0]) for t in (0.2, 1.0, 2.0)] == pytest.approx([0.4] * 3)


def test_feel_memory_repeats_accents_bar_to_bar_and_keeps_each_draw_the_models():
    model = build_model(tiny_config(extra="groove_heads=binned"))
    z = tf.constant(np.random.default_rng(8).normal(size=(256, model.config.z_size)), tf.float32)
    hits = tf.ones([256, 64, 9])
    played = {memory: model.decode(z, SamplingOptions(1.0, 4, memory=(0.0, *memory)), Given(hits=hits)).numpy()
              for memory in ((0.0, 0.0), (0.9, 0.0), (0.0, 0.9))}
    free, loud, tight = played[(0.0, 0.0)], played[(0.9, 0.0)], played[(0.0, 0.9)]
    np.testing.assert_array_equal(loud[:, :16], free[:, :16])  # The first bar has nothing to remember.
    change = {k: evaluation.repeated_hit_velocity_change(v) for k, v in played.items()}
    assert change[(0.9, 0.0)] < 0.6 * change[(0.0, 0.0)]
    assert change[(0.0, 0.9)] == pytest.approx(change[(0.0, 0.0)], rel=0.1)  # Timing memory leaves velocity alone.
    offset_change = lambda g: np.abs(np.diff(offsets_of(g).reshape(256, 4, 16, 9), axis=1)).mean()  # noqa: E731
    assert offset_change(tight) < 0.6 * offset_change(free)
    # Each draw is still one from the model's distribution: the spread over draws stays.
    assert velocities_of(loud).std() == pytest.approx(velocities_of(free).std(), rel=0.1)
    assert offsets_of(tight).std() == pytest.approx(offsets_of(free).std(), rel=0.1)
