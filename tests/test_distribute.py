"""Training under tf.distribute, run as users run it and in fresh processes: MirroredStrategy
over two logical CPU devices, and MultiWorkerMirroredStrategy over two worker processes on
127.0.0.1, end with the weights that one process gets from the same global batches; only
the chief writes; a distributed run resumes from its checkpoint."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT, make_sequence, to_midi_bytes

from groove_vae import distribute

# Smaller than TINY (one LSTM layer each, the flat decoder) to keep the traces short, which
# are most of the time here. batch_size=8 is global: 4 per replica. Two steps and a checkpoint,
# then a resumed run to four.
CONFIG = "groovae_4bar_flat"
# float32 pinned: "auto" picks bfloat16 on CPUs with its units, and these tests compare weights at 1e-5.
SMALL = "encoder_rnn_sizes=[16],decoder_rnn_sizes=[16],z_size=4,batch_size=8,dropout_rate=0.0,precision=float32"

# Equal up to float32 reduction order: a replica's gradient is the mean over its 4 examples and
# the all-reduce averages the two, where one process sums the 8 at once, so gradients agree to a
# few ulps (~1e-7 relative) and weights of magnitude ~0.1-1 to ~3e-8 (measured). Adam divides by
# sqrt(v) + 1e-7, so a gradient element that nearly cancels could turn an ulp into a visible part
# of its step (lr 1e-3); 1e-5 leaves 300x room for that above what is measured, and stays 100x
# below what each mistake this guards against made (measured, in 2 steps): noise drawn alike on
# every replica 4e-3, clipping each replica's share before the all-reduce 1.8e-3, an iterator
# that re-shuffles differently 4e-3.
ATOL = 1e-5

MIRRORED = """
import sys
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]  # Before TensorFlow starts: two logical CPUs.
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from groove_vae import configs, training

root, midi_dir, name, hparams = sys.argv[1:]
config = configs.apply_hparams(configs.load_config(name), hparams)
try:
    training.train(configs.from_dict({"batch_size": 7}, config), root + "/odd", 2, strategy="mirrored")
except ValueError as e:
    print("refused:", e)
for strategy, runs in (("default", (2, 4)), ("mirrored", (2,))):
    for steps in runs:  # A second call resumes from the checkpoint of step 2.
        history = training.train(config, f"{root}/{strategy}", steps, steps_per_epoch=2, eval_batches=1,
                                 midi_dir=midi_dir, validation_fraction=0.3, verbose=0, strategy=strategy)
        np.savez(f"{root}/{strategy}-{steps}.npz", *history.model.get_weights())

# One more step on the mirrored model, with a NaN in replica 1's half of the batch only.
model = history.model
batch = np.random.default_rng(0).random((8, 64, 27)).astype(np.float32)
steps = [int(model.optimizer.iterations.numpy())]
for value in (np.nan, 0.5):
    batch[6, 0, 0] = value
    before = [w.copy() for w in model.get_weights()]
    model.fit(tf.data.Dataset.from_tensors(batch), verbose=0)
    steps.append(int(model.optimizer.iterations.numpy()))
    print("unchanged:", all(np.array_equal(a, b) for a, b in zip(before, model.get_weights())))
print("steps:", steps)
"""

# A worker: scripts/train.py for 2 steps, then the run resumed to 4 (in this process, which
# cannot make a second multi-worker strategy); it saves the weights it ends each with.
WORKER = """
import runpy
import sys
import numpy as np
from groove_vae import configs, training

output, script, run_dir, midi_dir, name, hparams = sys.argv[1:]
train = training.train

def train_and_save(*args, **kwargs):
    history = train(*args, **kwargs)
    np.savez(f"{output}-{int(history.model.optimizer.iterations.numpy())}.npz", *history.model.get_weights())
    return history

training.train = train_and_save
sys.argv = [script, f"--config={name}", f"--hparams={hparams}", f"--run_dir={run_dir}", f"--midi_dir={midi_dir}",
            "--validation_fraction=0.3", "--steps_per_epoch=2", "--eval_batches=1", "--num_steps=2",
            "--strategy=multi_worker"]
try:
    runpy.run_path(script, run_name="__main__")
except SystemExit as e:
    assert not e.code, e.code
config = configs.apply_hparams(configs.load_config(name), hparams)
training.train(config, run_dir, 4, steps_per_epoch=2, eval_batches=1, midi_dir=midi_dir, validation_fraction=0.3,
               verbose=0, strategy="multi_worker")
"""


def weights(path):
    with np.load(path) as f:
        return [f[f"arr_{i}"] for i in range(len(f.files))]


def assert_same_weights(a, b, atol=ATOL):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=0, atol=atol)


def finish(process, timeout=300):
    """Waits for a process; its stdout, once it has exited 0."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr[-3000:]
    return stdout


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
                       GROOVE_VAE_CACHE=str(tmp_path_factory.mktemp("cache")))
    environment.pop("TF_CONFIG", None)
    return environment


