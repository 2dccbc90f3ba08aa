"""Hostile archives, model folders and files on disk: nothing is written outside where it
was asked, nothing unpacks without bound, and a damaged or half-replaced folder is refused
by name."""

import csv
import io
import os
import tracemalloc
import zipfile

import pytest
from helpers import make_sequence, run_command, to_midi_bytes

from groove_vae import gmd

MIDI = to_midi_bytes(make_sequence([(36, 100, 0.0)]))
HEADER = ["drummer", "style", "beat_type", "split", "midi_filename"]


def gmd_zip(path, names, members=None, header=HEADER, info=None):
    """A GMD-shaped archive listing `names` in info.csv; `members` maps member -> bytes (default: MIDI for each)."""
    if info is None:
        text = io.StringIO()
        writer = csv.DictWriter(text, header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(dict(zip(HEADER, ("drummer1", "funk/groove1", "beat", "train", name))) for name in names)
        info = text.getvalue()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(gmd.INFO_CSV, info)
        for member, data in (members if members is not None else {"groove/" + n: MIDI for n in names}).items():
            z.writestr(member, data)
    return str(path)


def peak_bytes(call):
    """What `call` raised, and the peak of Python's allocations while it ran."""
    tracemalloc.start()
    try:
        call()
        error = None
    except ValueError as e:
        error = e
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return error, peak


@pytest.mark.parametrize("name", ["../../esc.mid", "drummer1/../../esc.mid", "/tmp/groove-vae-esc.mid"])
def test_extract_gmd_never_writes_outside_the_output_dir(tmp_path, name):
    archive = gmd_zip(tmp_path / "evil.zip", ["drummer1/ok.mid", name],
                      {"groove/drummer1/ok.mid": MIDI, "groove/" + name: MIDI})
    out = tmp_path / "a" / "out"
    with pytest.raises(ValueError, match=r"would be written outside .*out; refused"):
        gmd.extract(archive, str(out))
    assert not (tmp_path / "esc.mid").exists() and not (tmp_path / "a" / "esc.mid").exists()
    assert not os.path.exists("/tmp/groove-vae-esc.mid")
    assert not out.exists()  # Every path is checked before the first file is written.


def test_a_zip_bomb_member_is_refused_within_a_few_mb(tmp_path):
    archive = gmd_zip(tmp_path / "bomb.zip", ["d/bomb.mid"], {"groove/d/bomb.mid": b"MThd" + bytes(64 * 2**20)})
    assert os.path.getsize(archive) < 200_000
    error, peak = peak_bytes(lambda: gmd.extract(archive, str(tmp_path / "out")))
    assert "groove/d/bomb.mid unpacks to over 1 MB" in str(error)
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.0f} MB"  # Once the whole 64 MB (1 GB from 4.7 MB of zip).
    assert not (tmp_path / "out" / "d" / "bomb.mid").exists()


def test_an_info_csv_of_millions_of_rows_is_refused_within_a_few_mb(tmp_path):
    info = "drummer,style,beat_type,split,midi_filename\n" + "d,s,b,t,f\n" * 2_000_000
    archive = gmd_zip(tmp_path / "rows.zip", [], {}, info=info)
    error, peak = peak_bytes(lambda: gmd.extract(archive, str(tmp_path / "out")))
    assert "info.csv unpacks to over 2 MB" in str(error)
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.0f} MB"  # Once 3.7 GB.
    info = "drummer,style,beat_type,split,midi_filename\n" + "d,s,b,t,f\n" * 20_000  # Small, but too many rows.
    error, peak = peak_bytes(lambda: gmd.extract(gmd_zip(tmp_path / "r2.zip", [], {}, info=info), str(tmp_path)))
    assert "lists over 10000 performances" in str(error) and peak < 16 * 2**20


