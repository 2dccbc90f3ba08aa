"""MIDI <-> NoteSequence <-> drum tensors, for both representations.

The canonical tensor is the *groove* tensor, [num_steps, 27] float32: for each of the
9 drum classes a hit in {0, 1}, a velocity in [0, 1] (MIDI velocity / 127) and a
timing offset in [-1, 1] (twice the onset's distance from the nearest 16th-note grid
point, in steps), laid out as [hits(9), velocities(9), offsets(9)] like Magenta's
GrooveConverter. The categorical *drums* representation (one 9-bit pattern per step)
is derived from the hits, so one cached conversion serves both.
"""

from __future__ import annotations

import dataclasses
import io
import os
import stat
from collections.abc import Iterable

import mido
import numpy as np
import pretty_midi
from note_seq import midi_io, sequences_lib
from note_seq.protobuf import music_pb2

from groove_vae import groove as layout
from groove_vae.drums import DEFAULT_DRUM_MAP, NUM_CLASSES, DrumMap
from groove_vae.groove import GROOVE_DEPTH

STEPS_PER_QUARTER = 4
STEPS_PER_BAR = 16
DEFAULT_QPM = 120.0
DRUMS_VELOCITY = 80  # Velocity written for the categorical representation.
NUM_DRUM_PATTERNS = 2**NUM_CLASSES  # 512 one-hot values per step.
MIDI_DRUM_PROGRAM_INSTRUMENT = 9  # Channel 10, zero-based.
# The tempos a MIDI file can state (24 bits of microseconds per quarter); a NoteSequence
# tempo outside them (1e-30 qpm) is corrupt, and would put every note on step 0.
MIN_MIDI_QPM, MAX_MIDI_QPM = 60e6 / (2**24 - 1), 60e6
MAX_MIDI_BYTES = 16 * 2**20  # The biggest file read: the longest GMD performance is about 100 kB.
# pretty_midi builds a float64 array of every tick up to the last one, and a 40-byte
# file can claim 2**28 ticks per event: past 2**24 ticks (~400 MB and a second to
# parse) a file is taken as corrupt. That is ~4.8 hours at 120 qpm and 480 ticks per
# quarter.
MAX_TICKS = 2**24
# The longest song read: 16,384 bars, ~9 hours at 120 qpm (its grid 28 MB of float32; the
# verbs play it in chunks of windows, so their memory does not grow with it). Longer is a
# corrupt file or tempo, not a performance.
MAX_BARS = 2**14
MAX_STEPS = MAX_BARS * STEPS_PER_BAR


class ConversionError(ValueError):
    """A clip that cannot become a drum tensor.

    `reason` is a short code, counted by batch conversions; the message names the
    source and the problem.
    """

    def __init__(self, source: str, reason: str, detail: str):
        super().__init__(f"{source}: {detail}")
        self.source = source
        self.reason = reason


@dataclasses.dataclass
class ConversionStats:
    """What a conversion kept, skipped and dropped, and why."""

    converted: int = 0
    skipped: dict[str, int] = dataclasses.field(default_factory=dict)
    notes_past_end: int = 0
    notes_unmapped: int = 0

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def merge(self, other: "ConversionStats") -> None:
        self.converted += other.converted
        for reason, count in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + count
        self.notes_past_end += other.notes_past_end
        self.notes_unmapped += other.notes_unmapped

    def summary(self) -> str:
        skipped = ", ".join(f"{k}: {v}" for k, v in sorted(self.skipped.items())) or "none"
        return (
            f"converted {self.converted} clips; skipped {sum(self.skipped.values())} "
            f"({skipped}); dropped {self.notes_past_end} notes past the clip end and "
            f"{self.notes_unmapped} notes outside the drum map"
        )


def read_midi_bytes(path: str | os.PathLike, source: str | None = None) -> bytes:
    """A MIDI file's bytes, read only from a regular file and only up to MAX_MIDI_BYTES:
    /dev/zero would grow memory until the process died, and a FIFO would hang the read."""
    source = source or os.fspath(path)
    try:
        with open(path, "rb", opener=_open_nonblocking) as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ConversionError(source, "unreadable", "not a regular file (a device, FIFO or socket)")
            data = f.read(MAX_MIDI_BYTES + 1)
    except OSError as e:
        raise ConversionError(source, "unreadable", f"cannot read file ({e.strerror})") from e
    return _within_size_cap(data, source)


