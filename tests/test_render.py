import io
import shutil
import wave

import numpy as np
import pytest
from helpers import random_groove

from groove_vae import converter, render
from groove_vae.groove import hits as hits_of


def test_grid_png_has_the_expected_size(tmp_path):
    groove = random_groove(np.random.default_rng(0), 1)[0]
    image = render.draw_grid(groove)
    assert image.size == (render.LABEL_WIDTH + 64 * render.CELL_WIDTH + render.PAD, 9 * render.CELL_HEIGHT + render.PAD)
    titled = render.draw_grid(groove, "title")
    assert titled.height == image.height + render.CELL_HEIGHT
    strip = render.draw_strip([groove] * 3)
    assert strip.size == (titled.width, 3 * titled.height)
    # Hits are drawn: a grid with hits has darker pixels than an empty one.
    empty = render.draw_grid(np.zeros_like(groove))
    assert np.asarray(image).mean() < np.asarray(empty).mean()


def test_written_clip_draws_back_to_its_grid():
    groove = random_groove(np.random.default_rng(1), 1)[0]
    ns = converter.groove_to_note_sequence(groove)
    np.testing.assert_array_equal(hits_of(render.sequence_to_grid(ns, 64)), hits_of(groove))


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="FluidSynth is not installed")
def test_wav_is_audible_and_as_long_as_the_clip(tmp_path):
    groove = np.zeros((64, 27), np.float32)
    groove[::4, 0], groove[::4, 9] = 1, 0.8  # Kick on every beat, 4 bars.
    path = render.render_wav(converter.groove_to_note_sequence(groove, qpm=120), str(tmp_path / "a.wav"))
    with wave.open(path) as f:
        seconds = f.getnframes() / f.getframerate()
        samples = np.frombuffer(f.readframes(f.getnframes()), np.int16)
    assert 7.9 <= seconds <= 8.0 + 12.0  # 4 bars at 120 qpm, plus the last hit's ring.
    assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 100


def test_missing_fluidsynth_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.raises(render.RenderError, match="apt-get install fluidsynth"):
        render.render_wav(converter.groove_to_note_sequence(np.zeros((64, 27), np.float32)), str(tmp_path / "x.wav"))


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="FluidSynth is not installed")
def test_one_shots_are_one_short_audible_hit_per_instrument():
    shots = render.render_one_shots(seconds=1.5)
    assert list(shots) == list(render.DRUM_CLASS_NAMES)
    spectra = []
    for name, data in shots.items():
        with wave.open(io.BytesIO(data)) as f:
            rate, seconds = f.getframerate(), f.getnframes() / f.getframerate()
            samples = np.frombuffer(f.readframes(f.getnframes()), np.int16).reshape(-1, f.getnchannels())
        assert 0.05 < seconds <= 1.5, name
        attack = np.abs(samples[: int(0.05 * rate)]).max()
        assert attack > 3000, f"{name} does not start with its hit"
        assert np.abs(samples[-10:]).max() < 200, f"{name} is not faded out"
        spectra.append(np.abs(np.fft.rfft(samples[: int(0.1 * rate), 0], n=4096)))
    kick, closed_hihat = spectra[0], spectra[2]
    assert kick[:100].sum() / kick.sum() > closed_hihat[:100].sum() / closed_hihat.sum()  # The kick is the lower.


def _wav(samples, rate=1000):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes((np.asarray(samples) * 32767).astype(np.int16).tobytes())
    return buffer.getvalue()


def test_mixing_one_shots_places_scales_and_chokes_hits():
    rate, qpm = 1000, 150.0  # A step is 0.1 s: 100 samples.
    shots = {name: _wav(np.full(30, 0.5), rate) for name in render.DRUM_CLASS_NAMES}
    shots["open_hihat"] = _wav(np.full(500, 0.5), rate)
    groove = np.zeros((64, 27), np.float32)
    groove[4, [0, 9, 18]] = 1.0, 0.5, 0.5  # Kick at step 4, half velocity, a quarter step late.
    groove[10, [3, 12]] = 1.0, 1.0  # An open hi-hat at step 10 ...
    groove[12, [2, 11]] = 1.0, 1.0  # ... choked by a closed one at step 12.
    with wave.open(io.BytesIO(render.mix_one_shots(groove, qpm, shots))) as f:
        assert f.getframerate() == rate and f.getnframes() == 64 * 100
        mix = np.frombuffer(f.readframes(f.getnframes()), np.int16) / 32767
    np.testing.assert_allclose(mix[425:455], 0.5 * 0.5**2, atol=1e-3)  # Gain is velocity squared.
    assert np.abs(mix[:425]).max() == 0 and np.abs(mix[455:1000]).max() == 0
    assert np.abs(mix[1000:1195]).min() > 0.4  # The open hi-hat rings ...
    np.testing.assert_allclose(mix[1200:1230], 0.5, atol=1e-3)  # ... until the closed one.
    assert np.abs(mix[1230:]).max() == 0
