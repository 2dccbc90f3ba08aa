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

import numpy as np

WINDOW_BARS = 4
HOP_BARS = 2  # Half a window; WINDOW_BARS gives the old end-to-end cut.
CANDIDATES = 4  # Copies of each window to choose from where windows meet (`play`).


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
    owners = [int(np.argmin(np.abs(centres - (bar + 0.5)))) for bar in range(num_bars)]  # Ties: the earlier.
    return starts, owners


def play(grid: np.ndarray, play_windows: Callable[..., np.ndarray], steps_per_bar: int = 16,
         window_bars: int = WINDOW_BARS, hop_bars: int = HOP_BARS, candidates: int = 1,
         song_draws: Callable[[int, int], np.ndarray] | None = None) -> np.ndarray:
    """A whole grid [bars * steps_per_bar, depth] -> the grid `play_windows` makes of it,
    window by window ([windows, window_steps, depth] -> the same shape), stitched.

    A grid shorter than a window is padded with silence to one window and returned
    whole; a longer one comes back with its own number of bars. With `candidates` > 1
    every window is played that many times in one batch (each copy with its own draws),
    and each window after the first keeps the copy that plays the bars it shares with
    the window before closest to how that one played them (`choose`): neighbouring
    windows, each guessing alone, otherwise disagree where they meet (which cymbal keeps
    time, how loud), and the seam between them can be heard.

    With `song_draws` ((copies, bars) -> [copies, bars * steps_per_bar, k]: where a
    model draws each step's feel, for the whole song), every window is played with its
    own bars' slice, `play_windows(windows, draws)`: windows that share bars share
    their draws, so the feel a model remembers from bar to bar carries across a seam.
    """
    grid = np.asarray(grid, np.float32)
    num_bars = -(-len(grid) // steps_per_bar)
    window_steps = window_bars * steps_per_bar
    starts, owners = plan(num_bars, window_bars, hop_bars)
    padded = np.zeros(((starts[-1] + window_bars) * steps_per_bar, grid.shape[-1]), np.float32)
    padded[: len(grid)] = grid
    cut = lambda song: np.stack([song[s * steps_per_bar : s * steps_per_bar + window_steps] for s in starts])  # noqa: E731
    windows = cut(padded)
    nothing_shared = len(starts) == 1 or hop_bars >= window_bars  # No bars to choose a copy by.
    copies = 1 if candidates <= 1 or nothing_shared else candidates
    inputs = [np.concatenate([windows] * copies)]
    if song_draws is not None:
        inputs.append(np.concatenate([cut(draws) for draws in song_draws(copies, len(padded) // steps_per_bar)]))
    played = np.asarray(play_windows(*inputs))
    if copies > 1:
        played = choose(played.reshape(copies, len(starts), window_steps, -1), starts, steps_per_bar)
    if num_bars <= window_bars:
        return played[0]
    bars = [played[w, (bar - starts[w]) * steps_per_bar : (bar - starts[w] + 1) * steps_per_bar]
            for bar, w in enumerate(owners)]
    return np.concatenate(bars)


def choose(copies: np.ndarray, starts: list[int], steps_per_bar: int = 16) -> np.ndarray:
    """copies [candidates, windows, steps, depth] of overlapping windows starting at bars
    `starts` -> one copy per window [windows, steps, depth]: the first window's first
    copy, then for each window the copy closest (squared difference over every hit,
    velocity and offset) to the chosen window before it in the bars they share."""
    window_bars = copies.shape[2] // steps_per_bar
    chosen = [copies[0, 0]]
    for w in range(1, copies.shape[1]):
        shared = (starts[w - 1] + window_bars - starts[w]) * steps_per_bar
        if shared <= 0:
            chosen.append(copies[0, w])
            continue
        distance = ((copies[:, w, :shared] - chosen[-1][-shared:]) ** 2).sum(axis=(1, 2))
        chosen.append(copies[int(np.argmin(distance)), w])
    return np.stack(chosen)


def seams(num_bars: int, window_bars: int = WINDOW_BARS, hop_bars: int = HOP_BARS) -> list[int]:
    """The bars at which the output switches from one window to the next (bar b follows
    bar b - 1 from another window): where a stitch could be heard."""
    _, owners = plan(num_bars, window_bars, hop_bars)
    return [bar for bar in range(1, num_bars) if owners[bar] != owners[bar - 1]]
