r"""Runs the web app: loads the models once, then serves the page and its API with uvicorn.

Usage:
  groove-vae serve                                   # http://127.0.0.1:8000, the bundled models
  python scripts/serve.py --run_dir=runs/x --port=8080
  python scripts/serve.py --tap_run_dir=runs/tap2drum   # a Tap2Drum model for Drumify
  python scripts/serve.py --host=0.0.0.0             # other machines too (a warning says so)

Importing this module is cheap (absl only); TensorFlow and FastAPI load when it serves.
"""

from __future__ import annotations

import errno
import logging
import math
import socket

from absl import app, flags

from groove_vae import cli

MAX_UPLOAD_MB = 100.0  # The cap on --max_upload_mb: a 4-bar MIDI file is a few kB.
HEAD_TIMEOUT_S = 10.0  # A connection that has not sent a whole request head within this is closed.
KEEP_ALIVE_S = 5.0  # An idle keep-alive connection is closed after this.
log = logging.getLogger("groove_vae.webapp")


def define_flags() -> None:
    cli.define_run_dir("A groove model or training run directory (default: the bundled model).")
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


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, taken before the models load: a busy port fails at once, in words."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise OSError(f"Port {port} on {host} is in use (another server, or groove-vae serve "
                          "already running?); pick another with --port.") from None
        raise OSError(f"Cannot listen on {host}:{port}: {e.strerror}.") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def head_timeout_protocol(timeout_s: float = HEAD_TIMEOUT_S):
    """uvicorn's HTTP/1.1 protocol, also closing a connection that has not sent a whole
    request head within `timeout_s` (uvicorn times out only idle keep-alive connections, so
    a client that connects and sends half a request would hold its socket for ever)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadTimeoutH11Protocol(H11Protocol):
        def connection_made(self, transport):
            super().connection_made(transport)
            self._arm_head_timer()

        def _arm_head_timer(self):
            self._head_cycle = self.cycle
            self._head_timer = self.loop.call_later(timeout_s, self._head_timed_out)

        def _head_timed_out(self):
            if self.cycle is self._head_cycle and not self.transport.is_closing():  # No new request head.
                self.transport.close()

        def on_response_complete(self):
            super().on_response_complete()
            self._head_timer.cancel()
            self._arm_head_timer()

        def connection_lost(self, exc):
            self._head_timer.cancel()
            super().connection_lost(exc)

    return HeadTimeoutH11Protocol


def allowed_hosts(host: str) -> tuple[str, ...] | None:
    """The Host headers a server bound to `host` answers: on a loopback address (127.0.0.0/8,
    ::1, localhost) only the local names and that address, so a DNS-rebinding page is refused
    however the app is bound; on any other address (0.0.0.0, a LAN address) any Host, since
    other machines name it as they like."""
    import ipaddress

    from groove_vae.webapp.app import LOCAL_HOSTS

    try:
        loopback = host.lower() == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    return tuple(dict.fromkeys((*LOCAL_HOSTS, host.strip("[]").lower()))) if loopback else None


def load_helper_model(run_dir: str | None, name: str):
    """A bundled helper model ("humanize", "infill") when the groove model is the bundled
    one (and it is installed); a model given with --run_dir plays these verbs itself."""
    from groove_vae import api

    if run_dir is not None:
        return None
    try:
        return api.load(name)
    except FileNotFoundError:
        return None


def serve(run_dir: str | None = None, tap_run_dir: str | None = None, host: str = "127.0.0.1",
          port: int = 8000, max_upload_bytes: int = 1_000_000, head_timeout_s: float = HEAD_TIMEOUT_S) -> None:
    sock = bind(host, port)  # First: a busy port is said at once, before seconds of loading.
    try:
        import uvicorn

        from groove_vae.webapp.app import NO_TAP_MODEL, create_app, warm_up

        logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
        vae, tap_vae, tap_message = load_models(run_dir, tap_run_dir)
        humanize_vae, infill_vae = load_helper_model(run_dir, "humanize"), load_helper_model(run_dir, "infill")
        warm_up(vae, tap_vae, humanize_vae, infill_vae)
        if tap_vae is None:
            log.warning("Drumify is off: %s", tap_message)
        hosts = allowed_hosts(host)
        if hosts is None:
            log.warning("Listening on %s: anyone who can reach this machine on port %d can use the app.", host, port)
        application = create_app(vae, tap_vae, tap_message or NO_TAP_MODEL, max_upload_bytes,
                                 model_name=run_dir or "bundled groovae_4bar",
                                 allowed_hosts=hosts, humanize_vae=humanize_vae,
                                 infill_vae=infill_vae)
        config = uvicorn.Config(application, log_level="warning", lifespan="off", timeout_keep_alive=KEEP_ALIVE_S,
                                http=head_timeout_protocol(head_timeout_s))
        server = uvicorn.Server(config)
        shown = f"[{host}]" if ":" in host else host
        print(f"groove-vae web app: http://{shown}:{port}/  (Ctrl-C stops it)", flush=True)
        server.run(sockets=[sock])
    finally:
        sock.close()


def check_flags(port: int, max_upload_mb: float) -> None:
    """--port and --max_upload_mb, refused in one line before any model loads."""
    if not 0 < port < 65536:
        raise app.UsageError(f"--port must be 1-65535, got {port}.")
    if not (math.isfinite(max_upload_mb) and 0 < max_upload_mb <= MAX_UPLOAD_MB):
        raise app.UsageError(f"--max_upload_mb must be above 0 and at most {MAX_UPLOAD_MB:g}, got {max_upload_mb:g}.")


def main(argv) -> None:
    cli.start()
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    flags_ = flags.FLAGS
    check_flags(flags_.port, flags_.max_upload_mb)
    try:
        serve(flags_.run_dir, flags_.tap_run_dir, flags_.host, flags_.port, int(flags_.max_upload_mb * 1e6))
    except (OSError, ValueError) as e:  # A busy port, a missing model: one line, no traceback.
        raise app.UsageError(str(e))
