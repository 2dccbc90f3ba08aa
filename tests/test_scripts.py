"""The user's commands, run as a user runs them: in fresh processes."""

import os
import subprocess
import sys

import pytest
from conftest import ROOT, TINY

from groove_vae import converter


def run_script(name, *args, cwd, env=None):
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", name), *args],
        capture_output=True, text=True, cwd=cwd, env=env,
    )


def test_sample_with_the_bundled_model_writes_drum_midi(tmp_path):
    result = run_script("sample.py", "--num_output=5", "--output_dir=out", "--seed=1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    paths = sorted((tmp_path / "out").glob("*.mid"))
    assert len(paths) == 5
    for path in paths:
        ns = converter.read_midi(path)
        assert ns.notes and all(n.is_drum for n in ns.notes)
        assert ns.tempos[0].qpm == pytest.approx(120)
        assert max(n.start_time for n in ns.notes) < 8.0  # 4 bars at 120 qpm.
        assert {n.pitch for n in ns.notes} <= {36, 38, 42, 46, 43, 47, 50, 49, 51}


def test_sample_is_reproducible_with_a_seed(tmp_path):
    for name in ("a", "b"):
        result = run_script("sample.py", "--num_output=2", f"--output_dir={name}", "--seed=4", "--qpm=90", cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
    for i in range(2):
        assert (tmp_path / "a" / f"sample_00{i}.mid").read_bytes() == (tmp_path / "b" / f"sample_00{i}.mid").read_bytes()


def test_sample_rejects_a_missing_run_dir(tmp_path):
    result = run_script("sample.py", "--run_dir=nowhere", cwd=tmp_path)
    assert result.returncode != 0 and "nowhere" in result.stderr


def test_train_resumes_when_rerun(tmp_path, tfds_data_dir):
    args = ["--config=groovae_4bar", f"--hparams={TINY}", "--run_dir=run", "--steps_per_epoch=2", "--eval_batches=1"]
    first = run_script("train.py", *args, "--num_steps=2", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "skipped" in first.stdout and (tmp_path / "run" / "checkpoints" / "ckpt-2.index").exists()
    second = run_script("train.py", *args, "--num_steps=4", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Resumed from" in second.stdout and "step 2" in second.stdout
    assert (tmp_path / "run" / "checkpoints" / "ckpt-4.index").exists()
    assert (tmp_path / "run" / "best.weights.h5").exists()
    assert len((tmp_path / "run" / "history.csv").read_text().strip().splitlines()) == 3  # Header + 2 epochs.
    assert list((tmp_path / "run" / "logs").rglob("*tfevents*"))
    changed = run_script("train.py", *args[:-3], "--run_dir=run", "--hparams=z_size=4", "--num_steps=6", cwd=tmp_path)
    assert changed.returncode != 0 and "another config" in changed.stderr
