"""Hear it and see it: WAV through FluidSynth, drum-grid PNGs through Pillow."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from groove_vae import groove as layout
from groove_vae import converter
from groove_vae.files import atomic_write, write_bytes
from groove_vae.drums import DRUM_CLASS_NAMES, NUM_CLASSES

SOUNDFONT_PATHS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
)
INSTALL_HINT = "install FluidSynth and a General MIDI soundfont (Debian: apt-get install fluidsynth fluid-soundfont-gm)"

# === Grid geometry ===
CELL_WIDTH, CELL_HEIGHT, LABEL_WIDTH, PAD = 12, 16, 92, 6
BACKGROUND, BEAT_LINE, BAR_LINE, TEXT = (250, 250, 247), (218, 218, 212), (120, 120, 120), (40, 40, 40)


class RenderError(RuntimeError):
    """Audio could not be rendered (a missing program or soundfont, or a failed run)."""


def find_soundfont(soundfont: str | None = None) -> str:
    candidates = [soundfont] if soundfont else [os.environ.get("GROOVE_VAE_SOUNDFONT"), *SOUNDFONT_PATHS]
    for path in candidates:
        if path and os.path.isfile(path):
            return path
    raise RenderError(f"No soundfont found ({soundfont or ', '.join(SOUNDFONT_PATHS)}); {INSTALL_HINT}.")


def render_wav(ns, path: str, soundfont: str | None = None, sample_rate: int = 44100) -> str:
    """Renders a NoteSequence to a 16-bit WAV file with FluidSynth; returns the path."""
    program = shutil.which("fluidsynth")
    if program is None:
        raise RenderError(f"FluidSynth is not installed; {INSTALL_HINT}.")
    font = find_soundfont(soundfont)
    with tempfile.TemporaryDirectory() as tmp:
        midi_path = converter.write_midi(ns, os.path.join(tmp, "clip.mid"))
        wav_path = os.path.join(tmp, "clip.wav")
        result = subprocess.run(
            [program, "-ni", "-g", "1.0", "-r", str(sample_rate), "-F", wav_path, font, midi_path],
            capture_output=True, text=True, timeout=120,
        )
        if result.returncode != 0 or not os.path.exists(wav_path):
            raise RenderError(f"FluidSynth failed on {path}: {result.stderr.strip()[-300:]}")
        with open(wav_path, "rb") as f:
            return write_bytes(path, f.read())


def render_one_shots(soundfont: str | None = None, sample_rate: int = 44100, seconds: float = 1.5) -> dict[str, bytes]:
    """One WAV per drum class (its exemplar pitch at full velocity), for players that mix their own.

    One FluidSynth run plays the 9 hits 2 s apart; each is cut out, trimmed where it falls
    silent (at most `seconds`) and faded over its last 10 ms. Returns {class name: WAV bytes}.
    """
    from groove_vae.drums import DEFAULT_DRUM_MAP
    from note_seq.protobuf import music_pb2

    spacing = 2.0
    ns = music_pb2.NoteSequence(ticks_per_quarter=220)
    ns.tempos.add(qpm=120.0)
    for drum_class in range(NUM_CLASSES):
        start = drum_class * spacing
        ns.notes.add(pitch=DEFAULT_DRUM_MAP.class_to_pitch(drum_class), velocity=127, start_time=start,
                     end_time=start + 0.1, is_drum=True, instrument=converter.MIDI_DRUM_PROGRAM_INSTRUMENT)
    ns.total_time = NUM_CLASSES * spacing
    with tempfile.TemporaryDirectory() as tmp:
        path = render_wav(ns, os.path.join(tmp, "kit.wav"), soundfont, sample_rate)
        with wave.open(path, "rb") as f:
            channels, width, rate = f.getnchannels(), f.getsampwidth(), f.getframerate()
            frames = f.readframes(f.getnframes())
    if width != 2:
        raise RenderError(f"FluidSynth wrote {8 * width}-bit samples; expected 16-bit.")
    audio = np.frombuffer(frames, np.int16).reshape(-1, channels).astype(np.float32)
    shots = {}
    for drum_class, name in enumerate(DRUM_CLASS_NAMES):
        begin = int(drum_class * spacing * rate)
        shot = audio[begin: begin + int(seconds * rate)]
        loud = np.nonzero(np.abs(shot).max(axis=1) > 32768 * 1e-3)[0]  # -60 dB.
        shot = shot[: (loud[-1] + 1 if len(loud) else 1)].copy()
        fade = min(len(shot), int(0.01 * rate))
        shot[len(shot) - fade:] *= np.linspace(1.0, 0.0, fade)[:, None]
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as f:
            f.setnchannels(channels)
            f.setsampwidth(2)
            f.setframerate(rate)
            f.writeframes(np.round(shot).astype(np.int16).tobytes())
        shots[name] = buffer.getvalue()
    return shots


def mix_one_shots(groove: np.ndarray, qpm: float, shots: dict[str, bytes]) -> bytes:
    """A groove [steps, 27] played from one-shot WAVs (`render_one_shots`) as the web page plays it.

    Each hit is its class's one-shot at gain velocity**2 (the General MIDI soundfont's
    velocity curve; the shots are rendered at full velocity), starting at its step plus
    its microtiming offset; a closed hi-hat chokes a ringing open one. Returns 16-bit WAV
    bytes, the clip's length plus the last hit's ring, scaled down only if it would clip.
    Milliseconds, against a second or so for a FluidSynth run (it loads the soundfont).
    """
    audio, rate, channels = {}, None, None
    for name, data in shots.items():
        with wave.open(io.BytesIO(data), "rb") as f:
            if rate is not None and (f.getframerate(), f.getnchannels()) != (rate, channels):
                raise ValueError("The one-shots differ in sample rate or channels.")
            rate, channels = f.getframerate(), f.getnchannels()
            audio[name] = np.frombuffer(f.readframes(f.getnframes()), np.int16).reshape(-1, channels) / 32768.0
    step_seconds = 60.0 / qpm / converter.STEPS_PER_QUARTER
    hits = [
        (max(0.0, (step + float(np.clip(layout.offsets(groove)[step, c], -1, 1)) / 2) * step_seconds),
         DRUM_CLASS_NAMES[c], float(np.clip(groove[step, NUM_CLASSES + c], 0, 1)))
        for step, c in zip(*np.nonzero(layout.hits(groove) > 0.5))
    ]
    hits.sort()
    closed = [int(t * rate) for t, name, _ in hits if name == "closed_hihat"]
    length = int(groove.shape[0] * step_seconds * rate)
    length = max([length] + [int(t * rate) + len(audio[name]) for t, name, _ in hits])
    mix = np.zeros((length, channels))
    fade = int(0.005 * rate)
    for time, name, velocity in hits:
        start = int(time * rate)
        shot = audio[name] * velocity**2
        if name == "open_hihat":
            choke = next((c - start for c in closed if c > start), len(shot))
            shot = shot[:choke].copy()
            shot[max(0, len(shot) - fade):] *= np.linspace(1, 0, min(fade, len(shot)))[:, None]
        mix[start: start + len(shot)] += shot
    peak = np.abs(mix).max(initial=0.0)
    if peak > 1.0:
        mix /= peak
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(np.round(mix * 32767).astype(np.int16).tobytes())
    return buffer.getvalue()


def draw_grid(groove: np.ndarray, title: str = "") -> Image.Image:
    """A groove [steps, 27] as a drum grid: one row per instrument, one column per 16th.

    Darker is louder; each hit is drawn shifted by its microtiming offset, so a
    pushed or dragged note sits visibly off its grid line.
    """
    steps = groove.shape[0]
    header = CELL_HEIGHT if title else 0
    width = LABEL_WIDTH + steps * CELL_WIDTH + PAD
    height = header + NUM_CLASSES * CELL_HEIGHT + PAD
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    if title:
        draw.text((4, 2), title, fill=TEXT, font=font)
    top, bottom = header, header + NUM_CLASSES * CELL_HEIGHT
    for step in range(steps + 1):
        x = LABEL_WIDTH + step * CELL_WIDTH
        if step % 4 == 0:
            draw.line([(x, top), (x, bottom)], fill=BAR_LINE if step % 16 == 0 else BEAT_LINE, width=2 if step % 16 == 0 else 1)
    # Kick at the bottom, cymbals at the top, as drum editors draw them.
    for drum_class in range(NUM_CLASSES):
        y = bottom - (drum_class + 1) * CELL_HEIGHT
        draw.text((4, y + 2), DRUM_CLASS_NAMES[drum_class].replace("_", " "), fill=TEXT, font=font)
        for step in np.nonzero(groove[:, drum_class] > 0.5)[0]:
            velocity = float(np.clip(groove[step, NUM_CLASSES + drum_class], 0.0, 1.0))
            offset = float(np.clip(layout.offsets(groove)[step, drum_class], -1.0, 1.0))
            x = LABEL_WIDTH + (step + offset / 2.0) * CELL_WIDTH + 1
            shade = int(235 - 215 * velocity)
            draw.rectangle([x, y + 2, x + CELL_WIDTH - 3, y + CELL_HEIGHT - 3], fill=(shade, shade // 2 + 40, 30))
    return image


def draw_strip(grooves: Sequence[np.ndarray], titles: Sequence[str] | None = None) -> Image.Image:
    """Several grids stacked top to bottom (an interpolation path)."""
    titles = list(titles) if titles else [f"step {i + 1}" for i in range(len(grooves))]
    grids = [draw_grid(g, t) for g, t in zip(grooves, titles)]
    strip = Image.new("RGB", (max(g.width for g in grids), sum(g.height for g in grids)), BACKGROUND)
    y = 0
    for grid in grids:
        strip.paste(grid, (0, y))
        y += grid.height
    return strip


def sequence_to_grid(ns, steps: int | None = None) -> np.ndarray:
    """A written drum NoteSequence back to its groove grid, for drawing."""
    try:
        grid = converter.note_sequence_to_grid(ns)
    except converter.ConversionError:  # A silent clip: an empty grid.
        grid = np.zeros((steps or 4 * converter.STEPS_PER_BAR, converter.GROOVE_DEPTH), np.float32)
    step_seconds = 60.0 / (ns.tempos[0].qpm if ns.tempos else converter.DEFAULT_QPM) / converter.STEPS_PER_QUARTER
    length = steps or max(len(grid), int(round(ns.total_time / step_seconds)))
    if len(grid) < length:
        grid = np.concatenate([grid, np.zeros((length - len(grid), converter.GROOVE_DEPTH), np.float32)])
    return grid[:length]


def save_extras(ns, midi_path: str, wav: bool = False, png: bool = False, title: str = "") -> list[str]:
    """Writes `<name>.wav` and/or `<name>.png` beside a written .mid; returns their paths.

    A missing FluidSynth is reported as a RenderError for the caller to print.
    """
    stem = os.path.splitext(midi_path)[0]
    written = []
    if png:
        with atomic_write(stem + ".png") as f:
            draw_grid(sequence_to_grid(ns), title or os.path.basename(stem)).save(f, format="PNG")
        written.append(stem + ".png")
    if wav:
        written.append(render_wav(ns, stem + ".wav"))
    return written
