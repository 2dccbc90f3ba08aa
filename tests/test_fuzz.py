"""Property tests: the groove round trip keeps every hit, and no bytes crash the reader.

A few dozen examples run by default; `pytest -m slow` runs the long variants.
"""

import math

import numpy as np
import pytest
from helpers import make_sequence, to_midi_bytes
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from groove_vae import converter
from groove_vae.drums import DEFAULT_DRUM_MAP
from groove_vae.groove import hits as hits_of
from groove_vae.groove import offsets as offsets_of
from groove_vae.groove import velocities as velocities_of

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DRUM_PITCHES = sorted(DEFAULT_DRUM_MAP.pitch_to_class_table)
REASONS = {"unreadable", "unparsable", "empty", "no_drums", "no_drum_notes", "not_4_4",
           "unquantizable", "too_long"}
# MIDI stores onsets in ticks: groove_to_note_sequence asks for 220 per quarter, 55 per
# 16th step, so a written onset moves by up to half a tick, 1/110 step, and an offset
# (twice the distance in steps) by up to 1/55. groove_to_note_sequence also pulls an
# offset beyond +-54/55 in to that, by at most 1/55 (exactly on a tick, so no rounding
# adds to it). Reading back, steps come from ticks alone (the tempo's rounding to whole
# microseconds cancels). 1e-4 covers float32.
OFFSET_ATOL = 1 / 55 + 1e-4


@st.composite
def drum_sequences(draw):
    """A random 4/4 drum clip: (NoteSequence, qpm, [(pitch, velocity, start)])."""
    qpm = draw(st.floats(60, 200))
    step_seconds, four_bars = 15 / qpm, 16 * 60 / qpm
    on_an_edge = st.builds(  # On or next to a half-step boundary, where rounding decides.
        lambda step, frac: max(0.0, (step + frac) * step_seconds),
        st.integers(0, 63), st.sampled_from([-0.5, -0.4999, 0.4999, 0.5]),
    )
    onsets = st.one_of(st.floats(0, four_bars, exclude_max=True), on_an_edge)
    notes = draw(st.lists(
        st.tuples(st.sampled_from(DRUM_PITCHES), st.integers(1, 127), onsets),
        min_size=1, max_size=64,
    ))
    return make_sequence(notes, qpm=qpm), qpm, notes


def oracle(notes, qpm):
    """Steps and loudest velocities by hand; None where an onset is within 1e-6 step of
    a half-step boundary, where float rounding may pick either neighbour."""
    steps_per_second = qpm / 60 * 4
    loudest = {}
    for pitch, velocity, start in notes:
        x = start * steps_per_second
        if abs(x - math.floor(x) - 0.5) < 1e-6:
            return None
        step = math.floor(x + 0.5)
        if step < 64:
            key = (step, DEFAULT_DRUM_MAP.pitch_to_class(pitch))
            loudest[key] = max(loudest.get(key, 0), velocity)
    return loudest


def assert_same_hits(again, groove):
    np.testing.assert_array_equal(hits_of(again), hits_of(groove))
    np.testing.assert_allclose(velocities_of(again), velocities_of(groove), atol=1 / 127 + 1e-6)
    np.testing.assert_allclose(offsets_of(again), offsets_of(groove), atol=OFFSET_ATOL)


def check_round_trip(clip):
    ns, qpm, notes = clip
    try:
        groove = converter.note_sequence_to_groove(ns)
    except converter.ConversionError as e:  # Every onset quantized past step 63.
        assert e.reason == "no_drum_notes"
        assume(False)
    expected = oracle(notes, qpm)
    if expected is not None:
        hits = {(int(s), int(c)) for s, c in zip(*np.nonzero(hits_of(groove)))}
        assert hits == set(expected)
        for (step, drum_class), velocity in expected.items():
            assert groove[step, 9 + drum_class] == pytest.approx(velocity / 127)
    assert np.all(np.abs(offsets_of(groove)) <= 1)

    written = converter.groove_to_note_sequence(groove, qpm)
    assert_same_hits(converter.note_sequence_to_groove(written), groove)
    assert_same_hits(converter.midi_to_groove(to_midi_bytes(written)), groove)


@FAST
@given(drum_sequences())
def test_groove_round_trip_keeps_every_hit(clip):
    check_round_trip(clip)


@pytest.mark.slow
@SLOW
@given(drum_sequences())
def test_groove_round_trip_keeps_every_hit_long(clip):
    check_round_trip(clip)


def test_onsets_on_the_half_step_boundary_read_back_on_their_step():
    """An offset of exactly +-1 is on the boundary; written, it must not change step."""
    groove = np.zeros((64, 27), np.float32)
    groove[[4, 9], 1], groove[[4, 9], 10], groove[4, 19], groove[9, 19] = 1, 0.5, -1.0, 1.0
    for qpm in (60.0, 97.3, 120.0, 200.0):
        written = converter.groove_to_note_sequence(groove, qpm)
        assert_same_hits(converter.note_sequence_to_groove(written), groove)
        assert_same_hits(converter.midi_to_groove(to_midi_bytes(written)), groove)


# === Bytes that are not (quite) MIDI ===
VALID = to_midi_bytes(make_sequence([(36 + i % 12, 100, i * 0.125) for i in range(64)]))


@st.composite
def mutated_midi(draw):
    """A valid drum file with a few bytes overwritten, inserted, deleted or cut off."""
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["overwrite", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "overwrite" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 8))]
        else:
            del data[at:]
    return bytes(data)


HEADER_THEN_NOISE = st.builds(
    lambda header, noise: header + noise,
    st.sampled_from([b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk", b"MThd\x00\x00\x00\x06\x00\x01\x00\x02",
                     VALID[:22]]),
    st.binary(max_size=256),
)
ANY_BYTES = st.one_of(st.binary(max_size=512), HEADER_THEN_NOISE, mutated_midi())


def check_only_conversion_errors(data):
    for convert in (converter.read_midi,
                    lambda d, s: converter.midi_to_groove(d, source=s),
                    lambda d, s: converter.note_sequence_to_windows(converter.read_midi(d, s), source=s)):
        try:
            convert(data, "fuzz.mid")
        except converter.ConversionError as e:
            message = str(e)
            assert e.reason in REASONS and message.startswith("fuzz.mid: ") and "\n" not in message


@FAST
@given(ANY_BYTES)
def test_any_bytes_raise_only_conversion_errors(data):
    check_only_conversion_errors(data)


@pytest.mark.slow
@SLOW
@given(ANY_BYTES)
def test_any_bytes_raise_only_conversion_errors_long(data):
    check_only_conversion_errors(data)