def _within_size_cap(data: bytes, source: str) -> bytes:
    if len(data) > MAX_MIDI_BYTES:
        raise ConversionError(source, "too_large", f"over {MAX_MIDI_BYTES // 2**20} MB; a drum MIDI file "
                                                   "is a few kB (a whole performance under 1 MB)")
    return data


def _open_nonblocking(path, flags):
    return os.open(path, flags | os.O_NONBLOCK)  # Opening a FIFO with no writer must not wait.


def read_midi(midi: bytes | str | os.PathLike, source: str | None = None) -> music_pb2.NoteSequence:
    """Parses MIDI bytes or a MIDI file into a NoteSequence.

    Raises ConversionError (reason "unreadable", "too_large", "unparsable", "empty" or
    "too_long") naming the file; never another exception for bad bytes.
    """
    if isinstance(midi, (bytes, bytearray)):
        source = source or "<midi bytes>"
        data = _within_size_cap(bytes(midi), source)
    else:
        source = source or os.fspath(midi)
        data = read_midi_bytes(midi, source)
    if not data:
        raise ConversionError(source, "unparsable", "not a MIDI file (empty)")
    try:
        midi_file = _repair(mido.MidiFile(file=io.BytesIO(data)), source)
        return midi_io.midi_to_note_sequence(pretty_midi.PrettyMIDI(mido_object=midi_file))
    except ConversionError:
        raise
    except EOFError as e:
        raise ConversionError(source, "unparsable", "not a valid MIDI file (truncated)") from e
    except Exception as e:  # mido and pretty_midi raise many kinds; all mean bad bytes.
        problem = " ".join(str(e).split()) or type(e).__name__  # One line, never blank.
        raise ConversionError(source, "unparsable", f"not a valid MIDI file ({problem})") from e


def _repair(midi_file: mido.MidiFile, source: str) -> mido.MidiFile:
    """Fixes, in place, what pretty_midi would get silently wrong or choke on.

    pretty_midi allocates a float per tick up to the last (refused past MAX_TICKS),
    reads tempo and meter from the first track only (so they move there), and drops
    a note whose note-off shares its note-on's tick (for drums still a hit: the
    note-off moves one tick later).
    """
    if midi_file.ticks_per_beat <= 0:
        raise ConversionError(source, "unparsable", "not a valid MIDI file (SMPTE or zero time division)")
    if not midi_file.tracks:
        raise ConversionError(source, "empty", "the file holds no tracks")
    tracks = []
    for track in midi_file.tracks:
        tick, events = 0, []
        for msg in track:
            tick += msg.time
            events.append([tick, msg])
        tracks.append(events)
    last = max(events[-1][0] if events else 0 for events in tracks)
    if last > MAX_TICKS:
        beats = last / midi_file.ticks_per_beat
        raise ConversionError(
            source, "too_long", f"the file spans {last} ticks ({beats:.0f} beats), more than {MAX_TICKS}: corrupt?"
        )
    for events in tracks[1:]:
        tracks[0] += [e for e in events if e[1].type in ("set_tempo", "time_signature")]
        events[:] = [e for e in events if e[1].type not in ("set_tempo", "time_signature")]
    for events in tracks:
        open_ticks: dict[tuple[int, int], list[int]] = {}
        for event in events:
            tick, msg = event
            if msg.type == "note_on" and msg.velocity > 0:
                open_ticks.setdefault((msg.channel, msg.note), []).append(tick)
            elif msg.type in ("note_on", "note_off") and (msg.channel, msg.note) in open_ticks:
                # pretty_midi closes the notes begun before this tick, keeps those begun on it.
                begun = open_ticks.pop((msg.channel, msg.note))
                kept = [t for t in begun if t == tick]
                if len(kept) == len(begun):
                    event[0] += 1
                elif kept:
                    open_ticks[(msg.channel, msg.note)] = kept
    for track, events in zip(midi_file.tracks, tracks):
        events.sort(key=lambda e: e[0])  # Stable: only moved events change place.
        previous = 0
        for tick, msg in events:
            msg.time, previous = tick - previous, tick
        track[:] = [msg for _, msg in events]
    return midi_file


