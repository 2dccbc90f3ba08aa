"""Beyond 4 bars: continuing a groove, long samples, and whole songs played in
overlapping windows with no note lost or doubled at a seam."""

import numpy as np
import pytest
from helpers import make_sequence, run_command, to_midi_bytes

import groove_vae
from groove_vae import converter, evaluation, windows
from groove_vae.sampling import FeelMemory
from groove_vae import groove as layout


def groove_with(keeper, bars=2, qpm=100.0):
    """Kick on 1 and 3, snare on 2 and 4, `keeper` (a class) on the 8ths."""
    g = np.zeros((bars * 16, layout.GROOVE_DEPTH), np.float32)
    layout.hits(g)[::8, layout.KICK] = 1
    layout.hits(g)[4::8, layout.SNARE] = 1
    layout.hits(g)[::2, keeper] = 1
    layout.velocities(g)[:] = layout.hits(g) * 0.7
    return converter.groove_to_note_sequence(g, qpm)


def grid_of(ns):
    return converter.note_sequence_to_windows(ns, 16).reshape(-1, layout.GROOVE_DEPTH)


@pytest.fixture(scope="module")
def vae():
    return groove_vae.load(precision="float32")


# === Windows ===
@pytest.mark.parametrize("num_bars", [1, 4, 5, 9, 10, 150])
@pytest.mark.parametrize("hop", [2, 4])
def test_every_bar_comes_from_one_window_that_holds_it(num_bars, hop):
    starts, owners = windows.plan(num_bars, 4, hop)
    assert len(owners) == num_bars
    for bar, window in enumerate(owners):
        assert starts[window] <= bar < starts[window] + 4
    assert owners == sorted(owners)  # Windows follow one another: a seam is crossed once.
    if hop == 2 and num_bars > 4:
        assert starts[-1] == num_bars - 4  # The last window ends with the performance, unpadded.
        inner = [bar for bar in range(1, num_bars - 1)]
        assert all(0 < bar - starts[owners[bar]] < 3 for bar in inner)  # Context on both sides.


def test_playing_windows_returns_each_bar_once_and_in_place():
    grid = np.random.default_rng(0).random((37 * 16, layout.GROOVE_DEPTH)).astype(np.float32)
    np.testing.assert_array_equal(windows.play(grid, lambda w: w), grid)
    np.testing.assert_array_equal(windows.play(grid, lambda w: w, hop_bars=4)[: len(grid)], grid)
    assert windows.play(grid[:40], lambda w: w).shape == (64, layout.GROOVE_DEPTH)  # Short: one padded window.



def test_each_window_keeps_the_copy_that_agrees_with_the_one_before_where_they_meet():
    # Three windows of 4 bars every 2 (bars 0-3, 2-5, 4-7), three copies of each, copy c of
    # window w all 10 c + w + 1; but window 1's copy 2 and window 2's copy 1 start as the
    # copies before them end.
    copies = np.zeros((3, 3, 64, 1), np.float32)
    for c in range(3):
        for w in range(3):
            copies[c, w] = 10 * c + w + 1
    copies[2, 1, :32] = copies[0, 0, 32:]  # Window 1, copy 2: plays bars 2-3 as window 0 (copy 0) did.
    copies[1, 2, :32] = copies[2, 1, 32:]  # Window 2, copy 1: plays bars 4-5 as window 1 (copy 2) did.
    chosen = windows.choose(copies, [0, 2, 4])
    np.testing.assert_array_equal(chosen, np.stack([copies[0, 0], copies[2, 1], copies[1, 2]]))

    # play() plays every window `candidates` times in one batch and stitches the chosen copies.
    grid = np.zeros((8 * 16, 1), np.float32)
    batches = []

    def play_windows(w):
        batches.append(len(w))
        return copies.reshape(-1, 64, 1)

    stitched = windows.play(grid, play_windows, candidates=3)
    assert batches == [9]
    bars = stitched.reshape(8, 16)[:, 0]
    np.testing.assert_array_equal(bars, [1, 1, 1, 1, 22, 22, 13, 13])  # Bars 0-2, 3-4, 5-7 from windows 0, 1, 2.
    assert windows.play(grid, lambda w: w, candidates=1).shape == grid.shape


