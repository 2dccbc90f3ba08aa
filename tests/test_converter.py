import numpy as np
import pytest
from helpers import make_sequence, to_midi_bytes

from groove_vae import converter
from groove_vae.groove import hits as hits_of
from groove_vae.groove import offsets as offsets_of
from groove_vae.groove import velocities as velocities_of

STEP = 60.0 / 120.0 / 4  # One 16th note at 120 qpm, in seconds.


def known_groove_notes():
    """A 4-bar groove: kick on beats, snare on backbeats with push/drag, hats on 8ths."""
    notes = []
    for bar in range(4):
        for beat in range(4):
            step = bar * 16 + beat * 4
            notes.append((36, 100, step * STEP))
            if beat in (1, 3):
                notes.append((38, 90 + beat, (step + 0.2) * STEP))  # Dragged by 0.2 of a step.
            notes.append((42, 60, (step - 0.1 if step else 0) * STEP))
            notes.append((42, 40, (step + 2 + 0.15) * STEP))
    return notes


def test_known_groove_round_trips_through_midi():
    groove = converter.midi_to_groove(to_midi_bytes(make_sequence(known_groove_notes())))
    assert groove.shape == (64, 27)
    hits = hits_of(groove)
    assert hits[:, 0].sum() == 16 and hits[:, 1].sum() == 8 and hits[:, 2].sum() == 32
    assert hits[:, 3:].sum() == 0
    assert groove[4, 1] == 1 and groove[4, 9 + 1] == pytest.approx(91 / 127)
    assert groove[4, 18 + 1] == pytest.approx(0.4, abs=0.02)  # Twice 0.2 of a step.
    assert groove[18, 18 + 2] == pytest.approx(0.3, abs=0.02)
    assert groove[16, 18 + 2] == pytest.approx(-0.2, abs=0.02)

    ns = converter.groove_to_note_sequence(groove, qpm=120)
    again = converter.midi_to_groove(to_midi_bytes(ns))
    np.testing.assert_array_equal(hits_of(again), hits_of(groove))
    np.testing.assert_allclose(velocities_of(again), velocities_of(groove), atol=1 / 127 + 1e-6)
    # MIDI ticks limit timing resolution; well within one grid step.
    np.testing.assert_allclose(offsets_of(again), offsets_of(groove), atol=0.02)


def test_written_midi_uses_drum_channel_and_exemplar_pitches():
    groove = np.zeros((64, 27), np.float32)
    hits_of(groove[0])[:] = 1
    velocities_of(groove[0])[:] = 0.5
    ns = converter.groove_to_note_sequence(groove, qpm=100)
    assert sorted(n.pitch for n in ns.notes) == sorted([36, 38, 42, 46, 43, 47, 50, 49, 51])
    assert all(n.is_drum and n.instrument == 9 for n in ns.notes)
    assert ns.tempos[0].qpm == 100
    assert ns.total_time == pytest.approx(64 * 60 / 100 / 4)


def test_negative_offset_on_step_zero_is_written_at_time_zero():
    groove = np.zeros((64, 27), np.float32)
    groove[0, 0], groove[0, 9], groove[0, 18] = 1, 0.8, -1.0
    ns = converter.groove_to_note_sequence(groove)
    assert ns.notes[0].start_time == 0.0


@pytest.mark.parametrize("meter", [(3, 4), (6, 8)])
def test_meters_other_than_four_four_are_rejected(meter):
    midi = to_midi_bytes(make_sequence([(36, 100, 0.0)], numerator=meter[0], denominator=meter[1]))
    with pytest.raises(converter.ConversionError, match="not 4/4") as error:
        converter.midi_to_groove(midi, source="clip.mid")
    assert error.value.reason == "not_4_4" and "clip.mid" in str(error.value)


def test_note_quantized_past_the_clip_is_dropped_and_counted():
    stats = converter.ConversionStats()
    midi = to_midi_bytes(make_sequence([(36, 100, 0.0), (38, 100, 63.8 * STEP)]))
    groove = converter.midi_to_groove(midi, stats=stats)
    assert hits_of(groove).sum() == 1 and stats.notes_past_end == 1


def test_loudest_of_two_hits_on_one_step_is_kept():
    midi = to_midi_bytes(make_sequence([(38, 50, 0.0), (40, 110, 0.01)]))
    groove = converter.midi_to_groove(midi)
    assert groove[0, 1] == 1 and groove[0, 10] == pytest.approx(110 / 127)


def test_bad_clips_are_skipped_and_counted_not_raised():
    good = to_midi_bytes(make_sequence([(36, 100, 0.0)]))
    items = [
        (good, "good.mid"),
        (b"MThd\x00\x00garbage", "corrupt.mid"),
        (b"", "empty.mid"),
        (to_midi_bytes(make_sequence([], qpm=120)), "silent.mid"),
        (to_midi_bytes(make_sequence([(36, 100, 0.0)], is_drum=False)), "piano.mid"),
        (to_midi_bytes(make_sequence([(36, 100, 0.0)], numerator=3)), "waltz.mid"),
    ]
    tensors, stats = converter.convert_midi_batch(items)
    assert [t is not None for t in tensors] == [True, False, False, False, False, False]
    assert stats.converted == 1
    assert stats.skipped == {"unparsable": 2, "empty": 1, "no_drums": 1, "not_4_4": 1}


def test_missing_file_error_names_the_file(tmp_path):
    with pytest.raises(converter.ConversionError, match="nope.mid"):
        converter.midi_to_groove(tmp_path / "nope.mid")


def test_drum_labels_round_trip():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 512, (3, 64))
    groove = converter.drum_labels_to_groove(labels)
    np.testing.assert_array_equal(converter.groove_to_drum_labels(groove), labels)
    assert converter.groove_to_drum_labels(np.eye(9, 27, dtype=np.float32)).tolist() == [1 << i for i in range(9)]
