"""Training data from a folder of the user's own MIDI files."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import make_sequence, tiny_config, to_midi_bytes

from groove_vae import data, runs, training


def beat(bars, numerator=4):
    notes = [(36 if i % 2 == 0 else 38, 100, i * 0.5) for i in range(4 * bars)]
    return to_midi_bytes(make_sequence(notes + [(42, 70, i * 0.25) for i in range(8 * bars)], numerator=numerator))


@pytest.fixture
def midi_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GROOVE_VAE_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "drums"
    (folder / "nested" / "deeper").mkdir(parents=True)
    for i in range(12):
        (folder / f"groove_{i}.mid").write_bytes(beat(8))
    (folder / "nested" / "deeper" / "LOUD.MIDI").write_bytes(beat(6))
    (folder / "nested" / "waltz.mid").write_bytes(beat(8, numerator=3))
    (folder / "nested" / "broken.mid").write_bytes(b"MThd garbage")
    (folder / "notes.txt").write_text("not midi")
    return folder


def test_every_file_is_windowed_bar_by_bar_and_skips_are_counted(midi_dir):
    splits = data.load_midi_dir(str(midi_dir), validation_fraction=0.3)
    train, validation = splits["train"], splits["validation"]
    # 12 files of 8 bars -> 5 windows each; the 6-bar file -> 3 windows.
    assert len(train) + len(validation) == 12 * 5 + 3
    assert len(validation) > 0 and len(train) > 0
    skipped = {k: train.stats.skipped.get(k, 0) + validation.stats.skipped.get(k, 0) for k in ("not_4_4", "unparsable")}
    assert skipped == {"not_4_4": 1, "unparsable": 1}
    # No performance has windows in both splits.
    assert not set(train.ids) & set(validation.ids)
    assert set(train.qpm) | set(validation.qpm) == {120.0}
    np.testing.assert_array_equal(train.groove[0, :, 0][::8], np.ones(8))  # Kick on every half note.


def test_a_folder_to_score_against_is_every_window_of_every_file(midi_dir):
    folder = data.load_midi_folder(str(midi_dir))
    splits = data.load_midi_dir(str(midi_dir), validation_fraction=0.3)
    assert len(folder) == len(splits["train"]) + len(splits["validation"]) == 12 * 5 + 3
    assert sorted(set(folder.ids)) == sorted(set(splits["train"].ids) | set(splits["validation"].ids))


def test_the_split_is_deterministic_and_the_cache_follows_the_contents(midi_dir):
    first = data.load_midi_dir(str(midi_dir), validation_fraction=0.3)
    again = data.load_midi_dir(str(midi_dir), validation_fraction=0.3)
    assert list(first["validation"].ids) == list(again["validation"].ids)
    (midi_dir / "groove_0.mid").write_bytes(beat(5))  # 5 bars -> 2 windows instead of 5.
    changed = data.load_midi_dir(str(midi_dir), validation_fraction=0.3)
    total = sum(len(c) for c in changed.values())
    assert total == 11 * 5 + 2 + 3


def test_bad_folders_get_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        data.load_midi_dir(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="no .mid or .midi files"):
        data.load_midi_dir(str(tmp_path))


@pytest.mark.slow  # Three short trainings; the default set trains and resumes in test_training_stops_at_exactly_the_step_asked_for.
def test_training_runs_on_a_midi_folder_and_fine_tuning_starts_from_its_weights(midi_dir, tmp_path):
    base = str(tmp_path / "base")
    history = training.train(tiny_config(), base, num_steps=2, steps_per_epoch=2, eval_batches=1,
                             midi_dir=str(midi_dir), validation_fraction=0.3, verbose=0)
    assert np.isfinite(history.history["loss"][-1]) and "val_loss" in history.history
    # One epoch: the best weights are the last checkpoint's, read either way.
    for best, latest in zip(runs.restore_model(base).weights, runs.restore_model(base, prefer_best=False).weights):
        np.testing.assert_array_equal(best.numpy(), latest.numpy())

    frozen = str(tmp_path / "tuned")  # A learning rate of ~0 keeps the starting weights.
    training.train(tiny_config(extra="learning_rate=1e-12,min_learning_rate=1e-12"), frozen, num_steps=2,
                   steps_per_epoch=2, eval_batches=1, midi_dir=str(midi_dir), validation_fraction=0.3,
                   verbose=0, init_from=base)
    for start, tuned in zip(runs.restore_model(base).weights, runs.restore_model(frozen).weights):
        np.testing.assert_allclose(tuned.numpy(), start.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="do not fit this config's architecture"):
        training.train(tiny_config(extra="z_size=4"), str(tmp_path / "other"), num_steps=2, steps_per_epoch=2,
                       eval_batches=1, midi_dir=str(midi_dir), validation_fraction=0.3, verbose=0, init_from=base)


def test_training_stops_at_exactly_the_step_asked_for_with_a_checkpoint_there(midi_dir, tmp_path, capsys):
    run = str(tmp_path / "run")
    common = dict(steps_per_epoch=4, eval_batches=1, midi_dir=str(midi_dir), validation_fraction=0.3, verbose=0)
    training.train(tiny_config(), run, num_steps=5, **common)  # One whole epoch of 4, then 1 step.
    assert tf.train.latest_checkpoint(f"{run}/checkpoints").endswith("ckpt-5")
    training.train(tiny_config(), run, num_steps=7, **common)  # Resumed mid-epoch.
    assert tf.train.latest_checkpoint(f"{run}/checkpoints").endswith("ckpt-7")
    assert "Resumed from" in capsys.readouterr().out
    assert training.train(tiny_config(), run, num_steps=7, **common) is None
    assert "already trained 7 steps" in capsys.readouterr().out