def _check_meter(ns: music_pb2.NoteSequence, source: str) -> None:
    for ts in ns.time_signatures:
        if (ts.numerator, ts.denominator) != (4, 4):
            meter = f"{ts.numerator}/{ts.denominator}"
            problem = (f"the meter changes to {meter} at {ts.time:.1f} s; only 4/4 throughout can be played"
                       if ts.time > 0 else f"meter {meter} is not 4/4")
            raise ConversionError(source, "not_4_4", problem)


def _groove_grid(ns, num_steps, drum_map, source, stats, max_steps=None):
    """Quantizes a 4/4 drum sequence onto a [steps, 27] grid.

    `num_steps` fixes the length (notes past it are dropped and counted); with
    `num_steps=None` the grid covers every note, rounded up to whole windows of
    `max_steps`.
    """
    _check_meter(ns, source)
    for t in ns.tempos:  # A NoteSequence may hold 0, NaN or 1e-30; MIDI bytes cannot.
        if not 0 < t.qpm < float("inf"):
            raise ConversionError(source, "unquantizable", f"tempo {t.qpm} qpm is not a positive number")
        if not MIN_MIDI_QPM <= t.qpm <= MAX_MIDI_QPM:
            raise ConversionError(source, "unquantizable", f"tempo {t.qpm:g} qpm is outside what MIDI can hold "
                                  f"({MIN_MIDI_QPM:.2f} to {MAX_MIDI_QPM:g} qpm)")
    qpms = {round(t.qpm, 3) for t in ns.tempos}
    notes = [n for n in ns.notes if n.velocity > 0]  # Velocity 0 is silence (in MIDI, a note-off).
    if not notes:
        raise ConversionError(source, "empty", "the clip holds no notes")
    drum_notes = [n for n in notes if n.is_drum]
    if not drum_notes:
        raise ConversionError(source, "no_drums", "no drum notes (nothing on the drum channel)")
    if len(qpms) > 1:
        steps, offsets = _steps_through_tempo_changes(ns, drum_notes)
    else:
        steps, offsets = _steps_at_one_tempo(ns, drum_notes, source)

    if num_steps is None:
        num_steps = (max(steps) // max_steps + 1) * max_steps
        if num_steps > MAX_STEPS:
            raise ConversionError(
                source, "too_long", f"{-(-(max(steps) + 1) // STEPS_PER_BAR)} bars long; a song may have at most "
                                    f"MAX_BARS = {MAX_BARS} (~9 hours at 120 qpm)"
            )
    groove = np.zeros((num_steps, GROOVE_DEPTH), np.float32)
    past_end = unmapped = 0
    for note, step, offset in zip(drum_notes, steps, offsets):
        drum_class = drum_map.pitch_to_class(note.pitch)
        if drum_class is None:
            unmapped += 1
            continue
        if step >= num_steps:
            past_end += 1
            continue
        velocity = note.velocity / 127.0
        if groove[step, drum_class] and velocity <= groove[step, NUM_CLASSES + drum_class]:
            continue
        groove[step, layout.columns(drum_class)] = (1.0, velocity, np.clip(offset, -1.0, 1.0))
    if stats is not None:
        stats.notes_past_end += past_end
        stats.notes_unmapped += unmapped
    if not layout.hits(groove).any():
        raise ConversionError(source, "no_drum_notes", "no notes of the drum map's pitches")
    return groove


def _steps_at_one_tempo(ns, drum_notes, source) -> tuple[list[int], list[float]]:
    """Each drum note's nearest 16th step (note-seq's quantization) and its offset from it."""
    drums_only = music_pb2.NoteSequence()
    drums_only.CopyFrom(ns)
    del drums_only.notes[:]
    drums_only.notes.extend(drum_notes)
    del drums_only.time_signatures[:]  # Checked above; quantizing needs no meter.
    del drums_only.tempos[1:]  # Equal to 3 decimals, as checked; note-seq wants them exact,
    for tempo in drums_only.tempos:  # and the one tempo from time 0, as the offsets assume.
        tempo.time = 0.0
    try:
        quantized = sequences_lib.quantize_note_sequence(drums_only, STEPS_PER_QUARTER)
    except Exception as e:
        raise ConversionError(source, "unquantizable", f"cannot quantize ({e})") from e
    qpm = ns.tempos[0].qpm if ns.tempos else DEFAULT_QPM
    step_seconds = 60.0 / qpm / STEPS_PER_QUARTER
    steps = [q.quantized_start_step for q in quantized.notes]
    offsets = [2.0 * (n.start_time - step * step_seconds) / step_seconds for n, step in zip(drum_notes, steps)]
    return steps, offsets


def _steps_through_tempo_changes(ns, drum_notes) -> tuple[list[int], list[float]]:
    """The same, counted in the sequence's own beats through its tempo map (note-seq
    quantizes one tempo only); a note's step is its nearest, as there."""
    tempo_map = TempoMap.of(ns)
    positions = [tempo_map.steps(n.start_time) for n in drum_notes]
    steps = [int(np.floor(p + 0.5)) for p in positions]
    return steps, [2.0 * (p - step) for p, step in zip(positions, steps)]


class TempoMap:
    """Seconds <-> 16th-note steps through a performance's tempo changes, so a song that
    speeds up is gridded in its own beats and written back at its own tempos."""

    def __init__(self, tempos):
        """tempos: (time in seconds, qpm) pairs; the first applies from time 0."""
        tempos = sorted((float(t), float(q)) for t, q in tempos) or [(0.0, DEFAULT_QPM)]
        merged = [(0.0, tempos[0][1])]
        for time, qpm in tempos[1:]:
            if round(qpm, 3) != round(merged[-1][1], 3):
                merged.append((time, qpm))
        self.times = np.array([t for t, _ in merged])
        self.qpms = np.array([q for _, q in merged])
        steps_per_second = self.qpms * STEPS_PER_QUARTER / 60.0
        self.starts = np.concatenate([[0.0], np.cumsum(np.diff(self.times) * steps_per_second[:-1])])

    @classmethod
    def of(cls, ns: music_pb2.NoteSequence) -> "TempoMap":
        return cls([(t.time, t.qpm) for t in ns.tempos])

    @property
    def qpm(self) -> float:
        """The first tempo (the only one where `constant`)."""
        return float(self.qpms[0])

    @property
    def constant(self) -> bool:
        return len(self.qpms) == 1

    def qpm_at(self, steps: float) -> float:
        """The tempo in effect at `steps` 16ths in."""
        return float(self.qpms[max(int(np.searchsorted(self.starts, steps, side="right")) - 1, 0)])

    def steps(self, seconds: float) -> float:
        i = max(int(np.searchsorted(self.times, seconds, side="right")) - 1, 0)
        return float(self.starts[i] + (seconds - self.times[i]) * self.qpms[i] * STEPS_PER_QUARTER / 60.0)

    def seconds(self, steps: float) -> float:
        i = max(int(np.searchsorted(self.starts, steps, side="right")) - 1, 0)
        return float(self.times[i] + (steps - self.starts[i]) * 60.0 / self.qpms[i] / STEPS_PER_QUARTER)


def note_sequence_to_groove(
    ns: music_pb2.NoteSequence,
    num_steps: int = 4 * STEPS_PER_BAR,
    drum_map: DrumMap = DEFAULT_DRUM_MAP,
    source: str = "<sequence>",
    stats: ConversionStats | None = None,
) -> np.ndarray:
    """Converts the first `num_steps` 16th notes of a 4/4 drum sequence.

    Returns a [num_steps, 27] float32 groove tensor. When several notes of one class
    land on one step, the loudest is kept. Notes that quantize past the last step are
    dropped and counted in `stats`.
    """
    return _groove_grid(ns, num_steps, drum_map, source, stats)


def note_sequence_to_windows(
    ns: music_pb2.NoteSequence,
    window_steps: int = 4 * STEPS_PER_BAR,
    drum_map: DrumMap = DEFAULT_DRUM_MAP,
    source: str = "<sequence>",
) -> np.ndarray:
    """Cuts a whole 4/4 drum sequence into consecutive windows: [windows, steps, 27].

    The last window is padded with silence; a clip of 4 bars or less is one window.
    """
    grid = _groove_grid(ns, None, drum_map, source, None, max_steps=window_steps)
    return grid.reshape(-1, window_steps, GROOVE_DEPTH)


def note_sequence_to_grid(
    ns: music_pb2.NoteSequence,
    pad_to: int = STEPS_PER_BAR,
    drum_map: DrumMap = DEFAULT_DRUM_MAP,
    source: str = "<sequence>",
) -> np.ndarray:
    """A whole 4/4 drum sequence as one grid [steps, 27], padded with silence to a
    multiple of `pad_to` steps (whole bars): what the long-input verbs play in windows."""
    return note_sequence_to_windows(ns, pad_to, drum_map, source).reshape(-1, GROOVE_DEPTH)


def midi_to_groove(
    midi: bytes | str | os.PathLike,
    num_steps: int = 4 * STEPS_PER_BAR,
    drum_map: DrumMap = DEFAULT_DRUM_MAP,
    source: str | None = None,
    stats: ConversionStats | None = None,
) -> np.ndarray:
    """MIDI bytes or file -> [num_steps, 27] groove tensor (ConversionError if not)."""
    source = source or (os.fspath(midi) if not isinstance(midi, (bytes, bytearray)) else "<midi bytes>")
    ns = read_midi(midi, source)
    return note_sequence_to_groove(ns, num_steps, drum_map, source, stats)


def groove_to_drum_labels(groove: np.ndarray) -> np.ndarray:
    """[..., steps, 27] groove -> [..., steps] int32 9-bit pattern (bit i = class i)."""
    hits = layout.hits(groove) > 0.5
    return (hits * (1 << np.arange(NUM_CLASSES))).sum(-1).astype(np.int32)


def drum_labels_to_groove(labels: np.ndarray) -> np.ndarray:
    """[..., steps] 9-bit patterns -> groove tensor at a fixed velocity, on the grid."""
    labels = np.asarray(labels, np.int64)
    hits = ((labels[..., None] >> np.arange(NUM_CLASSES)) & 1).astype(np.float32)
    velocities = hits * (DRUMS_VELOCITY / 127.0)
    return np.concatenate([hits, velocities, np.zeros_like(hits)], axis=-1)


def groove_to_note_sequence(
    groove: np.ndarray,
    qpm: float = DEFAULT_QPM,
    drum_map: DrumMap = DEFAULT_DRUM_MAP,
    tempo_map: TempoMap | None = None,
) -> music_pb2.NoteSequence:
    """[num_steps, 27] groove tensor -> a 4/4 drum NoteSequence at `qpm`.

    Each hit becomes one 16th-note-long note of its class's exemplar pitch on the
    drum channel. A negative offset on step 0 is clamped to time 0. Offsets are kept
    within +-54/55, 27 of the 55 MIDI ticks a step has: an offset of +-1 lies on the
    boundary between two steps, where a written note could read back on the other.
    """
    groove = np.asarray(groove)
    if groove.ndim != 2 or groove.shape[-1] != GROOVE_DEPTH:
        raise ValueError(f"Expected a [steps, {GROOVE_DEPTH}] groove tensor, got {groove.shape}.")
    if tempo_map is not None and not tempo_map.constant:
        return _groove_to_note_sequence_with_tempo_changes(groove, tempo_map, drum_map)
    if tempo_map is not None:
        qpm = tempo_map.qpm
    step_seconds = 60.0 / qpm / STEPS_PER_QUARTER
    ns = music_pb2.NoteSequence(ticks_per_quarter=220)
    max_offset = 1.0 - STEPS_PER_QUARTER / ns.ticks_per_quarter  # Half a tick from the boundary.
    ns.tempos.add(qpm=qpm, time=0.0)
    ns.time_signatures.add(numerator=4, denominator=4, time=0.0)
    hits = layout.hits(groove) > 0.5
    for step, drum_class in zip(*np.nonzero(hits)):
        velocity = int(np.clip(round(float(groove[step, NUM_CLASSES + drum_class]) * 127), 1, 127))
        offset = float(np.clip(layout.offsets(groove)[step, drum_class], -max_offset, max_offset))
        start = max(0.0, (step + offset / 2.0) * step_seconds)
        ns.notes.add(
            pitch=drum_map.class_to_pitch(int(drum_class)),
            velocity=velocity,
            start_time=start,
            end_time=start + step_seconds,
            is_drum=True,
            instrument=MIDI_DRUM_PROGRAM_INSTRUMENT,
        )
    ns.notes.sort(key=lambda n: (n.start_time, n.pitch))
    ns.total_time = max([groove.shape[0] * step_seconds] + [n.end_time for n in ns.notes])
    return ns


def _groove_to_note_sequence_with_tempo_changes(groove, tempo_map: TempoMap, drum_map) -> music_pb2.NoteSequence:
    """`groove_to_note_sequence` through a tempo map: each note at its step's time in the map."""
    ns = music_pb2.NoteSequence(ticks_per_quarter=220)
    max_offset = 1.0 - STEPS_PER_QUARTER / ns.ticks_per_quarter
    for time, qpm in zip(tempo_map.times, tempo_map.qpms):
        ns.tempos.add(qpm=float(qpm), time=float(time))
    ns.time_signatures.add(numerator=4, denominator=4, time=0.0)
    for step, drum_class in zip(*np.nonzero(layout.hits(groove) > 0.5)):
        velocity = int(np.clip(round(float(layout.velocities(groove)[step, drum_class]) * 127), 1, 127))
        position = step + float(np.clip(layout.offsets(groove)[step, drum_class], -max_offset, max_offset)) / 2.0
        start = max(0.0, tempo_map.seconds(position))
        ns.notes.add(pitch=drum_map.class_to_pitch(int(drum_class)), velocity=velocity, start_time=start,
                     end_time=tempo_map.seconds(position + 1.0), is_drum=True, instrument=MIDI_DRUM_PROGRAM_INSTRUMENT)
    ns.notes.sort(key=lambda n: (n.start_time, n.pitch))
    ns.total_time = max([tempo_map.seconds(groove.shape[0])] + [n.end_time for n in ns.notes])
    return ns


def replace_instruments(
    original: music_pb2.NoteSequence,
    generated: music_pb2.NoteSequence,
    classes: Iterable[int],
    drum_map: DrumMap = DEFAULT_DRUM_MAP,
) -> music_pb2.NoteSequence:
    """`original` with the notes of the drum `classes` replaced by `generated`'s of those
    classes; every other note (other classes, pitches outside the map, other
    instruments) is kept as it was, byte for byte in the written MIDI."""
    classes = set(classes)
    replaced = lambda note: note.is_drum and drum_map.pitch_to_class(note.pitch) in classes  # noqa: E731
    ns = music_pb2.NoteSequence()
    ns.CopyFrom(original)
    del ns.notes[:]
    ns.notes.extend(n for n in original.notes if not replaced(n))
    ns.notes.extend(n for n in generated.notes if replaced(n))
    ns.notes.sort(key=lambda n: (n.start_time, n.pitch))
    ns.total_time = max([original.total_time] + [n.end_time for n in ns.notes])
    return ns


def append(first: music_pb2.NoteSequence, then: music_pb2.NoteSequence, at: float) -> music_pb2.NoteSequence:
    """`first`'s notes unchanged, with `then`'s notes and tempos after them, starting `at`
    seconds in: a tempo marker of `first` at or after `at` would retime the new bars, so
    it goes."""
    ns = music_pb2.NoteSequence()
    ns.CopyFrom(first)
    kept = [t for t in ns.tempos if t.time < at]
    del ns.tempos[:]
    ns.tempos.extend(kept)
    for tempo in then.tempos:
        if not ns.tempos or abs(ns.tempos[-1].qpm - tempo.qpm) > 1e-3:
            ns.tempos.add(time=at + tempo.time, qpm=tempo.qpm)
    for note in then.notes:
        moved = ns.notes.add()
        moved.CopyFrom(note)
        moved.start_time += at
        moved.end_time += at
    ns.total_time = max([at + then.total_time] + [n.end_time for n in ns.notes])
    return ns


def write_midi(ns: music_pb2.NoteSequence, path: str | os.PathLike) -> str:
    """Writes a NoteSequence as a standard MIDI file, whole or not at all; returns the path.

    The MIDI bytes are made first, so a bad value fails before anything is written."""
    from groove_vae.files import write_bytes

    return write_bytes(path, note_sequence_to_midi_bytes(ns))


def note_sequence_to_midi_bytes(ns: music_pb2.NoteSequence) -> bytes:
    """A NoteSequence as the bytes of a standard MIDI file (what `write_midi` writes).

    note-seq's writer rebuilds pretty_midi's table of every tick's time after each tempo
    change: minutes for a song with thousands of them. Here the tempo changes' ticks are
    worked out in one pass, as note-seq would place them, and the table is built once."""
    initial = next((t for t in ns.tempos if t.time == 0), None)  # note-seq's initial tempo.
    changes = sorted((t for t in ns.tempos if t != initial), key=lambda t: t.time)
    buffer = io.BytesIO()
    if not changes:
        midi_io.note_sequence_to_pretty_midi(ns).write(buffer)
        return buffer.getvalue()
    pm = midi_io.note_sequence_to_pretty_midi(_WithTempos(ns, [initial] if initial is not None else []))
    changes = [(t.time, t.qpm) for t in changes]
    pm._tick_scales = _tick_scales(pm._tick_scales[0], changes, pm.resolution)  # noqa: SLF001
    pm._update_tick_to_time(0)  # noqa: SLF001
    pm.write(buffer)
    return buffer.getvalue()


class _WithTempos:
    """A NoteSequence as note-seq's writer reads it, with other tempos (the sequence untouched)."""

    def __init__(self, ns: music_pb2.NoteSequence, tempos):
        self._ns, self.tempos = ns, tempos

    def __getattr__(self, name):
        return getattr(self._ns, name)


def _tick_scales(initial: tuple[int, float], changes, resolution: int) -> list[tuple[int, float]]:
    """pretty_midi's (tick, seconds per tick) list for tempo `changes` (time, qpm), sorted by
    time, after the `initial` one: each change at the tick that note-seq's writer gives it
    (counted on from the change before at that one's tempo, rounded), a change that would
    fall before the one before at the same tick."""
    scales = [initial]
    tick, seconds = initial[0], 0.0  # The last change's tick, and its time as pretty_midi computes it.
    for time, qpm in changes:
        at = tick
        if time > seconds:
            at = int(round(tick + (time - seconds) / scales[-1][1]))
        seconds += scales[-1][1] * (at - tick)
        tick = at
        scales.append((tick, 60.0 / (resolution * qpm)))
    return scales


def convert_midi_batch(
    items: Iterable[tuple[bytes, str]],
    num_steps: int = 4 * STEPS_PER_BAR,
    drum_map: DrumMap = DEFAULT_DRUM_MAP,
) -> tuple[list[np.ndarray | None], ConversionStats]:
    """Converts (midi_bytes, source) pairs; a clip that fails is None and counted."""
    stats = ConversionStats()
    tensors: list[np.ndarray | None] = []
    for midi, source in items:
        try:
            tensors.append(midi_to_groove(midi, num_steps, drum_map, source, stats))
            stats.converted += 1
        except ConversionError as e:
            stats.skip(e.reason)
            tensors.append(None)
    return tensors, stats


def describe(ns: music_pb2.NoteSequence, drum_map: DrumMap = DEFAULT_DRUM_MAP) -> str:
    """A one-line summary of a drum sequence: notes per instrument and velocity range."""
    from groove_vae.drums import DRUM_CLASS_NAMES

    counts = [0] * NUM_CLASSES
    for note in ns.notes:
        drum_class = drum_map.pitch_to_class(note.pitch)
        if drum_class is not None:
            counts[drum_class] += 1
    played = ", ".join(f"{DRUM_CLASS_NAMES[c]} {n}" for c, n in enumerate(counts) if n)
    if not ns.notes:
        return "0 notes"
    velocities = [n.velocity for n in ns.notes]
    return f"{len(ns.notes)} notes ({played}); velocity {min(velocities)}-{max(velocities)}"
