"""Whole performances through a 4-bar model: overlapping windows, stitched without seams.

A 4-bar window decoded on its own plays its first and last bars with context on one
side only, and consecutive windows cut end to end meet at a seam where nothing
connects them. Here windows start every `hop_bars` bars (half a window) and each bar
of the output comes from the window in which it sits most centrally, so every bar but
the performance's first and last is played with its neighbours in view.

Example:
>>> starts, owners = plan(10)   # starts [0, 2, 4, 6]; bar 5 from the window at 4
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from groove_vae.sampling import SongDraws

WINDOW_BARS = 4
HOP_BARS = 2  # Half a window; WINDOW_BARS gives the old end-to-end cut.
CANDIDATES = 4  # Copies of each window to choose from where windows meet (`play`).
CHUNK_WINDOWS = 64  # Windows played per model call (times the copies): a song's memory is one chunk's.


def plan(num_bars: int, window_bars: int = WINDOW_BARS, hop_bars: int = HOP_BARS) -> tuple[list[int], list[int]]:
    """Window starts (in bars) covering `num_bars`, and for each bar the index of the
    window it is taken from. The last window ends at the last bar (no padding) unless
    the whole performance is shorter than one window."""
    if num_bars < 1 or not 1 <= hop_bars <= window_bars:
        raise ValueError(f"Cannot plan {num_bars} bars in windows of {window_bars} every {hop_bars}.")
    if num_bars <= window_bars:
        return [0], [0] * num_bars
    if hop_bars == window_bars:  # End to end, as a cut-and-stitch does: the last window padded.
        return list(range(0, num_bars, window_bars)), [bar // window_bars for bar in range(num_bars)]
    starts = list(range(0, num_bars - window_bars + 1, hop_bars))
    if starts[-1] != num_bars - window_bars:
        starts.append(num_bars - window_bars)
    centres = np.asarray(starts) + window_bars / 2.0
    bars = np.arange(num_bars) + 0.5
    # The nearest centre is the first at or after the bar's, or the one before it.
    after = np.clip(np.searchsorted(centres, bars), 1, len(centres) - 1)
    earlier = np.abs(bars - centres[after - 1]) <= np.abs(centres[after] - bars)  # Ties: the earlier.
    return starts, np.where(earlier, after - 1, after).tolist()


def play(grid: np.ndarray, play_windows: Callable[..., np.ndarray], steps_per_bar: int = 16,
         window_bars: int = WINDOW_BARS, hop_bars: int = HOP_BARS, candidates: int = 1,
         song_draws: Callable[[int, int], "SongDraws"] | None = None,
         chunk_windows: int = CHUNK_WINDOWS) -> np.ndarray:
    """A whole grid [bars * steps_per_bar, depth] -> the grid `play_windows` makes of it,
    window by window ([windows, window_steps, depth] -> the same shape), stitched.

    A grid shorter than a window is padded with silence to one window and returned
    whole; a longer one comes back with its own number of bars. With `candidates` > 1
    every window is played that many times in one batch (each copy with its own draws),
    and each window after the first keeps the copy that plays the bars it shares with
    the window before closest to how that one played them (`choose`): neighbouring
    windows, each guessing alone, otherwise disagree where they meet (which cymbal keeps
    time, how loud), and the seam between them can be heard.

    With `song_draws` ((copies, bars) -> the song's draws: `draws.bars(first, stop)` is
    [copies, (stop - first) * steps_per_bar, k], where a model draws each step's feel),
    every window is played with its own bars' slice, `play_windows(windows, draws)`:
    windows that share bars share their draws, so the feel a model remembers from bar to
    bar carries across a seam.

    The windows are played `chunk_windows` at a time (times the copies), so a song of any
    length takes the memory of one chunk; the chosen copy of each chunk's last window is
    carried into the next, and the draws are made a chunk at a time, so a chunk's windows
    are played and chosen as they would be in one batch.
    """
    grid = np.asarray(grid, np.float32)
    num_bars = -(-len(grid) // steps_per_bar)
    window_steps = window_bars * steps_per_bar
    starts, owners = plan(num_bars, window_bars, hop_bars)
    nothing_shared = len(starts) == 1 or hop_bars >= window_bars  # No bars to choose a copy by.
    copies = 1 if candidates <= 1 or nothing_shared else candidates
    draws = None if song_draws is None else song_draws(copies, starts[-1] + window_bars)
    out = None
    before = None  # (start, chosen copy) of the last window played.
    bar = 0  # The next bar of the output to place.
    for first in range(0, len(starts), max(1, chunk_windows)):
        chunk = starts[first : first + max(1, chunk_windows)]
        windows = np.stack([_cut(grid, s * steps_per_bar, window_steps) for s in chunk])
        inputs = [np.concatenate([windows] * copies)]
        if draws is not None:
            span = draws.bars(chunk[0], chunk[-1] + window_bars)
            inputs.append(np.concatenate([np.stack([d[(s - chunk[0]) * steps_per_bar:][:window_steps] for s in chunk])
                                          for d in span]))
        played = np.asarray(play_windows(*inputs))
        if copies > 1:
            played = choose(played.reshape(copies, len(chunk), window_steps, -1), chunk, steps_per_bar, before)
        if num_bars <= window_bars:
            return played[0]
        before = (chunk[-1], played[-1])
        if out is None:
            out = np.empty((num_bars * steps_per_bar, played.shape[-1]), played.dtype)
        while bar < num_bars and owners[bar] < first + len(chunk):
            w = owners[bar]
            offset = (bar - starts[w]) * steps_per_bar
            out[bar * steps_per_bar : (bar + 1) * steps_per_bar] = played[w - first, offset : offset + steps_per_bar]
            bar += 1
    return out


def _cut(grid: np.ndarray, start: int, steps: int) -> np.ndarray:
    """grid[start : start + steps], padded with silence past the grid's end."""
    window = grid[start : start + steps]
    if len(window) == steps:
        return window
    padded = np.zeros((steps, grid.shape[-1]), grid.dtype)
    padded[: len(window)] = window
    return padded


def choose(copies: np.ndarray, starts: list[int], steps_per_bar: int = 16,
           before: tuple[int, np.ndarray] | None = None) -> np.ndarray:
    """copies [candidates, windows, steps, depth] of overlapping windows starting at bars
    `starts` -> one copy per window [windows, steps, depth]: the first window's first
    copy, then for each window the copy closest (squared difference over every hit,
    velocity and offset) to the chosen window before it in the bars they share.
    `before` (its start, its chosen copy): the window before the first, where a song is
    played in chunks."""
    window_bars = copies.shape[2] // steps_per_bar
    chosen = []
    for w in range(copies.shape[1]):
        if before is None:
            chosen.append(copies[0, w])
        else:
            shared = (before[0] + window_bars - starts[w]) * steps_per_bar
            if shared <= 0:
                chosen.append(copies[0, w])
            else:
                distance = ((copies[:, w, :shared] - before[1][-shared:]) ** 2).sum(axis=(1, 2))
                chosen.append(copies[int(np.argmin(distance)), w])
        before = (starts[w], chosen[-1])
    return np.stack(chosen)


def seams(num_bars: int, window_bars: int = WINDOW_BARS, hop_bars: int = HOP_BARS) -> list[int]:
    """The bars at which the output switches from one window to the next (bar b follows
    bar b - 1 from another window): where a stitch could be heard."""
    _, owners = plan(num_bars, window_bars, hop_bars)
    return [bar for bar in range(1, num_bars) if owners[bar] != owners[bar - 1]]