@pytest.fixture(scope="module")
def midi_dir(tmp_path_factory):
    """Six different 6-bar random beats: 18 windows, none alike, so a replica that read the
    wrong examples would change the gradient."""
    folder = tmp_path_factory.mktemp("drums")
    rng = np.random.default_rng(0)
    for i in range(6):
        notes = [(pitch, int(rng.integers(20, 128)), 0.03 + step * 0.125 + float(rng.uniform(-0.02, 0.02)))
                 for step in range(96) for pitch in (36, 38, 42, 46, 43, 47, 50, 49, 51) if rng.random() < 0.12]
        (folder / f"beat_{i}.mid").write_bytes(to_midi_bytes(make_sequence(notes)))
    return str(folder)


@pytest.fixture(scope="module")
def one_process_and_mirrored(tmp_path_factory, midi_dir, env):
    """Default strategy (2 steps, then resumed to 4) and MirroredStrategy over two logical
    CPUs (2 steps), in one process.

    Started at once and awaited on first use, so that it runs beside the two workers: most of
    each process's time is the single-threaded tracing of the train and test steps.
    """
    root = tmp_path_factory.mktemp("mirrored")
    process = subprocess.Popen([sys.executable, "-c", MIRRORED, str(root), midi_dir, CONFIG, SMALL],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    outcome = []

    def result():
        if not outcome:
            outcome.append(finish(process))
        return root, outcome[0]

    yield result
    if process.poll() is None:
        process.kill()


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow  # Fresh TensorFlow processes (workers, logical devices): ~1 minute together.
def test_two_workers_equal_one_process_the_chief_alone_writes_and_both_resume(
        tmp_path, midi_dir, env, one_process_and_mirrored):
    """Two workers of one MultiWorkerMirroredStrategy cluster on 127.0.0.1, each running
    scripts/train.py to step 2 and then resuming to step 4."""
    run_dir = tmp_path / "run"
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    processes = []
    for index in range(2):
        (tmp_path / f"tmp{index}").mkdir()
        worker_env = dict(env, TMPDIR=str(tmp_path / f"tmp{index}"),
                          TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        command = [sys.executable, "-c", WORKER, str(tmp_path / f"worker{index}"),
                   os.path.join(ROOT, "scripts", "train.py"), str(run_dir), midi_dir, CONFIG, SMALL]
        processes.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                          env=worker_env))
    outputs, failures = [], []
    for index, process in enumerate(processes):  # Every worker finishes; each failure is named.
        try:
            outputs.append(finish(process))
        except (AssertionError, subprocess.TimeoutExpired) as e:
            failures.append(f"worker {index} (exit {process.poll()}): {e}")
    assert not failures, "\n\n".join(failures)

    reference, _ = one_process_and_mirrored()
    for steps in (2, 4):
        chief, other = weights(tmp_path / f"worker0-{steps}.npz"), weights(tmp_path / f"worker1-{steps}.npz")
        assert_same_weights(chief, other, atol=0)  # Mirrored variables: bit for bit.
        assert_same_weights(chief, weights(reference / f"default-{steps}.npz"))
    for stdout in outputs:  # Both, the non-chief included, restored the chief's checkpoint.
        assert f"Resumed from {run_dir}/checkpoints/ckpt-2 (step 2)" in stdout

    # The chief alone wrote: one writer's files, one line per epoch, one event file per run;
    # the other saved its copies in a temporary folder, and removed it.
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "best.json", "checkpoints", "config.json", "history.csv", "logs", "weights.npz"]
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == [
        "checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index", "ckpt-4.data-00000-of-00001", "ckpt-4.index"]
    assert len((run_dir / "history.csv").read_text().splitlines()) == 1 + 2
    assert len(list((run_dir / "logs" / "train").iterdir())) == 2
    assert not any((tmp_path / "tmp1").iterdir())


@pytest.mark.slow  # Fresh TensorFlow processes (workers, logical devices): ~1 minute together.
def test_a_global_batch_must_split_evenly_over_the_replicas(one_process_and_mirrored):
    _, stdout = one_process_and_mirrored()
    assert "refused: batch_size 7 does not split evenly over 2 replicas" in stdout


@pytest.mark.slow  # Fresh TensorFlow processes (workers, logical devices): ~1 minute together.
def test_mirrored_over_two_devices_equals_one_process(one_process_and_mirrored):
    root, _ = one_process_and_mirrored()
    assert_same_weights(weights(root / "default-2.npz"), weights(root / "mirrored-2.npz"))
    moved = max(float(np.max(np.abs(a - b)))
                for a, b in zip(weights(root / "default-2.npz"), weights(root / "default-4.npz")))
    assert moved > 100 * ATOL  # An Adam step moves weights by up to lr = 1e-3.


@pytest.mark.slow  # Fresh TensorFlow processes (workers, logical devices): ~1 minute together.
def test_a_non_finite_gradient_on_one_replica_skips_the_step_on_all(one_process_and_mirrored):
    _, stdout = one_process_and_mirrored()
    assert "steps: [2, 2, 3]" in stdout  # The NaN step was skipped; the next one was taken.
    assert "unchanged: True\nunchanged: False" in stdout


def test_strategies_are_named_and_multi_worker_needs_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        distribute.make_strategy("multi_worker")
    with pytest.raises(ValueError, match="default, mirrored, multi_worker"):
        distribute.make_strategy("parameter_server")