@pytest.mark.parametrize("setup, message", [
    (lambda p: gmd_zip(p, ["d/a.mid"], {"groove/d/a.mid": b"not midi at all"}), "groove/d/a.mid is not a MIDI file"),
    (lambda p: gmd_zip(p, ["d/a.mid"], {}), "lists d/a.mid, which the archive does not hold"),
    (lambda p: gmd_zip(p, [""], {}), "has an empty midi_filename"),
    (lambda p: gmd_zip(p, ["d/a.mid"], header=HEADER[:2] + HEADER[3:]), "has no column 'beat_type'"),
    (lambda p: gmd_zip(p, ["d/a.mid"], info="drummer\n\xff"), "has no column"),
])
def test_extract_gmd_archive_problems_are_one_line(tmp_path, setup, message):
    archive = setup(tmp_path / "x.zip")
    run = run_command("extract_gmd", f"--zip={archive}", f"--output_dir={tmp_path / 'out'}", cwd=tmp_path)
    assert run.returncode != 0 and message in run.stderr, run.stderr[-2000:]
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) <= 3


def test_extract_gmd_into_a_file_is_one_line(tmp_path):
    archive = gmd_zip(tmp_path / "x.zip", ["d/a.mid"])
    (tmp_path / "file").write_text("x")
    run = run_command("extract_gmd", f"--zip={archive}", f"--output_dir={tmp_path / 'file'}", cwd=tmp_path)
    assert run.returncode != 0 and "file is a file, not a folder" in run.stderr, run.stderr[-2000:]
    assert "Traceback" not in run.stderr and (tmp_path / "file").read_text() == "x"


