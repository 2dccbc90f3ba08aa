"""Helpers the tests share: tiny configs, MIDI built in code, a server in a thread."""

import contextlib
import http.server
import json
import io
import os
import socket
import sys
import threading
import time

import numpy as np
from note_seq import midi_io
from note_seq.protobuf import music_pb2

from groove_vae import configs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_TFDS = os.path.join(ROOT, "..", "shared", "data", "tensorflow_datasets")

TINY = (
    "encoder_rnn_sizes=[32,32],conductor_rnn_sizes=[24,24],conductor_output_size=16,"
    "decoder_rnn_sizes=[24,24],z_size=8,batch_size=8,dropout_rate=0.0,precision=float32"
)
CONFIG_NAMES = ["groovae_4bar", "groovae_4bar_flat", "hierdec_drums_4bar", "drums_4bar_flat"]


def tiny_config(name="groovae_4bar", extra=""):
    return configs.apply_hparams(configs.load_config(name), TINY + ("," + extra if extra else ""))


def make_sequence(notes, qpm=120.0, numerator=4, denominator=4, is_drum=True):
    """notes: (pitch, velocity, start_seconds) -> a NoteSequence with one tempo and meter."""
    ns = music_pb2.NoteSequence(ticks_per_quarter=480)
    ns.tempos.add(qpm=qpm)
    ns.time_signatures.add(numerator=numerator, denominator=denominator)
    for pitch, velocity, start in notes:
        ns.notes.add(pitch=pitch, velocity=velocity, start_time=start, end_time=start + 0.05,
                     is_drum=is_drum, instrument=9 if is_drum else 0)
    ns.total_time = max([n.end_time for n in ns.notes] + [0.0])
    return ns


def flat_beat(bars=4, velocity=100):
    """A quantized, flat-velocity beat: kick on 1 and 3, snare on 2 and 4, hi-hat eighths."""
    notes = []
    for beat in range(4 * bars):
        notes.append((36 if beat % 2 == 0 else 38, velocity, beat * 0.5))
        notes += [(42, velocity, beat * 0.5), (42, velocity, beat * 0.5 + 0.25)]
    return make_sequence(notes)


def to_midi_bytes(ns):
    buffer = io.BytesIO()
    midi_io.note_sequence_to_pretty_midi(ns).write(buffer)
    return buffer.getvalue()


def random_groove(rng, batch, steps=64, density=0.15):
    """Random groove tensors [batch, steps, 27] with consistent hits/velocities/offsets."""
    hits = (rng.random((batch, steps, 9)) < density).astype(np.float32)
    velocities = hits * rng.integers(1, 128, hits.shape) / 127.0
    offsets = hits * rng.uniform(-1, 1, hits.shape)
    return np.concatenate([hits, velocities, offsets], -1).astype(np.float32)


@contextlib.contextmanager
def serve_in_thread(app, **config):
    """Runs an ASGI app with uvicorn on a free 127.0.0.1 port in a thread; yields its URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", **config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("The test server did not start.")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def run_command(name, *args, cwd):
    """Runs a command in this process (groove_vae.commands.call) from `cwd`, as a shell
    would: the result's returncode, stdout and stderr are what `subprocess.run` would
    report, with a usage error's message on stderr. A fresh process costs seconds of
    TensorFlow start-up and proves nothing more for most commands."""
    import subprocess

    from absl import app

    from groove_vae import commands

    stdout, stderr, returncode = io.StringIO(), io.StringIO(), 0
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                commands.call(name, list(args))
            except app.UsageError as e:
                print(f"FATAL: {e}", file=sys.stderr)
                returncode = 1
            except SystemExit as e:
                returncode = e.code if isinstance(e.code, int) else 1
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess([name, *args], returncode, stdout.getvalue(), stderr.getvalue())


def serve_rest(served, body):
    """What TF Serving does with a REST body: parse, fill SignatureDef defaults, run, format."""
    import tensorflow as tf

    loaded, meta_graph = served
    name = body.get("signature_name", "serving_default")
    signature_def = meta_graph.signature_def[name]
    function = loaded.signatures[name]
    if "instances" in body:
        rows = body["instances"]
        values = {k: np.asarray([row[k] for row in rows]) for k in rows[0]}
    else:
        values = {k: np.asarray(v) for k, v in body["inputs"].items()}
    for key, default in signature_def.defaults.items():
        values.setdefault(key, tf.make_ndarray(default))
    missing = set(signature_def.inputs) - set(values)
    if missing:
        return {"error": f"Missing inputs: {sorted(missing)}"}
    tensors = {
        k: tf.constant(v, tf.as_dtype(signature_def.inputs[k].dtype)) for k, v in values.items()
    }
    try:
        outputs = {k: v.numpy() for k, v in function(**tensors).items()}
    except (tf.errors.InvalidArgumentError, ValueError, TypeError) as e:
        return {"error": str(e).splitlines()[0]}
    if "instances" in body:
        batch = len(next(iter(outputs.values())))
        return {"predictions": [{k: v[i].tolist() for k, v in outputs.items()} for i in range(batch)]}
    return {"outputs": {k: v.tolist() for k, v in outputs.items()}}


@contextlib.contextmanager
def rest_server(answer):
    """A stand-in for TF Serving's REST port on 127.0.0.1: answer(path, body) -> the JSON
    reply (400 when it holds an error). Yields the server."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            reply = answer(self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            data = json.dumps(reply).encode()
            self.send_response(200 if "error" not in reply else 400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
