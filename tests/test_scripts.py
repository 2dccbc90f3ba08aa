"""The user's commands, run as a user runs them: a few in fresh processes through
scripts/, the rest in this process through the same main(argv) (helpers.run_command)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT, TINY, run_command

from groove_vae import converter


def run_script(name, *args, cwd):
    """scripts/<name> in a fresh process, as a user of a checkout runs it."""
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", name), *args],
                          capture_output=True, text=True, cwd=cwd)


def run(name, *args, cwd):
    """The command of scripts/<name>, in this process."""
    return run_command(name.removesuffix(".py"), *args, cwd=cwd)


def test_sample_with_the_bundled_model_writes_drum_midi(tmp_path):
    result = run_script("sample.py", "--num_output=5", "--output_dir=out", "--seed=1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    # A fresh process prints its results, not TensorFlow's start-up (CUDA probing, oneDNN) or pydub's warning.
    assert result.stdout.count(".mid:") == 5 and not result.stderr.strip(), result.stderr[-2000:]
    paths = sorted((tmp_path / "out").glob("*.mid"))
    assert len(paths) == 5
    for path in paths:
        ns = converter.read_midi(path)
        assert ns.notes and all(n.is_drum for n in ns.notes)
        assert ns.tempos[0].qpm == pytest.approx(120)
        assert max(n.start_time for n in ns.notes) < 8.0  # 4 bars at 120 qpm.
        assert {n.pitch for n in ns.notes} <= {36, 38, 42, 46, 43, 47, 50, 49, 51}


@pytest.mark.slow  # Six fresh processes, ~45 s; .ci/run runs it with the other slow tests.
def test_same_seed_gives_byte_identical_midi_across_processes(tmp_path):
    for name in ("a", "b"):
        result = run_script("sample.py", "--num_output=2", f"--output_dir={name}", "--seed=4", "--qpm=90", cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        result = run_script("humanize.py", "--input=a/sample_000.mid", f"--output={name}/played.mid", "--seed=3",
                            cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        result = run_script("interpolate.py", "--input_a=a/sample_000.mid", "--input_b=a/sample_001.mid",
                            "--num_steps=3", f"--output_dir={name}/path", "--seed=5", cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
    for name in ("sample_000.mid", "sample_001.mid", "played.mid", "path/step_01.mid", "path/path.mid"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_sample_rejects_a_missing_run_dir(tmp_path):
    result = run_script("sample.py", "--run_dir=nowhere", cwd=tmp_path)
    assert result.returncode != 0 and "nowhere" in result.stderr


@pytest.mark.slow  # Three trainings through the command; test_midi_dir resumes in-process by default.
def test_train_resumes_when_rerun(tmp_path, tfds_data_dir):
    args = ["--config=groovae_4bar", f"--hparams={TINY}", "--run_dir=run", "--steps_per_epoch=2", "--eval_batches=1"]
    first = run("train.py", *args, "--num_steps=2", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "skipped" in first.stdout and (tmp_path / "run" / "checkpoints" / "ckpt-2.index").exists()
    second = run("train.py", *args, "--num_steps=4", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Resumed from" in second.stdout and "step 2" in second.stdout
    assert (tmp_path / "run" / "checkpoints" / "ckpt-4.index").exists()
    assert (tmp_path / "run" / "weights.npz").exists()
    assert len((tmp_path / "run" / "history.csv").read_text().strip().splitlines()) == 3  # Header + 2 epochs.
    assert list((tmp_path / "run" / "logs").rglob("*tfevents*"))
    changed = run("train.py", *args[:-3], "--run_dir=run", "--hparams=z_size=4", "--num_steps=6", cwd=tmp_path)
    assert changed.returncode != 0 and "another config" in changed.stderr


def write_beat(path, numerator=4, is_drum=True):
    from helpers import make_sequence, to_midi_bytes

    notes = [(36 if i % 2 == 0 else 38, 100, i * 0.5) for i in range(16)] + [(42, 80, i * 0.25) for i in range(32)]
    path.write_bytes(to_midi_bytes(make_sequence(notes, numerator=numerator, is_drum=is_drum)))
    return path


def test_interpolate_writes_every_step_the_path_and_pictures(tmp_path):
    write_beat(tmp_path / "a.mid")
    converter.write_midi(converter.groove_to_note_sequence(converter.drum_labels_to_groove([1, 0, 4, 0] * 16)),
                         tmp_path / "b.mid")
    result = run("interpolate.py", "--input_a=a.mid", "--input_b=b.mid", "--num_steps=3", "--png",
                        "--output_dir=out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["path.mid", "path.png", "step_00.mid", "step_00.png", "step_01.mid", "step_01.png",
                     "step_02.mid", "step_02.png"]
    whole = converter.read_midi(tmp_path / "out" / "path.mid")
    steps = [converter.read_midi(tmp_path / "out" / f"step_0{i}.mid") for i in range(3)]
    assert len(whole.notes) == sum(len(s.notes) for s in steps)
    assert max(n.start_time for n in whole.notes) > 16.0  # The third clip starts at bar 9.


@pytest.mark.parametrize(
    "script, make_input, message",
    [
        ("humanize.py", lambda p: p / "missing.mid", "missing.mid: cannot read file"),
        ("humanize.py", lambda p: write_beat(p / "waltz.mid", numerator=3), "waltz.mid: meter 3/4 is not 4/4"),
        ("reconstruct.py", lambda p: write_beat(p / "piano.mid", is_drum=False), "piano.mid: no drum notes"),
        ("serve_client.py", lambda p: p, ".: cannot read file (Is a directory)"),
    ],
)
def test_scripts_give_one_line_errors_for_bad_midi(tmp_path, script, make_input, message):
    path = make_input(tmp_path)
    args = ["--signature=encode"] if script == "serve_client.py" else ["--output=out.mid"]
    result = run(script, f"--input={path.name if path != tmp_path else '.'}", *args, cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr


def test_outputs_are_never_silently_overwritten(tmp_path):
    first = run("sample.py", "--num_output=2", "--output_dir=out", "--seed=1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    before = (tmp_path / "out" / "sample_001.mid").read_bytes()
    again = run("sample.py", "--num_output=2", "--output_dir=out", "--seed=2", cwd=tmp_path)
    assert again.returncode != 0 and "sample_000.mid exists; pass --overwrite" in again.stderr
    assert (tmp_path / "out" / "sample_001.mid").read_bytes() == before
    forced = run("sample.py", "--num_output=2", "--output_dir=out", "--seed=2", "--overwrite", cwd=tmp_path)
    assert forced.returncode == 0 and (tmp_path / "out" / "sample_001.mid").read_bytes() != before


@pytest.mark.slow  # The full evaluation of the bundled model; test_evaluation covers it on a tiny one.
def test_evaluate_scores_the_bundled_model_on_a_slice_of_the_test_split(tmp_path, tfds_data_dir):
    import json

    result = run("evaluate.py", "--max_clips=64", "--num_samples=50", "--interpolation_pairs=3", "--output_json=eval.json",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "accuracy_sampled" in result.stdout and "hits per bar" in result.stdout
    scores = json.loads((tmp_path / "eval.json").read_text())
    assert scores["num_clips"] == 64 and scores["dataset"] == "groove/4bar-midionly"
    assert 0.3 < scores["accuracy_teacher_forced"] <= 1.0  # All-silent scores about 0.24.
    assert 0.0 < scores["hit_f1_sampled"] <= 1.0 and scores["kl_nats"] > 0
    assert set(scores["novelty"]) == {"prior T=0.5", "prior T=1", "test clips", "validation clips"}
    assert 0.0 <= scores["novelty"]["prior T=1"]["within_4"] <= 1.0 and scores["novelty"]["test clips"]["mean_nearest"] > 0
    assert "hit grids against the training clips" in result.stdout
    assert len(scores["hits_per_bar_prior"]) == 9 and sum(scores["hits_per_bar_data"].values()) > 5
    assert 1 < scores["feel_prior_velocity_mean"] < 127 and 0 <= scores["feel_data_bar_cell_agreement"] <= 1
    # The feel table judges against the train and validation clips, the test clips beside; each
    # timekeeper rate has its marked share.
    assert "train+valid" in result.stdout and "test clips" in result.stdout and "with a fill or crash" in result.stdout
    marked = scores["timekeeper_changes_marked_by_source"]
    assert set(marked) == set(scores["timekeeper_change_rate_by_source"]) and 0 <= marked["data (train split)"] <= 1
    # The path figures of each interpolation method, the default (morph) changing each cell once.
    assert set(scores["interpolation"]) == {"morph", "slerp", "linear"} and "Interpolation, 3 random pairs" in result.stdout
    assert scores["interpolation"]["morph"]["path_ratio"] == 1.0 and scores["interpolation"]["morph"]["toward_b"] == 1.0


@pytest.mark.slow  # The full evaluation of the bundled model; test_evaluation covers it on a tiny one.
def test_evaluate_on_a_midi_folder(tmp_path):
    import json

    (tmp_path / "mine" / "session").mkdir(parents=True)
    write_beat(tmp_path / "mine" / "session" / "a.mid")
    write_beat(tmp_path / "mine" / "b.mid", numerator=3)  # Skipped and counted: not 4/4.
    result = run("evaluate.py", "--midi_dir=mine", "--num_samples=10", "--output_json=mine.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "not_4_4: 1" in result.stdout
    scores = json.loads((tmp_path / "mine.json").read_text())
    assert scores["num_clips"] == 1 and scores["dataset"] == "mine" and scores["split"] == "all"
    assert set(scores["novelty"]) == {"prior T=0.5", "prior T=1"}  # Against the folder's own clips.
    assert "train+valid" not in result.stdout  # A folder of MIDI has no training split to set beside it.
    empty = run("evaluate.py", "--midi_dir=nowhere", "--output_json=x.json", cwd=tmp_path)
    assert empty.returncode != 0 and "nowhere: not a directory" in empty.stderr


def test_compare_splits_shows_each_drummer_and_can_leave_one_out(tmp_path, tfds_data_dir):
    from groove_vae import data, evaluation

    test = data.load_split("groove/4bar-midionly", "test")
    (tmp_path / "mine").mkdir()
    write_beat(tmp_path / "mine" / "a.mid")
    result = run("compare_splits.py", "--splits=test", "--midi_dir=mine", "--drum=crash", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[lines.index("") + 1].split() == ["test", "mine"]
    rate = next(line for line in lines if line.startswith("timekeeper changes"))
    assert rate.split()[4] == f"{evaluation.timekeeper_change_rate(test.groove):.3f}"
    rows = {line.split()[0]: line.split() for line in lines if line.startswith(("drummer", "(none)"))}
    assert rows["drummer1"][1] == f"{(test.drummers == 'drummer1').sum():,}" and "drummer2" not in rows
    assert rows["(none)"][1] == "-" and rows["(none)"][-1] == "-"  # My beat: no drummer, and no crash.
    assert "crash velocity mean (hits)" in result.stdout

    without = run("compare_splits.py", "--splits=test", "--without=drummer1,drummer5", cwd=tmp_path)
    assert without.returncode == 0, without.stderr[-3000:]
    left = (~np.isin(test.drummers, ["drummer1", "drummer5"])).sum()
    assert next(line for line in without.stdout.splitlines() if line.startswith("clips")).split() == ["clips", f"{left:,}"]
    assert "drummer5 " not in without.stdout and "drummer7 " in without.stdout
    for flag, message in (("--without=bob", "--without takes GMD drummers"), ("--drum=cowbell", "--drum must be one of"),
                          ("--splits=nope", "nope")):
        bad = run("compare_splits.py", flag, cwd=tmp_path)
        assert bad.returncode != 0 and message in bad.stderr and "Traceback" not in bad.stderr


def test_calibrate_feel_fits_the_memory_to_the_drummers_and_writes_it(tmp_path):
    import shutil

    import groove_vae
    from groove_vae import bundled, configs, weights
    from groove_vae.model import build_model

    shutil.copytree(bundled.resolve("humanize"), tmp_path / "model")
    before = (tmp_path / "model" / "config.json").read_text()
    (tmp_path / "mine").mkdir()
    write_beat(tmp_path / "mine" / "a.mid")  # Every bar the same, to the velocity and the tick.
    shown = run("calibrate_feel.py", "--run_dir=model", "--midi_dir=mine", "--nowrite", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert shown.stdout.split("drummers")[1].split()[:2] == ["0.00", "0.0000"]
    assert "velocity_memory=0.9, timing_memory=0.9" in shown.stdout  # The most repetitive there is.
    assert shown.stdout.split("drummers")[2].split()[:5] == ["1.0000"] * 5  # Every bar's hits, the bar before's.
    assert (tmp_path / "model" / "config.json").read_text() == before
    written = run("calibrate_feel.py", "--run_dir=model", "--midi_dir=mine", cwd=tmp_path)
    assert written.returncode == 0, written.stderr[-3000:]
    config = groove_vae.load(str(tmp_path / "model")).config
    assert (config.velocity_memory, config.timing_memory) == (0.9, 0.9)
    bundled_config = open(os.path.join(bundled.resolve("humanize"), "config.json")).read()
    untouched = run("calibrate_feel.py", "--run_dir=humanize", "--midi_dir=mine", cwd=tmp_path)  # A bundled name.
    assert untouched.returncode == 0 and "Not written: the bundled models are read-only" in untouched.stdout
    assert open(os.path.join(bundled.resolve("humanize"), "config.json")).read() == bundled_config
    assert f"hit_memory={list(config.hit_memory)}," in written.stdout and len(config.hit_memory) == 5
    assert config.hit_memory[2] >= 0.5  # At temperature 1 the model needs memory to loop a bar.
    assert f"timekeeper_memory={config.timekeeper_memory}" in written.stdout
    assert "Timekeeper changes between bars (T=0.5)" in written.stdout

    mse = build_model(configs.apply_hparams(configs.load_config("groovae_4bar_cpu"), "groove_heads=mse"))
    (tmp_path / "mse").mkdir()
    configs.save_config(mse.config, str(tmp_path / "mse" / "config.json"))
    weights.save_weights(mse, str(tmp_path / "mse" / "weights.npz"))
    hits_only = run("calibrate_feel.py", "--run_dir=mse", "--midi_dir=mine", "--max_clips=8", cwd=tmp_path)
    assert hits_only.returncode == 0, hits_only.stderr[-3000:]
    assert "no velocity or timing memory to fit" in hits_only.stdout  # Squared-error heads play the mean.
    mse_config = groove_vae.load(str(tmp_path / "mse")).config
    assert len(mse_config.hit_memory) == 5 and (mse_config.velocity_memory, mse_config.timing_memory) == (0.0, 0.0)

    drums = build_model(configs.load_config("hierdec_drums_4bar"))
    (tmp_path / "drums").mkdir()
    configs.save_config(drums.config, str(tmp_path / "drums" / "config.json"))
    weights.save_weights(drums, str(tmp_path / "drums" / "weights.npz"))
    refused = run("calibrate_feel.py", "--run_dir=drums", "--midi_dir=mine", cwd=tmp_path)
    assert refused.returncode != 0 and "feel memory needs representation=groove" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_sample_steers_toward_a_style(tmp_path):
    result = run("sample.py", "--num_output=1", "--output_dir=out", "--style=hiphop", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["hiphop_sample_000.mid"]
    unknown = run("sample.py", "--num_output=1", "--style=polka", cwd=tmp_path)
    assert unknown.returncode != 0 and "Unknown style 'polka'. Known styles: afrobeat" in unknown.stderr
    assert "Traceback" not in unknown.stderr
