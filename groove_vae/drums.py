"""The 9-class drum map shared by every representation.

Groove MIDI was recorded on a Roland TD-11, so its pitches come first in each class;
the remaining General MIDI pitches (Magenta's reduced drum set) let MIDI from other
sources map onto the same classes. Where the two disagree (45 and 48) the Roland
mapping wins. Writing MIDI uses each class's first pitch, so written files read back
as the same classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

DRUM_CLASS_NAMES: tuple[str, ...] = (
    "kick",
    "snare",
    "closed_hihat",
    "open_hihat",
    "low_tom",
    "mid_tom",
    "high_tom",
    "crash",
    "ride",
)

# Roland TD-11 pitches first (the first one is the class's exemplar), then other
# General MIDI pitches that mean the same instrument.
DEFAULT_DRUM_PITCHES: tuple[tuple[int, ...], ...] = (
    (36, 35),
    (38, 37, 40, 27, 28, 31, 32, 33, 34, 39, 56, 65, 66, 75, 85),
    (42, 22, 44, 54, 68, 69, 70, 71, 73, 78, 80),
    (46, 26, 67, 72, 74, 79, 81),
    (43, 58, 29, 41, 61, 64, 84),
    (47, 45, 60, 63, 77, 86, 87),
    (50, 48, 30, 62, 76, 83),
    (49, 52, 55, 57),
    (51, 53, 59, 82),
)

NUM_CLASSES = len(DRUM_CLASS_NAMES)


class DrumMap:
    """Maps MIDI drum pitches to the 9 classes and back.

    Example:
    >>> drum_map = DrumMap()
    >>> drum_map.pitch_to_class(45), drum_map.class_to_pitch(5)
    (5, 47)
    """

    def __init__(self, class_pitches: Sequence[Sequence[int]] = DEFAULT_DRUM_PITCHES):
        if len(class_pitches) != NUM_CLASSES:
            raise ValueError(
                f"A drum map needs {NUM_CLASSES} classes, got {len(class_pitches)}."
            )
        self._pitch_to_class: dict[int, int] = {}
        for drum_class, pitches in enumerate(class_pitches):
            if not pitches:
                raise ValueError(f"Drum class {DRUM_CLASS_NAMES[drum_class]} has no pitch.")
            for pitch in pitches:
                if not 0 <= pitch <= 127:
                    raise ValueError(f"Pitch {pitch} is not a MIDI pitch (0-127).")
                if pitch in self._pitch_to_class:
                    raise ValueError(f"Pitch {pitch} is mapped to two drum classes.")
                self._pitch_to_class[pitch] = drum_class
        self.class_pitches = tuple(tuple(p) for p in class_pitches)

    def pitch_to_class(self, pitch: int) -> int | None:
        """The class of a MIDI pitch, or None for a pitch outside the map."""
        return self._pitch_to_class.get(pitch)

    def class_to_pitch(self, drum_class: int) -> int:
        """The exemplar pitch written for a class."""
        return self.class_pitches[drum_class][0]

    @property
    def pitch_to_class_table(self) -> Mapping[int, int]:
        return dict(self._pitch_to_class)


DEFAULT_DRUM_MAP = DrumMap()
