"""The raw Groove MIDI Dataset archive: pick performances by drummer, split or style.

Writes the picked .mid files as a folder (keeping `drummerN/sessionM/` paths), which
`train.py --midi_dir` and `evaluate.py --midi_dir` read. This is how a held-out slice
of GMD (one drummer's validation and test sessions, say) becomes a fine-tuning set.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterable

from groove_vae import data
from groove_vae.files import write_bytes

INFO_CSV = "groove/info.csv"


def read_info(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    """The archive's info.csv: one row per performance (drummer, split, style, midi_filename, ...)."""
    try:
        text = archive.read(INFO_CSV).decode("utf-8")
    except KeyError:
        raise ValueError(f"{archive.filename}: no {INFO_CSV}; not a Groove MIDI Dataset archive.")
    return list(csv.DictReader(io.StringIO(text)))


def select(rows: Iterable[dict[str, str]], drummers=(), splits=(), styles=(), beat_types=()) -> list[dict[str, str]]:
    """Rows matching every given filter (an empty filter matches all); styles match the
    primary style, the part of `style` before the slash ("funk" matches "funk/groove1")."""
    return [
        row for row in rows
        if (not drummers or row["drummer"] in drummers)
        and (not splits or row["split"] in splits)
        and (not styles or row["style"].split("/")[0] in styles)
        and (not beat_types or row["beat_type"] in beat_types)
    ]


def extract(zip_path: str, output_dir: str, held_out_dir: str | None = None, held_out_fraction: float = 0.0,
            **filters) -> list[str]:
    """Writes the matching performances' MIDI under `output_dir`; returns their paths.

    With `held_out_dir`, a fixed share of the files (chosen by path, as `--midi_dir`
    training splits files) goes there instead: files to score a fine-tuned model on
    that neither it nor its validation ever saw.
    """
    if held_out_dir and not 0.0 < held_out_fraction < 1.0:
        raise ValueError(f"held_out_fraction must be in (0, 1), got {held_out_fraction}.")
    if not os.path.isfile(zip_path):
        raise ValueError(f"{zip_path}: no such file.")
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile:
        raise ValueError(f"{zip_path}: not a zip archive.")
    with archive:
        rows = select(read_info(archive), **filters)
        paths = []
        for row in rows:
            # The top of the path hash's range, so `--midi_dir` training's validation share
            # (the bottom) still comes from the files that stay.
            held_out = held_out_dir and data.split_of(row["midi_filename"], 1.0 - held_out_fraction) == "train"
            path = os.path.join(held_out_dir if held_out else output_dir, row["midi_filename"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            write_bytes(path, archive.read("groove/" + row["midi_filename"]))
            paths.append(path)
    return paths
