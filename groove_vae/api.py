"""The user-facing API: a trained model with a musician's verbs.

Example:
>>> import groove_vae
>>> vae = groove_vae.load()                          # the bundled model
>>> beats = vae.sample(4, temperature=1.0, seed=0)   # four 4-bar NoteSequences
>>> groove_vae.write_midi_files(beats, "samples")
>>> path = vae.interpolate("a.mid", "b.mid", num_steps=8)
>>> played = vae.humanize("quantized_beat.mid")
>>> groove_vae.write_midi(played, "played.mid")

Inputs may be a MIDI path, MIDI bytes or a NoteSequence, in 4/4 with drums. A file
longer than 4 bars is played in overlapping 4-bar windows, stitched without seams.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from note_seq.protobuf import music_pb2

from groove_vae import checks, converter, paths
from groove_vae.generator import (  # noqa: F401 (also read from here: api.STYLE_FILE, api.blend_latents, ...)
    MAX_TRIES, MORPH_PLANS, PROBES, STYLE_FILE, GrooveGenerator, blend_latents, slerp)

MidiLike = str | os.PathLike | bytes | music_pb2.NoteSequence


class GrooveVAE(GrooveGenerator):
    """A trained model; verbs take MIDI-like inputs and return NoteSequences, each a thin
    layer over the tensor verb of `GrooveGenerator` that it calls (`sample` over
    `sample_tensors`, `humanize` over `humanize_tensors`, ...), which it also offers.

    Inputs longer than the model's 4 bars are played in overlapping windows
    (`GrooveGenerator`: `hop_bars`, `window_candidates`).
    """

    # === MIDI in, NoteSequences out ===
    def windows(self, midi: MidiLike, source: str | None = None) -> tuple[np.ndarray, float]:
        """MIDI -> 4-bar groove windows [windows, steps, 27] and the tempo (qpm).

        `source` names the input in error messages (default: its path, or "<midi bytes>").
        """
        ns, source = _read(midi, source)
        windows = converter.note_sequence_to_windows(ns, self.config.num_steps, source=source)
        return windows, (ns.tempos[0].qpm if ns.tempos else converter.DEFAULT_QPM)

    def grid(self, midi: MidiLike, source: str | None = None) -> tuple[np.ndarray, converter.TempoMap]:
        """MIDI -> its whole groove grid [bars * steps_per_bar, 27] (rounded up to whole
        bars, counted in its own beats through any tempo changes) and its tempo map."""
        ns, source = _read(midi, source)
        grid = converter.note_sequence_to_grid(ns, self.config.steps_per_bar, source=source)
        return grid, converter.TempoMap.of(ns)

    def encode(self, midi: MidiLike) -> np.ndarray:
        """MIDI -> posterior means [windows, z_size], one per 4-bar window."""
        return self.encode_tensors(self.windows(midi)[0])

    def decode(self, z, temperature: float = 1.0, seed: int = 0, qpm: float = converter.DEFAULT_QPM):
        """z [batch, z_size] -> a list of 4-bar drum NoteSequences at `qpm`."""
        checks.check_qpm(qpm)
        return [converter.groove_to_note_sequence(g, qpm) for g in self.decode_tensors(z, temperature, seed)]

    def sample(self, n: int, temperature: float = 0.5, seed: int = 0, qpm: float = converter.DEFAULT_QPM,
               style: str | None = None, strength: float = 1.0, steer: str = "prior", num_bars: int | None = None,
               prior: str = "fitted", attributes: dict[str, float] | None = None, constraints=None, tries: int = 4):
        """n beats from the prior, or from a GMD style's (`style_names`), as NoteSequences
        (`sample_latents`; temperature 0.5 as every other door: `groove-vae sample`, the web
        app, the SavedModel's `sample`).

        `num_bars` (a multiple of the model's 4) makes each beat one performance of that
        length: its 4-bar phrases are decoded from the same latent with their own draws,
        so the groove holds and the details move. `constraints` asks for what the beats play
        ("density=20..30,timekeeper=ride,no=toms": see `sample_tensors`)."""
        checks.check_qpm(qpm)
        grooves = self.sample_tensors(n, temperature, seed, style, strength, steer, num_bars, prior, attributes,
                                      constraints, tries)
        return [converter.groove_to_note_sequence(g, qpm) for g in grooves]

    def continue_groove(self, midi: MidiLike, num_bars: int = 4, temperature: float = 0.5, seed: int = 0,
                        variation: float = 0.0) -> music_pb2.NoteSequence:
        """The input, exactly as played, followed by `num_bars` new bars in its groove.

        The model hears the input's last 4 bars (a shorter input is repeated to fill
        them), and each new 4-bar phrase is decoded from that latent with its own draws:
        the same timekeeper, kick and snare and feel, varied. `variation` (0 to 1) moves
        each phrase's latent away from the input's, for phrases that wander further.
        """
        ns, source = _read(midi)
        grid, tempo = self.grid(ns, source)
        qpm = tempo.qpm_at(len(grid) - 1)  # The tempo the music ends in (not a marker placed after it).
        played = converter.groove_to_note_sequence(self.continue_tensors(grid, num_bars, temperature, seed, variation),
                                                   qpm)
        return converter.append(ns, played, tempo.seconds(len(grid)))

    def reconstruct(self, midi: MidiLike, temperature: float = 0.5, seed: int = 0) -> music_pb2.NoteSequence:
        """MIDI -> encoder -> mu -> decoder -> one NoteSequence at the input's tempo (a long
        input in overlapping windows; see the class docstring)."""
        return self._play(midi, self.reconstruct_tensors, temperature, seed)

    def _play(self, midi: MidiLike, play_tensors, temperature: float, seed: int) -> music_pb2.NoteSequence:
        """MIDI -> `play_tensors`(windows, temperature, seed, draws) window by window -> MIDI."""
        grid, tempo = self.grid(midi)
        played = self.play_windows(grid, lambda w, draws: play_tensors(w, temperature, seed, draws), seed,
                                   temperature=temperature)
        return converter.groove_to_note_sequence(played, tempo_map=tempo)

    def interpolate(self, a: MidiLike, b: MidiLike, num_steps: int = 8, method: str = paths.DEFAULT_METHOD,
                    temperature: float = 0.5, seed: int = 0) -> list[music_pb2.NoteSequence]:
        """The path from a's first 4 bars to b's, `num_steps` clips; the ends reconstruct a and b.

        method "morph" (the default): each cell a and b disagree on changes once, in an
        order the model gives, about as many per step (see `groove_vae.paths`), played with
        the feel the model gives each step's latent; "slerp" and "linear": each step decoded
        from its latent on the great circle or the straight line. Every step is decoded with
        the same random draws (`seed`), so the ends equal `reconstruct(a)` and `reconstruct(b)`.
        """
        paths.check_method(method)
        checks.check_count("num_steps", num_steps, 2, checks.MAX_INTERPOLATION_STEPS)
        (windows_a, qpm), (windows_b, _) = self.windows(a), self.windows(b)
        grooves = self.interpolate_tensors(windows_a[0], windows_b[0], num_steps, method, temperature, seed)
        return [converter.groove_to_note_sequence(g, qpm) for g in grooves]

    def humanize(self, midi: MidiLike, seed: int = 0) -> music_pb2.NoteSequence:
        """A quantized beat in; the same hits out, with a drummer's velocities and microtiming.

        Best with a model trained with input_transform=humanize, such as
        `load("humanize")` (it encodes the hits alone, so the beat's own flat velocities
        cannot pull the playing toward them); any groove model works, encoding the beat
        as given.
        """
        grid, tempo = self.grid(midi)
        played = self.play_windows(grid, lambda w, draws: self.humanize_tensors(w, seed, draws), seed,
                                   temperature=1.0)  # Humanize draws velocities and offsets at temperature 1.
        return converter.groove_to_note_sequence(played, tempo_map=tempo)

    def drumify(self, midi: MidiLike, temperature: float = 0.5, seed: int = 0) -> music_pb2.NoteSequence:
        """A rhythm in (any drums; only when each step is hit counts); a full-kit groove out.

        GrooVAE's Tap2Drum: needs a model trained with input_transform=tap, such as
        `load("tap2drum")`, whose encoder sees the rhythm collapsed onto one instrument (and
        whose decoder hears it at every step). The groove plays on the taps: at least one
        drum on every tapped step, none between them.
        """
        self._check_tap()
        return self._play(midi, self.drumify_tensors, temperature, seed)

    def infill(self, midi: MidiLike, keep: Sequence[str] | None = None, add: Sequence[str] | None = None,
               temperature: float = 0.5, seed: int = 0) -> music_pb2.NoteSequence:
        """The same beat with the `keep` instruments exactly as played and every other
        instrument played by the model to fit them (or name the instruments to `add`,
        keeping the rest). Instruments are drums.DRUM_CLASS_NAMES ("kick", "snare",
        "closed_hihat", ...).

        Best with a model trained with input_transform=infill, such as `load("infill")`
        (its encoder learned to hear part of a kit); any groove model works, encoding
        the kept instruments alone.
        """
        keep_classes = self._keep_classes(keep, add)
        ns, source = _read(midi)
        grid, tempo = self.grid(ns, source)
        keep_mask = np.zeros(converter.NUM_CLASSES, np.float32)
        keep_mask[keep_classes] = 1.0
        played = self.play_windows(grid, lambda w, draws: self.infill_tensors(w, keep_mask, temperature, seed, draws),
                                   seed, temperature=temperature)
        generated = converter.groove_to_note_sequence(played, tempo_map=tempo)
        others = [c for c in range(converter.NUM_CLASSES) if c not in keep_classes]
        return converter.replace_instruments(ns, generated, others)

    def steer(self, beat, amounts: dict[str, float] | None = None, temperature: float = 0.5, seed: int = 0,
              constraints=None):
        """A beat moved along the model's attribute vectors ({"density": +1, "swing": +0.5}),
        or edited until it meets `constraints` ("toms=0,timekeeper=ride": the nearest latent
        whose beat does, by the constraint critics, so most of the beat survives), or both.

        `beat` is MIDI (a path, bytes or a NoteSequence: every 4-bar window is encoded, moved
        and played back, stitched at the input's tempo; returns a NoteSequence) or latents
        [n, z_size] (returns groove tensors [n, steps, 27]). An amount of 1 moves about as
        far as from a typical clip of the attribute's bottom quartile to one of its top."""
        move = self._mover(amounts, constraints, temperature)
        if isinstance(beat, np.ndarray) or (isinstance(beat, (list, tuple)) and beat and not isinstance(beat[0], str)):
            return self.decode_tensors(move(self._check_z(beat)), temperature, seed)
        grid, tempo = self.grid(beat)
        return converter.groove_to_note_sequence(self.steer_tensors(grid, amounts, temperature, seed, constraints),
                                                 tempo_map=tempo)


def _read(midi: MidiLike, source: str | None = None) -> tuple[music_pb2.NoteSequence, str]:
    if isinstance(midi, music_pb2.NoteSequence):
        return midi, source or "<NoteSequence>"
    if isinstance(midi, (str, os.PathLike)) and os.path.isdir(midi):
        raise converter.ConversionError(os.fspath(midi), "unreadable", "is a directory, not a MIDI file")
    source = source or ("<midi bytes>" if isinstance(midi, (bytes, bytearray)) else os.fspath(midi))
    return converter.read_midi(midi, source), source


def load(path: str | None = None, precision: str | None = None) -> GrooveVAE:
    """Loads a bundled model (none given: "groovae_4bar"; or "tap2drum", "humanize") or a model or run directory;
    `precision`: none generates in float32 on a machine without a GPU, else in the model's own
    ("mixed_bfloat16" decodes batches over 64 faster on CPUs with AVX512-BF16)."""
    return GrooveVAE.load(path, precision)


def write_midi(ns: music_pb2.NoteSequence, path: str | os.PathLike) -> str:
    """Writes one NoteSequence as a .mid file; returns the path."""
    directory = os.path.dirname(os.fspath(path))
    if directory:
        os.makedirs(directory, exist_ok=True)
    return converter.write_midi(ns, path)


def write_midi_files(sequences: Sequence, output_dir: str, prefix: str = "sample") -> list[str]:
    """Writes NoteSequences as `<output_dir>/<prefix>_000.mid`, ...; returns the paths."""
    os.makedirs(output_dir, exist_ok=True)
    return [
        converter.write_midi(ns, os.path.join(output_dir, f"{prefix}_{i:03d}.mid"))
        for i, ns in enumerate(sequences)
    ]
