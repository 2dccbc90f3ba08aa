import math

import numpy as np
import pytest
from helpers import random_groove, tiny_config

from groove_vae import api, evaluation
from groove_vae.groove import hits as hits_of
from groove_vae.groove import velocities as velocities_of
from groove_vae.model import build_model


@pytest.fixture
def truth():
    return random_groove(np.random.default_rng(0), 5)


def test_a_perfect_reconstruction_scores_one(truth):
    assert evaluation.step_accuracy(truth, truth) == 1.0
    assert evaluation.hit_scores(truth, truth) == {"hit_precision": 1.0, "hit_recall": 1.0, "hit_f1": 1.0}
    errors = evaluation.timing_errors(truth, truth, np.full(5, 120.0))
    assert errors == {"velocity_mae": 0.0, "offset_mae_ms": 0.0}


def test_a_shifted_reconstruction_scores_what_it_should():
    truth = np.zeros((1, 64, 27), np.float32)
    truth[0, ::4, 0] = 1  # Kick on every beat: 16 hits.
    shifted = np.roll(truth, 1, axis=1)  # Every hit one step late.
    # 32 steps differ (16 lose a kick, 16 gain one): 32 of 64 right.
    assert evaluation.step_accuracy(shifted, truth) == 0.5
    assert evaluation.hit_scores(shifted, truth)["hit_f1"] == 0.0
    silent = np.zeros_like(truth)
    assert evaluation.step_accuracy(silent, truth) == 0.75
    assert evaluation.hit_scores(silent, truth)["hit_recall"] == 0.0


def test_velocity_and_timing_errors_on_shared_hits():
    truth = np.zeros((1, 64, 27), np.float32)
    truth[0, 0, 0], truth[0, 0, 9], truth[0, 0, 18] = 1, 100 / 127, 0.5
    predicted = truth.copy()
    predicted[0, 0, 9], predicted[0, 0, 18] = 90 / 127, 0.0
    predicted[0, 5, 1] = 1  # A false hit: not counted in the errors.
    errors = evaluation.timing_errors(predicted, truth, np.array([120.0]))
    assert errors["velocity_mae"] == pytest.approx(10.0)
    # 0.5 is a quarter of a 16th; a 16th at 120 qpm is 125 ms.
    assert errors["offset_mae_ms"] == pytest.approx(31.25)
    assert math.isnan(evaluation.timing_errors(np.zeros_like(truth), truth, np.array([120.0]))["velocity_mae"])


def test_hits_per_bar(truth):
    per_bar = evaluation.hits_per_bar(truth)
    assert sum(per_bar.values()) == pytest.approx(hits_of(truth).sum() / 20)


def test_evaluate_runs_a_model(truth):
    model = build_model(tiny_config())
    results = evaluation.evaluate(model, truth, np.full(5, 100.0), batch_size=3)
    assert results["num_clips"] == 5
    assert 0.0 <= results["accuracy_sampled"] <= 1.0 and results["kl_nats"] >= 0
    assert 0 <= results["active_latent_dims"] <= 8
    assert "hit_f1_teacher_forced" in results and "offset_mae_ms_sampled" in results
    vae = api.GrooveVAE(model)
    samples = evaluation.prior_samples(vae, 7, temperature=0.5, seed=3)
    np.testing.assert_array_equal(samples, vae.sample_tensors(7, 0.5, 3))  # Exactly what users get.
    assert "kick" in evaluation.format_table({**results, "hits_per_bar_prior": evaluation.hits_per_bar(samples),
                                              "hits_per_bar_data": evaluation.hits_per_bar(truth)})


def test_humanize_scores_compare_played_and_true_dynamics(truth):
    from groove_vae import api

    vae = api.GrooveVAE(build_model(tiny_config()))
    scores = evaluation.humanize_scores(vae, truth, np.full(5, 120.0), batch_size=2)
    hit = hits_of(truth) > 0.5
    assert scores["velocity_std_data"] == pytest.approx(velocities_of(truth)[hit].std() * 127, rel=1e-4)
    assert scores["velocity_mae"] > 0 and scores["offset_mae_ms"] > 0
    assert scores["loudness_jump_data"] == pytest.approx(evaluation.loudness_jump(truth))
    assert scores["loudness_jump_played"] > 0


def test_feel_measures_loudness_timing_and_bar_repetition():
    groove = np.zeros((1, 64, 27), np.float32)
    for bar in range(4):
        groove[0, bar * 16, 0] = 1.0  # A kick on every downbeat...
        groove[0, bar * 16, 9] = (40 + 40 * (bar % 2)) / 127.0  # ...at 40, 80, 40, 80...
        groove[0, bar * 16, 18] = 0.5 if bar % 2 else -0.5  # ...an eighth of a 16th late, then early.
    groove[0, 3 * 16 + 8, 2] = 1.0  # Bar 4 adds a hi-hat, so only bars 1-3 repeat.
    groove[0, 3 * 16 + 8, 11] = 100 / 127.0
    stats = evaluation.feel(groove)
    assert stats["velocity_mean"] == pytest.approx((40 + 80 + 40 + 80 + 100) / 5, abs=1e-3)
    assert stats["velocity_std"] == pytest.approx(np.std([40, 80, 40, 80, 100]), abs=1e-3)
    assert stats["offset_std_16ths"] == pytest.approx(np.std([-0.25, 0.25, -0.25, 0.25, 0.0]), abs=1e-6)
    assert stats["repeated_bar_fraction"] == pytest.approx(2 / 3)
    assert stats["bar_cell_agreement"] == pytest.approx(1 - 1 / (3 * 16 * 9))
    # Bars 1-3 share their one hit (F1 1); bar 4 shares one of its two with bar 3 (F1 2/3).
    assert stats["bar_hit_agreement"] == pytest.approx((1 + 1 + 2 / 3) / 3)
    # Bar means 40, 80, 40, (80 + 100) / 2: jumps of 40, 40 and 50.
    assert stats["loudness_jump"] == pytest.approx((40 + 40 + 50) / 3, abs=1e-3)
    # The downbeat kick repeats in every bar, 40 units louder or softer each time.
    assert stats["repeated_hit_velocity_change"] == pytest.approx(40, abs=1e-3)
