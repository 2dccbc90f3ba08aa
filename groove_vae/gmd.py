"""The raw Groove MIDI Dataset archive: pick performances by drummer, split or style.

Writes the picked .mid files as a folder (keeping `drummerN/sessionM/` paths), which
`train.py --midi_dir` and `evaluate.py --midi_dir` read. This is how a held-out slice
of GMD (one drummer's validation and test sessions, say) becomes a fine-tuning set.

An archive is untrusted input: every output path must stay inside the folder it goes
to, and what is unpacked is capped (the real archive's info.csv is 205 kB of 1,150 rows,
its largest performance 156 kB, all of them 5.3 MB), so a crafted archive fails in one
line instead of writing elsewhere or filling memory and disk.
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
COLUMNS = ("drummer", "split", "style", "beat_type", "midi_filename")
MAX_INFO_BYTES = 2 * 2**20  # info.csv: 10x the real one.
MAX_INFO_ROWS = 10_000  # 8x the real one's 1,150 performances.
MAX_MEMBER_BYTES = 2**20  # One performance: 6x the longest in GMD.
MAX_TOTAL_BYTES = 64 * 2**20  # Everything one extraction writes: 12x all of GMD.


def _read_capped(archive: zipfile.ZipFile, name: str, limit: int, what: str) -> bytes:
    """A member's bytes, decompressing at most `limit` + 1 of them (the sizes a zip declares can lie)."""
    try:
        with archive.open(name) as f:
            data_ = f.read(limit + 1)
    except KeyError:
        raise ValueError(f"{archive.filename}: no member {name}; the archive does not match its {INFO_CSV}.") from None
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as e:
        raise ValueError(f"{archive.filename}: cannot unpack {name} ({e}).") from None
    if len(data_) > limit:
        raise ValueError(f"{archive.filename}: {name} unpacks to over {limit / 2**20:g} MB, more than {what}.")
    return data_


def read_info(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    """The archive's info.csv: one row per performance (drummer, split, style, midi_filename, ...)."""
    if INFO_CSV not in archive.namelist():
        raise ValueError(f"{archive.filename}: no {INFO_CSV}; not a Groove MIDI Dataset archive.")
    raw = _read_capped(archive, INFO_CSV, MAX_INFO_BYTES, "a Groove MIDI Dataset index")
    try:
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8")))
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{archive.filename}: {INFO_CSV} has no column {missing[0]!r}.")
        rows = []
        for row in reader:
            if len(rows) == MAX_INFO_ROWS:
                raise ValueError(f"{archive.filename}: {INFO_CSV} lists over {MAX_INFO_ROWS} performances; "
                                 "GMD has 1,150.")
            rows.append({c: row[c] or "" for c in COLUMNS})
    except (UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"{archive.filename}: {INFO_CSV} is not a readable CSV ({e}).") from None
    return rows


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


def _check_folder(path: str, flag: str) -> None:
    probe = os.path.abspath(path)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise ValueError(f"{flag} {path}: {probe} is a file, not a folder.")


def _inside(folder: str, name: str, zip_path: str) -> str:
    """The output path of `name` under `folder`, refused unless it stays there (no `..`, no absolute path)."""
    if not name.strip():
        raise ValueError(f"{zip_path}: a row of {INFO_CSV} has an empty midi_filename.")
    root = os.path.realpath(folder)
    path = os.path.realpath(os.path.join(root, name))
    if os.path.isabs(name) or os.path.commonpath([root, path]) != root or path == root:
        raise ValueError(f"{zip_path}: midi_filename {name!r} would be written outside {folder}; refused.")
    return os.path.join(folder, os.path.relpath(path, root))


def extract(zip_path: str, output_dir: str, held_out_dir: str | None = None, held_out_fraction: float = 0.0,
            **filters) -> list[str]:
    """Writes the matching performances' MIDI under `output_dir`; returns their paths.

    With `held_out_dir`, a fixed share of the files (chosen by path, as `--midi_dir`
    training splits files) goes there instead: files to score a fine-tuned model on
    that neither it nor its validation ever saw. Every path and member is checked
    before the first file is written.
    """
    if held_out_dir and not 0.0 < held_out_fraction < 1.0:
        raise ValueError(f"held_out_fraction must be in (0, 1), got {held_out_fraction}.")
    if not os.path.isfile(zip_path):
        raise ValueError(f"{zip_path}: no such file.")
    _check_folder(output_dir, "--output_dir")
    if held_out_dir:
        _check_folder(held_out_dir, "--held_out_dir")
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(f"{zip_path}: not a zip archive ({e}).") from None
    with archive:
        members = set(archive.namelist())
        plan = []
        for row in select(read_info(archive), **filters):
            name = row["midi_filename"]
            # The top of the path hash's range, so `--midi_dir` training's validation share
            # (the bottom) still comes from the files that stay.
            held_out = held_out_dir and data.split_of(name, 1.0 - held_out_fraction) == "train"
            path = _inside(held_out_dir if held_out else output_dir, name, zip_path)
            if "groove/" + name not in members:
                raise ValueError(f"{zip_path}: {INFO_CSV} lists {name}, which the archive does not hold.")
            plan.append((path, "groove/" + name))
        paths, total = [], 0
        for path, member in plan:
            midi = _read_capped(archive, member, MAX_MEMBER_BYTES, "a drum performance")
            if not midi.startswith(b"MThd"):
                raise ValueError(f"{zip_path}: {member} is not a MIDI file.")
            total += len(midi)
            if total > MAX_TOTAL_BYTES:
                raise ValueError(f"{zip_path}: the picked performances unpack to over "
                                 f"{MAX_TOTAL_BYTES / 2**20:g} MB (all of GMD is 5.3 MB); wrote {len(paths)}.")
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
            except OSError as e:
                raise ValueError(f"{path}: cannot make its folder ({e.strerror or e}).") from None
            write_bytes(path, midi)
            paths.append(path)
    return paths
