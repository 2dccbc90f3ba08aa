"""Infill: the kept instruments come back exactly as played, the others are generated."""

import numpy as np
import pytest
from helpers import make_sequence, run_command, to_midi_bytes

import groove_vae
from groove_vae import converter
from groove_vae.drums import DEFAULT_DRUM_MAP, DRUM_CLASS_NAMES


def played_beat(bars=4):
    """A rock beat at 120 qpm: kick and snare with a drummer's varied loudness and timing,
    closed hi-hats on the 8ths."""
    rng = np.random.default_rng(0)
    notes = []
    for bar in range(bars):
        start = bar * 2.0
        notes += [(36, int(rng.integers(80, 120)), start + step * 0.125 + rng.uniform(0, 0.02)) for step in (0, 8, 10)]
        notes += [(38, int(rng.integers(90, 120)), start + step * 0.125 + rng.uniform(0, 0.02)) for step in (4, 12)]
        notes += [(42, 70, start + eighth * 0.25) for eighth in range(8)]
    return make_sequence(notes)


def by_class(ns, classes):
    return sorted((n.pitch, n.velocity, round(n.start_time, 9), round(n.end_time, 9)) for n in ns.notes
                  if DEFAULT_DRUM_MAP.pitch_to_class(n.pitch) in classes)


@pytest.fixture(scope="module")
def infill_vae():
    return groove_vae.load("infill", precision="float32")


def test_kept_instruments_come_back_exactly_and_the_others_are_played(infill_vae):
    beat = played_beat()
    filled = infill_vae.infill(beat, keep=["kick", "snare"], seed=1)
    assert by_class(filled, {0, 1}) == by_class(beat, {0, 1})  # Every kept note, untouched.
    generated = [n for n in filled.notes if DEFAULT_DRUM_MAP.pitch_to_class(n.pitch) not in (0, 1)]
    assert len(generated) >= 8  # It plays around them (hats, ride, ...), not silence.
    assert max(n.start_time for n in generated) < 8.0  # Within the 4 bars.
    assert by_class(filled, {2}) != by_class(beat, {2})  # The hi-hats are the model's, not the input's.


def test_add_names_what_to_generate_and_keeps_the_rest(infill_vae):
    data = to_midi_bytes(played_beat())
    filled = infill_vae.infill(data, add=["closed_hihat", "open_hihat", "ride"], seed=2)
    beat = converter.read_midi(data, "<midi bytes>")
    kept = {0, 1, 4, 5, 6, 7}  # All but closed hi-hat (2), open hi-hat (3) and ride (8).
    assert by_class(filled, kept) == by_class(beat, kept)


def test_longer_beats_keep_every_kept_note_in_every_window(infill_vae):
    beat = played_beat(bars=10)
    filled = infill_vae.infill(beat, keep=["kick", "snare"], seed=0)
    assert by_class(filled, {0, 1}) == by_class(beat, {0, 1})
    late = [n for n in filled.notes if n.start_time > 16.0 and DEFAULT_DRUM_MAP.pitch_to_class(n.pitch) not in (0, 1)]
    assert late, "the windows after the first two are played too"


@pytest.mark.parametrize("kwargs, message", [
    ({"keep": ["kick", "cowbell"]}, "Unknown instrument 'cowbell'"),
    ({}, "keep= .* or add="),
    ({"keep": ["kick"], "add": ["snare"]}, "not both"),
    ({"add": list(DRUM_CLASS_NAMES)}, "at least one instrument to keep"),
    ({"keep": list(DRUM_CLASS_NAMES)}, "nothing to play"),
])
def test_bad_instrument_lists_are_refused(infill_vae, kwargs, message):
    with pytest.raises(ValueError, match=message):
        infill_vae.infill(played_beat(), **kwargs)


def test_the_infill_command_writes_the_filled_beat(tmp_path):
    (tmp_path / "beat.mid").write_bytes(to_midi_bytes(played_beat()))
    result = run_command("infill", "--input=beat.mid", "--keep=kick,snare", "--output=filled.mid", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    filled = converter.read_midi(tmp_path / "filled.mid")
    original = converter.read_midi(tmp_path / "beat.mid")
    assert [(p, v) for p, v, _, _ in by_class(filled, {0, 1})] == [(p, v) for p, v, _, _ in by_class(original, {0, 1})]
    bad = run_command("infill", "--input=beat.mid", "--keep=kick,cowbell", cwd=tmp_path)
    assert bad.returncode != 0 and "Unknown instrument 'cowbell'" in bad.stderr
