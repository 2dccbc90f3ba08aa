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


def test_humanize_scores_compare_played_and_true_dynamics(truth, vae):
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


def test_the_timekeeper_is_the_most_played_of_hats_and_ride():
    groove = np.zeros((1, 64, 27), np.float32)
    groove[0, 0:16:2, 2] = 1  # Bar 1: closed hi-hat eighths.
    groove[0, 16:32:2, 2] = 1  # Bar 2: the same.
    groove[0, 16, 8] = 1  # ... with one ride hit.
    groove[0, 32:48:2, 8] = 1  # Bar 3: ride.
    # Bar 4: no hats, no ride.
    np.testing.assert_array_equal(evaluation.timekeepers(groove), [[2, 2, 8, -1]])
    assert evaluation.timekeeper_change_rate(groove) == pytest.approx(0.5)  # 1 change in 2 pairs with a keeper.



def test_a_timekeeper_change_is_marked_by_a_fill_or_a_crash():
    groove = np.zeros((3, 64, 27), np.float32)
    groove[:, 0:32:2, 2] = 1  # Bars 1-2: closed hi-hat eighths.
    groove[:, 32:64:2, 8] = 1  # Bars 3-4: ride. One change, between bars 2 and 3.
    assert math.isnan(evaluation.marked_timekeeper_changes(groove[:, :32]))  # No change, nothing to mark.
    assert evaluation.marked_timekeeper_changes(groove) == 0.0  # Clip 0: the bare switch.
    groove[1, 29, 4] = 1  # Clip 1: a low tom in bar 2's last beat.
    groove[2, 32, 7] = 1  # Clip 2: a crash on bar 3's downbeat.
    assert evaluation.marked_timekeeper_changes(groove) == pytest.approx(2 / 3)
    groove[0, 28:31, 1] = 1  # Clip 0: a snare roll into bar 3.
    assert evaluation.marked_timekeeper_changes(groove) == 1.0
    groove[0, 28:31, 1], groove[0, 27, 4] = 0, 1  # A tom before the last beat is no fill into the change.
    assert evaluation.marked_timekeeper_changes(groove) == pytest.approx(2 / 3)



def test_feel_by_instrument_separates_the_drums():
    groove = np.zeros((1, 64, 27), np.float32)
    groove[0, ::4, 0], groove[0, ::4, 9] = 1, 120 / 127  # Loud kicks.
    groove[0, 2::4, 2], groove[0, 2::4, 11] = 1, 40 / 127  # Soft hats.
    groove[0, 2::8, 20] = 0.5  # Every other hat a quarter of a 16th late.
    by_drum = evaluation.feel_by_instrument(groove)
    assert set(by_drum) == {"kick", "closed_hihat"}
    assert by_drum["kick"]["velocity_mean"] == pytest.approx(120, abs=1e-3) and by_drum["kick"]["velocity_std"] < 1e-3
    assert by_drum["closed_hihat"]["offset_std_16ths"] == pytest.approx(0.125)



def test_the_feel_table_judges_samples_against_the_learnable_clips_and_shows_the_test_clips_beside():
    def snares(velocity):
        groove = np.zeros((8, 64, 27), np.float32)  # Enough snare hits for the table's per-drum rows.
        groove[:, ::2, 1], groove[:, ::2, 10] = 1, velocity / 127
        groove[:, 1::4, 1] = 1  # And silent ghost notes (velocity 0), for a spread.
        return groove

    def snare_mean_cells(table):
        line = next(row for row in table.splitlines() if row.startswith("snare velocity_mean"))
        return line.split()[2:]

    learnable, test = snares(70), snares(100)
    table = evaluation.feel_table(learnable, {"near learnable": snares(72), "near test": snares(98)},
                                  beside={"test clips": test}, reference_name="train+valid")
    assert table.splitlines()[0].split()[1:] == ["train+valid", "test", "clips", "near", "learnable", "near", "test"]
    cells = snare_mean_cells(table)
    assert cells[0] == f"{evaluation.feel_by_instrument(learnable)['snare']['velocity_mean']:.3f}"
    assert cells[1] == f"{evaluation.feel_by_instrument(test)['snare']['velocity_mean']:.3f}"
    assert cells[3] == "ok" and len(cells) == 5  # Judged against the learnable clips: the test-like set is not.
    assert "within 10% of the train+valid's" in table



def test_the_splits_table_shows_each_drummers_share_and_loudness():
    def open_hats(clips, velocity, switch=False):
        groove = np.zeros((clips, 64, 27), np.float32)
        groove[:, ::4, 3], groove[:, ::4, 12] = 1, velocity / 127
        if switch:  # Bars 3-4 ride instead: one timekeeper change a clip.
            groove[:, 32:, 3] = groove[:, 32:, 12] = 0
            groove[:, 32::4, 8] = 1
        return groove

    train = np.concatenate([open_hats(3, 100), open_hats(1, 24, switch=True)])
    drummers = np.array(["drummer1"] * 3 + ["drummer2"])
    test = open_hats(2, 96)
    table = evaluation.splits_table({"train": train, "test": test},
                                    {"train": drummers, "test": np.array(["drummer1"] * 2)})
    lines = table.splitlines()
    loudness = next(line for line in lines if line.startswith("open_hihat velocity"))
    pooled = (48 * 100 + 8 * 24) / 56  # drummer1's 3 clips of 16 hits, drummer2's 8.
    assert loudness.split()[5] == f"{pooled:.1f}" and loudness.split()[8] == "96.0"
    rate = next(line for line in lines if line.startswith("timekeeper changes"))
    assert rate.split()[-2:] == [f"{1 / 12:.3f}", "0.000"]  # 1 change in 4 clips x 3 boundaries.
    by_drummer = {line.split()[0]: line for line in lines if line.startswith("drummer")}
    assert by_drummer["drummer2"].split()[:4] == ["drummer2", "1", "0.333", "24.0"]
    assert by_drummer["drummer2"].split()[-1] == "-"  # Not in the test split.
    assert "100.0 (48)" in by_drummer["drummer1"] and "96.0 (32)" in by_drummer["drummer1"]
    with pytest.raises(ValueError, match="Unknown drum 'cowbell'"):
        evaluation.splits_table({"train": train}, {"train": drummers}, drum="cowbell")

