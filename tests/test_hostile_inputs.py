"""Bad numbers, paths and files are refused at once, in one line naming them, and a
failed start leaves nothing behind that refuses the corrected rerun."""

import os
import threading

import numpy as np
import pytest
from helpers import make_sequence, run_command, tiny_config, to_midi_bytes

from groove_vae import configs, converter, data, runs, training
from groove_vae.model import build_model


def beat(bars=8):
    notes = [(36 if i % 2 == 0 else 38, 100, i * 0.5) for i in range(4 * bars)]
    return to_midi_bytes(make_sequence(notes + [(42, 70, i * 0.25) for i in range(8 * bars)]))


def finishes(call, seconds=10.0):
    """Runs `call` in a thread; returns what it raised (or None), failing if it hangs."""
    outcome = {}

    def run():
        try:
            call()
        except Exception as e:  # noqa: BLE001 (handed back to the test)
            outcome["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{call} hung"
    return outcome.get("error")


def test_a_fifo_and_a_device_are_refused_without_hanging_or_reading_for_ever(tmp_path):
    fifo = tmp_path / "pipe.mid"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero"):
        error = finishes(lambda: converter.read_midi(path))
        assert isinstance(error, converter.ConversionError) and error.reason == "unreadable"
        assert path in str(error) and "not a regular file" in str(error)


def test_a_file_over_the_size_cap_is_refused_by_name(tmp_path, monkeypatch):
    monkeypatch.setattr(converter, "MAX_MIDI_BYTES", 1000)
    big = tmp_path / "big.mid"
    big.write_bytes(beat() + b"\0" * 1000)
    with pytest.raises(converter.ConversionError, match="big.mid.*over") as caught:
        converter.read_midi(str(big))
    assert caught.value.reason == "too_large"
    with pytest.raises(converter.ConversionError, match="over"):
        converter.read_midi(big.read_bytes(), source="upload")


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("GROOVE_VAE_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "drums"
    folder.mkdir()
    return folder


def test_unreadable_files_under_a_midi_dir_are_counted_skips(folder):
    for i in range(6):
        (folder / f"groove_{i}.mid").write_bytes(beat())
    os.mkfifo(folder / "pipe.mid")
    (folder / "dangling.mid").symlink_to(folder / "gone.mid")
    splits = finishes_value(lambda: data.load_midi_dir(str(folder), validation_fraction=0.3))
    skipped = sum(s.stats.skipped.get("unreadable", 0) for s in splits.values())
    assert skipped == 2 and sum(len(s) for s in splits.values()) == 6 * 5


def finishes_value(call, seconds=60.0):
    box = {}
    assert finishes(lambda: box.update(value=call()), seconds) is None
    return box["value"]


def test_a_midi_dir_of_only_broken_files_says_so_with_the_counts_and_leaves_no_config(folder, tmp_path):
    (folder / "a.mid").write_bytes(b"MThd garbage")
    (folder / "b.mid").write_bytes(to_midi_bytes(make_sequence([(36, 100, 0.0)], numerator=3)))
    run_dir = tmp_path / "run"
    with pytest.raises(ValueError, match=r"no file gave a 4/4 drum window.*skipped 2 .*not_4_4: 1.*unparsable: 1"):
        training.train(tiny_config(), str(run_dir), num_steps=2, midi_dir=str(folder))
    assert not (run_dir / runs.CONFIG_FILE).exists()


@pytest.mark.slow  # Trains first; the checks before training run by default.
def test_a_failed_start_leaves_no_config_that_refuses_the_corrected_rerun(folder, tmp_path):
    for i in range(8):
        (folder / f"groove_{i}.mid").write_bytes(beat())
    run_dir = str(tmp_path / "run")
    with pytest.raises(FileNotFoundError):
        training.train(tiny_config(), run_dir, num_steps=2, midi_dir=str(folder), init_from=str(tmp_path / "nothing"),
                       steps_per_epoch=2, eval_batches=1, verbose=0)
    assert not os.path.exists(os.path.join(run_dir, runs.CONFIG_FILE))
    corrected = configs.apply_hparams(tiny_config(), "z_size=6")
    training.train(corrected, run_dir, num_steps=2, midi_dir=str(folder), steps_per_epoch=2, eval_batches=1, verbose=0)
    assert configs.read_saved_config(os.path.join(run_dir, runs.CONFIG_FILE)).z_size == 6


@pytest.mark.parametrize("kwargs, message", [
    ({"steps_per_epoch": 0}, "--steps_per_epoch must be at least 1, got 0"),
    ({"num_steps": 0}, "--num_steps must be at least 1"),
    ({"num_steps": 10**9}, "--num_steps must be at least 1 and at most"),
    ({"eval_batches": -1}, "--eval_batches must be at least 1"),
])
def test_bad_training_numbers_are_refused_before_any_data_loads(kwargs, message, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "load_split", lambda *a, **k: pytest.fail("loaded data for bad arguments"))
    with pytest.raises(ValueError, match=message):
        training.train(tiny_config(), str(tmp_path / "run"), **{"num_steps": 2, **kwargs})
    assert not (tmp_path / "run").exists()


def test_a_run_dir_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "run"
    path.write_text("a file")
    with pytest.raises(ValueError, match="run_dir .*run is a file"):
        training.train(tiny_config(), str(path), num_steps=2)
    assert path.read_text() == "a file"


@pytest.fixture
def model_dir(tmp_path):
    model = build_model(tiny_config())
    directory = tmp_path / "model"
    directory.mkdir()
    configs.save_config(model.config, str(directory / runs.CONFIG_FILE))
    np.savez(directory / runs.WEIGHTS_FILE, **{f"w{i:03d}": w for i, w in enumerate(model.get_weights())})
    assert runs.restore_model(str(directory)) is not None
    return directory


@pytest.mark.parametrize("name, damage", [
    (runs.CONFIG_FILE, lambda data: data[: len(data) // 2]),  # Truncated JSON.
    (runs.CONFIG_FILE, lambda data: b"[1, 2, 3]"),  # JSON, but not a config.
    (runs.CONFIG_FILE, lambda data: data.replace(b'"z_size"', b'"zz_size"')),  # An unknown key.
    (runs.WEIGHTS_FILE, lambda data: data[: len(data) // 2]),  # A truncated zip.
    (runs.WEIGHTS_FILE, lambda data: b"not a zip at all"),
])
def test_a_damaged_model_file_is_an_error_naming_it(model_dir, name, damage):
    path = model_dir / name
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=str(path)):
        runs.restore_model(str(model_dir))


@pytest.mark.slow  # Trains first; the checks before training run by default.
def test_a_truncated_checkpoint_is_an_error_naming_it(folder, tmp_path):
    for i in range(8):
        (folder / f"groove_{i}.mid").write_bytes(beat())
    run_dir = tmp_path / "run"
    training.train(tiny_config(), str(run_dir), num_steps=2, midi_dir=str(folder), steps_per_epoch=2, eval_batches=1,
                   verbose=0)
    for leftover in ("best.weights.h5", runs.WEIGHTS_FILE):
        if (run_dir / leftover).exists():
            (run_dir / leftover).unlink()
    shard = next((run_dir / "checkpoints").glob("ckpt-2.data-*"))
    shard.write_bytes(shard.read_bytes()[:100])
    with pytest.raises(ValueError, match="ckpt-2.*truncated or foreign checkpoint"):
        runs.restore_model(str(run_dir))


@pytest.mark.parametrize("flag, message", [
    ("--output_json={tmp}", "is a folder"),
    ("--output_json={tmp}/file.txt/out.json", "is a file, not a folder"),
    ("--max_clips=-1", "--max_clips must be 0"),
    ("--num_samples=0", "--num_samples must be 1"),
    ("--interpolation_pairs=-1", "--interpolation_pairs must be 0"),
])
def test_evaluate_refuses_bad_flags_before_loading_anything(flag, message, tmp_path):
    (tmp_path / "file.txt").write_text("x")
    run = run_command("evaluate", flag.format(tmp=tmp_path), cwd=tmp_path)
    assert run.returncode != 0 and message in run.stderr, run.stderr[-2000:]
    assert "Traceback" not in run.stderr


# === Numbers checked before work, in the API (the scripts and the web app share groove_vae.checks) ===
@pytest.mark.parametrize("kwargs, message", [
    ({"qpm": float("nan")}, "qpm must be a tempo"),  # Once every note at time 0.
    ({"qpm": float("inf")}, "qpm must be a tempo"),
    ({"qpm": 0.0}, "qpm must be a tempo"),
    ({"qpm": -120.0}, "qpm must be a tempo"),
    ({"temperature": float("inf")}, "temperature must be above 0 and at most 10"),  # Once uniform noise.
    ({"temperature": 0.0}, "temperature must be above 0"),
    ({"seed": 2**32}, "seed must be an integer from 0 to 2147483647"),  # Once decoded as seed 0 does.
    ({"seed": -1}, "seed must be an integer"),
    ({"n": 10**6}, "must be an integer from 1 to 1024"),  # Once 24 GB before it died.
    ({"n": 0}, "must be an integer from 1 to 1024"),
])
def test_the_api_refuses_bad_numbers_before_decoding(vae, kwargs, message, monkeypatch):
    monkeypatch.setattr(vae.model, "decode", lambda *a, **k: pytest.fail("decoded with a bad value"))
    with pytest.raises(ValueError, match=message):
        vae.sample(**{"n": 1, **kwargs})


def test_interpolation_steps_are_capped(vae):
    from helpers import flat_beat

    beat = to_midi_bytes(flat_beat())
    with pytest.raises(ValueError, match="num_steps must be an integer from 2 to 256"):
        vae.interpolate(beat, beat, num_steps=10**6)


# === Files written whole or not at all ===
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    from groove_vae import files

    target = tmp_path / "sample_000.mid"
    target.write_bytes(b"the good file")
    with pytest.raises(RuntimeError):
        with files.atomic_write(target) as f:
            f.write(b"half a")
            raise RuntimeError("conversion failed mid-way")
    assert target.read_bytes() == b"the good file"
    assert [p.name for p in tmp_path.iterdir()] == ["sample_000.mid"]


def test_a_midi_that_fails_to_convert_leaves_the_old_file_whole(vae, tmp_path, monkeypatch):
    from groove_vae import api

    target = tmp_path / "sample_000.mid"
    ns = vae.sample(1, seed=0)[0]
    api.write_midi(ns, target)
    good = target.read_bytes()
    ns.tempos[0].qpm = float("nan")  # What --qpm=nan once wrote: a 0-byte file over the good one.
    with pytest.raises(Exception):
        api.write_midi(ns, target)
    assert target.read_bytes() == good


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_is_an_error_naming_the_path_never_a_success(vae, tmp_path):
    from groove_vae import api, files

    with pytest.raises(files.WriteError, match="/dev/full: could not write"):
        api.write_midi(vae.sample(1, seed=0)[0], "/dev/full")
    with pytest.raises(files.WriteError, match="/dev/full"):
        configs.save_config(tiny_config(), "/dev/full")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_humanize_to_a_full_disk_fails_in_one_line(tmp_path):
    from helpers import flat_beat

    beat = tmp_path / "ok.mid"
    beat.write_bytes(to_midi_bytes(flat_beat()))
    run = run_command("humanize", f"--input={beat}", "--output=/dev/full", "--overwrite", cwd=tmp_path)
    assert run.returncode != 0 and "/dev/full: could not write" in run.stderr
    assert "Traceback" not in run.stderr and "written" not in run.stdout.lower()
