"""A local drum machine in the browser: sample, blend, humanize and drumify beats, and hear them.

`app.py` is the HTTP API (FastAPI) over `groove_vae.api`, `server.py` loads the models
and runs it with uvicorn, `static/` is the page (plain HTML, CSS and JavaScript).

Usage:
  groove-vae serve                       # http://127.0.0.1:8000
  python scripts/serve.py --run_dir=runs/x --tap_run_dir=runs/tap --port=8080
"""
