r"""Serves the web app on this machine: a drum machine over the model, in the browser.

Usage:
  python scripts/serve.py                                   # http://127.0.0.1:8000, bundled models
  python scripts/serve.py --run_dir=runs/x --port=8080
  python scripts/serve.py --tap_run_dir=runs/tap2drum       # a Tap2Drum model for Drumify
  python scripts/serve.py --host=0.0.0.0                    # other machines too (a warning says so)

The same as `groove-vae serve`.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae.webapp import server

server.define_flags()
flags.adopt_module_key_flags(server)  # So --help lists them.

if __name__ == "__main__":
    app.run(server.main)
