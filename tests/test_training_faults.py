"""Training survives faults: SIGKILL at any moment, and non-finite losses."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from helpers import ROOT, TINY, random_groove, tiny_config

from groove_vae import callbacks, optimizers
from groove_vae.model import build_model


def train_command(run_dir, num_steps):
    return [sys.executable, os.path.join(ROOT, "scripts", "train.py"), "--config=groovae_4bar", f"--hparams={TINY}",
            f"--run_dir={run_dir}", "--steps_per_epoch=2", "--eval_batches=1", f"--num_steps={num_steps}"]


@pytest.mark.slow  # Two fresh training processes: about 40 s.
def test_sigkill_then_rerun_resumes_from_the_last_complete_checkpoint(tmp_path, tfds_data_dir):
    run_dir = tmp_path / "run"
    process = subprocess.Popen(train_command(run_dir, 400), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    def committed_step():  # The checkpoint the run directory's state file names: written last.
        latest = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
        return int(latest.rsplit("-", 1)[1]) if latest else 0

    deadline = time.time() + 240
    while committed_step() < 4 and time.time() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)  # Mid-run: perhaps as later checkpoints are being written.
    process.wait()
    latest = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    assert latest is not None
    step = int(latest.rsplit("-", 1)[1])
    assert step >= 4 and os.path.exists(latest + ".index")

    result = subprocess.run(train_command(run_dir, step + 2), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Resumed from {latest} (step {step})" in result.stdout
    assert tf.train.latest_checkpoint(str(run_dir / "checkpoints")).endswith(f"ckpt-{step + 2}")


@pytest.mark.slow  # Two training subprocesses, ~30 s; the in-process NaN tests below run by default.
@pytest.mark.parametrize("policy", ["stop", "continue"])
def test_a_diverging_run_restores_its_checkpoint(tmp_path, tfds_data_dir, policy):
    """A learning rate of 1e30 blows the weights up after the first step; the loss of the
    second is not finite. The run restores the checkpoint of step 1, then stops or goes on."""
    command = train_command(tmp_path / "run", 4)
    command[3] = f"--hparams={TINY},learning_rate=1e30,min_learning_rate=1e30"
    command[5] = "--steps_per_epoch=1"
    result = subprocess.run(command + [f"--on_nonfinite={policy}"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Non-finite loss at step" in result.stdout and "restored" in result.stdout
    assert ("stopping" if policy == "stop" else "continuing") in result.stdout
    if policy == "continue":
        assert result.stdout.count("Non-finite loss") > 1  # It went on, and met the same wall again.
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(tmp_path / "run" / "checkpoints")))
    for name in reader.get_variable_to_shape_map():
        value = reader.get_tensor(name)
        if np.issubdtype(np.asarray(value).dtype, np.floating):
            assert np.all(np.isfinite(value)), name


def fit_with_a_nan_batch(tmp_path, policy):
    config = tiny_config()
    model = build_model(config)
    optimizer = optimizers.make_optimizer(config)
    model.compile(optimizer=optimizer)
    optimizer.build(model.trainable_variables)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
    manager = tf.train.CheckpointManager(checkpoint, str(tmp_path / policy), max_to_keep=2)
    manager.save(checkpoint_number=0)
    saved = [w.numpy().copy() for w in model.weights]
    batches = random_groove(np.random.default_rng(0), 6 * 8).reshape(6, 8, 64, 27)
    batches[2, 0, 0, 9] = np.nan  # One bad value in the third batch.
    guard = callbacks.NonFiniteLoss(checkpoint, manager, policy)
    model.fit(tf.data.Dataset.from_tensor_slices(batches), epochs=1, callbacks=[guard], verbose=0)
    return model, saved, guard


def test_a_nan_loss_restores_the_last_checkpoint_and_stops(tmp_path):
    model, saved, guard = fit_with_a_nan_batch(tmp_path, "stop")
    assert guard.events == 1
    for weight, before in zip(model.weights, saved):
        np.testing.assert_array_equal(weight.numpy(), before)


@pytest.mark.slow  # The stop policy's test runs by default; this one trains on after the restore.
def test_a_nan_loss_can_be_survived(tmp_path):
    model, saved, guard = fit_with_a_nan_batch(tmp_path, "continue")
    assert guard.events == 1
    assert all(np.all(np.isfinite(w.numpy())) for w in model.weights)
    assert any(not np.array_equal(w.numpy(), b) for w, b in zip(model.weights, saved))  # It trained on.


def test_a_non_finite_step_never_reaches_the_weights():
    config = tiny_config()
    model = build_model(config)
    model.compile(optimizer=optimizers.make_optimizer(config))
    batch = random_groove(np.random.default_rng(1), 8)
    model.train_on_batch(batch)
    before = [w.numpy().copy() for w in model.weights]
    step = int(model.optimizer.iterations.numpy())
    batch[0, 0, 9] = np.inf
    model.train_on_batch(batch)
    assert int(model.optimizer.iterations.numpy()) == step
    for weight, b in zip(model.weights, before):
        np.testing.assert_array_equal(weight.numpy(), b)
