"""A corpus of hostile MIDI, built in code: every input gets a one-line ConversionError
naming it (a counted skip in a batch) or a correct groove, never another exception.

experiments/2026-12-06-reliability.md lists every input and its outcome.
"""

import collections
import contextlib
import dataclasses
import io
import re
import signal
import time

import mido
import numpy as np
import pytest
from absl import app
from helpers import make_sequence

from groove_vae import api, cli, converter
from groove_vae.drums import DEFAULT_DRUM_MAP
from groove_vae.groove import hits as hits_of
from groove_vae.groove import offsets as offsets_of
from groove_vae.groove import velocities as velocities_of

TPQ = 480
STEP_TICKS = TPQ // 4  # One 16th note.
BAR_TICKS = 16 * STEP_TICKS


def on(pitch, velocity=100, channel=9):
    return mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)


def off(pitch, channel=9):
    return mido.Message("note_off", note=pitch, channel=channel)


def meta(kind, **fields):
    return mido.MetaMessage(kind, **fields)


def tempo(qpm):
    return meta("set_tempo", tempo=round(60e6 / qpm))


def midi_file(*tracks, tpq=TPQ, type_=1):
    """tracks: lists of (absolute tick, message) -> standard MIDI file bytes."""
    midi = mido.MidiFile(type=type_, ticks_per_beat=tpq)
    for events in tracks:
        track, previous = mido.MidiTrack(), 0
        for tick, msg in sorted(events, key=lambda e: e[0]):
            track.append(msg.copy(time=tick - previous))
            previous = tick
        midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def hits(notes, length=STEP_TICKS // 2):
    """(pitch, velocity, tick) -> note-on/note-off events on the drum channel."""
    return [e for p, v, t in notes for e in ((t, on(p, v)), (t + length, off(p)))]


def kicks(steps, velocity=100):
    return hits([(36, velocity, s * STEP_TICKS) for s in steps])


def expected_groove(notes, num_steps=64):
    """The groove of on-grid (pitch, velocity, tick) notes: loudest per step and class."""
    groove = np.zeros((num_steps, 27), np.float32)
    for pitch, velocity, tick in notes:
        step, drum_class = tick // STEP_TICKS, DEFAULT_DRUM_MAP.pitch_to_class(pitch)
        if step < num_steps and drum_class is not None:
            groove[step, drum_class] = 1
            groove[step, 9 + drum_class] = max(groove[step, 9 + drum_class], velocity / 127)
    return groove


def assert_groove(groove, expected):
    """Same hits and velocities; offsets within 0.001 (a tempo 1 us per beat off drifts 2e-4)."""
    np.testing.assert_array_equal(hits_of(groove), hits_of(expected))
    np.testing.assert_allclose(velocities_of(groove), velocities_of(expected), atol=1e-6)
    np.testing.assert_allclose(offsets_of(groove), offsets_of(expected), atol=1e-3)


ON_BEATS = kicks(range(0, 64, 4))
ON_BEATS_GROOVE = expected_groove([(36, 100, s * STEP_TICKS) for s in range(0, 64, 4)])
GOOD = midi_file([(0, tempo(120))], ON_BEATS)
RNG = np.random.default_rng(0)
TEN_K = [  # 10,000 notes in 4 bars: every class, many notes per step.
    (int(RNG.choice([p for ps in DEFAULT_DRUM_MAP.class_pitches for p in ps])), int(v), int(s) * STEP_TICKS)
    for v, s in zip(RNG.integers(1, 128, 10_000), RNG.integers(0, 64, 10_000))
]
TRACK_NOTES = [(36, 1 + i % 127, (i % 64) * STEP_TICKS) for i in range(999)]  # One per track.
OVERLAPPING = [  # Same pitch, the second begins before the first ends (on another step).
    (0, on(38, 50)), (2 * STEP_TICKS, on(38, 110)), (3 * STEP_TICKS, off(38)), (4 * STEP_TICKS, off(38)),
    (8 * STEP_TICKS, on(36, 90)), (8 * STEP_TICKS + 10, on(35, 70)),  # Two kicks on one step,
    (8 * STEP_TICKS + 20, off(36)), (8 * STEP_TICKS + 30, off(35)),  # the loudest is kept.
]
ZERO_LENGTH = [  # A note-off on its note-on's tick: drum machines write hits like this.
    (0, on(36, 100)), (0, off(36)), (4 * STEP_TICKS, on(38, 80)), (4 * STEP_TICKS, on(38, 0)),
    (8 * STEP_TICKS, on(42, 60)), (8 * STEP_TICKS + 60, off(42)),
]


def truncated(fraction):
    return GOOD[: int(len(GOOD) * fraction)]


def meter(numerator, denominator, tick=0):
    return tick, meta("time_signature", numerator=numerator, denominator=denominator)


OFF_BY_VELOCITY_0 = [(0, on(36, 100)), (60, on(36, 0)), (STEP_TICKS, on(38, 70)), (STEP_TICKS + 60, on(38, 0))]
UNMAPPED = hits([(p, 100, i * STEP_TICKS) for i, p in enumerate([0, 21, 88, 100, 127])])


@dataclasses.dataclass
class Case:
    name: str
    data: bytes
    reason: str | None  # The ConversionError reason, or None: converts to `expected`.
    expected: np.ndarray | None = None


CASES = [
    Case("zero_bytes", b"", "unparsable"),
    Case("random_bytes", RNG.integers(0, 256, 4096, dtype=np.uint8).tobytes(), "unparsable"),
    Case("text_file", b"This is not a MIDI file.\n" * 10, "unparsable"),
    Case("header_only", GOOD[:14], "unparsable"),
    Case("truncated_in_header", truncated(0.05), "unparsable"),
    Case("truncated_half", truncated(0.5), "unparsable"),
    Case("truncated_last_byte", GOOD[:-1], "unparsable"),
    Case("no_tracks", b"MThd\x00\x00\x00\x06\x00\x01\x00\x00\x01\xe0", "empty"),
    Case("smpte_division", GOOD[:12] + b"\xe7\x28" + GOOD[14:], "unparsable"),
    Case("zero_division", GOOD[:12] + b"\x00\x00" + GOOD[14:], "unparsable"),
    Case("no_notes", midi_file([(0, tempo(120)), (0, meta("track_name", name="silence"))]), "empty"),
    Case("no_drum_channel", midi_file([(0, tempo(120))], [(t, m.copy(channel=0)) for t, m in ON_BEATS]), "no_drums"),
    Case("pitches_outside_drum_map", midi_file(UNMAPPED), "no_drum_notes"),
    Case("meter_3_4", midi_file([meter(3, 4)], ON_BEATS), "not_4_4"),
    Case("meter_6_8", midi_file([meter(6, 8)], ON_BEATS), "not_4_4"),
    Case("meter_change_mid_file", midi_file([meter(4, 4), meter(3, 4, 2 * BAR_TICKS)], ON_BEATS), "not_4_4"),
    Case("meter_3_4_on_drum_track", midi_file([(0, tempo(120))], [meter(3, 4)] + ON_BEATS), "not_4_4"),
    # Tempo changes are kept: steps count the sequence's own beats, whatever their speed.
    Case("tempo_change", midi_file([(0, tempo(120)), (2 * BAR_TICKS, tempo(100))], ON_BEATS), None, ON_BEATS_GROOVE),
    Case("tempo_change_on_drum_track", midi_file([(0, tempo(120))], [(BAR_TICKS, tempo(90))] + ON_BEATS), None,
         ON_BEATS_GROOVE),
    Case("tempo_repeated_nearly_equal",  # 120 and 119.99976 qpm: one tempo to 3 decimals.
         midi_file([(0, tempo(120)), (BAR_TICKS, meta("set_tempo", tempo=500001))], ON_BEATS), None, ON_BEATS_GROOVE),
    Case("tempo_only_on_drum_track", midi_file([], [(0, tempo(90))] + ON_BEATS), None, ON_BEATS_GROOVE),
    Case("only_velocity_0_note_ons", midi_file([(0, on(36, 0)), (STEP_TICKS, on(38, 0))]), "empty"),
    Case("velocity_0_note_on_as_note_off", midi_file(OFF_BY_VELOCITY_0), None,
         expected_groove([(36, 100, 0), (38, 70, STEP_TICKS)])),
    Case("overlapping_notes", midi_file(OVERLAPPING), None,
         expected_groove([(38, 50, 0), (38, 110, 2 * STEP_TICKS), (36, 90, 8 * STEP_TICKS)])),
    Case("zero_length_notes", midi_file(ZERO_LENGTH), None,
         expected_groove([(36, 100, 0), (38, 80, 4 * STEP_TICKS), (42, 60, 8 * STEP_TICKS)])),
    Case("ten_thousand_notes", midi_file([(0, tempo(120))], hits(TEN_K)), None, expected_groove(TEN_K)),
    Case("thousand_tracks", midi_file([(0, tempo(120))], *[hits([n]) for n in TRACK_NOTES]), None,
         expected_groove(TRACK_NOTES)),
    Case("huge_delta_time", midi_file(kicks([0]) + [(2**28, on(36)), (2**28 + 60, off(36))]), "too_long"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_converter_raises_one_clear_error_or_converts_correctly(case):
    if case.reason is None:
        assert_groove(converter.midi_to_groove(case.data, source=f"{case.name}.mid"), case.expected)
        return
    with pytest.raises(converter.ConversionError) as error:
        converter.midi_to_groove(case.data, source=f"{case.name}.mid")
    message = str(error.value)
    assert error.value.reason == case.reason, message
    prefix = f"{case.name}.mid: "
    assert message.startswith(prefix) and len(message) > len(prefix) + 8 and "\n" not in message


def test_batch_counts_every_skip_by_reason():
    tensors, stats = converter.convert_midi_batch([(c.data, f"{c.name}.mid") for c in CASES])
    assert [t is None for t in tensors] == [c.reason is not None for c in CASES]
    assert stats.converted == sum(c.reason is None for c in CASES)
    assert stats.skipped == dict(collections.Counter(c.reason for c in CASES if c.reason))
    assert stats.notes_unmapped == 5  # From pitches_outside_drum_map, counted before its skip.


def test_a_note_beyond_4_bars_is_dropped_and_counted_not_wrapped():
    stats = converter.ConversionStats()
    groove = converter.midi_to_groove(midi_file(kicks([0, 64, 65])), stats=stats)
    assert groove[:, 0].sum() == 1 and stats.notes_past_end == 2


def three_hour_file(qpm=120):
    """A kick on every downbeat for three hours: 5,400 bars at 120 qpm."""
    bars = int(3 * 3600 * qpm / 60 / 4)
    return midi_file([(0, tempo(qpm))], hits([(36, 1 + b % 127, b * BAR_TICKS) for b in range(bars)])), bars


def test_a_several_hours_file_is_cut_into_many_correct_windows():
    # 1,350 windows are 9 MB of float32 and encode in one batch; refusing would lose a
    # real (if long) performance. MAX_BARS (~9 hours at 120 qpm) bounds the rest.
    data, bars = three_hour_file()
    windows = converter.note_sequence_to_windows(converter.read_midi(data, "long.mid"), source="long.mid")
    assert windows.shape == (bars // 4, 64, 27)
    kick = windows[..., 0].reshape(-1)
    assert kick.sum() == bars and kick[::16].all()
    np.testing.assert_allclose(windows[..., 9].reshape(-1)[::16], [(1 + b % 127) / 127 for b in range(bars)], atol=1e-6)


def test_longer_than_max_bars_is_refused_before_allocating():
    far = make_sequence([(36, 100, 0.0), (36, 100, 10 * 24 * 3600.0)])  # Ten days at 120 qpm.
    with pytest.raises(converter.ConversionError, match="^far: 432001 bars long; .* MAX_BARS = 16384") as error:
        converter.note_sequence_to_windows(far, source="far")
    assert error.value.reason == "too_long"
    # One tick per quarter: few ticks (no MAX_TICKS refusal) but 2**22 beats of time.
    coarse = midi_file(kicks([0]) + [(2**22, on(36)), (2**22 + 1, off(36))], tpq=1)
    with pytest.raises(converter.ConversionError) as error:
        converter.note_sequence_to_windows(converter.read_midi(coarse, "coarse.mid"), source="coarse.mid")
    assert error.value.reason == "too_long"


def sparse_song(bars, tpq=4):
    """A kick on the first and the last of `bars` bars (a 16th is one tick): a few bytes."""
    last = (bars - 1) * 16
    return midi_file([(0, tempo(120))], [(0, on(36)), (1, off(36)), (last, on(36)), (last + 1, off(36))], tpq=tpq)


def test_a_song_of_max_bars_is_read_and_one_bar_more_is_refused_naming_the_limit():
    grid = converter.note_sequence_to_grid(converter.read_midi(sparse_song(converter.MAX_BARS)))
    assert grid.shape == (converter.MAX_BARS * 16, 27) and hits_of(grid).sum() == 2
    message = "long.mid: 16385 bars long; a song may have at most MAX_BARS = 16384 (~9 hours at 120 qpm)"
    with pytest.raises(converter.ConversionError, match=f"^{re.escape(message)}$"):
        converter.note_sequence_to_grid(converter.read_midi(sparse_song(converter.MAX_BARS + 1)), source="long.mid")


def many_tempos(count, every=STEP_TICKS):
    """`count` tempo changes (120 and 121 qpm in turn), one every `every` ticks, a kick on each."""
    events = [(i * every, tempo(120 + i % 2)) for i in range(count)]
    return midi_file(events + kicks([i * every // STEP_TICKS for i in range(count)], velocity=90))


@contextlib.contextmanager
def deadline(seconds):
    """Fails the block past `seconds` (SIGALRM), rather than letting a quadratic one run for minutes."""
    def fail(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_sixteen_thousand_tempo_changes_are_written_in_seconds_and_in_place():
    ns = converter.read_midi(many_tempos(16_000), "tempos.mid")
    played = converter.groove_to_note_sequence(converter.note_sequence_to_grid(ns), tempo_map=converter.TempoMap.of(ns))
    start = time.perf_counter()
    with deadline(60):
        data = converter.note_sequence_to_midi_bytes(played)
    assert time.perf_counter() - start < 10
    back = converter.read_midi(data)
    assert len(back.tempos) == 16_000 and len(back.notes) == 16_000
    np.testing.assert_allclose([t.time for t in back.tempos], [t.time for t in ns.tempos], atol=2e-3)  # A tick.
    np.testing.assert_allclose([n.start_time for n in back.notes], [n.start_time for n in ns.notes], atol=2e-3)


def test_the_tempo_changes_are_written_where_note_seq_writes_them():
    from note_seq import midi_io

    rng = np.random.default_rng(3)
    for _ in range(20):
        ns = make_sequence([(36, 90, t) for t in rng.uniform(0, 30, 40)], qpm=float(rng.uniform(40, 300)))
        for time_ in np.cumsum(rng.choice([0.0, 1e-4, 0.7, 2.3], 30)):  # Some at one time, some a hair apart.
            ns.tempos.add(qpm=float(rng.uniform(40, 300)), time=float(time_))
        buffer = io.BytesIO()
        midi_io.note_sequence_to_pretty_midi(ns).write(buffer)
        assert converter.note_sequence_to_midi_bytes(ns) == buffer.getvalue()


# NoteSequences (the API takes them too): what MIDI bytes cannot express.
SEQUENCE_CASES = {
    "velocity_0_only": (make_sequence([(36, 0, 0.0), (38, 0, 0.5)]), "empty"),
    "ten_days_long": (make_sequence([(36, 100, 0.0), (36, 100, 10 * 24 * 3600.0)]), "too_long"),
    "meter_6_8": (make_sequence([(36, 100, 0.0)], numerator=6, denominator=8), "not_4_4"),
    "zero_qpm": (make_sequence([(36, 100, 0.0)], qpm=0.0), "unquantizable"),
    "nan_qpm": (make_sequence([(36, 100, 0.0)], qpm=float("nan")), "unquantizable"),
    "nan_onset": (make_sequence([(36, 100, float("nan"))]), "unquantizable"),
    "negative_onset": (make_sequence([(36, 100, -1.0)]), "unquantizable"),
    "no_notes": (make_sequence([]), "empty"),
}


@pytest.mark.parametrize("name", SEQUENCE_CASES)
def test_hostile_sequences_raise_conversion_error(name):
    ns, reason = SEQUENCE_CASES[name]
    converts = [converter.note_sequence_to_windows]
    if reason != "too_long":  # 4 bars of a long clip are fine; its far notes are dropped.
        converts.append(converter.note_sequence_to_groove)
    for convert in converts:
        with pytest.raises(converter.ConversionError, match=f"^{name}: ") as error:
            convert(ns, source=name)
        assert error.value.reason == reason


def test_velocity_0_notes_in_a_note_sequence_are_silence_not_hits():
    ns = make_sequence([(36, 0, 0.0), (38, 0, 0.5)])
    with pytest.raises(converter.ConversionError, match="holds no notes"):
        converter.note_sequence_to_groove(ns, source="silent")
    ns.notes.add(pitch=42, velocity=64, start_time=0.25, end_time=0.3, is_drum=True, instrument=9)
    groove = converter.note_sequence_to_groove(ns)
    assert hits_of(groove).sum() == 1 and groove[2, 2] == 1


def test_tempo_on_a_later_track_is_read():
    ns = converter.read_midi(CASES[[c.name for c in CASES].index("tempo_only_on_drum_track")].data)
    assert [round(t.qpm, 3) for t in ns.tempos] == [90.0]


# === Paths ===
def test_missing_path_and_directory_name_the_path(tmp_path):
    missing, directory = tmp_path / "nope.mid", tmp_path / "folder.mid"
    directory.mkdir()
    for path, problem in ((missing, "No such file"), (directory, "directory")):
        with pytest.raises(converter.ConversionError, match=problem) as error:
            converter.midi_to_groove(path)
        assert error.value.reason == "unreadable" and str(error.value).startswith(f"{path}: ")
        tensors, stats = converter.convert_midi_batch([(path, str(path))])
        assert tensors == [None] and stats.skipped == {"unreadable": 1}


def test_a_bad_file_on_disk_is_named(tmp_path):
    path = tmp_path / "half.mid"
    path.write_bytes(truncated(0.5))
    message = f"{path}: not a valid MIDI file (truncated)"
    with pytest.raises(converter.ConversionError, match=f"^{re.escape(message)}$"):
        converter.midi_to_groove(path)


# === The API (and the scripts' one-line usage errors) ===
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_api_encode_raises_conversion_error_or_encodes(vae, case):
    if case.reason is None:
        assert vae.encode(case.data).shape == (1, vae.config.z_size)
        return
    with pytest.raises(converter.ConversionError) as error:
        vae.encode(case.data)
    assert error.value.reason == case.reason and str(error.value).startswith("<midi bytes>: ")
    with pytest.raises(app.UsageError, match="^<midi bytes>: "):  # What the scripts print.
        with cli.usage_errors():
            vae.encode(case.data)


def test_api_paths_and_sequences_raise_conversion_error(vae, tmp_path):
    directory = tmp_path / "beats"
    directory.mkdir()
    inputs = [
        (tmp_path / "nope.mid", "unreadable"),
        (directory, "unreadable"),
        (str(directory), "unreadable"),
        *SEQUENCE_CASES.values(),
    ]
    for midi, reason in inputs:
        for verb in (vae.encode, vae.reconstruct, vae.humanize):
            with pytest.raises(converter.ConversionError) as error:
                verb(midi)
            assert error.value.reason == reason, (midi, str(error.value))
    with pytest.raises(converter.ConversionError, match="nope.mid"):
        vae.interpolate(GOOD, tmp_path / "nope.mid")


def test_api_encodes_a_several_hours_file(vae):
    data, bars = three_hour_file()
    assert vae.encode(data).shape == (bars // 4, vae.config.z_size)



def test_a_520_bar_song_is_reconstructed_and_a_long_one_humanized_a_chunk_at_a_time(vae, monkeypatch):
    """520 bars are 259 windows, 1,036 played in one batch of 4 copies: more than a decode
    takes at once. A song is played 64 windows at a time, so any length up to MAX_BARS plays."""
    song = midi_file([(0, tempo(120))], kicks(range(0, 520 * 16, 4)))
    played = vae.reconstruct(song, seed=0)
    assert max(n.start_time for n in played.notes) > 519 * 2.0  # Its last bar is played too.
    sizes = []
    decode = vae._decode_forced

    def counted(z, *args):
        sizes.append(int(z.shape[0]))
        return decode(z, *args)

    monkeypatch.setattr(vae, "_decode_forced", counted)
    vae.humanize(song, seed=0)
    assert sum(sizes) == 259 * 4 and max(sizes) == 64 * 4


def test_a_long_song_with_sixteen_thousand_tempo_changes_is_humanized_and_written_in_seconds(vae, tmp_path):
    source = tmp_path / "tempos.mid"
    source.write_bytes(many_tempos(16_000, every=2 * STEP_TICKS))  # 2,000 bars, a tempo change every 8th.
    with deadline(120):
        api.write_midi(vae.humanize(str(source), seed=0), tmp_path / "played.mid")
    back = converter.read_midi(tmp_path / "played.mid")
    assert len(back.tempos) == 16_000 and len(back.notes) == 16_000
