import json
import os
import subprocess
import sys

import numpy as np
from helpers import run_command, tiny_config

from groove_vae import configs, runs, weights
from groove_vae.groove import hits as hits_of
from groove_vae.groove import offsets as offsets_of
from groove_vae.groove import velocities as velocities_of
from groove_vae.model import build_model
from groove_vae.sampling import SamplingOptions

LOAD_WITHOUT_GROOVE_VAE = r"""
import sys, numpy as np, tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
decode = model.signatures["serving_default"]
z = np.load(sys.argv[2])
out = decode(z=tf.constant(z), temperature=tf.constant(0.7), seed=tf.constant(5))
np.savez(sys.argv[3], **{k: v.numpy() for k, v in out.items()})
assert "groove_vae" not in sys.modules
"""


def make_run_dir(path, config):
    """A run directory as training leaves it: config and best weights."""
    model = build_model(config)
    os.makedirs(path, exist_ok=True)
    configs.save_config(config, os.path.join(path, runs.CONFIG_FILE))
    weights.save_weights(model, os.path.join(path, runs.WEIGHTS_FILE))
    return model


def test_export_script_writes_a_savedmodel_that_tensorflow_alone_runs(tmp_path):
    # A fitted feel memory, its hit memory read at the served temperature (0.7) inside the graph.
    config = tiny_config(extra="hit_memory=[0.0,0.2,0.6,0.8,0.9],velocity_memory=0.8,timing_memory=0.3")
    model = make_run_dir(tmp_path / "run", config)
    export_dir = tmp_path / "export" / "groove_vae" / "1"
    exported = run_command("export", f"--run_dir={tmp_path / 'run'}", f"--export_dir={export_dir}", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert (export_dir / "saved_model.pb").exists()
    assert json.loads((export_dir / "assets.extra" / "groove_vae_config.json").read_text())["z_size"] == config.z_size

    z = np.random.default_rng(0).normal(size=(3, config.z_size)).astype(np.float32)
    np.save(tmp_path / "z.npy", z)
    script = tmp_path / "load.py"
    script.write_text(LOAD_WITHOUT_GROOVE_VAE)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(
        [sys.executable, str(script), str(export_dir), str(tmp_path / "z.npy"), str(tmp_path / "out.npz")],
        check=True, capture_output=True, cwd=tmp_path, env=env,
    )
    served = np.load(tmp_path / "out.npz")
    expected = model.decode(z, SamplingOptions(0.7, 5)).numpy()
    assert served["hits"].shape == (3, 64, 9)
    np.testing.assert_allclose(served["hits"], hits_of(expected), atol=1e-5)
    np.testing.assert_allclose(served["velocities"], velocities_of(expected), atol=1e-5)
    np.testing.assert_allclose(served["offsets"], offsets_of(expected), atol=1e-5)