class Draws:
    """A song's draws [copies, steps, k], as `windows.play` asks for them: a span of bars at a time."""

    def __init__(self, draws):
        self.draws = draws

    def bars(self, first, stop):
        return self.draws[:, first * 16 : stop * 16]


def test_windows_play_with_their_slice_of_one_songs_draws():
    """Windows that share bars share their feel draws, so memory crosses the seams."""
    grid = np.zeros((10 * 16, layout.GROOVE_DEPTH), np.float32)
    asked = []

    def song_draws(copies, bars):  # Each step's draw names its bar and its copy.
        asked.append((copies, bars))
        return Draws(np.repeat(np.arange(bars, dtype=np.float32), 16)[None, :, None]
                     + 100 * np.arange(copies)[:, None, None])

    def play_windows(w, draws):  # Plays each window's draws back as its first velocity.
        out = w.copy()
        out[..., layout.NUM_CLASSES] = draws[..., 0]
        return out

    stitched = windows.play(grid, play_windows, song_draws=song_draws)
    np.testing.assert_array_equal(stitched[:, layout.NUM_CLASSES], np.repeat(np.arange(10.0), 16))
    chosen = windows.play(grid, play_windows, candidates=3, song_draws=song_draws)
    assert asked == [(1, 10), (3, 10)] and chosen.shape == grid.shape
    np.testing.assert_array_equal(chosen[:, layout.NUM_CLASSES] % 100, np.repeat(np.arange(10.0), 16))  # Any copy.


@pytest.mark.parametrize("window, hop", [(4, 1), (4, 2), (4, 3), (8, 3)])
def test_each_bar_is_owned_by_the_window_it_sits_most_centrally_in(window, hop):
    for num_bars in range(window + 1, 60):
        starts, owners = windows.plan(num_bars, window, hop)
        centres = np.asarray(starts) + window / 2.0
        assert owners == [int(np.argmin(np.abs(centres - (bar + 0.5)))) for bar in range(num_bars)]


@pytest.mark.parametrize("timekeeper", [0.0, 0.9])
def test_a_songs_draws_made_a_span_of_bars_at_a_time_are_the_songs_draws(timekeeper):
    memory = FeelMemory((0.1, 0.3, 0.5, 0.6, 0.7), 0.8, 0.4, timekeeper)
    whole = memory.scores(3, 41, 9, 0.8).numpy()
    song = memory.song(3, 41, 9, 0.8)
    for first, stop in [(0, 4), (2, 6), (6, 30), (28, 41)]:  # Overlapping, skipping ahead, to the end.
        np.testing.assert_allclose(song.bars(first, stop), whole[:, first * 16 : stop * 16], atol=1e-6)
    with pytest.raises(ValueError, match="go forward"):
        song.bars(0, 4)


def test_a_song_is_played_a_chunk_of_windows_at_a_time_as_in_one_batch():
    """The model sees at most a chunk's windows at once, and the song comes out the same:
    each chunk's first window is chosen by the window before it, and its draws continue
    the song's."""
    grid = np.random.default_rng(1).random((75 * 16, layout.GROOVE_DEPTH)).astype(np.float32)
    memory = FeelMemory((0.5,), 0.7, 0.3)
    batches = []

    def play_windows(w, draws):  # Each copy plays its own draws.
        batches.append(len(w))
        return w + draws

    def play(chunk_windows):
        batches.clear()
        return windows.play(grid, play_windows, candidates=4, chunk_windows=chunk_windows,
                            song_draws=lambda copies, bars: memory.song(copies, bars, 5, 1.0))

    whole = play(10**6)
    assert batches == [37 * 4]  # 75 bars: windows at bars 0, 2, ..., 70 and 71.
    chunked = play(5)
    assert max(batches) == 5 * 4 and sum(batches) == 37 * 4
    np.testing.assert_array_equal(chunked, whole)


