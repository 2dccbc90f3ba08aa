"""The package outside its checkout: a wheel installed into a fresh virtual environment,
driven from an empty directory with the installed `groove-vae` command only."""

import glob
import os
import site
import subprocess
import sys

import pytest
from helpers import ROOT, TINY, flat_beat, make_sequence, to_midi_bytes


def beat(bars=8):
    notes = [(36 if i % 2 == 0 else 38, 100, i * 0.5) for i in range(4 * bars)]
    return to_midi_bytes(make_sequence(notes + [(42, 70, i * 0.25) for i in range(8 * bars)]))


@pytest.mark.slow  # Builds a wheel and runs five fresh TensorFlow processes: about two minutes.
def test_a_wheel_in_a_fresh_environment_trains_samples_humanizes_and_exports(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), ROOT], check=True, capture_output=True, timeout=600)
    env_dir = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, timeout=300)
    python = str(env_dir / "bin" / "python")
    # Offline: the dependencies come from this environment's site-packages (a path, so its
    # own .pth files, such as the checkout's editable install, are not processed).
    new_site = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"],
                              check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(new_site, "groove_vae_test_deps.pth"), "w") as f:
        f.write("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    *glob.glob(str(wheels / "groove_vae-*.whl"))], check=True, capture_output=True, timeout=600)
    work = tmp_path / "empty"
    (work / "drums").mkdir(parents=True)
    for i in range(8):
        (work / "drums" / f"groove_{i}.mid").write_bytes(beat())
    (work / "flat.mid").write_bytes(to_midi_bytes(flat_beat()))
    command = str(env_dir / "bin" / "groove-vae")
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    environment.update(TF_CPP_MIN_LOG_LEVEL="2", GROOVE_VAE_CACHE=str(tmp_path / "cache"))

    def groove_vae(*args, help_=False):
        run = subprocess.run([command, *args], cwd=work, env=environment, capture_output=True, text=True,
                             timeout=600)
        assert help_ or run.returncode == 0, f"groove-vae {' '.join(args)}:\n{run.stderr[-3000:]}"
        return run.stdout + run.stderr

    where = subprocess.run([python, "-c", "import groove_vae, os; print(os.path.dirname(groove_vae.__file__))"],
                           cwd=work, env=environment, capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(str(env_dir)), f"groove_vae imported from {where}, not the wheel"
    # The checkout's top-level configs/ travel in the wheel as groove_vae/named_configs/.
    assert os.path.isfile(os.path.join(where, "named_configs", "groovae_4bar.json"))
    listing = groove_vae("--help")
    for name in ("train", "sample", "humanize", "infill", "continue", "export", "evaluate", "serve"):
        assert f"  {name} " in listing
    assert "--num_steps" in groove_vae("train", "--help", help_=True)  # absl exits 1 after --help.
    groove_vae("train", "--config=groovae_4bar", f"--hparams={TINY}", "--midi_dir=drums", "--run_dir=run",
               "--validation_fraction=0.3", "--num_steps=2", "--steps_per_epoch=2", "--eval_batches=1")
    assert os.path.exists(work / "run" / "config.json")
    groove_vae("sample", "--num_output=2", "--output_dir=out")
    assert sorted(os.listdir(work / "out")) == ["sample_000.mid", "sample_001.mid"]
    groove_vae("humanize", "--input=flat.mid", "--output=played.mid")
    assert (work / "played.mid").stat().st_size > 100
    groove_vae("infill", "--input=flat.mid", "--keep=kick,snare", "--output=filled.mid")  # The bundled infill model.
    groove_vae("continue", "--input=flat.mid", "--num_bars=4", "--output=song.mid")
    assert (work / "filled.mid").stat().st_size > 100 and (work / "song.mid").stat().st_size > 100
    groove_vae("export", "--run_dir=run", "--export_dir=export/gv")
    assert glob.glob(str(work / "export" / "gv" / "*" / "saved_model.pb"))
