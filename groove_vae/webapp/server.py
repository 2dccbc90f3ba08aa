r"""Runs the web app: loads the models once, then serves the page and its API with uvicorn.

Usage:
  groove-vae serve                                   # http://127.0.0.1:8000, the bundled models
  python scripts/serve.py --run_dir=runs/x --port=8080
  python scripts/serve.py --tap_run_dir=runs/tap2drum   # a Tap2Drum model for Drumify
  python scripts/serve.py --host=0.0.0.0             # other machines too (a warning says so)

Importing this module is cheap (absl only); TensorFlow and FastAPI load when it serves.
"""

from __future__ import annotations

import logging

from absl import app, flags

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
log = logging.getLogger("groove_vae.webapp")


def define_flags() -> None:
    flags.DEFINE_string("run_dir", None, "A groove model or training run directory (default: the bundled model).")
    flags.DEFINE_string("tap_run_dir", None, "A model trained with input_transform=tap for Drumify "
                        "(default: the bundled tap2drum model; without one, Drumify says so).")
    flags.DEFINE_string("host", "127.0.0.1", "Address to listen on; anything but localhost lets other machines in.")
    flags.DEFINE_integer("port", 8000, "Port to listen on.")
    flags.DEFINE_float("max_upload_mb", 1.0, "Largest request body accepted, in MB (a 4-bar MIDI file is a few kB).")


def load_models(run_dir: str | None, tap_run_dir: str | None):
    """(groove model, tap model or None, why there is none). A named tap model must load."""
    from groove_vae import api
    from groove_vae.webapp.app import NO_TAP_MODEL

    vae = api.load(run_dir)
    try:
        tap_vae = api.load(tap_run_dir or "tap2drum")
    except FileNotFoundError:
        if tap_run_dir:
            raise
        return vae, None, NO_TAP_MODEL
    if tap_vae.config.input_transform != "tap":
        raise ValueError(f"{tap_run_dir}: input_transform={tap_vae.config.input_transform}; "
                         "--tap_run_dir needs a model trained with input_transform=tap.")
    return vae, tap_vae, None


def serve(run_dir: str | None = None, tap_run_dir: str | None = None, host: str = "127.0.0.1",
          port: int = 8000, max_upload_bytes: int = 1_000_000) -> None:
    import uvicorn

    from groove_vae.webapp.app import NO_TAP_MODEL, create_app, warm_up

    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    vae, tap_vae, tap_message = load_models(run_dir, tap_run_dir)
    warm_up(vae, tap_vae)
    if tap_vae is None:
        log.warning("Drumify is off: %s", tap_message)
    if host not in LOCAL_HOSTS:
        log.warning("Listening on %s: anyone who can reach this machine on port %d can use the app.", host, port)
    application = create_app(vae, tap_vae, tap_message or NO_TAP_MODEL, max_upload_bytes,
                             model_name=run_dir or "bundled groovae_4bar")
    shown = f"[{host}]" if ":" in host else host
    print(f"groove-vae web app: http://{shown}:{port}/  (Ctrl-C stops it)", flush=True)
    uvicorn.run(application, host=host, port=port, log_level="warning")


def main(argv) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    flags_ = flags.FLAGS
    if not 0 < flags_.port < 65536:
        raise app.UsageError(f"--port must be 1-65535, got {flags_.port}.")
    if flags_.max_upload_mb <= 0:
        raise app.UsageError("--max_upload_mb must be positive.")
    try:
        serve(flags_.run_dir, flags_.tap_run_dir, flags_.host, flags_.port, int(flags_.max_upload_mb * 1e6))
    except (FileNotFoundError, ValueError) as e:
        raise app.UsageError(str(e))
