r"""Peak memory of hostile inputs: an extract_gmd zip bomb, an info.csv of 2 million rows,
and 24 concurrent /api/wav requests.

Usage:
  python bench/hostile_memory.py                    # this checkout
  python bench/hostile_memory.py --code=/tmp/old    # another checkout (git worktree add /tmp/old <commit>)

Each case runs in a fresh Python process importing `groove_vae` from `--code`, and prints
its outcome and the process's peak RSS (`ru_maxrss`) before and after the hostile part;
the baseline is TensorFlow's import, about 0.8 GB. The archives are built in a temporary
folder: a 1 MB zip holding a 1 GB member (`MThd` and zeros), and a 39 kB zip whose
info.csv has 2,000,000 rows. The web cases render with FluidSynth's kit (installed) and
the tiny test config's model; `wav20` asks for 16 bars at 20 qpm (192 s, over the cap),
`wav32` for 16 bars at 32 qpm (120 s, the longest allowed).
"""

import os
import subprocess
import sys
import tempfile
import zipfile

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
flags.DEFINE_string("code", None, "The checkout to measure (default: this one).")
FLAGS = flags.FLAGS

EXTRACT = r"""
import resource, sys
from groove_vae import gmd
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
try:
    gmd.extract(sys.argv[1], sys.argv[2])
    outcome = "extracted"
except Exception as e:
    outcome = f"{type(e).__name__}: {str(e)[:110]}"
print(f"{outcome} | peak RSS {before:.0f} -> {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
"""

WAV = r"""
import collections, resource, sys, threading
sys.path.insert(0, sys.argv[2])
import requests
from helpers import serve_in_thread, tiny_config
from groove_vae import api
from groove_vae.model import build_model
from groove_vae.webapp import app as webapp

application = webapp.create_app(api.GrooveVAE(build_model(tiny_config())))
beat = {"qpm": float(sys.argv[1]), "steps": 256, "notes": [{"step": s, "drum": d} for s in range(256) for d in range(9)]}
codes = collections.Counter()
with serve_in_thread(application) as base:
    requests.get(base + "/api/sounds/kick.wav", timeout=120)  # The kit renders once, before the flood.
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    def one():
        r = requests.post(base + "/api/wav", json=beat, timeout=300)
        codes[f"{r.status_code} ({len(r.content) / 2**20:.0f} MB)"] += 1
    threads = [threading.Thread(target=one) for _ in range(24)]
    [t.start() for t in threads]
    [t.join() for t in threads]
print(f"{dict(codes)} | peak RSS {before:.0f} -> {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
"""


def build_archives(folder):
    with zipfile.ZipFile(os.path.join(folder, "bomb.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("groove/info.csv", "drummer,style,beat_type,split,midi_filename\nd,s,beat,train,d/bomb.mid\n")
        with z.open("groove/d/bomb.mid", "w", force_zip64=True) as f:
            f.write(b"MThd")
            for _ in range(64):
                f.write(bytes(2**24))
    with zipfile.ZipFile(os.path.join(folder, "rows.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("groove/info.csv", "drummer,style,beat_type,split,midi_filename\n" + "d,s,b,t,f\n" * 2_000_000)


def main(argv):
    del argv
    code = os.path.abspath(FLAGS.code or ROOT)
    env = {**os.environ, "PYTHONPATH": code, "TF_CPP_MIN_LOG_LEVEL": "3"}
    with tempfile.TemporaryDirectory() as folder:
        build_archives(folder)
        for case in ("bomb", "rows"):
            archive = os.path.join(folder, f"{case}.zip")
            run = subprocess.run([sys.executable, "-c", EXTRACT, archive, os.path.join(folder, "out")], env=env,
                                 capture_output=True, text=True, cwd=folder)
            print(f"extract_gmd {case} ({os.path.getsize(archive) / 1e6:.2f} MB zip): {run.stdout.strip() or run.stderr[-300:]}")
    for name, qpm in (("wav20", 20), ("wav32", 32)):
        run = subprocess.run([sys.executable, "-c", WAV, str(qpm), os.path.join(ROOT, "tests")], env=env,
                             capture_output=True, text=True, cwd=code)
        print(f"{name}: 24 concurrent /api/wav, 16 bars at {qpm} qpm: {run.stdout.strip() or run.stderr[-300:]}")


if __name__ == "__main__":
    app.run(main)