# === package_model: built beside, swapped in whole, checked on load ===
@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two model directories of the tiny config with different weights (stand-ins for runs)."""
    import numpy as np
    from helpers import tiny_config

    from groove_vae import configs, runs
    from groove_vae.model import build_model

    made = []
    for seed in (1, 2):
        model = build_model(tiny_config())
        model.set_weights([np.random.default_rng(seed).normal(size=w.shape).astype(w.dtype) for w in model.get_weights()])
        directory = tmp_path_factory.mktemp(f"run{seed}")
        configs.save_config(model.config, str(directory / runs.CONFIG_FILE))
        np.savez(directory / runs.WEIGHTS_FILE, **{f"w{i:03d}": w for i, w in enumerate(model.get_weights())})
        made.append(str(directory))
    return made


def old_model(path):
    path.mkdir()
    for name in ("config.json", "weights.npz", "styles.npz", "provenance.json"):
        (path / name).write_text(f"old {name}")
    return {p.name: p.read_bytes() for p in path.iterdir()}


def test_package_model_refuses_an_existing_folder_without_overwrite(two_runs, tmp_path):
    before = old_model(tmp_path / "model")
    run = run_command("package_model", f"--run_dir={two_runs[0]}", f"--output_dir={tmp_path / 'model'}", cwd=tmp_path)
    assert run.returncode != 0 and "model exists; pass --overwrite to replace it whole" in run.stderr, run.stderr
    assert {p.name: p.read_bytes() for p in (tmp_path / "model").iterdir()} == before  # Styles, provenance kept.
    run = run_command("package_model", f"--run_dir={two_runs[0]}", f"--output_dir={two_runs[0]}", "--overwrite",
                      cwd=tmp_path)
    assert run.returncode != 0 and "holds the run being packaged" in run.stderr, run.stderr


def test_a_package_that_fails_part_way_leaves_the_old_folder_whole(two_runs, tmp_path, monkeypatch):
    from groove_vae import runs, weights

    before = old_model(tmp_path / "model")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(weights, "save_weights", full_disk)
    with pytest.raises(OSError):
        runs.package_run(two_runs[0], str(tmp_path / "model"), overwrite=True)
    assert {p.name: p.read_bytes() for p in (tmp_path / "model").iterdir()} == before  # Once: the new config alone.
    assert sorted(os.listdir(tmp_path)) == ["model"]  # No half-built folder beside it.


def test_a_replaced_model_folder_is_whole_and_a_mixed_one_is_refused_by_name(two_runs, tmp_path):
    import json

    from groove_vae import runs

    old_model(tmp_path / "model")
    runs.package_run(two_runs[0], str(tmp_path / "model"), overwrite=True)
    assert sorted(os.listdir(tmp_path / "model")) == ["config.json", "provenance.json", "weights.npz"]
    digests = json.loads((tmp_path / "model" / "provenance.json").read_text())["sha256"]
    assert set(digests) == {"config.json", "weights.npz"}
    runs.restore_model(str(tmp_path / "model"))
    runs.package_run(two_runs[1], str(tmp_path / "other"))
    mixed = tmp_path / "model" / "weights.npz"
    mixed.write_bytes((tmp_path / "other" / "weights.npz").read_bytes())  # Another model's weights, same shapes.
    with pytest.raises(ValueError, match=f"{mixed}: not the file this model was packaged with"):
        runs.restore_model(str(tmp_path / "model"))
    (tmp_path / "other" / "provenance.json").write_text("{}")  # A folder without digests (older packages) loads.
    runs.restore_model(str(tmp_path / "other"))


def test_a_killed_package_leaves_nothing_the_next_one_does_not_clean(two_runs, tmp_path):
    from groove_vae import runs

    (tmp_path / ".model.abc123.tmp").mkdir()  # A build killed before its swap.
    (tmp_path / ".model.abc123.tmp" / "config.json").write_text("half")
    (tmp_path / ".model.def456.old" / "model").mkdir(parents=True)  # Killed between the two renames.
    (tmp_path / ".model.def456.old" / "model" / "config.json").write_text("the old model")
    runs.remove_stale_builds(str(tmp_path / "model"))
    assert sorted(os.listdir(tmp_path)) == ["model"]
    assert (tmp_path / "model" / "config.json").read_text() == "the old model"
    runs.package_run(two_runs[0], str(tmp_path / "model"), overwrite=True)
    assert sorted(os.listdir(tmp_path)) == ["model"]


def test_a_calibrated_config_keeps_a_packaged_model_loadable(two_runs, tmp_path):
    import dataclasses

    from groove_vae import configs, runs

    runs.package_run(two_runs[0], str(tmp_path / "model"))
    path = str(tmp_path / "model" / "config.json")
    configs.save_config(dataclasses.replace(configs.read_saved_config(path), velocity_memory=0.5), path)
    with pytest.raises(ValueError, match="config.json: not the file"):  # What calibrate_feel writes, unrecorded.
        runs.restore_model(str(tmp_path / "model"))
    runs.record_digest(str(tmp_path / "model"), "config.json")
    assert runs.restore_model(str(tmp_path / "model")).config.velocity_memory == 0.5


# === Writes: the mode kept, links written through, killed runs' leftovers cleaned ===
def test_overwriting_keeps_the_files_mode(tmp_path):
    from groove_vae import files

    private = tmp_path / "private.mid"
    private.write_bytes(b"old")
    os.chmod(private, 0o600)
    files.write_bytes(private, b"new")
    assert private.read_bytes() == b"new" and (os.stat(private).st_mode & 0o777) == 0o600  # Once 0644.


def test_a_symlink_is_written_through(tmp_path):
    from groove_vae import files

    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "beat.mid"
    target.write_bytes(b"old")
    link = tmp_path / "beat.mid"
    link.symlink_to(target)
    files.write_bytes(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"  # Once: the link replaced, the file stale.
    assert sorted(os.listdir(tmp_path / "real")) == ["beat.mid"]


def test_a_killed_writers_temporary_is_removed_by_the_next_write_but_a_live_ones_is_not(tmp_path):
    import fcntl

    from groove_vae import files

    target = tmp_path / "out.mid"
    (tmp_path / ".out.mid.k1ll3d.tmp").write_bytes(b"half a file")  # What a killed run left.
    live = tmp_path / ".out.mid.l1v3.tmp"
    live.write_bytes(b"being written")
    with open(live, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # Another process writing the same target right now.
        files.write_bytes(target, b"new")
        assert sorted(os.listdir(tmp_path)) == [".out.mid.l1v3.tmp", "out.mid"]
    files.write_bytes(target, b"newer")
    assert sorted(os.listdir(tmp_path)) == ["out.mid"]


def train_tiny(folder, run_dir, num_steps):
    from helpers import tiny_config

    from groove_vae import training

    training.train(tiny_config(), str(run_dir), num_steps=num_steps, midi_dir=str(folder), steps_per_epoch=1,
                   eval_batches=1, verbose=0)


@pytest.fixture
def drums(tmp_path, monkeypatch):
    monkeypatch.setenv("GROOVE_VAE_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "drums"
    folder.mkdir()
    notes = [(36 if i % 2 == 0 else 38, 100, i * 0.5) for i in range(32)] + [(42, 70, i * 0.25) for i in range(64)]
    for i in range(8):
        (folder / f"groove_{i}.mid").write_bytes(to_midi_bytes(make_sequence(notes)))
    return folder


@pytest.mark.slow  # Trains twice (seconds each with the tiny model).
def test_resuming_from_a_truncated_latest_checkpoint_falls_back_to_the_one_before(drums, tmp_path, capsys):
    run_dir = tmp_path / "run"
    train_tiny(drums, run_dir, 2)
    shard = next((run_dir / "checkpoints").glob("ckpt-2.data-*"))
    shard.write_bytes(shard.read_bytes()[:100])  # A save cut short.
    (run_dir / "checkpoints" / "ckpt-3_temp").mkdir()  # And one killed before its move.
    train_tiny(drums, run_dir, 3)  # Once: IndexError, "Read less bytes than requested".
    out = capsys.readouterr().out
    assert "ckpt-2 could not be read" in out and "Resumed from" in out and "ckpt-1 (step 1)" in out
    assert not (run_dir / "checkpoints" / "ckpt-3_temp").exists()
    from groove_vae import runs

    runs.restore_model(str(run_dir), prefer_best=False)  # The rerun's own ckpt-3, whole.
    for shard in (run_dir / "checkpoints").glob("ckpt-*.data-*"):
        shard.write_bytes(shard.read_bytes()[:100])
    with pytest.raises(ValueError, match="truncated or foreign checkpoint, and no earlier one could be read"):
        train_tiny(drums, run_dir, 5)


# === Numbers that once raised the wrong error, or none ===
@pytest.fixture(scope="module")
def vae():
    from helpers import tiny_config

    from groove_vae import api
    from groove_vae.model import build_model

    return api.GrooveVAE(build_model(tiny_config()))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_grooves_are_refused_by_name(vae, value):
    import numpy as np
    from helpers import random_groove

    groove = random_groove(np.random.default_rng(0), 2)
    groove[1, 5, 12] = value  # Once: NaN latents, and a beat decoded from them, without a word.
    for verb in (vae.encode_tensors, vae.humanize_tensors):
        with pytest.raises(ValueError, match=r"must be finite: 1 values are NaN or Inf \(the first at clip 1, step 5"):
            verb(groove)


@pytest.mark.parametrize("qpm", [1e-30, 1e-4, 1e12])
def test_an_absurd_note_sequence_tempo_is_one_conversion_error(qpm):
    from groove_vae import converter

    ns = make_sequence([(36, 100, 0.0), (38, 100, 0.5)])
    ns.tempos[0].qpm = qpm
    for convert in (converter.note_sequence_to_groove, converter.note_sequence_to_windows):
        with pytest.raises(converter.ConversionError, match="outside what MIDI can hold") as caught:
            convert(ns)  # Once StopIteration for 1e-30 (rounded to 0 after the check).
        assert caught.value.reason == "unquantizable" and "\n" not in str(caught.value)


@pytest.mark.parametrize("flag, message", [
    ("--num_steps=0", "--num_steps must be whole bars of 16th notes, 16 to 256, got 0"),  # Once a NaN table.
    ("--num_steps=100000000", "--num_steps must be whole bars"),  # Once a MemoryError.
    ("--num_steps=20", "--num_steps must be whole bars"),
    ("--without=drummer99", "--without takes GMD drummers (drummer1 ... drummer10), got drummer99"),
])
def test_compare_splits_refuses_bad_flags_before_loading(flag, message, tmp_path, monkeypatch):
    from groove_vae import data

    monkeypatch.setattr(data, "load_split", lambda *a, **k: pytest.fail("loaded data for a bad flag"))
    run = run_command("compare_splits", flag, cwd=tmp_path)
    assert run.returncode != 0 and message in run.stderr, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