# === Continue ===
@pytest.mark.parametrize("keeper", [layout.CLOSED_HIHAT, layout.RIDE])
def test_a_continuation_keeps_its_input_and_its_timekeeper(vae, keeper):
    intro = groove_with(keeper, bars=2)
    song = vae.continue_groove(intro, num_bars=8, seed=1)
    bar_seconds = 4 * 60.0 / 100.0
    kept = sorted((n.pitch, n.velocity, n.start_time) for n in song.notes if n.start_time < 2 * bar_seconds - 1e-6)
    assert kept == sorted((n.pitch, n.velocity, n.start_time) for n in intro.notes)
    new = grid_of(song)[32:]
    assert len(new) == 8 * 16 and layout.hits(new).sum() > 40
    keepers = evaluation.timekeepers(new[None])[0]
    assert np.mean(keepers == keeper) >= 0.75, keepers  # It heard the input: a ride groove goes on riding.


def test_a_tempo_marker_after_the_music_does_not_slow_the_continuation(vae):
    intro = groove_with(layout.CLOSED_HIHAT, bars=4, qpm=120.0)  # 8 s of music.
    intro.tempos.add(time=9.0, qpm=60.0)  # A stray marker after it, as some DAWs leave.
    song = vae.continue_groove(intro, num_bars=4, seed=1)
    assert [(t.time, t.qpm) for t in song.tempos] == [(0.0, 120.0)]
    new = [n for n in song.notes if n.start_time >= 8.0 - 1e-6]
    assert new and max(n.start_time for n in new) < 16.0  # 4 more bars at 120 qpm, not at 60.
    again = converter.read_midi(converter.note_sequence_to_midi_bytes(song))
    assert max(n.start_time for n in again.notes) < 16.0


