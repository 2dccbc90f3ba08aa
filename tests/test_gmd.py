import csv
import io
import zipfile

import pytest
from helpers import make_sequence, to_midi_bytes

from groove_vae import data, gmd

ROWS = [
    ("drummer1", "funk/groove1", "beat", "train", "drummer1/session1/1_funk-groove1_100_beat_4-4.mid"),
    ("drummer1", "rock/groove2", "fill", "test", "drummer1/eval_session/2_rock-groove2_100_fill_4-4.mid"),
    ("drummer7", "funk/groove3", "beat", "validation", "drummer7/session2/3_funk-groove3_100_beat_4-4.mid"),
    ("drummer7", "jazz", "beat", "test", "drummer7/session3/4_jazz_100_beat_4-4.mid"),
]


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "groove.zip"
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["drummer", "style", "beat_type", "split", "midi_filename"])
    writer.writerows(ROWS)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(gmd.INFO_CSV, text.getvalue())
        for i, row in enumerate(ROWS):
            z.writestr("groove/" + row[-1], to_midi_bytes(make_sequence([(36 + i, 100, 0.0)])))
    return str(path)


def test_filters_combine_and_styles_match_the_primary_style(archive):
    with zipfile.ZipFile(archive) as z:
        rows = gmd.read_info(z)
    assert len(gmd.select(rows)) == 4
    assert [r["split"] for r in gmd.select(rows, drummers=["drummer7"])] == ["validation", "test"]
    assert len(gmd.select(rows, styles=["funk"])) == 2
    assert len(gmd.select(rows, drummers=["drummer1"], splits=["test"], beat_types=["fill"])) == 1
    assert gmd.select(rows, drummers=["drummer7"], styles=["rock"]) == []


def test_extract_writes_the_picked_performances_with_their_paths(archive, tmp_path):
    paths = gmd.extract(archive, str(tmp_path / "out"), drummers=["drummer7"], splits=["test"])
    assert paths == [str(tmp_path / "out" / ROWS[3][-1])]
    with zipfile.ZipFile(archive) as z:
        assert open(paths[0], "rb").read() == z.read("groove/" + ROWS[3][-1])


def test_bad_archives_are_named(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        gmd.extract(str(tmp_path / "missing.zip"), str(tmp_path))
    (tmp_path / "not.zip").write_text("hello")
    with pytest.raises(ValueError, match="not.zip: not a zip archive"):
        gmd.extract(str(tmp_path / "not.zip"), str(tmp_path))
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("readme.txt", "x")
    with pytest.raises(ValueError, match="not a Groove MIDI Dataset archive"):
        gmd.extract(str(tmp_path / "other.zip"), str(tmp_path))


def test_a_fixed_share_of_files_is_held_out_by_path(archive, tmp_path):
    paths = gmd.extract(archive, str(tmp_path / "tune"), str(tmp_path / "score"), 0.65)  # Splits these four paths 2 / 2.
    held_out = [p for p in paths if p.startswith(str(tmp_path / "score"))]
    # The top of the hash range, so train.py --midi_dir still finds validation files among the rest.
    expected = [str(tmp_path / "score" / row[-1]) for row in ROWS if data.split_of(row[-1], 0.35) == "train"]
    assert len(paths) == 4 and held_out == expected and 0 < len(held_out) < 4
    again = gmd.extract(archive, str(tmp_path / "tune2"), str(tmp_path / "score2"), 0.65)
    assert [p.replace("score2", "score") for p in again if "score2" in p] == held_out
    with pytest.raises(ValueError, match="held_out_fraction"):
        gmd.extract(archive, str(tmp_path / "x"), str(tmp_path / "y"), 1.0)
