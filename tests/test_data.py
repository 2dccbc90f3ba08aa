"""Integration tests on the real Groove MIDI Dataset in ../shared/data."""

import numpy as np
import pytest

from groove_vae import data
from groove_vae.groove import hits as hits_of
from groove_vae.groove import velocities as velocities_of
from groove_vae.representations import DrumsRepresentation, GrooveRepresentation


@pytest.fixture(scope="module")
def test_split(tfds_data_dir):
    return data.load_split("groove/4bar-midionly", "test")


def test_test_split_converts_with_empty_clips_counted(test_split):
    assert test_split.stats.skipped.get("empty") == 123
    assert len(test_split) == 2033 - sum(test_split.stats.skipped.values())
    assert test_split.groove.shape[1:] == (64, 27)
    hits = hits_of(test_split.groove)
    assert 15 < hits.sum() / len(test_split) / 4 < 22  # Hits per bar, about 18.6.
    velocities = velocities_of(test_split.groove)[hits > 0] * 127
    assert 60 < velocities.mean() < 80 and velocities.min() >= 1
    assert set(np.unique(test_split.styles)) >= {"funk", "rock", "jazz"}



def test_each_clip_knows_its_drummer(test_split):
    assert data.drummer_of("groove/4bar-midionly:test[3] drummer10/session1/5:000:001") == "drummer10"
    assert data.drummer_of("beats/drummer_notes.mid") == "" and data.drummer_of("my/drummer2.mid") == ""
    drummers = test_split.drummers
    assert len(drummers) == len(test_split) and all(d.startswith("drummer") for d in drummers)
    # GMD's test split holds six of its ten drummers; drummer2 plays only in the other splits.
    assert "drummer1" in set(drummers) and "drummer2" not in set(drummers)

@pytest.mark.slow  # Converts the test split twice.
def test_cache_equals_a_fresh_conversion(test_split, tfds_data_dir):
    fresh = data.load_split("groove/4bar-midionly", "test", use_cache=False)
    np.testing.assert_array_equal(fresh.groove, test_split.groove)
    assert fresh.stats == test_split.stats


def test_datasets_yield_model_inputs(test_split):
    groove_batch = next(iter(data.make_dataset(test_split.groove, GrooveRepresentation(), 16)))
    assert groove_batch.shape == (16, 64, 27)
    drums_batch = next(iter(data.make_dataset(test_split.groove, DrumsRepresentation(), 16)))
    assert drums_batch.shape == (16, 64, 512)
    assert np.all(drums_batch.numpy().sum(-1) == 1)


def test_a_corrupt_clip_in_the_data_is_a_counted_skip(test_split, monkeypatch):
    from helpers import make_sequence, to_midi_bytes

    good = to_midi_bytes(make_sequence([(36, 100, 0.0), (42, 80, 0.25)]))
    records = [(good, f"good{i}", 120.0, "rock") for i in range(6)]
    records.insert(3, (b"MThd\x00\x00\x00\x06broken", "broken.mid", 120.0, "rock"))
    monkeypatch.setattr(data, "PARALLEL_MIN_RECORDS", 1)  # Through the worker processes, as for a real split.
    clips = data.convert_records(records, num_steps=64, num_workers=2)
    assert len(clips) == 6 and clips.stats.skipped == {"unparsable": 1}
    assert list(clips.ids) == [f"good{i}" for i in range(6)]