def test_continue_is_a_command(tmp_path):
    (tmp_path / "intro.mid").write_bytes(to_midi_bytes(groove_with(layout.CLOSED_HIHAT, bars=1, qpm=120.0)))
    result = run_command("continue", "--input=intro.mid", "--num_bars=4", "--output=song.mid", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    song = converter.read_midi(tmp_path / "song.mid")
    assert 4.0 < max(n.start_time for n in song.notes) < 10.0  # 1 bar + 4 bars at 120 qpm.
    bad = run_command("continue", "--input=intro.mid", "--num_bars=0", cwd=tmp_path)
    assert bad.returncode != 0 and "--num_bars must be an integer from 1" in bad.stderr


def test_sample_num_bars_writes_one_performance_per_file(vae):
    beats = vae.sample(2, temperature=0.5, seed=3, num_bars=8)
    for ns in beats:
        grid = grid_of(ns)
        assert len(grid) == 8 * 16 and layout.hits(grid[64:]).sum() > 0
    assert vae.sample(1, temperature=0.5, seed=3)[0] == vae.sample(1, temperature=0.5, seed=3, num_bars=4)[0]
    with pytest.raises(ValueError, match="multiple of 4"):
        vae.sample(1, num_bars=6)


# === Whole songs ===
def five_minute_pattern():
    """150 bars at 120 qpm, quantized and flat, each 8-bar phrase ending with a tom fill."""
    notes = []
    for bar in range(150):
        t = bar * 2.0
        for eighth in range(8):
            notes.append((42, 80, t + eighth * 0.25))
        notes += [(36, 90, t), (36, 90, t + 1.0), (38, 90, t + 0.5), (38, 90, t + 1.5)]
        if bar % 8 == 7:
            notes += [(50, 90, t + 1.5 + i * 0.125) for i in range(4)]
    return make_sequence(notes)


def cells(ns):
    """{(step, class)} of a played or quantized performance."""
    grid = grid_of(ns)
    return set(zip(*np.nonzero(layout.hits(grid) > 0.5)))


def test_humanizing_a_five_minute_song_loses_and_doubles_no_note():
    pattern = five_minute_pattern()
    played = groove_vae.load("humanize").humanize(pattern, seed=0)
    assert len(played.notes) == len(pattern.notes)
    assert cells(played) == cells(pattern)
    assert 299.0 < max(n.start_time for n in played.notes) < 300.0
    velocities = [n.velocity for n in played.notes]
    assert np.std(velocities) > 10  # Played, not flat.


def test_infilling_a_long_song_keeps_every_kept_note():
    pattern = five_minute_pattern()
    filled = groove_vae.load("infill").infill(pattern, keep=["kick", "snare"], seed=0)
    kicks_and_snares = lambda ns: sorted((n.pitch, n.velocity, n.start_time) for n in ns.notes if n.pitch in (36, 38))  # noqa: E731
    assert kicks_and_snares(filled) == kicks_and_snares(pattern)
    late = [n for n in filled.notes if n.start_time > 290.0 and n.pitch not in (36, 38)]
    assert late, "the last windows are played too"


def test_a_meter_change_is_refused_naming_the_file_and_the_change(vae, tmp_path):
    ns = groove_with(layout.CLOSED_HIHAT, bars=8, qpm=120.0)
    ns.time_signatures.add(numerator=3, denominator=4, time=8.0)
    (tmp_path / "song.mid").write_bytes(to_midi_bytes(ns))
    with pytest.raises(converter.ConversionError, match=r"song.mid: the meter changes to 3/4 at 8.0 s"):
        vae.reconstruct(str(tmp_path / "song.mid"))


def test_tempo_changes_are_kept(vae, tmp_path):
    """A song that speeds up from 100 to 140 qpm at bar 5: gridded in its own beats and
    written back at its own tempos, each note within half a 16th of where it was."""
    notes, t = [], 0.0
    for bar in range(8):
        qpm = 100.0 if bar < 4 else 140.0
        beat = 60.0 / qpm
        notes += [(36, 90, t), (38, 90, t + beat), (36, 90, t + 2 * beat), (38, 90, t + 3 * beat)]
        notes += [(42, 70, t + i * beat / 2) for i in range(8)]
        t += 4 * beat
    ns = make_sequence(notes, qpm=100.0)
    ns.tempos.add(qpm=140.0, time=4 * 4 * 60.0 / 100.0)
    (tmp_path / "faster.mid").write_bytes(to_midi_bytes(ns))
    played = groove_vae.load("humanize").humanize(str(tmp_path / "faster.mid"), seed=0)
    assert [(round(x.time, 3), round(x.qpm, 3)) for x in played.tempos] == [(0.0, 100.0), (9.6, 140.0)]
    assert len(played.notes) == len(ns.notes)
    starts = sorted(n.start_time for n in played.notes)
    sixteenth_at_140 = 60.0 / 140.0 / 4
    assert max(abs(a - b) for a, b in zip(starts, sorted(n.start_time for n in ns.notes))) < sixteenth_at_140
    assert 9.6 + 4 * 4 * 60 / 140 - 0.5 < starts[-1] < 9.6 + 4 * 4 * 60 / 140


@pytest.mark.slow
def test_a_520_bar_song_is_reconstructed_and_drumified():
    """520 bars, 17 minutes at 120 qpm: 259 windows, four copies each; once refused as too
    big a batch of latents."""
    song = groove_with(layout.CLOSED_HIHAT, bars=520, qpm=120.0)
    for played in (groove_vae.load(precision="float32").reconstruct(song, seed=0),
                   groove_vae.load("tap2drum", precision="float32").drumify(song, seed=0)):
        grid = grid_of(played)
        assert len(grid) == 520 * 16
        assert all(layout.hits(grid[b * 16 : (b + 1) * 16]).sum() > 0 for b in range(0, 520, 13))  # Played throughout.


PEAK_RSS = """
import resource, sys
import groove_vae
from groove_vae import converter
bars = int(sys.argv[1])
ns = converter.groove_to_note_sequence(__import__("numpy").zeros((bars * 16, 27), "float32"), 120.0)
for bar in range(0, bars, 3):  # Sparse: a kick every third bar.
    ns.notes.add(pitch=36, velocity=90, start_time=bar * 2.0, end_time=bar * 2.0 + 0.1, is_drum=True, instrument=9)
ns.notes.add(pitch=36, velocity=90, start_time=(bars - 1) * 2.0, end_time=(bars - 1) * 2.0 + 0.1, is_drum=True,
             instrument=9)
vae = groove_vae.load("humanize", precision="float32")
vae.jit_max_batch = 0
played = vae.humanize(ns, seed=0)
print(len(played.notes), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_humanizing_a_long_sparse_song_takes_about_the_memory_of_a_short_one(tmp_path):
    """1,200 bars (40 minutes) took 520 MB more than 4 bars when every window was played
    in one batch; a chunk at a time, what grows with the song is its grid and notes."""
    import subprocess
    import sys

    import os

    code = os.path.dirname(os.path.dirname(os.path.abspath(groove_vae.__file__)))  # This checkout's.
    env = {**os.environ, "PYTHONPATH": code + os.pathsep + os.environ.get("PYTHONPATH", "")}

    def peak(bars):
        done = subprocess.run([sys.executable, "-c", PEAK_RSS, str(bars)], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        notes, rss_kb = map(int, done.stdout.split()[-2:])
        assert notes == len(set(range(0, bars, 3)) | {bars - 1})
        return rss_kb * 1024

    grown = peak(1200) - peak(4)
    assert grown < 300 * 2**20, f"{grown / 2**20:.0f} MiB more"


OVERWRITE_CASES = {  # Command, its flags, the files it would write (in the test's folder).
    "humanize": (["--input=beat.mid", "--output=out.mid", "--png"], ["out.png"]),
    "reconstruct": (["--input=beat.mid", "--output=out.mid"], ["out.mid"]),
    "drumify": (["--input=beat.mid", "--output=out.mid", "--wav"], ["out.wav"]),
    "infill": (["--input=beat.mid", "--keep=kick", "--output=out.mid"], ["out.mid"]),
    "continue": (["--input=beat.mid", "--output=out.mid"], ["out.mid"]),
    "steer": (["--input=beat.mid", "--attributes=density=1", "--output=out.mid", "--png"], ["out.png"]),
    "interpolate": (["--input_a=beat.mid", "--input_b=beat.mid", "--num_steps=3", "--output_dir=."],
                    ["step_02.mid"]),
    "sample": (["--num_output=2", "--output_dir=.", "--png"], ["sample_001.png"]),
    "export": (["--export_dir=models/7"], ["models/7"]),
}


@pytest.mark.parametrize("command", OVERWRITE_CASES)
def test_an_existing_output_is_refused_before_the_model_loads(command, tmp_path, monkeypatch):
    """A two-hour song was played (42 s, 3.2 GB) and only then refused."""
    from groove_vae import api, cli

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(cli, "load_model", no_model)
    monkeypatch.setattr(api.GrooveVAE, "load", no_model)
    (tmp_path / "beat.mid").write_bytes(to_midi_bytes(groove_with(layout.CLOSED_HIHAT, bars=4)))
    args, existing = OVERWRITE_CASES[command]
    for name in existing:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"mine")
    result = run_command(command, *args, cwd=tmp_path)
    assert result.returncode != 0
    assert f"{existing[0]} exists; pass --overwrite" in result.stderr and "the model was loaded" not in result.stderr
    if command != "export":
        assert (tmp_path / existing[0]).read_bytes() == b"mine"
