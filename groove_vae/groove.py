"""The groove tensor's layout, named: [..., steps, 27] is, per step, the 9 drum classes'
hits, then their velocities, then their offsets (GrooVAE's H, V, O).

hits are 0 or 1; velocities are MIDI velocity / 127 in [0, 1]; offsets are in [-1, 1],
where 1 is half a 16th late. Every accessor works on NumPy arrays and tensors alike.

Example:
>>> g = np.zeros((64, GROOVE_DEPTH), np.float32)
>>> hits(g)[0, KICK] = 1.0; velocities(g)[0, KICK] = 100 / 127
"""

from __future__ import annotations

from groove_vae.drums import DRUM_CLASS_NAMES, NUM_CLASSES

GROOVE_DEPTH = 3 * NUM_CLASSES
HITS = slice(0, NUM_CLASSES)
VELOCITIES = slice(NUM_CLASSES, 2 * NUM_CLASSES)
OFFSETS = slice(2 * NUM_CLASSES, 3 * NUM_CLASSES)
KICK, SNARE, CLOSED_HIHAT, OPEN_HIHAT, LOW_TOM, MID_TOM, HIGH_TOM, CRASH, RIDE = range(NUM_CLASSES)
TIMEKEEPERS = (CLOSED_HIHAT, OPEN_HIHAT, RIDE)  # What keeps time in a bar.


def hits(groove):
    """[..., 27] -> [..., 9] hits (a view: writing to it writes the groove)."""
    return groove[..., HITS]


def velocities(groove):
    """[..., 27] -> [..., 9] velocities in [0, 1]."""
    return groove[..., VELOCITIES]


def offsets(groove):
    """[..., 27] -> [..., 9] offsets in [-1, 1]."""
    return groove[..., OFFSETS]


def columns(drum_class: int) -> list[int]:
    """The three columns (hit, velocity, offset) of one drum class."""
    return [drum_class, NUM_CLASSES + drum_class, 2 * NUM_CLASSES + drum_class]


def instrument_index(name: str) -> int:
    """A drum class by name ("kick", "closed_hihat", ...); a ValueError lists the names."""
    if name not in DRUM_CLASS_NAMES:
        raise ValueError(f"Unknown instrument {name!r}; one of {', '.join(DRUM_CLASS_NAMES)}.")
    return DRUM_CLASS_NAMES.index(name)


def timekeepers(groove, steps_per_bar: int = 16):
    """[clips, steps, 27] NumPy -> [clips, bars] the most-played of closed hi-hat, open hi-hat
    and ride in each bar (its class index), or -1 in a bar that plays none of them."""
    import numpy as np

    hit = hits(np.asarray(groove)) > 0.5
    counts = hit[..., list(TIMEKEEPERS)].reshape(len(hit), -1, steps_per_bar, len(TIMEKEEPERS)).sum(axis=2)
    keeper = np.asarray(TIMEKEEPERS)[np.argmax(counts, axis=-1)]
    return np.where(counts.max(axis=-1) > 0, keeper, -1)
