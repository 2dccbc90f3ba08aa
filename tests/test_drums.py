import pytest

from groove_vae.drums import DEFAULT_DRUM_MAP, DrumMap


@pytest.mark.parametrize(
    "pitch, drum_class",
    [(36, 0), (35, 0), (38, 1), (40, 1), (42, 2), (44, 2), (46, 3), (26, 3), (43, 4), (58, 4),
     (47, 5), (45, 5), (50, 6), (48, 6), (49, 7), (57, 7), (51, 8), (59, 8)],
)
def test_roland_pitches_map_to_the_design_classes(pitch, drum_class):
    assert DEFAULT_DRUM_MAP.pitch_to_class(pitch) == drum_class


def test_exemplars_read_back_as_their_own_class():
    for drum_class in range(9):
        pitch = DEFAULT_DRUM_MAP.class_to_pitch(drum_class)
        assert DEFAULT_DRUM_MAP.pitch_to_class(pitch) == drum_class
    assert [DEFAULT_DRUM_MAP.class_to_pitch(c) for c in range(9)] == [36, 38, 42, 46, 43, 47, 50, 49, 51]


def test_pitches_outside_the_map_have_no_class():
    assert DEFAULT_DRUM_MAP.pitch_to_class(60 + 40) is None


def test_a_pitch_in_two_classes_is_rejected():
    pitches = [list(p) for p in DEFAULT_DRUM_MAP.class_pitches]
    pitches[1].append(36)
    with pytest.raises(ValueError, match="two drum classes"):
        DrumMap(pitches)
