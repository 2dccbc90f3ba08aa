r"""The web app under bounded floods: latency percentiles while it is hammered.

Usage:
  python bench/web_flood.py                         # this checkout's server, about two minutes
  python bench/web_flood.py --code=/tmp/old --output=bench/web_flood_old.json   # another checkout's

Starts `scripts/serve.py` (the bundled model) from `--code` on a free port and runs four
floods, one after another, while a probe thread asks `/api/info` every 50 ms:

  sample      200 /api/sample requests over 16 threads;
  interpolate 50 concurrent /api/interpolate requests (8 steps each);
  abandoned   30 clients send an /api/interpolate request and hang up at once, then one
              /api/sample is timed (does it wait behind work nobody will read?);
  half-open   200 connections that send half a request head and stay, then 20
              /api/sample requests are timed; and how many of the 200 the server closed.

A client that gets 503 waits its Retry-After and asks again; its latency runs from the
first try to the answer. Prints, per flood, the final status counts, the 503s seen on
the way, p50 / p95 / max latency and the probe's; writes the JSON with the machine and
the command.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json
import platform
import socket
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import requests
from absl import app, flags

from machine import cpu_model, free_port, report, start_web_server  # bench/ is on sys.path when a bench script runs.

flags.DEFINE_string("code", None, "The checkout whose scripts/serve.py to run (default: this one).")
flags.DEFINE_string("output", "bench/web_flood_results.json", "Where to write the JSON.")
FLAGS = flags.FLAGS
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def percentiles(seconds) -> dict:
    if not len(seconds):
        return {"n": 0}
    ms = 1000 * np.asarray(seconds)
    return {"n": len(ms), "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "max_ms": float(ms.max())}


class Probe:
    """Asks /api/info every 50 ms in a thread: does a cheap route wait behind the model?"""

    def __init__(self, url: str):
        self.url, self.times, self.failures, self._stop = url, [], 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        session = requests.Session()
        while not self._stop.is_set():
            start = time.perf_counter()
            try:
                session.get(self.url + "/api/info", timeout=60).raise_for_status()
                self.times.append(time.perf_counter() - start)
            except requests.RequestException:
                self.failures += 1
            self._stop.wait(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(70)


def timed(call, max_retries: int = 200):
    """(final status, seconds from the first try to the answer, 503s seen): a client that
    honours Retry-After, as a polite one does."""
    start, busy = time.perf_counter(), 0
    try:
        while True:
            response = call()
            if response.status_code != 503 or "Retry-After" not in response.headers or busy >= max_retries:
                return response.status_code, time.perf_counter() - start, busy
            busy += 1
            time.sleep(float(response.headers["Retry-After"]))
    except requests.RequestException as e:
        return type(e).__name__, time.perf_counter() - start, busy


def flood(url: str, calls: list, threads: int) -> dict:
    with Probe(url) as probe, ThreadPoolExecutor(threads) as pool:
        start = time.perf_counter()
        results = list(pool.map(timed, calls))
        wall = time.perf_counter() - start
    ok = [seconds for status, seconds, _ in results if status == 200]
    return {"status": dict(Counter(str(status) for status, _, _ in results)), "ok": percentiles(ok),
            "busy_answers": sum(busy for _, _, busy in results), "wall_s": wall,
            "probe": {**percentiles(probe.times), "failures": probe.failures}}


def send_raw(port: int, request: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(request)
    return sock


def main(argv):
    del argv
    code = os.path.abspath(FLAGS.code or ROOT)
    port = free_port()
    process, url, _ = start_web_server(code, port)
    results = {"machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version()},
               "command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]), "code": code,
               "date": time.strftime("%Y-%m-%d %H:%M"), "load_average_1min_before": os.getloadavg()[0]}
    try:
        beat = requests.post(url + "/api/sample", json={"seed": 0}, timeout=60).json()["beat"]
        interpolate = {"a": beat, "b": beat, "num_steps": 8}
        results["sample"] = flood(url, [lambda i=i: requests.post(url + "/api/sample", json={"seed": i}, timeout=120)
                                        for i in range(200)], threads=16)
        results["interpolate"] = flood(url, [lambda: requests.post(url + "/api/interpolate", json=interpolate,
                                                                   timeout=300)] * 50, threads=50)
        body = json.dumps(interpolate).encode()
        head = (b"POST /api/interpolate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body))
        for _ in range(30):
            send_raw(port, head + body).close()
        results["abandoned"] = flood(url, [lambda: requests.post(url + "/api/sample", json={"seed": 7}, timeout=300)],
                                     threads=1)
        half_open = [send_raw(port, b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n") for _ in range(200)]
        results["half_open"] = flood(url, [lambda i=i: requests.post(url + "/api/sample", json={"seed": i},
                                                                     timeout=120) for i in range(20)], threads=1)
        time.sleep(12)  # Past the server's head timeout, if it has one.
        closed = 0
        for sock in half_open:
            sock.settimeout(0.5)
            try:
                closed += sock.recv(1) == b""
            except (socket.timeout, OSError):
                pass
            sock.close()
        results["half_open"]["closed_by_server_after_12_s"] = closed
    finally:
        process.terminate()
        process.wait(timeout=30)
    results["load_average_1min_after"] = os.getloadavg()[0]
    report(format_table(results), results, FLAGS.output)


def format_table(r: dict) -> str:
    m = r["machine"]
    lines = [f"machine: {m['cpu']}, {m['cores']} cores; command: {r['command']}; code: {r['code']}; {r['date']}",
             f"load average (1 min) before / after: {r['load_average_1min_before']:.2f} / "
             f"{r['load_average_1min_after']:.2f}",
             f"{'flood':<12} {'final status':<14} {'503s':>5} {'ok p50':>8} {'ok p95':>8} {'ok max':>8} "
             f"{'info p50':>9} {'info p95':>9} {'info max':>9}  (ms)", "-" * 96]
    for name in ("sample", "interpolate", "abandoned", "half_open"):
        row, ok, probe = r[name], r[name]["ok"], r[name]["probe"]
        cell = lambda d, k: f"{d[k]:>8.0f}" if k in d else f"{'-':>8}"
        lines.append(f"{name:<12} {json.dumps(row['status']):<14} {row['busy_answers']:>5} {cell(ok, 'p50_ms')} "
                     f"{cell(ok, 'p95_ms')} "
                     f"{cell(ok, 'max_ms')} {cell(probe, 'p50_ms')} {cell(probe, 'p95_ms')} {cell(probe, 'max_ms')}")
    lines.append(f"half-open connections the server closed within 12 s: {r['half_open']['closed_by_server_after_12_s']}"
                 " of 200")
    return "\n".join(lines)


if __name__ == "__main__":
    app.run(main)
